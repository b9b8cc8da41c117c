"""What came back from Kaleyra, read within bounds, and how failures are worded without leaking anything."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from email.message import Message

import aiohttp
import msgspec
from aiohttp import hdrs

from adapters.kaleyra.wire import ErrorBody
from application.errors import ProviderError

PROVIDER = "kaleyra"
# An error code is logged only when it cannot carry a link or free text.
_LOGGABLE_CODE = re.compile(r"[A-Za-z0-9_.\-]{1,64}")


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    body: bytes
    # Kept raw: most calls decode JSON whatever the header says, and parsing it was a tenth of a room read.
    content_type_header: str | None = None
    oversized: bool = False  # the body went past the call's limit and was dropped unread

    @property
    def media_type(self) -> str:
        return _content_type(self.content_type_header).get_content_type()

    @property
    def charset(self) -> str | None:
        return _content_type(self.content_type_header).get_content_charset()


def _content_type(header: str | None) -> Message:
    message = Message()
    message["content-type"] = header or "application/octet-stream"  # what a body without a type is (RFC 9110)
    return message


def fail(operation: str, reply: Reply) -> ProviderError:
    return ProviderError(PROVIDER, operation, f"status {reply.status}")


async def read_limited(response: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The body, or None as soon as it exceeds `limit` bytes."""
    # Checked on the decoded stream, so a small compressed body cannot expand past the limit either.
    length = response.content_length
    if length is not None and length > limit:
        return None
    if length is not None and hdrs.CONTENT_ENCODING not in response.headers:
        return await response.read()  # exactly the length checked above: one read instead of a chunk loop
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def retry_after_seconds(value: str | None) -> float | None:
    # Only the delta-seconds form: an HTTP date would need a trustworthy clock and is rare for APIs.
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def loggable_error_code(body: bytes) -> str:
    """` (code)` when the body names an error code that is safe to log, else an empty string."""
    try:
        error = msgspec.json.decode(body, type=ErrorBody).error
    except msgspec.DecodeError:
        return ""
    return f" ({error})" if error is not None and _LOGGABLE_CODE.fullmatch(error) else ""
