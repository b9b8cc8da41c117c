"""JSON routes read JSON only: any other declared media type is 415, before the body is read.

A browser sends a cross-origin POST without asking first (no CORS preflight) only for the "simple" media types
(text/plain, application/x-www-form-urlencoded, multipart/form-data). Refusing them keeps another site's page from
making a logged-in browser create or change a teleconsultation (CSRF).
"""

from __future__ import annotations

from typing import Any

from litestar import Request

from application.errors import UnsupportedMediaType

JSON = "application/json"


def require_json(request: Request[Any, Any, Any]) -> None:
    """UnsupportedMediaType unless the request declares no media type or JSON (`application/json`, `*/*+json`)
    in UTF-8. A request with a body must declare it."""
    declared = _content_type(request.scope["headers"])
    if declared is None:
        if _has_body(request.scope["headers"]):
            raise UnsupportedMediaType(f"send the body as {JSON}")
        return
    media_type, _, parameters = declared.decode("latin-1").partition(";")
    media_type = media_type.strip(" \t").lower()
    if media_type != JSON and not (media_type.startswith("application/") and media_type.endswith("+json")):
        raise UnsupportedMediaType(f"send the body as {JSON}")
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip(" \t").lower() == "charset" and value.strip(' \t"').lower() not in ("utf-8", "utf8"):
            raise UnsupportedMediaType(f"send the body as {JSON} in UTF-8")


def _content_type(raw_headers: Any) -> bytes | None:
    for name, value in raw_headers:
        if name.lower() == b"content-type":
            return bytes(value)
    return None


def _has_body(raw_headers: Any) -> bool:
    for name, value in raw_headers:
        lowered = name.lower()
        if lowered == b"transfer-encoding" or (lowered == b"content-length" and value.strip() != b"0"):
            return True
    return False
