"""Reads one file from a multipart/form-data request as it streams in, never holding more than a limit."""

from __future__ import annotations

import re
from typing import Any

import multipart
from litestar import Request
from litestar.exceptions.http_exceptions import RequestEntityTooLarge

from application.dto import BackgroundImage
from application.errors import ContentTooLarge, InvalidRequest, UnsupportedMediaType
from application.upload_background import BackgroundImageSource

# Room for boundaries and part headers around the file in a request body.
MULTIPART_OVERHEAD_BYTES = 64 * 1024
# A background upload needs one part; a few more tolerate clients that add their own fields.
MAX_PARTS = 8
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class MultipartImage(BackgroundImageSource):
    """The file sent in one multipart field. Other fields are read past, never kept."""

    def __init__(self, request: Request[Any, Any, Any], field: str) -> None:
        self._request = request
        self._field = field

    async def read(self, max_bytes: int) -> BackgroundImage:
        too_large = ContentTooLarge(f"the file must not exceed {max_bytes // (1024 * 1024)} MB")
        collector = _FileCollector(self._field, max_bytes=max_bytes, too_large=too_large)
        # The collector counts parts and bytes itself, to say which limit was passed; the parser's own limits are a
        # backstop beyond them and bound the part headers (their size and number).
        parser = multipart.PushMultipartParser(
            self._boundary(), max_segment_size=max_bytes + 1, max_segment_count=MAX_PARTS + 1, strict=True
        )
        try:
            async for chunk in self._request.stream():
                for event in parser.parse(chunk):
                    collector.feed(event)
                if parser.closed:
                    break  # an epilogue after the closing boundary is ignored
            if not parser.closed:
                parser.close()
        except RequestEntityTooLarge:
            raise too_large from None
        except multipart.ParserLimitReached:
            raise InvalidRequest("a part of the multipart/form-data body has too many or too long headers") from None
        except multipart.MultipartError:
            raise InvalidRequest("the multipart/form-data body is malformed") from None
        return collector.file()

    def _boundary(self) -> str:
        media_type, options = self._request.content_type
        boundary = options.get("boundary", "")
        if media_type != "multipart/form-data" or not boundary:
            raise UnsupportedMediaType(f"send multipart/form-data with the image in the field {self._field}")
        return boundary


class _FileCollector:
    """Keeps the payload of the one part that carries a file in the expected field."""

    def __init__(self, field: str, *, max_bytes: int, too_large: ContentTooLarge) -> None:
        self._field = field
        self._max_bytes = max_bytes
        self._too_large = too_large
        self._parts = 0
        self._filename: str | None = None
        self._data: bytearray | None = None
        self._collecting = False

    def feed(self, event: object) -> None:
        if isinstance(event, multipart.MultipartSegment):
            self._parts += 1
            if self._parts > MAX_PARTS:
                raise InvalidRequest(f"the multipart/form-data body must not have more than {MAX_PARTS} parts")
            self._collecting = event.name == self._field and event.filename is not None
            if self._collecting:
                if self._data is not None:
                    raise InvalidRequest(f"send a single file in the field {self._field}")
                self._filename, self._data = event.filename, bytearray()
        elif isinstance(event, bytes | bytearray):
            if self._collecting and self._data is not None:
                if len(self._data) + len(event) > self._max_bytes:
                    raise self._too_large
                self._data += event
        else:  # None closes the current part
            self._collecting = False

    def file(self) -> BackgroundImage:
        if self._data is None:
            raise InvalidRequest(f"the multipart field {self._field} must carry a file")
        return BackgroundImage(filename=safe_filename(self._filename), data=bytes(self._data))


def safe_filename(name: str | None) -> str:
    """The client's file name reduced to harmless characters, ending in .jpg as the provider expects."""
    base = re.split(r"[\\/]", name or "")[-1]
    stem = _UNSAFE_NAME.sub("_", base).strip("._")[:100] or "background"
    return stem if stem.lower().endswith((".jpg", ".jpeg")) else f"{stem}.jpg"
