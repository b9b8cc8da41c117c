"""All in-memory persistence adapters together, for the memory store backend and tests."""

from __future__ import annotations

from adapters.memory.cleanups import InMemoryPendingRoomCleanups
from adapters.memory.events import InMemoryEventLog
from adapters.memory.idempotency import InMemoryIdempotencyRecords
from adapters.memory.repository import (
    InMemoryRecordedRoomDeletions,
    InMemoryTeleconsultationRepository,
    InMemoryUserIdMap,
)
from adapters.memory.room_details import InMemorySharedRoomDetails
from adapters.memory.room_intents import InMemoryRoomIntents
from adapters.memory.webhooks import InMemoryWebhookDeliveries
from application.ports import Clock, TeleconsultationChanges


class InMemoryStore:
    """`clock` dates the writes, as the store's `updatedAt` does (and the cancellations RETENTION_DAYS counts from);
    without one, every write counts as long ago."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.teleconsultations = InMemoryTeleconsultationRepository(clock)
        self.user_ids = InMemoryUserIdMap()
        self.cleanups = InMemoryPendingRoomCleanups()
        self.idempotency = InMemoryIdempotencyRecords()
        self.events = InMemoryEventLog()
        # The outbox lives with the teleconsultations, written by the same step as their changes.
        self.outbox = self.teleconsultations
        self.deliveries = InMemoryWebhookDeliveries()
        self.rooms = self.teleconsultations
        self.retention = self.teleconsultations
        self.intents = InMemoryRoomIntents()
        self.room_deletions = InMemoryRecordedRoomDeletions(self.teleconsultations)
        self.room_details = InMemorySharedRoomDetails()
        # One process holds the store, so no other instance writes to it: nothing to follow.
        self.changes: TeleconsultationChanges | None = None

    def date_writes(self, clock: Clock) -> None:
        """Date the writes by `clock` from now on, unless the store already has a clock."""
        self.teleconsultations.date_writes(clock)

    async def ping(self) -> bool:
        return True

    def recoverable(self) -> bool:
        return True
