"""Outbound webhooks: every logged event is queued for each configured target and delivered at least once.

Deliveries live in the store, so retries survive restarts. A deliverer leases the deliveries it sends (several
instances never send one at the same time); a failed attempt is retried after a doubling pause, and after
`max_attempts` the delivery is dead-lettered (the metrics count them). A payload holds ids and types only: a
receiver fetches the rest through the API.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from application.events import Event, derived_id
from application.ports import Clock, WebhookDeliveries, WebhookSender

logger = logging.getLogger(__name__)

PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
LONGEST_PAUSE = timedelta(hours=1)
BATCH = 50
CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class Delivery:
    id: str
    event_id: str
    url: str
    body: bytes
    attempts: int = 0


def payload(event: Event) -> bytes:
    """What a receiver gets (Standard Webhooks' `type`, `timestamp`, `data`): the event's type, time and ids, never
    its actor or anything about a person."""
    message = {
        "type": event.type,
        "timestamp": _iso(event.at),
        "data": {"eventId": event.id, "teleconsultationId": event.teleconsultation_id, "outcome": event.outcome},
    }
    return json.dumps(message, separators=(",", ":")).encode()


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class WebhookOutbox:
    """Queues a delivery of each new event to each target; a listener of the Journal."""

    def __init__(self, *, deliveries: WebhookDeliveries, targets: Sequence[str]) -> None:
        self._deliveries = deliveries
        self._targets = tuple(targets)
        self.queued = asyncio.Event()  # set when something was queued: the deliverer wakes up at once

    async def __call__(self, event: Event) -> None:
        if not self._targets:
            return
        body = payload(event)
        await self._deliveries.enqueue(
            [Delivery(derived_id("webhook", event.id, url), event.id, url, body) for url in self._targets]
        )
        self.queued.set()


class WebhookDeliverer:
    def __init__(
        self,
        *,
        deliveries: WebhookDeliveries,
        sender: WebhookSender,
        clock: Clock,
        max_attempts: int,
        retry_base: timedelta,
        lease: timedelta = timedelta(minutes=2),
        owner: str | None = None,
    ) -> None:
        self._deliveries = deliveries
        self._sender = sender
        self._clock = clock
        self._max_attempts = max_attempts
        self._retry_base = retry_base
        self._lease = lease
        self._owner = owner or secrets.token_hex(8)

    async def counts(self) -> dict[str, int]:
        return await self._deliveries.counts()

    def pause_after(self, attempts: int) -> timedelta:
        """The wait before attempt `attempts + 1`: the base, doubled after every failure, at most an hour."""
        pause: timedelta = self._retry_base * 2 ** max(attempts - 1, 0)
        return min(pause, LONGEST_PAUSE)

    async def deliver_due(self) -> int:
        """Send every due delivery once (in batches); how many were attempted."""
        attempted = 0
        gate = asyncio.Semaphore(CONCURRENCY)

        async def in_order(deliveries: list[Delivery]) -> None:
            async with gate:
                for delivery in deliveries:
                    await self._attempt(delivery)

        while True:
            now = self._clock.now()
            claimed = await self._deliveries.claim_due(self._owner, now=now, until=now + self._lease, limit=BATCH)
            if not claimed:
                return attempted
            # Each target gets its deliveries one after the other, in the order of their events; targets in parallel.
            by_target: dict[str, list[Delivery]] = {}
            for delivery in claimed:
                by_target.setdefault(delivery.url, []).append(delivery)
            await asyncio.gather(*(in_order(deliveries) for deliveries in by_target.values()))
            attempted += len(claimed)
            if len(claimed) < BATCH:
                return attempted

    async def _attempt(self, delivery: Delivery) -> None:
        if await self._sender.send(delivery.url, delivery.event_id, delivery.body):
            await self._deliveries.delivered(delivery.id, self._owner)
            return
        attempts = delivery.attempts + 1
        if attempts >= self._max_attempts:
            logger.error("a webhook delivery failed %d times and is dead-lettered", attempts)
            await self._deliveries.failed(delivery.id, self._owner, retry_at=None)
            return
        retry_at = self._clock.now() + self.pause_after(attempts)
        await self._deliveries.failed(delivery.id, self._owner, retry_at=retry_at)
