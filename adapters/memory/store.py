"""All in-memory persistence adapters together, for the memory store backend and tests."""

from __future__ import annotations

from adapters.memory.cleanups import InMemoryPendingRoomCleanups
from adapters.memory.idempotency import InMemoryIdempotencyRecords
from adapters.memory.repository import InMemoryTeleconsultationRepository, InMemoryUserIdMap


class InMemoryStore:
    def __init__(self) -> None:
        self.teleconsultations = InMemoryTeleconsultationRepository()
        self.user_ids = InMemoryUserIdMap()
        self.cleanups = InMemoryPendingRoomCleanups()
        self.idempotency = InMemoryIdempotencyRecords()

    async def ping(self) -> bool:
        return True

    def recoverable(self) -> bool:
        return True
