"""All in-memory persistence adapters together, for the memory store backend and tests."""

from __future__ import annotations

from adapters.memory.cleanups import InMemoryPendingRoomCleanups
from adapters.memory.events import InMemoryEventLog
from adapters.memory.idempotency import InMemoryIdempotencyRecords
from adapters.memory.repository import InMemoryTeleconsultationRepository, InMemoryUserIdMap
from adapters.memory.webhooks import InMemoryWebhookDeliveries
from application.ports import Clock


class InMemoryStore:
    def __init__(self, clock: Clock | None = None) -> None:
        """`clock` dates cancellations (for RETENTION_DAYS); the system's clock without one."""
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

    async def ping(self) -> bool:
        return True
