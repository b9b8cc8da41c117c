"""JSON request bodies held to the published schema: no lax conversions.

Litestar converts bodies in msgspec's lax mode, which is meant for query strings and forms: it took `"3600"`
for an integer and `32513048` for a date-time. The OpenAPI document (and the original service's schema)
refuse both, so every JSON body route first checks its body strictly, against the structs Litestar then uses.
One lax rule stays, because JSON Schema has it too: a number with no fractional part, `2.0`, is an integer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from entrypoints.http.limits import refuse_declared_oversize
from entrypoints.http.media_types import require_json

BodyCheck = Callable[[Request[Any, Any, Any]], Awaitable[None]]

_LOCATION = " - at `$"
# The API's bodies nest four levels deep; past this the walk below leaves values as they are, and the strict
# conversion reports the first mismatch, which is always shallower.
_DEEPEST_CONVERTED = 32
_TOO_DEEP = {"source": "body", "key": "", "message": "the JSON document is nested too deeply"}
_NOT_UTF8 = {"source": "body", "key": "", "message": "the JSON document is not valid UTF-8"}


def strictly_decoded(body_type: Any) -> BodyCheck:
    """A `before_request` hook for a route whose body is `body_type`; it also keeps the route's size limit."""

    async def check(request: Request[Any, Any, Any]) -> None:
        await refuse_declared_oversize(request)
        require_json(request)  # 415 before the body is read
        body = await request.body()  # read within the route's limit, and kept for Litestar
        if not body:
            return  # Litestar names a missing body, as for every route
        try:
            document = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return  # not JSON msgspec can read (a ValidationError too, e.g. 1e400): Litestar words it
        except RecursionError:
            raise ValidationException(extra=[_TOO_DEEP]) from None  # Litestar's own decoding would answer 500
        except UnicodeDecodeError:
            raise ValidationException(extra=[_NOT_UTF8]) from None  # likewise
        try:
            msgspec.convert(_integral_floats_as_ints(document), body_type, strict=True)
        except msgspec.ValidationError as error:
            raise ValidationException(extra=[_problem(str(error))]) from None

    return check


def _integral_floats_as_ints(value: Any, depth: int = 0) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if depth == _DEEPEST_CONVERTED:
        return value
    if isinstance(value, list):
        return [_integral_floats_as_ints(item, depth + 1) for item in value]
    if isinstance(value, dict):
        return {key: _integral_floats_as_ints(item, depth + 1) for key, item in value.items()}
    return value


def _problem(message: str) -> dict[str, str]:
    """msgspec's `Expected ... - at `$.a.b[0]`` as the key and message Litestar's own validation reports."""
    text, _, where = message.partition(_LOCATION)
    return {"source": "body", "key": where.rstrip("`").lstrip("."), "message": text}
