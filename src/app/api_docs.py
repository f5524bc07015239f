"""The API's documentation page (Swagger UI) at `/api/v1/docs`, served whole by the service itself.

FastAPI's own page loads Swagger UI from a CDN and its favicon from FastAPI's site, so without internet it is
blank. Here the page names only this service's files: Swagger UI's from the `swagger-ui-bundle-v2` package
(Swagger UI 5, which reads OpenAPI 3.1; the `swagger-ui-bundle` package still ships 4.x, which cannot) at
`/api/v1/docs/assets/`. Like the web app's (`src/app/web.py`), the page has a strict Content-Security-Policy:
only this origin, except that the page's one inline script (which starts Swagger UI) is allowed by its hash.
"""

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from src.app.web import CONTENT_SECURITY_POLICY, SECURITY_HEADERS

DOCS_PATH = "/api/v1/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
SWAGGER_UI_FILES = Path(str(swagger_ui_path))
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def docs_page(openapi_url: str, title: str) -> tuple[str, dict[str, str]]:
    """Swagger UI's page naming only this service's assets, and the headers that allow only them."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url, title=title,
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js", swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},  # no badge from the public validator
    )
    html = bytes(page.body).decode()
    hashes = " ".join(f"'sha256-{_sha256(script)}'" for script in _INLINE_SCRIPT.findall(html))
    policy = CONTENT_SECURITY_POLICY.replace("script-src 'self'", f"script-src 'self' {hashes}")
    return html, {**SECURITY_HEADERS, "Content-Security-Policy": policy, "Cache-Control": "no-cache"}


def mount_api_docs(app: FastAPI, openapi_url: str) -> None:
    """The page and its assets; the app is made with `docs_url=None` so that FastAPI's page is not there."""
    html, headers = docs_page(openapi_url, f"{app.title} - API docs")

    async def docs(request: Request) -> Response:
        return HTMLResponse(html, headers=headers)

    app.add_route(DOCS_PATH, docs, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount(ASSETS_PATH, SwaggerUiAssets(directory=SWAGGER_UI_FILES), name="api-docs-assets")


class SwaggerUiAssets(StaticFiles):
    """Swagger UI's files, with the service's security headers."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(SECURITY_HEADERS)
        return response


def _sha256(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
