"""In-memory call features (files, company backgrounds, transcriptions) for tests and the memory provider."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from application.dto import CompanyBackground
from application.errors import InvalidRequest, ProviderError
from application.ports import CallUploads, CompanyBackgrounds, SessionTranscriptions

NAME = "memory"
OPERATIONS = frozenset(
    {"list_uploads", "delete_upload", "upload_background", "set_default_background", "transcription"}
)


class InMemoryCallFeatures(CallUploads, CompanyBackgrounds, SessionTranscriptions):
    """State kept in dicts and open to inspection; `fail_next` makes chosen calls fail like a broken provider."""

    def __init__(self) -> None:
        self.uploads: dict[str, str] = {}  # key -> room id
        self.deleted_uploads: list[str] = []
        self.max_concurrent_deletions = 0
        self.backgrounds: dict[str, CompanyBackground] = {}
        self.background_files: list[tuple[str, str, bytes]] = []
        self.company: dict[str, Any] = {"name": "Memory Clinic", "default_language": "en", "default_background": None}
        self.transcriptions: dict[tuple[str, str], str] = {}
        self._failures: dict[str, int] = {}
        self._deleting = 0
        self._ids = itertools.count(1)

    def fail_next(self, operation: str, times: int = 1) -> None:
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; expected one of {sorted(OPERATIONS)}")
        self._failures[operation] = self._failures.get(operation, 0) + times

    def add_upload(self, room_id: str) -> str:
        key = f"upload-{next(self._ids)}"
        self.uploads[key] = room_id
        return key

    async def list_uploads(self, room_id: str) -> list[str]:
        self._maybe_fail("list_uploads")
        return [key for key, room in self.uploads.items() if room == room_id]

    async def delete_upload(self, key: str) -> None:
        self._deleting += 1
        self.max_concurrent_deletions = max(self.max_concurrent_deletions, self._deleting)
        try:
            await asyncio.sleep(0)  # let other deletions start, as a network call would
            self._maybe_fail("delete_upload")
            if self.uploads.pop(key, None) is not None:
                self.deleted_uploads.append(key)
        finally:
            self._deleting -= 1

    async def upload_background(self, filename: str, content_type: str, data: bytes) -> CompanyBackground:
        self._maybe_fail("upload_background")
        self.background_files.append((filename, content_type, data))
        alias = f"bg{next(self._ids)}"
        background = CompanyBackground(alias, f"https://video.invalid/backgrounds/{alias}.jpg", "2030-01-01T00:00:00Z")
        self.backgrounds[alias] = background
        return background

    async def set_default_background(self, alias: str) -> dict[str, Any]:
        self._maybe_fail("set_default_background")
        background = self.backgrounds.get(alias)
        if background is None:
            raise InvalidRequest("the video provider refused the background alias")
        self.company["default_background"] = {
            "alias": background.alias,
            "url": background.url,
            "creation_date": background.creation_date,
        }
        return dict(self.company)

    async def transcription(self, room_id: str, session_id: str, fmt: str, max_bytes: int) -> str | None:
        self._maybe_fail("transcription")
        text = self.transcriptions.get((room_id, session_id))
        if text is not None and len(text.encode()) > max_bytes:
            raise ProviderError(NAME, "transcription", f"answer exceeds the configured maximum of {max_bytes} bytes")
        return text

    def _maybe_fail(self, operation: str) -> None:
        pending = self._failures.get(operation, 0)
        if pending:
            self._failures[operation] = pending - 1
            raise ProviderError(NAME, operation, "injected failure")
