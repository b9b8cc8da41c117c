"""`BODY_VALIDATION=compatible`: bodies as the original service accepted them, and the schema that says so.

The original validated bodies with Fastify's default Ajv options, which convert types (`coerceTypes`) and let
unknown members through. This mode takes, before the strict conversion of `bodies.py`, exactly these steps:

* a member the body does not define is dropped, at every level of the body (the original ignored it);
* where an integer is expected, a string holding one in plain decimal notation (`"3600"`, `"-5"`; no sign `+`,
  no `-0`, no leading zero, no spaces, fraction or exponent) is that integer;
* in a participant, `userExternalId` (the 1.x name) stands for `userId`; when both are sent, `userId` wins.

Nothing else is converted: a string that is no such integer, a bad date-time or a value out of range is still a
400 (the strict conversion that follows reports it), and the rules of the domain are untouched.

`compatible_schemas` rewrites the published schemas of the request bodies to match: no `additionalProperties:
false`, every integer also as a string whose pattern holds exactly the integers of its range, `userExternalId`
beside `userId`.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from typing import Any

import msgspec
import msgspec.inspect as types

from entrypoints.http.schemas import ParticipantBody

# The v1 names of body members, per struct: alias -> the member it stands for.
ALIASES: Mapping[type[msgspec.Struct], Mapping[str, str]] = {ParticipantBody: {"userExternalId": "userId"}}

# Plain decimal notation (no "-0"), matched as the published pattern is (`$` also before a final line break, as
# Python's validators read it); longer strings are no integer any body takes (and int() refuses thousands of digits).
_DECIMAL = re.compile(r"^(0|-?[1-9][0-9]*)$")
_LONGEST_DECIMAL = 20
# The API's bodies nest four levels deep; past this the walk leaves values as they are.
_DEEPEST = 32


def relaxed(document: Any, body_type: type[Any]) -> Any:
    """`document` with the compatible mode's conversions applied, for the strict conversion to `body_type`."""
    return _relax(document, types.type_info(body_type), 0)


def _relax(value: Any, info: types.Type, depth: int) -> Any:
    if depth == _DEEPEST:
        return value
    if isinstance(info, types.UnionType):
        chosen = _branch_for(value, info)
        return value if chosen is None else _relax(value, chosen, depth)
    if isinstance(info, types.IntType) and isinstance(value, str):
        return int(value) if len(value) <= _LONGEST_DECIMAL and _DECIMAL.search(value) else value
    if isinstance(info, types.ListType) and isinstance(value, list):
        return [_relax(item, info.item_type, depth + 1) for item in value]
    if isinstance(info, types.StructType) and isinstance(value, dict):
        return _relaxed_members(value, info, depth)
    return value


def _branch_for(value: Any, union: types.UnionType) -> types.Type | None:
    """The member of a union the value is meant for: by its JSON kind (a string only if no string is allowed)."""
    kinds: tuple[type[types.Type], ...]
    if isinstance(value, dict):
        kinds = (types.StructType,)
    elif isinstance(value, list):
        kinds = (types.ListType,)
    elif isinstance(value, str) and not any(isinstance(choice, types.StrType) for choice in union.types):
        kinds = (types.IntType,)
    else:
        return None
    return next((choice for choice in union.types if isinstance(choice, kinds)), None)


def _relaxed_members(value: dict[str, Any], info: types.StructType, depth: int) -> dict[str, Any]:
    members = dict(value)
    for alias, name in ALIASES.get(info.cls, {}).items():
        if alias in members:
            aliased = members.pop(alias)
            members.setdefault(name, aliased)
    fields = {field.encode_name: field.type for field in info.fields}
    return {name: _relax(item, fields[name], depth + 1) for name, item in members.items() if name in fields}


def compatible_schemas(definitions: Mapping[str, Any], request_bodies: Mapping[str, type[Any]]) -> dict[str, Any]:
    """The schema definitions with those of the request bodies (by name) rewritten for the compatible mode."""
    rewritten = dict(definitions)
    for name, struct in request_bodies.items():
        schema = _lenient(copy.deepcopy(definitions[name]))
        for alias, member in ALIASES.get(struct, {}).items():
            schema["properties"][alias] = schema["properties"][member]
            required = schema.get("required", [])
            if member in required:
                schema["required"] = [other for other in required if other != member]
                schema["anyOf"] = [{"required": [member]}, {"required": [alias]}]
        rewritten[name] = schema
    return rewritten


def _lenient(schema: Any) -> Any:
    if isinstance(schema, list):
        return [_lenient(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "integer":
        return {"anyOf": [schema, _integer_string(schema)]}
    lenient = {
        key: {name: _lenient(item) for name, item in value.items()} if key == "properties" else _lenient(value)
        for key, value in schema.items()
        if (key, value) != ("additionalProperties", False)
    }
    if "anyOf" in lenient:  # one flat list of choices rather than choices within a choice
        lenient["anyOf"] = [choice for item in lenient["anyOf"] for choice in _choices(item)]
    return lenient


def _choices(schema: Any) -> list[Any]:
    if isinstance(schema, dict) and set(schema) == {"anyOf"}:
        return list(schema["anyOf"])
    return [schema]


def _integer_string(schema: Mapping[str, Any]) -> dict[str, Any]:
    if "minimum" not in schema or "maximum" not in schema:
        raise ValueError("every integer of a request body has a minimum and a maximum")
    return {"type": "string", "pattern": integer_range_pattern(schema["minimum"], schema["maximum"])}


def integer_range_pattern(low: int, high: int) -> str:
    """A regular expression that matches exactly the integers `low`..`high` in plain decimal notation."""
    if low > high:
        raise ValueError("an empty range")
    alternatives: list[str] = []
    if low < 0:
        alternatives += ["-" + part for part in _natural_range(max(1, -high), -low)]
    if high >= 0:
        alternatives += _natural_range(max(0, low), high)
    return "^(?:" + "|".join(alternatives) + ")$"


def _natural_range(low: int, high: int) -> list[str]:
    """Alternatives matching exactly the naturals `low`..`high` without leading zeros."""
    alternatives: list[str] = []
    for length in range(len(str(low)), len(str(high)) + 1):
        shortest = 0 if length == 1 else 10 ** (length - 1)
        lo, hi = max(low, shortest), min(high, 10**length - 1)
        alternatives += _same_length(str(lo), str(hi))
    return alternatives


def _same_length(low: str, high: str) -> list[str]:
    """Alternatives matching exactly the digit strings from `low` to `high`, both of one length."""
    if low == high:
        return [low]
    tail = len(low) - 1
    zeros, nines = "0" * tail, "9" * tail
    if low[1:] == zeros and high[1:] == nines:
        return [_digits(int(low[0]), int(high[0])) + _any_digits(tail)]
    if low[0] == high[0]:
        return [low[0] + rest for rest in _same_length(low[1:], high[1:])]
    alternatives: list[str] = []
    first, last = int(low[0]), int(high[0])
    if low[1:] != zeros:
        alternatives += [low[0] + rest for rest in _same_length(low[1:], nines)]
        first += 1
    if high[1:] != nines:
        last -= 1
    if first <= last:
        alternatives.append(_digits(first, last) + _any_digits(tail))
    if high[1:] != nines:
        alternatives += [high[0] + rest for rest in _same_length(zeros, high[1:])]
    return alternatives


def _digits(first: int, last: int) -> str:
    return str(first) if first == last else f"[{first}-{last}]"


def _any_digits(count: int) -> str:
    return "" if count == 0 else "[0-9]" if count == 1 else f"[0-9]{{{count}}}"
