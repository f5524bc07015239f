"""The web app (`web/`, built by `make web` into `web/dist`) served at `/` by the service itself.

- `/` is the app's page, revalidated on every load (`no-cache`), so a rebuilt app is picked up at once;
- `/assets/*` are Vite's content-hashed files, cached for a year (`immutable`): a new build has new names;
- every response carries a strict Content-Security-Policy: scripts, styles and connections only from this
  origin (the WebSocket included), no inline code, no framing, no third-party host at runtime;
- without a build (no Node.js on this machine) `/` says how to enable the app; the API is unaffected.

Whether the build exists is checked per request, so building while the service runs needs no restart.
"""

from pathlib import Path
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.staticfiles import StaticFiles

WEB_DIST = Path(__file__).resolve().parents[2] / "web" / "dist"

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
))
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
IMMUTABLE = "public, max-age=31536000, immutable"

NOT_BUILT_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>PocketQuant</title></head>
<body>
<h1>PocketQuant</h1>
<p>The API is running (<a href="/api/v1/docs">/api/v1/docs</a>), but the web app is not built on this machine.</p>
<p>To enable it, install Node.js 18 or newer with npm (e.g. <code>apt-get install nodejs npm</code>), then run
<code>make web</code>, or restart with <code>make run</code>, which builds it when Node.js is present.</p>
</body></html>
"""


class HashedAssets(StaticFiles):
    """Vite's output: every name carries a content hash, so a file never changes under its name."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(SECURITY_HEADERS)
        response.headers["Cache-Control"] = IMMUTABLE
        return response


def mount_web_app(app: FastAPI, dist: Path = WEB_DIST) -> None:
    """`/` and `/assets`; add after the API's routes (they never overlap: the API lives under `/api`)."""

    async def index(request: Request) -> Response:
        page = dist / "index.html"
        if not page.is_file():
            return HTMLResponse(NOT_BUILT_PAGE, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
        return FileResponse(page, media_type="text/html", headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})

    app.add_route("/", index, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount("/assets", HashedAssets(directory=dist / "assets", check_dir=False), name="web-assets")
