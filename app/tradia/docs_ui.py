"""The interactive API docs (/docs): Swagger UI 5 from the pinned `fastapi-offline` package.

FastAPI's own /docs page loads Swagger UI from a CDN with an inline bootstrap script; here the
files come from the app itself, so the docs page needs no third-party host and no inline script
(see DOCS_CSP in tradia/security.py). Only the package's static files are used (its
swagger-ui-bundle.js and swagger-ui.css); the page and its start-up script are ours.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS_PATH = "/docs-assets"
_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"

_PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Tradia API</title>
  <link rel="stylesheet" href="{ASSETS_PATH}/swagger-ui.css">
</head>
<body>
  <main id="swagger-ui"></main>
  <script src="{ASSETS_PATH}/swagger-ui-bundle.js"></script>
  <script src="/docs-ui/init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    app.mount(ASSETS_PATH, StaticFiles(directory=_ASSETS_DIR), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(_PAGE)
