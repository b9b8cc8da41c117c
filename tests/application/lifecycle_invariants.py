"""What the lifecycle state machine checks after every step, and how it drives the async use cases.

The invariants compare the service (use cases wired as the composition root wires them, on the in-memory
store and an observed in-memory video provider) with the model of what it accepted: no accepted change
lost and nothing stored that was refused, every room where it belongs, the plus rule, and each
participant's link visible exactly inside its window. The rules live in test_lifecycle_state_machine.py.

Hypothesis' stateful tests are synchronous, so the machine owns an asyncio.Runner; every step also waits
for the tasks it started, so that each step's effects are complete before the invariants look.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from hypothesis import event
from hypothesis.stateful import RuleBasedStateMachine, invariant

from application.dto import Requester, RoomSpec
from application.errors import ConcurrentUpdate, NotFound, ProviderError, Unauthorized
from application.get_teleconsultation import ParticipantAccess
from domain.duration_policy import Schedule
from domain.errors import DomainError
from domain.privileges import Privilege
from domain.teleconsultation import Teleconsultation
from tests.application.harness import Harness
from tests.application.lifecycle_model import Accepted, Change, Prediction, predict_update
from tests.application.observed_fakes import IssuedIdsRepository, ObservedVideoProvider

T = TypeVar("T")
# Anything else a use case raises is a bug.
CLEAN_ERRORS = (ProviderError, DomainError, NotFound, Unauthorized, ConcurrentUpdate)
EVERYTHING = 10_000
LINK_GRACE = timedelta(hours=1)


class LifecycleInvariants(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.runner = asyncio.Runner()
        self.accepted: dict[str, Accepted] = {}
        self.repository = IssuedIdsRepository()
        self.provider = ObservedVideoProvider()
        self.h = Harness()
        self.calls_made = 0  # provider calls made by the last attempt
        self.timed_links = False  # whether the provider's links work only inside the window (as Jitsi's)

    def teardown(self) -> None:
        self.runner.close()

    # ------------------------------------------------------------------ driving the use cases

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(_settled(coroutine))

    def attempt(self, label: str, coroutine: Coroutine[Any, Any, T]) -> tuple[T | None, Exception | None, list[str]]:
        """The result or the clean error of one request, and the injected faults that fired meanwhile.

        Outcomes are reported as hypothesis events (see them with --hypothesis-show-statistics)."""
        self.provider.take_fired()
        calls = len(self.provider.calls)
        try:
            result, error = self.run(coroutine), None
        except CLEAN_ERRORS as clean:
            result, error = None, clean
        self.calls_made = len(self.provider.calls) - calls
        event(f"{label}: {'ok' if error is None else type(error).__name__}")
        return result, error, self.provider.take_fired()

    def expect(self, predicted: Prediction, error: Exception | None, fired: list[str]) -> None:
        if predicted is not None:
            assert isinstance(error, predicted), f"expected {predicted.__name__}, got {error!r}"
            assert self.calls_made == 0, "a refused request reached the provider"
        else:
            assert error is None or (isinstance(error, ProviderError) and fired), f"unexpected {error!r}"

    # ------------------------------------------------------------------ invariants

    @invariant()
    def the_store_holds_exactly_what_was_accepted(self) -> None:
        live = self.run(self.live())
        assert set(live) == set(self.accepted), "a refused request was stored, or an accepted one lost"
        for teleconsultation_id, stored in live.items():
            accepted = self.accepted[teleconsultation_id]
            assert stored.schedule == Schedule(accepted.start, accepted.end)
            assert stored.participants_number == accepted.roster.number
            assert [(p.user_id, p.groups, p.full_name, p.language) for p in stored.participants] == [
                (p.user_id, p.groups, p.full_name, p.language) for p in accepted.roster.data
            ]
            assert (stored.provider_room_id is not None) == accepted.complete, "a complete roster must have its room"
            if stored.is_complete:
                assert any(p.privilege is Privilege.PLUS for p in stored.participants), "no plus user"

    @invariant()
    def every_room_belongs_to_one_live_teleconsultation_or_awaits_deletion(self) -> None:
        live = self.run(self.live())
        pending = set(self.run(self.h.store.cleanups.pending(EVERYTHING)))
        owners = Counter(t.provider_room_id for t in live.values() if t.provider_room_id is not None)
        for teleconsultation in live.values():
            if teleconsultation.provider_room_id is None:
                continue
            assert teleconsultation.provider_room_id in self.provider.rooms, (
                "a stored room does not exist at the provider"
            )
            opened_for = self.provider.rooms[teleconsultation.provider_room_id]
            assert {m.provider_user_id for m in opened_for.members} == {
                p.provider_user_id for p in teleconsultation.participants
            }
            if self.timed_links:
                self.check_links_work_throughout_the_window(teleconsultation.schedule, opened_for)
        for room_id in self.provider.rooms:
            assert (owners[room_id] == 1) != (room_id in pending), f"room {room_id} is orphaned or shared"

    @invariant()
    def participants_see_their_link_exactly_inside_the_window(self) -> None:
        for teleconsultation_id, accepted in self.accepted.items():
            links = []
            for user_id in accepted.user_ids:
                access = self.run(self.read_despite_faults(teleconsultation_id, user_id))
                self.check_access(teleconsultation_id, user_id, access)
                links.append(access.access_link)
                event(f"link {'shown' if access.access_link else 'hidden'} to a participant")
            shown = [link for link in links if link is not None]
            assert len(set(shown)) == len(shown), "two participants were given the same link"

    # ------------------------------------------------------------------ helpers

    def predict(self, teleconsultation_id: str, change: Change) -> tuple[Prediction, Accepted | None]:
        current = self.accepted.get(teleconsultation_id)
        return predict_update(current, change, self.h.clock.now(), self.h.immutable_period)

    def check_access(self, teleconsultation_id: str, user_id: str, access: ParticipantAccess) -> None:
        stored = self.run(self.repository.get(teleconsultation_id))
        participant = stored.participant([user_id])
        assert participant is not None
        assert access.provider_user_id == participant.provider_user_id
        room_exists = stored.provider_room_id is not None and stored.provider_room_id in self.provider.rooms
        window_open = self.h.clock.now() >= stored.schedule.start - self.h.immutable_period
        if room_exists and window_open:
            assert access.access_link is not None, "the link is hidden inside the window"
            # The link shown is the stored one, personalised (language, background) by the provider's own rules.
            assert participant.access_link is not None
            assert _undecorated(access.access_link) == _undecorated(participant.access_link)
        else:
            assert access.access_link is None, "a link was shown outside the window or without a room"
        assert (access.details is None) == (stored.provider_room_id is None)

    def check_links_work_throughout_the_window(self, schedule: Schedule, opened_for: RoomSpec) -> None:
        """Links like Jitsi's tokens work only inside the window their room was opened for (from its opening
        to its end plus a grace period); GET shows them from the start minus the immutable period, and they
        must work from then until the end."""
        shown_from = schedule.start - self.h.immutable_period
        assert opened_for.opens_at <= shown_from, "the links will not work when they are shown"
        assert schedule.end <= opened_for.schedule.end + LINK_GRACE, "the links stop working before the end"

    async def read_despite_faults(self, teleconsultation_id: str, user_id: str) -> ParticipantAccess:
        for _ in range(self.provider.armed["room_details"] + 1):
            try:
                return await self.h.get.execute(teleconsultation_id, Requester((user_id,)))
            except ProviderError:
                assert self.provider.take_fired() == ["room_details"], "GET failed without an injected fault"
        raise AssertionError("GET kept failing after the injected faults were used up")

    async def live(self) -> dict[str, Teleconsultation]:
        found = {}
        for teleconsultation_id in self.repository.issued:
            try:
                found[teleconsultation_id] = await self.repository.get(teleconsultation_id)
            except NotFound:
                continue
        return found


async def _settled(coroutine: Coroutine[Any, Any, T]) -> T:
    """Await `coroutine`, then every task it left running (a failed gather leaves its siblings behind)."""
    try:
        return await coroutine
    finally:
        current = asyncio.current_task()
        await asyncio.gather(*(t for t in asyncio.all_tasks() if t is not current), return_exceptions=True)


def _undecorated(link: str) -> str:
    return link.split("#", 1)[0].split("?", 1)[0]
