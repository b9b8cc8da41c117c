"""All in-memory persistence adapters together, for the memory store backend and tests."""

from __future__ import annotations

from adapters.memory.cleanups import InMemoryPendingRoomCleanups
from adapters.memory.idempotency import InMemoryIdempotencyRecords
from adapters.memory.repository import (
    InMemoryRecordedRoomDeletions,
    InMemoryTeleconsultationRepository,
    InMemoryUserIdMap,
)
from adapters.memory.room_intents import InMemoryRoomIntents
from application.ports import Clock


class InMemoryStore:
    """`clock` dates the writes, as the store's `updatedAt` does; without one, every write counts as long ago."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.teleconsultations = InMemoryTeleconsultationRepository(clock)
        self.user_ids = InMemoryUserIdMap()
        self.cleanups = InMemoryPendingRoomCleanups()
        self.idempotency = InMemoryIdempotencyRecords()
        self.intents = InMemoryRoomIntents()
        self.room_deletions = InMemoryRecordedRoomDeletions(self.teleconsultations)

    def date_writes(self, clock: Clock) -> None:
        """Date the writes by `clock` from now on, unless the store already has a clock."""
        self.teleconsultations.date_writes(clock)

    async def ping(self) -> bool:
        return True

    def recoverable(self) -> bool:
        return True
