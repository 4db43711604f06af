"""`/docs`: the HTTP API's interactive reference (Swagger UI), served by this server itself.

FastAPI's own /docs page loads Swagger UI from a CDN: it breaks offline, and the page's
Content-Security-Policy (everything from this server) would block it anyway. The Swagger UI
files come instead from the `fastapi-offline` package, which vendors them, and are served
from a fixed table of two routes like the page's own files (no client path ever reaches the
file system). The page gets its own policy: scripts from this server plus the one inline
script FastAPI writes to start Swagger UI, allowed by its hash rather than by 'unsafe-inline'.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import re
from collections.abc import Callable
from importlib import resources

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import JSONResponse, Response

DOCS_URL = "/docs"
OPENAPI_URL = "/openapi.json"
# Swagger UI's files, by route: (file name in fastapi_offline/static, media type).
DOCS_FILES = {f"{DOCS_URL}/swagger-ui-bundle.js": ("swagger-ui-bundle.js", "text/javascript; charset=utf-8"),
              f"{DOCS_URL}/swagger-ui.css": ("swagger-ui.css", "text/css; charset=utf-8")}
# Swagger UI sets style attributes as it renders (hence 'unsafe-inline' for styles only) and
# draws its icons as data: images; it fetches nothing but the schema from this server.
DOCS_POLICY = ("default-src 'none'; script-src 'self' {scripts}; style-src 'self' 'unsafe-inline'; "
               "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


@functools.cache
def docs_file(name: str) -> bytes:
    return resources.files("fastapi_offline").joinpath("static", name).read_bytes()


def docs_page(title: str) -> tuple[bytes, str]:
    """The /docs page and its Content-Security-Policy (with the hash of each inline script)."""
    routes = {name: route for route, (name, _) in DOCS_FILES.items()}
    page = bytes(get_swagger_ui_html(openapi_url=OPENAPI_URL, title=f"{title} API",
                                     swagger_js_url=routes["swagger-ui-bundle.js"], swagger_css_url=routes["swagger-ui.css"],
                                     swagger_favicon_url="data:,").body)
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
                      for script in _INLINE_SCRIPT.findall(page.decode()))
    return page, DOCS_POLICY.format(scripts=hashes)


def _file_endpoint(name: str, media_type: str) -> Callable[[], Response]:
    def serve() -> Response:
        return Response(docs_file(name), media_type=media_type, headers={"Cache-Control": "max-age=86400"})

    return serve


def add_docs(app: FastAPI) -> None:
    """Serve /docs (Swagger UI), its two files and /openapi.json on `app` (created with
    docs_url=None and openapi_url=None, so FastAPI adds no CDN-backed page of its own)."""
    page, policy = docs_page(app.title)

    @app.get(DOCS_URL, include_in_schema=False)
    async def docs() -> Response:
        return Response(page, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": policy})

    @app.get(OPENAPI_URL, include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    for route, (name, media_type) in DOCS_FILES.items():
        app.add_api_route(route, _file_endpoint(name, media_type), methods=["GET"], include_in_schema=False)
