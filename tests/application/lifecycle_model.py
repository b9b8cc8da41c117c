"""A model of what the service accepted, as plain values, and the rules that predict its next answer.

The state machine in test_lifecycle_state_machine.py compares the service with this model after every
step. The model restates the documented rules (durations from 5 minutes to 24 hours, 2 to 25 participants,
no complete roster without a plus user, no change inside the immutable period) in the order the use cases
check them, so it predicts exactly which error a refused request gets.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from application.dto import ParticipantInput, RosterInput
from application.errors import NotFound
from domain.errors import InvalidRoster, InvalidSchedule, NoConfiguredGroup, NoPlusUser, TeleconsultationLocked

MINIMUM_DURATION = timedelta(minutes=5)
MAXIMUM_DURATION = timedelta(hours=24)
PLUS_GROUPS = frozenset({"doctor"})
CONFIGURED_GROUPS = frozenset({"doctor", "patient"})

# The people requests are made of; `nurse-1` belongs to no configured group.
GROUPS: dict[str, tuple[str, ...]] = {
    "doc-1": ("doctor",),
    "doc-2": ("doctor",),
    "both-1": ("patient", "doctor"),
    "pat-1": ("patient",),
    "pat-2": ("patient",),
    "nurse-1": ("nurse",),
}
STRANGER = "stranger-1"  # never in any roster

Prediction = type[Exception] | None  # the error the service must raise, or None for success


@dataclass(frozen=True, slots=True)
class Accepted:
    """A teleconsultation as the service accepted it."""

    start: datetime
    end: datetime
    roster: RosterInput

    @property
    def complete(self) -> bool:
        return len(self.roster.data) == self.roster.number

    @property
    def user_ids(self) -> tuple[str, ...]:
        return tuple(p.user_id for p in self.roster.data)

    def locked(self, now: datetime, immutable_period: timedelta) -> bool:
        return self.complete and now >= self.start - immutable_period


@dataclass(frozen=True, slots=True)
class Change:
    """A partial update, as PATCH sends it."""

    roster: RosterInput | None = None
    start: datetime | None = None
    end: datetime | None = None
    duration_seconds: int | None = None


def person(user_id: str, language: str | None = "it") -> ParticipantInput:
    return ParticipantInput(user_id=user_id, groups=GROUPS[user_id], full_name=f"Name of {user_id}", language=language)


def schedule_problem(start: datetime, end: datetime) -> Prediction:
    return None if MINIMUM_DURATION <= end - start <= MAXIMUM_DURATION else InvalidSchedule


def roster_problem(roster: RosterInput) -> Prediction:
    """Participants are identified first (groups), then the roster is checked as a whole."""
    if any(not set(p.groups or ()) & CONFIGURED_GROUPS for p in roster.data):
        return NoConfiguredGroup
    ids = [p.user_id for p in roster.data]
    if not 2 <= roster.number <= 25 or len(ids) > roster.number or len(set(ids)) != len(ids):
        return InvalidRoster
    if len(ids) == roster.number and not any(set(p.groups or ()) & PLUS_GROUPS for p in roster.data):
        return NoPlusUser
    return None


def predict_create(start: datetime, end: datetime, roster: RosterInput) -> Prediction:
    return schedule_problem(start, end) or roster_problem(roster)


def merged(current: Accepted, change: Change) -> Accepted:
    """The teleconsultation after `change`; moving only the start keeps the duration."""
    start = current.start if change.start is None else change.start
    if change.end is not None:
        end = change.end
    elif change.duration_seconds is not None:
        end = start + timedelta(seconds=change.duration_seconds)
    else:
        end = start + (current.end - current.start)
    return replace(current, start=start, end=end, roster=current.roster if change.roster is None else change.roster)


def predict_update(
    current: Accepted | None, change: Change, now: datetime, immutable_period: timedelta
) -> tuple[Prediction, Accepted | None]:
    """The error the update must raise, or None and the teleconsultation it must leave behind."""
    if current is None:
        return NotFound, None
    if current.locked(now, immutable_period):
        return TeleconsultationLocked, None
    after = merged(current, change)
    problem = schedule_problem(after.start, after.end)
    if problem is None and change.roster is not None:
        problem = roster_problem(change.roster)
    return problem, None if problem else after
