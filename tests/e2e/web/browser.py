"""Debian's Chromium as the web app's tests and benchmark launch it, and what they need before they can."""

import gzip
import importlib.util
import shutil
from pathlib import Path

from src.app.web import WEB_DIST

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without the background-networking switches Chromium keeps calling hosts this closed network refuses.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


# The app's JavaScript, gzipped, may grow to this (KiB) before someone decides it is worth it (67 KiB today:
# Lightweight Charts is most of it).
JS_GZIP_BUDGET_KB = 80.0


def js_gzip_kb() -> float:
    """The built app's JavaScript as a browser downloads it gzip-compressed (level 9), in KiB."""
    scripts = sorted((WEB_DIST / "assets").glob("*.js"))
    return round(sum(len(gzip.compress(p.read_bytes(), compresslevel=9)) for p in scripts) / 1024, 1)


def missing_for_browser_tests() -> str | None:
    """Why the browser cannot run the built app here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (make install)"
    if not Path(CHROMIUM).exists():
        return "Debian's chromium is not installed (apt-get install chromium)"
    if not (WEB_DIST / "index.html").is_file():
        return "the web app is not built (make web; needs Node.js >= 18 and npm)"
    if _newest_source() > (WEB_DIST / "index.html").stat().st_mtime:
        return "the web app's build is older than its sources (make web)"
    return None


def _newest_source() -> float:
    web = WEB_DIST.parent
    sources = [*web.joinpath("src").rglob("*"), web / "index.html", web / "vite.config.ts", web / "package-lock.json"]
    return max(path.stat().st_mtime for path in sources if path.is_file())
