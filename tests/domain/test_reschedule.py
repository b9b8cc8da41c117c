"""Moving an appointment: its room stays, unless the room's links are bound to the appointment's window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.duration_policy import DurationPolicy, Schedule
from domain.errors import InvalidSchedule
from domain.teleconsultation import SchedulingRules
from tests.builders import T0, make_schedule, make_teleconsultation

EARLY = T0 - timedelta(days=1)


@pytest.mark.parametrize("links_bound_to_schedule", [False, True])
def test_moving_the_start_replaces_the_room_only_when_its_links_carry_the_window(
    links_bound_to_schedule: bool,
) -> None:
    teleconsultation = make_teleconsultation()
    teleconsultation.attach_room("room-1", {"p-doc-1": "link-doc", "p-pat-1": "link-pat"})
    rules = SchedulingRules(links_bound_to_schedule=links_bound_to_schedule)

    change = teleconsultation.revision(now=EARLY, rules=rules, start=T0 + timedelta(hours=2)).apply()

    assert change.obsolete_room_id == ("room-1" if links_bound_to_schedule else None)
    assert change.needs_new_room is links_bound_to_schedule
    assert (teleconsultation.provider_room_id is None) is links_bound_to_schedule


@given(
    duration=st.timedeltas(min_value=timedelta(minutes=5), max_value=timedelta(hours=24)),
    shift=st.timedeltas(min_value=timedelta(hours=-12), max_value=timedelta(days=30)),
)
def test_moving_only_the_start_keeps_the_duration_to_the_microsecond_and_the_room(
    duration: timedelta, shift: timedelta
) -> None:
    teleconsultation = make_teleconsultation(schedule=Schedule(T0, T0 + duration))
    teleconsultation.attach_room("room-1", {"p-doc-1": "link-doc", "p-pat-1": "link-pat"})

    change = teleconsultation.revision(now=EARLY - timedelta(days=1), rules=SchedulingRules(), start=T0 + shift).apply()

    assert teleconsultation.schedule.duration == duration
    assert change.obsolete_room_id is None
    assert teleconsultation.provider_room_id == "room-1"


def test_moving_the_start_past_the_supported_range_is_a_schedule_error() -> None:
    teleconsultation = make_teleconsultation()
    with pytest.raises(InvalidSchedule, match="start_date must be between 1970-01-01 and 9998-12-31"):
        teleconsultation.revision(now=EARLY, rules=SchedulingRules(), start=datetime(9999, 12, 31, 23, tzinfo=UTC))
    with pytest.raises(InvalidSchedule, match=r"the end \(start_date plus the appointment's duration\) must be"):
        teleconsultation.revision(now=EARLY, rules=SchedulingRules(), start=datetime(9998, 12, 31, 23, tzinfo=UTC))


def test_a_stored_start_so_early_that_the_immutable_period_reaches_before_year_1_locks_from_the_first_instant() -> None:
    start = datetime(1, 1, 1, 0, 30, tzinfo=UTC)
    rules = SchedulingRules(immutable_period=timedelta(days=1))
    teleconsultation = make_teleconsultation(schedule=make_schedule(start))

    assert teleconsultation.room_terms(rules).opens_at == datetime.min.replace(tzinfo=UTC)
    assert teleconsultation.is_locked(datetime(1, 1, 1, tzinfo=UTC), rules)


@given(
    unlimited=st.booleans(),
    before=st.integers(min_value=5 * 60, max_value=24 * 3600),
    after=st.integers(min_value=5 * 60, max_value=24 * 3600),
    new_start=st.booleans(),
)
def test_a_new_duration_replaces_the_room_only_when_the_room_has_a_duration(
    unlimited: bool, before: int, after: int, new_start: bool
) -> None:
    teleconsultation = make_teleconsultation(schedule=Schedule(T0, T0 + timedelta(seconds=before)))
    teleconsultation.attach_room("room-1", {"p-doc-1": "link-doc", "p-pat-1": "link-pat"})
    rules = SchedulingRules(durations=DurationPolicy(unlimited=unlimited))
    start = T0 + timedelta(hours=1) if new_start else None

    change = teleconsultation.revision(now=EARLY, rules=rules, start=start, duration_seconds=after).apply()

    replaced = not unlimited and before != after
    assert teleconsultation.schedule.duration == timedelta(seconds=after)
    assert change.obsolete_room_id == ("room-1" if replaced else None)
    assert change.needs_new_room is replaced
    if not replaced:  # the room and every participant's link stay as they were
        assert teleconsultation.provider_room_id == "room-1"
        assert {p.access_link for p in teleconsultation.participants} == {"link-doc", "link-pat"}
