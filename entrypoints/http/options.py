"""A correct `Allow` header on OPTIONS answers.

Litestar 2 builds the automatic OPTIONS handler of a path when the first handler of that path is registered
and never updates it, so `OPTIONS /teleconsultation/{id}` listed only GET (litestar-org/litestar#4169, fixed
in Litestar 3). This hook rewrites the header from the methods the path really serves.
"""

from __future__ import annotations

from litestar.routes import HTTPRoute
from litestar.types import Message, Scope


async def correct_allow_header(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start" or scope.get("method") != "OPTIONS":
        return
    headers = list(message.get("headers", []))
    if not any(name.lower() == b"allow" for name, _ in headers):
        return
    template = scope.get("path_template")
    route = next((r for r in scope["app"].routes if isinstance(r, HTTPRoute) and r.path_format == template), None)
    if route is None:
        return
    allowed = ", ".join(sorted(route.methods)).encode("latin-1")
    message["headers"] = [(name, value) for name, value in headers if name.lower() != b"allow"] + [(b"allow", allowed)]
