"""In-memory webhook deliveries, with the contract of the MongoDB ones (tests/store/test_webhooks_contract.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from application.ports import WebhookDeliveries
from application.webhooks import DEAD, DELIVERED, PENDING, Delivery


@dataclass(slots=True)
class _Entry:
    delivery: Delivery
    order: int
    state: str = PENDING
    due: datetime | None = None  # None: at once
    lease_owner: str | None = None
    lease_until: datetime | None = None


class InMemoryWebhookDeliveries(WebhookDeliveries):
    """Check-and-set steps never await in between, so each is atomic, as one MongoDB update is."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    async def enqueue(self, deliveries: Sequence[Delivery]) -> None:
        await asyncio.sleep(0)
        for delivery in deliveries:
            if delivery.id not in self._entries:
                self._entries[delivery.id] = _Entry(replace(delivery, attempts=0), len(self._entries))

    async def claim_due(self, owner: str, *, now: datetime, until: datetime, limit: int) -> list[Delivery]:
        await asyncio.sleep(0)
        claimed: list[Delivery] = []
        for entry in sorted(self._entries.values(), key=lambda e: e.order):
            if len(claimed) >= limit:
                break
            free = entry.lease_until is None or entry.lease_until <= now
            if entry.state == PENDING and (entry.due is None or entry.due <= now) and free:
                entry.lease_owner, entry.lease_until = owner, until
                claimed.append(entry.delivery)
        return claimed

    async def delivered(self, delivery_id: str, owner: str) -> None:
        await asyncio.sleep(0)
        entry = self._entries.get(delivery_id)
        if entry is not None and entry.lease_owner == owner:
            entry.state, entry.lease_owner, entry.lease_until = DELIVERED, None, None

    async def failed(self, delivery_id: str, owner: str, *, retry_at: datetime | None) -> None:
        await asyncio.sleep(0)
        entry = self._entries.get(delivery_id)
        if entry is None or entry.lease_owner != owner:
            return
        entry.delivery = replace(entry.delivery, attempts=entry.delivery.attempts + 1)
        entry.state = PENDING if retry_at is not None else DEAD
        entry.due, entry.lease_owner, entry.lease_until = retry_at, None, None

    async def counts(self) -> dict[str, int]:
        await asyncio.sleep(0)
        counts = dict.fromkeys((PENDING, DELIVERED, DEAD), 0)
        for entry in self._entries.values():
            counts[entry.state] += 1
        return counts
