"""How much request body each route accepts; a larger body is refused with 413 and never read in full.

Routes that read a body declare their limit and Litestar enforces it while the body streams in. Every other route
gets the application's default, NO_BODY, and `refuse_declared_oversize` turns away a larger declared body before
the handler runs, since a handler that reads no body would never notice it.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

NO_BODY = 1024
# Teleconsultation bodies: the largest roster (25 participants) with long names and a few groups each is ~20 KiB.
TELECONSULTATION_BODY = 64 * 1024
CREDENTIALS_BODY = 1024  # {"expiresIn": n}
# {"background_alias": ...}: room for an alias of 256 characters even when every one is \u-escaped.
SETTINGS_BODY = 16 * 1024


async def refuse_declared_oversize(request: Request[Any, Any, Any]) -> None:
    # Most requests declare no body: a glance at the raw headers spares them building the parsed ones.
    if not any(name.lower() == b"content-length" for name, _ in request.scope["headers"]):
        return
    limit = request.route_handler.resolve_request_max_body_size()
    if limit and (request.content_length or 0) > limit:
        raise RequestEntityTooLarge
