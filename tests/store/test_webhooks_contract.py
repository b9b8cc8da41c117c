"""Outbound webhook deliveries, one contract for the in-memory fake and MongoDB over the wire."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.webhooks import InMemoryWebhookDeliveries
from application.ports import WebhookDeliveries
from application.webhooks import Delivery
from tests.store.conftest import MongoTarget, open_test_store

LEASE = timedelta(minutes=2)


@pytest.fixture(params=["memory", "mongo"])
async def deliveries(
    request: pytest.FixtureRequest, mongo_target: MongoTarget, clock: FixedClock
) -> AsyncIterator[WebhookDeliveries]:
    if request.param == "memory":
        yield InMemoryWebhookDeliveries()
        return
    async with open_test_store(mongo_target, clock) as store:
        yield store.deliveries


def delivery(name: str) -> Delivery:
    return Delivery(f"d-{name}", f"e-{name}", "http://receiver.invalid/hooks", b'{"type":"x"}')


async def test_a_queued_delivery_is_due_at_once_and_queueing_it_again_changes_nothing(
    deliveries: WebhookDeliveries, clock: FixedClock
) -> None:
    now = clock.now()
    await deliveries.enqueue([delivery("a"), delivery("b")])
    await deliveries.enqueue([delivery("a")])
    claimed = await deliveries.claim_due("one", now=now, until=now + LEASE, limit=10)
    assert claimed == [delivery("a"), delivery("b")]
    assert await deliveries.counts() == {"pending": 2, "delivered": 0, "dead": 0}


async def test_a_leased_delivery_is_refused_to_others_until_its_lease_runs_out(
    deliveries: WebhookDeliveries, clock: FixedClock
) -> None:
    now = clock.now()
    await deliveries.enqueue([delivery("a")])
    assert len(await deliveries.claim_due("one", now=now, until=now + LEASE, limit=10)) == 1
    assert await deliveries.claim_due("two", now=now + LEASE / 2, until=now + LEASE, limit=10) == []
    assert len(await deliveries.claim_due("two", now=now + LEASE, until=now + 2 * LEASE, limit=10)) == 1


async def test_a_failed_attempt_waits_until_its_retry_and_counts(
    deliveries: WebhookDeliveries, clock: FixedClock
) -> None:
    now = clock.now()
    await deliveries.enqueue([delivery("a")])
    await deliveries.claim_due("one", now=now, until=now + LEASE, limit=10)
    await deliveries.failed("d-a", "one", retry_at=now + timedelta(seconds=30))
    assert await deliveries.claim_due("one", now=now + timedelta(seconds=29), until=now + LEASE, limit=10) == []
    again = await deliveries.claim_due("two", now=now + timedelta(seconds=30), until=now + LEASE, limit=10)
    assert [d.attempts for d in again] == [1]
    await deliveries.delivered("d-a", "one")  # not its lease: nothing happens
    assert (await deliveries.counts())["delivered"] == 0
    await deliveries.delivered("d-a", "two")
    assert await deliveries.counts() == {"pending": 0, "delivered": 1, "dead": 0}
    assert await deliveries.claim_due("two", now=now + LEASE * 10, until=now + LEASE * 11, limit=10) == []


async def test_a_dead_letter_is_never_claimed_again(deliveries: WebhookDeliveries, clock: FixedClock) -> None:
    now = clock.now()
    await deliveries.enqueue([delivery("a")])
    await deliveries.claim_due("one", now=now, until=now + LEASE, limit=10)
    await deliveries.failed("d-a", "one", retry_at=None)
    assert await deliveries.counts() == {"pending": 0, "delivered": 0, "dead": 1}
    assert await deliveries.claim_due("one", now=now + LEASE * 10, until=now + LEASE * 11, limit=10) == []


async def test_of_concurrent_deliverers_each_delivery_goes_to_exactly_one(
    deliveries: WebhookDeliveries, clock: FixedClock
) -> None:
    now = clock.now()
    await deliveries.enqueue([delivery(str(n)) for n in range(10)])
    ids: list[str] = []
    for _ in range(10):  # rounds until everything is claimed: a claim lost to another deliverer is tried again
        claims = await asyncio.gather(
            *(deliveries.claim_due(f"owner-{n}", now=now, until=now + LEASE, limit=4) for n in range(5))
        )
        ids.extend(d.id for claim in claims for d in claim)
    assert sorted(ids) == sorted(f"d-{n}" for n in range(10))  # each once, none twice
