"""Signed outbound webhooks end to end: the service under uvicorn, a verifying receiver on a real socket (issue 14).

Every delivery's signature is checked by the receiver (tests/fakes/webhook_receiver.py), and each event reaches it
exactly once per id: across a receiver that fails at first, across a restart of the service on the same store,
and with two instances delivering from one store.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import timedelta

import msgspec
import pytest

from adapters.memory.clock import FixedClock
from adapters.mongo.embedded import EmbeddedMongoServer
from entrypoints.service_config import DEFAULT_CONFIG
from entrypoints.settings import EventSettings, Settings, StoreSettings
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.webhook_receiver import SECRET, WebhookReceiver
from tests.http.builders import body, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve

AUDITED = msgspec.structs.replace(DEFAULT_CONFIG, auditorGroups=["auditor"])
AUDITOR = {"miauserid": "aud-1", "miausergroups": "auditor"}
LIFECYCLE_TYPES = [
    "teleconsultation.created",
    "room.created",
    "teleconsultation.changed",
    "room.replaced",
    "teleconsultation.cancelled",
    "room.deleted",
]


@pytest.fixture
async def receiver() -> AsyncIterator[WebhookReceiver]:
    async with WebhookReceiver() as server:
        yield server


def webhook_settings(fake: FakeKaleyraServer, receiver: WebhookReceiver, **overrides: object) -> Settings:
    events = EventSettings(
        webhook_urls=(receiver.url("/hooks"),),
        webhook_secret=SECRET,
        webhook_retry_base_seconds=1,
        webhook_poll_seconds=0.02,
    )
    return kaleyra_settings(fake, events=replace(events, **overrides))  # type: ignore[arg-type]


async def lifecycle(client: Client) -> str:
    created = await client.post("/teleconsultation", json=body(doctor(), patient()), headers={"miauserid": "doc-1"})
    room_id: str = created.json()["roomId"]
    roster = {"participants": {"number": 2, "data": [doctor(), patient("pat-2")]}}
    assert (await client.patch(f"/teleconsultation/{room_id}", json=roster)).status_code == 204
    assert (await client.delete(f"/teleconsultation/{room_id}")).status_code == 204
    return room_id


async def eventually(
    condition: Callable[[], bool], clock: FixedClock, *, seconds: float = 15, step: timedelta = timedelta(minutes=30)
) -> None:
    """Wait for `condition`, moving the clock on by `step` at each look so that every retry falls due."""
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        clock.advance(step)
        await asyncio.sleep(0.05)
    raise AssertionError("the condition never held")


async def test_a_lifecycle_reaches_the_receiver_signed_in_order_and_once_as_in_the_audit_trail(
    fake_kaleyra: FakeKaleyraServer, receiver: WebhookReceiver, clock: FixedClock
) -> None:
    async with serve(webhook_settings(fake_kaleyra, receiver), clock, AUDITED) as client:
        room_id = await lifecycle(client)
        await eventually(lambda: len(receiver.state.accepted) >= len(LIFECYCLE_TYPES), clock)
        audit = (await client.get("/audit/events", params={"teleconsultationId": room_id}, headers=AUDITOR)).json()
    received = receiver.state.accepted
    assert [r.payload["type"] for r in received] == LIFECYCLE_TYPES
    assert [r.webhook_id for r in received] == [e["id"] for e in reversed(audit["events"])]
    assert {r.payload["data"]["teleconsultationId"] for r in received} == {room_id}
    assert set(receiver.state.accepted_ids().values()) == {1}
    assert receiver.state.bad_signatures == 0
    # Ids and types only.
    assert set(received[0].payload) == {"type", "timestamp", "data"}
    assert set(received[0].payload["data"]) == {"eventId", "teleconsultationId", "outcome"}


async def test_a_receiver_that_fails_at_first_gets_every_event_once(
    fake_kaleyra: FakeKaleyraServer, receiver: WebhookReceiver, clock: FixedClock
) -> None:
    receiver.state.fail_first = 4
    async with serve(webhook_settings(fake_kaleyra, receiver), clock) as client:
        await lifecycle(client)
        await eventually(lambda: len(receiver.state.accepted) >= len(LIFECYCLE_TYPES), clock)
        await asyncio.sleep(0.2)  # time enough for a duplicate to show up
    assert receiver.state.refused == 4
    assert sorted(r.payload["type"] for r in receiver.state.accepted) == sorted(LIFECYCLE_TYPES)
    assert set(receiver.state.accepted_ids().values()) == {1}
    assert receiver.state.bad_signatures == 0


async def test_deliveries_survive_a_restart_and_two_instances_send_each_once(
    fake_kaleyra: FakeKaleyraServer, receiver: WebhookReceiver, embedded_server: EmbeddedMongoServer, clock: FixedClock
) -> None:
    store = StoreSettings(backend="mongo", mongodb_url=embedded_server.url, database=f"test_{uuid.uuid4().hex}")
    settings = replace(webhook_settings(fake_kaleyra, receiver), store=store)
    receiver.state.fail_first = 10_000  # down during the first run
    async with serve(settings, clock) as client:
        await lifecycle(client)
        await eventually(lambda: receiver.state.refused >= len(LIFECYCLE_TYPES), clock)
    assert receiver.state.accepted == []
    receiver.state.fail_first = 0
    async with AsyncExitStack() as stack:
        for _ in range(2):  # the service comes back as two instances
            await stack.enter_async_context(serve(settings, clock))
        # Every retry falls due at once; then time stands still, so that no deliverer's lease runs out while it
        # sends (a lease that runs out lets the other instance send too: at least once, not exactly once).
        clock.advance(timedelta(days=1))
        await eventually(lambda: len(receiver.state.accepted) >= len(LIFECYCLE_TYPES), clock, step=timedelta(0))
        await asyncio.sleep(0.3)
    assert sorted(r.payload["type"] for r in receiver.state.accepted) == sorted(LIFECYCLE_TYPES)
    assert set(receiver.state.accepted_ids().values()) == {1}
    assert receiver.state.bad_signatures == 0


async def test_a_delivery_that_keeps_failing_is_dead_lettered_and_counted(
    fake_kaleyra: FakeKaleyraServer, receiver: WebhookReceiver, clock: FixedClock
) -> None:
    receiver.state.fail_first = 10_000
    async with serve(webhook_settings(fake_kaleyra, receiver, webhook_max_attempts=3), clock) as client:
        await client.post("/teleconsultation", json=body(doctor(), patient()))
        await eventually(lambda: receiver.state.refused >= 2 * 3, clock)
        await asyncio.sleep(0.2)
        metrics = (await client.get("/-/metrics")).text
    assert receiver.state.refused == 2 * 3  # two events, three attempts each, then no more
    dead = re.search(r'^teleconsultation_webhook_deliveries\{state="dead"\} (\S+)$', metrics, re.MULTILINE)
    assert dead is not None
    assert float(dead.group(1)) == 2
