"""/docs: Swagger UI from this server under its own CSP, the schema at /openapi.json."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from arfilter.apps.web.docs import DOCS_FILES, add_docs


def client() -> TestClient:
    app = FastAPI(title="arfilter", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/api/ping")
    async def ping() -> dict[str, str]:
        return {"ping": "pong"}

    add_docs(app)
    return TestClient(app)


def test_docs_page_loads_only_from_this_server_and_allows_its_inline_script_by_hash():
    http = client()
    page = http.get("/docs")
    assert page.status_code == 200
    html, policy = page.text, page.headers["content-security-policy"]
    assert "https://" not in html and "http://" not in html
    scripts = re.findall(r"<script>(.*?)</script>", html, re.DOTALL)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"'sha256-{digest}'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    for route in DOCS_FILES:
        assert route in html
        assert http.get(route).status_code == 200 and len(http.get(route).content) > 10_000


def test_schema_lists_the_api():
    schema = client().get("/openapi.json").json()
    assert "/api/ping" in schema["paths"] and "/docs" not in schema["paths"]
