"""A stateful property test of the whole teleconsultation lifecycle on the in-memory adapters.

Hypothesis drives random sequences of creations (complete and incomplete rosters, some without a plus
user), changes (one at a time and two racing), reads by participants and strangers, deletions, clock moves,
sweeps of the pending room deletions, and provider faults injected at random. The model
(lifecycle_model.py) predicts each answer: a refused request must get exactly the predicted error, and an
accepted one may fail only with a ProviderError when an injected fault fired. After every step the
invariants of lifecycle_invariants.py compare the service with the model.

Run it longer with e.g. `pytest tests/application/test_lifecycle_state_machine.py --hypothesis-seed=N`
and see which outcomes it reached with `--hypothesis-show-statistics`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize, multiple, rule

from adapters.memory.store import InMemoryStore
from application.create_teleconsultation import CreateTeleconsultationCommand
from application.dto import Requester, RosterInput
from application.errors import ConcurrentUpdate, NotFound, ProviderError, Unauthorized
from application.update_teleconsultation import UpdateTeleconsultationCommand
from tests.application.harness import Harness
from tests.application.lifecycle_invariants import CLEAN_ERRORS, EVERYTHING, LifecycleInvariants
from tests.application.lifecycle_model import GROUPS, STRANGER, Accepted, Change, Prediction, predict_create
from tests.application.lifecycle_strategies import CLOCK, DURATIONS, STARTS, changes, reschedules, rosters
from tests.builders import T0

FAULTY_OPERATIONS = ("create_user", "create_room", "delete_room", "room_details")


class LifecycleMachine(LifecycleInvariants):
    teleconsultations = Bundle("teleconsultations")

    # ------------------------------------------------------------------ rules

    @initialize(
        target=teleconsultations, minutes=st.sampled_from([0, 10, 60]), timed_links=st.booleans(), roster=rosters()
    )
    def wire(self, minutes: int, timed_links: bool, roster: RosterInput) -> Any:
        """Wire the use cases with an immutable period, as for a provider whose links work only inside their
        window (Jitsi with tokens) or not (Kaleyra), and try a first creation so that rules have an id."""
        store = InMemoryStore()
        store.teleconsultations = self.repository
        self.timed_links = timed_links
        self.h = Harness(
            immutable_period=timedelta(minutes=minutes),
            links_bound_to_schedule=timed_links,
            store=store,
            provider=self.provider,
        )
        return self.create(start=T0, seconds=3600, as_end=False, roster=roster)

    @rule(target=teleconsultations, start=STARTS, seconds=DURATIONS, as_end=st.booleans(), roster=rosters())
    def create(self, start: datetime, seconds: int, as_end: bool, roster: RosterInput) -> Any:
        end = start + timedelta(seconds=seconds)
        command = CreateTeleconsultationCommand(
            roster=roster, start=start, end=end if as_end else None, duration_seconds=None if as_end else seconds
        )
        created, error, fired = self.attempt("create", self.h.create.execute(command))
        self.expect(predict_create(start, end, roster), error, fired)
        if created is None:
            return multiple()
        self.accepted[created] = Accepted(start, end, roster)
        return created

    @rule(teleconsultation_id=teleconsultations, change=changes())
    def change(self, teleconsultation_id: str, change: Change) -> None:
        predicted, after = self.predict(teleconsultation_id, change)
        _, error, fired = self.attempt("change", self.h.update.execute(command(teleconsultation_id, change)))
        self.expect(predicted, error, fired)
        if error is None and after is not None:
            self.accepted[teleconsultation_id] = after

    @rule(teleconsultation_id=teleconsultations, start=STARTS)
    def move_start(self, teleconsultation_id: str, start: datetime) -> None:
        """The commonest change: the same appointment at another time (it keeps its duration and room)."""
        self.change(teleconsultation_id, Change(start=start))

    # The first is often a mere reschedule: it keeps the room and, having less to do, usually saves first.
    @rule(teleconsultation_id=teleconsultations, first=reschedules() | changes(), second=changes())
    def change_concurrently(self, teleconsultation_id: str, first: Change, second: Change) -> None:
        """Both read the same version; at most one may win, the other gets ConcurrentUpdate."""
        predictions = [self.predict(teleconsultation_id, change) for change in (first, second)]
        both = _both(
            self.h.update.execute(command(teleconsultation_id, first)),
            self.h.update.execute(command(teleconsultation_id, second)),
        )
        results, _, fired = self.attempt("both changes", both)
        assert results is not None
        winners = []
        for (predicted, after), error in zip(predictions, results, strict=True):
            if error is not None and not isinstance(error, CLEAN_ERRORS):
                raise error
            if predicted is not None:
                assert isinstance(error, predicted), f"expected {predicted.__name__}, got {error!r}"
            else:
                assert (
                    error is None or isinstance(error, ConcurrentUpdate) or (isinstance(error, ProviderError) and fired)
                )
            event(f"change concurrently: {'ok' if error is None else type(error).__name__}")
            if error is None:
                winners.append(after)
        assert len(winners) <= 1, "two concurrent changes of the same version were both stored"
        if all(predicted is None for predicted, _ in predictions) and not fired:
            assert len(winners) == 1, "neither of two valid concurrent changes was stored"
        if winners and winners[0] is not None:
            self.accepted[teleconsultation_id] = winners[0]

    @rule(teleconsultation_id=teleconsultations, data=st.data())
    def read(self, teleconsultation_id: str, data: st.DataObject) -> None:
        """Mostly by one of its participants, otherwise by anyone (strangers included)."""
        accepted = self.accepted.get(teleconsultation_id)
        everyone = [*GROUPS, STRANGER]
        reader = data.draw(
            st.sampled_from(accepted.user_ids if accepted and accepted.user_ids else everyone)
            | st.sampled_from(everyone)
        )
        predicted: Prediction = None
        if accepted is None:
            predicted = NotFound
        elif reader not in accepted.user_ids:
            predicted = Unauthorized
        access, error, fired = self.attempt("read", self.h.get.execute(teleconsultation_id, Requester((reader,))))
        self.expect(predicted, error, fired)
        if access is not None:
            self.check_access(teleconsultation_id, reader, access)

    @rule(teleconsultation_id=teleconsultations)
    def delete(self, teleconsultation_id: str) -> None:
        predicted = None if teleconsultation_id in self.accepted else NotFound
        _, error, fired = self.attempt("delete", self.h.delete.execute(teleconsultation_id, None))
        self.expect(predicted, error, fired)
        assert not isinstance(error, ProviderError), "a failed room deletion must be queued, not refuse the delete"
        self.accepted.pop(teleconsultation_id, None)

    @rule(moment=CLOCK)
    def move_clock(self, moment: datetime) -> None:
        self.h.clock.set(moment)

    @rule(operation=st.sampled_from(FAULTY_OPERATIONS), times=st.integers(min_value=1, max_value=2))
    def inject_fault(self, operation: str, times: int) -> None:
        self.provider.fail_next(operation, times)

    @rule()
    def sweep(self) -> None:
        before = set(self.run(self.h.store.cleanups.pending(EVERYTHING)))
        still_pending, _, fired = self.attempt("sweep", self.h.rooms.sweep(limit=EVERYTHING))
        after = set(self.run(self.h.store.cleanups.pending(EVERYTHING)))
        assert still_pending == len(after)
        assert after <= before
        assert not (before - after) & set(self.provider.rooms), "a swept room is still at the provider"
        if "delete_room" not in fired:
            assert not after, "rooms stayed pending although every deletion succeeded"


def command(teleconsultation_id: str, change: Change) -> UpdateTeleconsultationCommand:
    return UpdateTeleconsultationCommand(
        teleconsultation_id,
        roster=change.roster,
        start=change.start,
        end=change.end,
        duration_seconds=change.duration_seconds,
    )


async def _both(*coroutines: Coroutine[Any, Any, None]) -> list[BaseException | None]:
    return list(await asyncio.gather(*coroutines, return_exceptions=True))


# Bounded to run in seconds; the active hypothesis profile (tests/conftest.py) may lower the examples.
LifecycleMachine.TestCase.settings = settings(max_examples=min(settings().max_examples, 60), stateful_step_count=40)
TestLifecycle = LifecycleMachine.TestCase
