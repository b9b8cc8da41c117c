"""In-memory call features (files shared during calls) for tests and the memory provider."""

from __future__ import annotations

import asyncio
import itertools

from application.errors import ProviderError
from application.ports import CallUploads

NAME = "memory"
OPERATIONS = frozenset({"list_uploads", "delete_upload"})


class InMemoryCallFeatures(CallUploads):
    """State kept in dicts and open to inspection; `fail_next` makes chosen calls fail like a broken provider."""

    def __init__(self) -> None:
        self.uploads: dict[str, str] = {}  # key -> room id
        self.deleted_uploads: list[str] = []
        self.max_concurrent_deletions = 0
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

    def _maybe_fail(self, operation: str) -> None:
        pending = self._failures.get(operation, 0)
        if pending:
            self._failures[operation] = pending - 1
            raise ProviderError(NAME, operation, "injected failure")
