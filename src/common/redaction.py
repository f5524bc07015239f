"""Credentials out of URLs before they are logged, stored or returned.

A URL keeps its scheme, host, port and path; its user information (`user:pass@`) becomes `***@`, every
query value becomes `***` (names are kept: `?token=***&v=***`) and a fragment is dropped. Free text
(an error message, a log field) has every URL in it redacted the same way.
"""

import re
from urllib.parse import urlsplit

MASK = "***"
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s\"'<>]+")


def redact_url(url: str) -> str:
    try:
        parts = urlsplit(url)
    except ValueError:
        return MASK  # unparseable: nothing of it can be trusted to be harmless
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rpartition('@')[2]}"
    query = "&".join(_mask_value(pair) for pair in parts.query.split("&")) if parts.query else ""
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")


def _mask_value(pair: str) -> str:
    name, equals, _ = pair.partition("=")
    return f"{name}={MASK}" if equals else name


def redact_text(text: str) -> str:
    """`text` with every URL in it redacted (cheap when there is none)."""
    if "://" not in text:
        return text
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
