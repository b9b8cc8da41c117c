"""CreateTeleconsultation behind an Idempotency-Key, on the in-memory adapters."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from application.errors import IdempotencyKeyInFlight, IdempotencyKeyReused, ProviderError, StoreUnavailable
from application.idempotent_creation import Created, IdempotencyKey, IdempotentCreateTeleconsultation
from tests.application.harness import Harness, create_command, doctor, patient

TTL = timedelta(hours=24)


def idempotent(h: Harness) -> IdempotentCreateTeleconsultation:
    return IdempotentCreateTeleconsultation(
        create=h.create, records=h.store.idempotency, clock=h.clock, ttl=TTL, policy=h.policy
    )


def key(value: str = "key-1", body: str = "body-1", scope: str = "") -> IdempotencyKey:
    return IdempotencyKey(value=value, scope=scope, fingerprint=body)


async def test_the_same_key_and_body_replay_the_first_creation_without_a_second_room() -> None:
    h = Harness()
    create = idempotent(h)
    first = await create.execute(create_command(doctor(), patient()), key())
    again = await create.execute(create_command(doctor(), patient()), key())
    assert first == Created(first.teleconsultation_id)
    assert again == Created(first.teleconsultation_id, replayed=True)
    assert len(h.provider.rooms) == 1


async def test_another_body_with_the_same_key_is_refused() -> None:
    h = Harness()
    create = idempotent(h)
    await create.execute(create_command(doctor(), patient()), key())
    with pytest.raises(IdempotencyKeyReused):
        await create.execute(create_command(doctor(), patient("pat-2")), key(body="body-2"))
    assert len(h.provider.rooms) == 1


async def test_keys_are_scoped_to_who_sends_them_and_without_a_key_nothing_is_remembered() -> None:
    h = Harness()
    create = idempotent(h)
    mine = await create.execute(create_command(doctor(), patient()), key(scope="doc-1"))
    theirs = await create.execute(create_command(doctor(), patient()), key(scope="doc-2"))
    unkeyed = [await create.execute(create_command(doctor(), patient()), None) for _ in range(2)]
    ids = {mine.teleconsultation_id, theirs.teleconsultation_id, *(c.teleconsultation_id for c in unkeyed)}
    assert len(ids) == 4
    assert not any(c.replayed for c in (mine, theirs, *unkeyed))


async def test_a_second_request_while_the_first_runs_is_told_to_wait() -> None:
    h = Harness()
    create = idempotent(h)
    first = asyncio.create_task(create.execute(create_command(doctor(), patient()), key()))
    await asyncio.sleep(0)  # the first holds the key and is waiting on the (in-memory) store
    with pytest.raises(IdempotencyKeyInFlight):
        await create.execute(create_command(doctor(), patient()), key())
    assert not (await first).replayed
    assert len(h.provider.rooms) == 1


async def test_a_failed_attempt_does_not_poison_the_key() -> None:
    h = Harness()
    create = idempotent(h)
    h.provider.fail_next("create_room")
    with pytest.raises(ProviderError):
        await create.execute(create_command(doctor(), patient()), key())
    retried = await create.execute(create_command(doctor(), patient()), key())
    assert not retried.replayed
    assert (await h.store.teleconsultations.get(retried.teleconsultation_id)).provider_room_id in h.provider.rooms


async def test_keys_expire_after_their_ttl() -> None:
    h = Harness()
    create = idempotent(h)
    first = await create.execute(create_command(doctor(), patient()), key())
    h.clock.advance(TTL)
    later = await create.execute(create_command(doctor(), patient()), key(body="another body"))
    assert later.teleconsultation_id != first.teleconsultation_id
    assert not later.replayed


async def test_a_creation_whose_outcome_cannot_be_recorded_still_succeeds() -> None:
    h = Harness()

    async def store_down(*_: object) -> None:
        raise StoreUnavailable("down")

    h.store.idempotency.finish = store_down  # type: ignore[method-assign,assignment]
    created = await idempotent(h).execute(create_command(doctor(), patient()), key())
    assert (await h.store.teleconsultations.get(created.teleconsultation_id)).provider_room_id in h.provider.rooms


def test_the_stored_key_names_neither_the_key_nor_its_sender() -> None:
    stored = key("my-secret-key", scope="auth0|patient-7").record_key()
    assert "my-secret-key" not in stored
    assert "patient-7" not in stored
    assert stored != key("my-secret-key", scope="auth0|patient-8").record_key()
    assert IdempotencyKey("b", "a", "x").record_key() != IdempotencyKey("", "ab", "x").record_key()
