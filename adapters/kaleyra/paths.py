"""What may become a segment of a Kaleyra URL path.

Every segment is percent-encoded when the URL is built, so no value can add a path level or a query; but a segment
`.` or `..` needs no encoding and still moves the request elsewhere once a server normalises the path
(`/rooms/r/sessions/../transcription`), and some servers decode `%2F` into a separator. So ids a caller sends
are refused when they are dots only or hold a separator (`/`, `\\`), a `%` (an encoding of one) or a control
character.
"""

from __future__ import annotations

import re
import unicodedata

from adapters.kaleyra.replies import PROVIDER
from application.errors import InvalidRequest, ProviderError

MAX_SEGMENT_LENGTH = 256
_SEPARATORS = re.compile(r"[/\\%]")


def is_safe_segment(value: str) -> bool:
    return (
        0 < len(value) <= MAX_SEGMENT_LENGTH
        and value.strip(".") != ""
        and not _SEPARATORS.search(value)
        and not any(unicodedata.category(char) == "Cc" for char in value)
    )


def caller_segment(value: str, what: str) -> str:
    """`value`, sent by the caller to name something at Kaleyra; InvalidRequest (400) if it is no safe segment."""
    if not is_safe_segment(value):
        raise InvalidRequest(
            f"the {what} must be 1 to {MAX_SEGMENT_LENGTH} characters, not only dots, without /, \\, % or control "
            "characters"
        )
    return value


def checked_segments(segments: tuple[str, ...]) -> tuple[str, ...]:
    """The last check before a URL is built, for ids from the store or from Kaleyra itself (upload keys, whose form
    Kaleyra does not document): one that percent-encoding cannot neutralise (empty, or dots only) is a provider
    failure (502), never a request sent elsewhere."""
    if any(segment.strip(".") == "" for segment in segments):
        raise ProviderError(PROVIDER, "request", "refused: an id is not a safe URL path segment")
    return segments
