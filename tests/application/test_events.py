"""Every change leaves its event, and only changes that happened do (issue 14)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from adapters.memory.webhooks import InMemoryWebhookDeliveries
from application.dto import CompanyBackground, Requester
from application.errors import ConcurrentUpdate, ProviderError, StoreUnavailable
from application.events import Event, EventQuery, EventType, Journal
from application.request_context import current_actor, current_request_id
from application.update_teleconsultation import UpdateTeleconsultationCommand
from application.webhooks import Delivery, WebhookOutbox
from tests.application.harness import Harness, create_command, doctor, patient, roster
from tests.builders import T0, make_teleconsultation

DOCTOR = Requester(user_ids=("doc-1",), groups=("doctor",))
PATIENT = Requester(user_ids=("pat-1",), groups=("patient",))


async def logged(h: Harness, *, teleconsultation_id: str | None = None, type: str | None = None) -> list[Event]:  # noqa: A002
    events, _ = await h.store.events.query(EventQuery(teleconsultation_id=teleconsultation_id, type=type), 100)
    return list(reversed(events))  # oldest first, to read as a story


async def test_a_lifecycle_logs_each_change_with_its_actor_and_request_id() -> None:
    h = Harness()
    actor, request = current_actor.set("doc-1"), current_request_id.set("req-1")
    try:
        teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
        await h.update.execute(
            UpdateTeleconsultationCommand(teleconsultation_id, roster=roster(doctor(), patient("pat-2")))
        )
        await h.update.execute(UpdateTeleconsultationCommand(teleconsultation_id, start=T0 + timedelta(hours=1)))
        await h.delete.execute(teleconsultation_id, None)
    finally:
        current_actor.reset(actor)
        current_request_id.reset(request)
    events = await logged(h, teleconsultation_id=teleconsultation_id)
    assert [e.type for e in events] == [
        "teleconsultation.created",
        "room.created",
        "teleconsultation.changed",
        "room.replaced",
        "teleconsultation.changed",
        "teleconsultation.cancelled",
        "room.deleted",
    ]
    assert {(e.actor, e.request_id, e.outcome) for e in events} == {("doc-1", "req-1", "success")}
    assert len({e.id for e in events}) == len(events)


async def test_without_a_requester_the_service_is_the_actor() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    assert {e.actor for e in await logged(h, teleconsultation_id=teleconsultation_id)} == {"service"}


async def test_a_failed_change_logs_nothing() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    before = await logged(h)
    h.provider.fail_next("create_room")
    with pytest.raises(ProviderError):
        await h.update.execute(
            UpdateTeleconsultationCommand(teleconsultation_id, roster=roster(doctor(), patient("pat-2")))
        )
    stale = await h.store.teleconsultations.get(teleconsultation_id)
    await h.delete.execute(teleconsultation_id, None)
    stale.discard()
    with pytest.raises(ConcurrentUpdate):
        await h.store.teleconsultations.save(stale)
    after = await logged(h)
    assert [e.type for e in after[len(before) :]] == ["teleconsultation.cancelled", "room.deleted"]


async def test_a_link_is_logged_the_first_time_it_is_served_and_again_when_it_changes() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    h.clock.set(T0)  # the links are shown from the start
    for _ in range(5):
        await h.get.execute(teleconsultation_id, PATIENT)
    await h.get.execute(teleconsultation_id, DOCTOR)
    served = await logged(h, type="link.served")
    assert [e.actor for e in served] == ["pat-1", "doc-1"]
    # Another instance of the service (a fresh use case) serving the same link adds nothing.
    await Harness(store=h.store, provider=h.provider, clock=h.clock).get.execute(teleconsultation_id, PATIENT)
    assert len(await logged(h, type="link.served")) == 2


async def test_deleted_uploads_and_settings_changes_are_logged() -> None:
    h = Harness()
    teleconsultation_id = await h.create.execute(create_command(doctor(), patient()))
    room_id = (await h.store.teleconsultations.get(teleconsultation_id)).provider_room_id
    assert room_id is not None
    h.features.add_upload(room_id)
    await h.delete_uploads.execute(teleconsultation_id, DOCTOR)
    h.features.backgrounds["alias-1"] = CompanyBackground("alias-1", "https://video.invalid/a.jpg", "2030-01-01")
    await h.set_background.execute(DOCTOR, "alias-1")
    assert [e.type for e in await logged(h)][-2:] == ["uploads.deleted", "settings.changed"]
    assert (await logged(h))[-1].actor == "doc-1"
    await h.delete_uploads.execute(teleconsultation_id, DOCTOR)  # nothing left to delete: no event
    assert [e.type for e in await logged(h)][-1] == "settings.changed"


class FlakyDeliveries(InMemoryWebhookDeliveries):
    """Refuses the first enqueue, as a store that fails between two writes."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 1

    async def enqueue(self, deliveries: Sequence[Delivery]) -> None:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("the store went away")
        await super().enqueue(deliveries)


async def test_a_relay_that_failed_after_logging_still_queues_the_webhook_when_run_again() -> None:
    h = Harness()
    deliveries = FlakyDeliveries()
    outbox = WebhookOutbox(deliveries=deliveries, targets=["http://receiver.invalid/hooks"])
    journal = Journal(clock=h.clock, log=h.store.events, outbox=h.store.outbox, on_logged=[outbox])
    teleconsultation = make_teleconsultation(id="f" * 24)
    await h.store.teleconsultations.add(teleconsultation, [journal.event(EventType.TELECONSULTATION_CREATED, "f" * 24)])
    with pytest.raises(StoreUnavailable):
        await journal.relay()
    assert await journal.relay() == 1
    assert await deliveries.counts() == {"pending": 1, "delivered": 0, "dead": 0}
