"""JSON request bodies, decoded once and held to the published schema of the mode in force.

`BODY_VALIDATION=strict` holds each body to its struct with no lax conversions. `compatible` (the default) first
takes the few steps the original service's validation took (`compatible_bodies.py`: unknown members dropped,
integers sent as strings, the v1 names), then converts just as strictly.

msgspec's lax mode (Litestar's own conversion) would take `"3600"` for an integer and `32513048` for a date-time;
the OpenAPI document (and the original service's schema) refuse both. One lax rule stays, because JSON Schema
has it too: a number with no fractional part, `2.0`, is an integer. Routes read their body here rather than
through Litestar's `data` argument, so that each body is decoded exactly once; the OpenAPI document learns the
body type from the route's `opt` (see `json_body_route`).
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException

from entrypoints.http.compatible_bodies import relaxed
from entrypoints.http.media_types import require_json
from entrypoints.settings import COMPATIBLE_BODIES

T = TypeVar("T")

BODY_TYPE = "json_body"  # the key of a route's `opt` that names its body struct
BODY_REQUIRED = "json_body_required"
# The key of the app's state that holds the BODY_VALIDATION mode in force.
BODY_VALIDATION = "body_validation"

_LOCATION = " - at `$"
# The API's bodies nest four levels deep; past this the walk below leaves values as they are, and the strict
# conversion reports the first mismatch, which is always shallower.
_DEEPEST_CONVERTED = 32


def json_body_route(body_type: type[Any], *, required: bool = True) -> dict[str, Any]:
    """The `opt` of a route that reads a `body_type` JSON body with `read_json_body`."""
    return {BODY_TYPE: body_type, BODY_REQUIRED: required}


async def read_json_body(request: Request[Any, Any, Any], body_type: type[T]) -> T | None:
    """The body as `body_type`, read within the route's size limit; None when there is none.

    Raises ValidationException (a 400) for anything that is not a JSON document of that type.
    """
    require_json(request)  # 415 before the body is read
    body = await request.body()
    if not body:
        return None
    try:
        document = msgspec.json.decode(body)
    except UnicodeDecodeError:
        raise ValidationException(extra=[_body_problem("the JSON document is not valid UTF-8")]) from None
    except msgspec.DecodeError as error:
        raise ValidationException(extra=[_body_problem(f"the body is not a JSON document: {error}")]) from None
    except RecursionError:
        raise ValidationException(extra=[_body_problem("the JSON document is nested too deeply")]) from None
    document = _integral_floats_as_ints(document)
    if request.app.state[BODY_VALIDATION] == COMPATIBLE_BODIES:
        document = relaxed(document, body_type)
    try:
        return msgspec.convert(document, body_type, strict=True)
    except msgspec.ValidationError as error:
        raise ValidationException(extra=[_problem(str(error))]) from None


async def required_json_body(request: Request[Any, Any, Any], body_type: type[T]) -> T:
    body = await read_json_body(request, body_type)
    if body is None:
        raise ValidationException(extra=[_body_problem("a JSON body is required")])
    return body


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


def _body_problem(message: str) -> dict[str, str]:
    return {"source": "body", "key": "", "message": message}


def _problem(message: str) -> dict[str, str]:
    """msgspec's `Expected ... - at `$.a.b[0]`` as the key and message Litestar's own validation reports."""
    text, _, where = message.partition(_LOCATION)
    return {"source": "body", "key": where.rstrip("`").lstrip("."), "message": text}
