"""Request headers the service acts on: each may come once, values are UTF-8, and only ASCII blanks are trimmed.

A header sent twice is ambiguous: a gateway may append its own copy before or after the client's, and reading the
first in one place and the last in another lets the client's copy win somewhere. So a repeated header the service
acts on is refused, never resolved.
"""

from __future__ import annotations

from collections.abc import Iterable

from application.errors import InvalidRequest
from domain.participant_ids import TRIMMED

# Only ASCII space and tab are optional whitespace around a header value (RFC 9110 §5.5); NBSP, NEL and the
# other Unicode blanks are part of the value. The domain refuses participant ids that this trimming would change.
ASCII_BLANKS = TRIMMED


class RepeatedHeader(InvalidRequest):
    """A header the service acts on came more than once."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"the {name} header must be sent at most once")


class UndecodableHeader(InvalidRequest):
    """A header the service acts on is not UTF-8."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(f"the {name} header must be UTF-8")


def single_values(raw_headers: Iterable[tuple[bytes, bytes]], names: frozenset[bytes]) -> dict[bytes, bytes]:
    """The value of each header of `names` (lower-case) that the request carries; RepeatedHeader for one sent twice.

    One pass over the raw headers, on every request that reads an identity: no parsed header map is built.
    """
    found: dict[bytes, bytes] = {}
    for key, value in raw_headers:
        name = key.lower()
        if name in names:
            if name in found:
                raise RepeatedHeader(name.decode("latin-1"))
            found[name] = value
    return found


def text(name: bytes, value: bytes) -> str:
    """A header value as the UTF-8 text it carries, trimmed of ASCII blanks only."""
    try:
        return value.decode("utf-8").strip(ASCII_BLANKS)
    except UnicodeDecodeError:
        raise UndecodableHeader(name.decode("latin-1")) from None
