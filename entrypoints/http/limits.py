"""How much request body each route accepts; a larger body is refused with 413 and never read in full.

Routes that read a body declare their limit and Litestar enforces it while the body streams in. Every other route
gets the application's default, NO_BODY, and `refuse_declared_oversize` turns away a larger declared body before
the handler runs, since a handler that reads no body would never notice it. A body that declares no length (chunked)
on such a route is read there, within the limit, so that it is refused as soon as it passes the limit too. Either way
the connection is then closed rather than the rest of the body read and thrown away (`observability.py`).
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
_BODY_HEADERS = frozenset({b"content-length", b"transfer-encoding"})


async def refuse_declared_oversize(request: Request[Any, Any, Any]) -> None:
    # Most requests declare no body: a glance at the raw headers spares them building the parsed ones.
    declared = {name.lower() for name, _ in request.scope["headers"]} & _BODY_HEADERS
    if not declared:
        return
    limit = request.route_handler.resolve_request_max_body_size()
    if not limit:
        return
    if b"content-length" in declared:
        if (request.content_length or 0) > limit:
            raise RequestEntityTooLarge
    elif limit <= NO_BODY:
        await request.body()  # streamed within the limit: RequestEntityTooLarge as soon as it passes it
