"""The web app: `arfilter serve` runs the lens behind a live page and an HTTP API.

`app.create_app` builds the ASGI app (FastAPI), `session` holds one live connection's state,
`uploads` checks and decodes every image that arrives, `serve` is the command line. The page
itself (HTML, script, style) is package data in `static/`.
"""
