"""The Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header) and the body's fingerprint."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable

import msgspec

from application.errors import InvalidRequest
from entrypoints.http.headers import single_values

HEADER = "idempotency-key"
_HEADER_BYTES = HEADER.encode()
_HEADER_NAMES = frozenset({_HEADER_BYTES})
MAX_KEY_LENGTH = 255
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")
# The inside of a Structured Field string: escapes are \" and \\ only.
_SF_STRING_INSIDE = re.compile(r'(?:[^"\\]|\\["\\])*')


def sent_key(raw_headers: Iterable[tuple[bytes, bytes]]) -> str:
    """The key of the request's one Idempotency-Key header; RepeatedHeader (400) when it came more than once."""
    value = single_values(raw_headers, _HEADER_NAMES).get(_HEADER_BYTES, b"")
    return parse_key(value.decode("latin-1"))


def parse_key(raw: str) -> str:
    """The key of the header: a Structured Field string ("...") as the draft writes it, or the bare value many
    clients send. Raises InvalidRequest for an empty, overlong or non-printable key."""
    value = raw.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"' and _SF_STRING_INSIDE.fullmatch(value[1:-1]):
        value = re.sub(r'\\(["\\])', r"\1", value[1:-1])
    if not 1 <= len(value) <= MAX_KEY_LENGTH or not _PRINTABLE_ASCII.fullmatch(value):
        raise InvalidRequest(f"the Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")
    return value


def fingerprint(body: msgspec.Struct) -> str:
    """A hash of the decoded body in a canonical form: key order and spacing do not change it, values do."""
    return hashlib.sha256(msgspec.json.encode(body, order="sorted")).hexdigest()
