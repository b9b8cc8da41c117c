"""Idempotency records, one contract for the in-memory fake and MongoDB over the wire."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from application.errors import IdempotencyKeyInFlight, IdempotencyKeyReused
from application.ports import IdempotencyRecords
from tests.builders import T0
from tests.store.conftest import Ports

LEASE = timedelta(minutes=2)
TTL = timedelta(days=1)


async def begin(
    records: IdempotencyRecords, owner: str, *, fingerprint: str = "body-1", at: datetime = T0
) -> str | None:
    return await records.begin("key-1", fingerprint, owner, now=at, lease_until=at + LEASE, expires_at=at + TTL)


async def test_a_finished_key_replays_its_result_for_the_same_body_only(ports: Ports) -> None:
    records = ports.idempotency
    assert await begin(records, "attempt-1") is None
    await records.finish("key-1", "attempt-1", "teleconsultation-1")
    assert await begin(records, "attempt-2", at=T0 + TTL - timedelta(seconds=1)) == "teleconsultation-1"
    with pytest.raises(IdempotencyKeyReused):
        await begin(records, "attempt-3", fingerprint="body-2")
    assert await records.begin("key-2", "body-1", "attempt-4", now=T0, lease_until=T0, expires_at=T0 + TTL) is None


async def test_a_key_in_flight_is_refused_and_a_different_body_is_still_a_reuse(ports: Ports) -> None:
    records = ports.idempotency
    assert await begin(records, "attempt-1") is None
    with pytest.raises(IdempotencyKeyInFlight):
        await begin(records, "attempt-2", at=T0 + LEASE - timedelta(seconds=1))
    with pytest.raises(IdempotencyKeyReused):
        await begin(records, "attempt-3", fingerprint="body-2")


async def test_a_released_key_is_free_again_even_for_another_body(ports: Ports) -> None:
    records = ports.idempotency
    assert await begin(records, "attempt-1") is None
    await records.release("key-1", "attempt-2")  # not its holder: nothing happens
    with pytest.raises(IdempotencyKeyInFlight):
        await begin(records, "attempt-3")
    await records.release("key-1", "attempt-1")
    assert await begin(records, "attempt-4", fingerprint="body-2") is None


async def test_an_attempt_whose_instance_died_stops_holding_the_key_when_its_lease_runs_out(ports: Ports) -> None:
    records = ports.idempotency
    assert await begin(records, "attempt-1") is None
    assert await begin(records, "attempt-2", at=T0 + LEASE) is None
    await records.finish("key-1", "attempt-1", "late")  # no longer its key: ignored
    await records.finish("key-1", "attempt-2", "teleconsultation-2")
    assert await begin(records, "attempt-3", at=T0 + LEASE) == "teleconsultation-2"


async def test_an_expired_key_starts_afresh(ports: Ports) -> None:
    records = ports.idempotency
    assert await begin(records, "attempt-1") is None
    await records.finish("key-1", "attempt-1", "teleconsultation-1")
    assert await begin(records, "attempt-2", fingerprint="body-2", at=T0 + TTL) is None
    with pytest.raises(IdempotencyKeyInFlight):
        await begin(records, "attempt-3", fingerprint="body-2", at=T0 + TTL)


async def test_a_successful_result_is_never_released(ports: Ports) -> None:
    records = ports.idempotency
    await begin(records, "attempt-1")
    await records.finish("key-1", "attempt-1", "teleconsultation-1")
    await records.release("key-1", "attempt-1")
    assert await begin(records, "attempt-2") == "teleconsultation-1"


async def test_of_concurrent_first_attempts_exactly_one_holds_the_key(ports: Ports) -> None:
    records = ports.idempotency
    outcomes = await asyncio.gather(*(begin(records, f"attempt-{n}") for n in range(6)), return_exceptions=True)
    assert outcomes.count(None) == 1
    assert all(isinstance(o, IdempotencyKeyInFlight) for o in outcomes if o is not None)
