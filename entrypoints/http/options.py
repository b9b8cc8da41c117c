"""A correct `Allow` header on OPTIONS answers.

Litestar 2 builds the automatic OPTIONS handler of a path when the first handler of that path is registered
and never updates it, so `OPTIONS /teleconsultation/{id}` listed only GET (litestar-org/litestar#4169, fixed
in Litestar 3). The headers of an OPTIONS answer are rewritten with the methods the path really serves.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.routes import HTTPRoute
from litestar.types import Scope

Headers = Iterable[tuple[bytes, bytes]]


def with_correct_allow(headers: Headers, scope: Scope) -> Headers:
    headers = list(headers)
    if not any(name.lower() == b"allow" for name, _ in headers):
        return headers
    template = scope.get("path_template")
    route = next((r for r in scope["app"].routes if isinstance(r, HTTPRoute) and r.path_format == template), None)
    if route is None:
        return headers
    allowed = ", ".join(sorted(route.methods)).encode("latin-1")
    return [(name, value) for name, value in headers if name.lower() != b"allow"] + [(b"allow", allowed)]
