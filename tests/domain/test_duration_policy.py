from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.duration_policy import DurationPolicy, Schedule
from domain.errors import InvalidSchedule

starts = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(start=starts, seconds=st.integers(min_value=-(10**6), max_value=10**6))
def test_a_duration_in_seconds_is_accepted_exactly_within_five_minutes_and_a_day(start: datetime, seconds: int) -> None:
    policy = DurationPolicy()
    if 300 <= seconds <= 86_400:
        schedule = policy.schedule(start, duration_seconds=seconds)
        assert schedule.duration == timedelta(seconds=seconds)
        assert schedule.start == start
    else:
        with pytest.raises(InvalidSchedule):
            policy.schedule(start, duration_seconds=seconds)


@given(start=starts, span=st.timedeltas(min_value=timedelta(days=-2), max_value=timedelta(days=2)))
def test_an_end_date_gives_the_same_bounds(start: datetime, span: timedelta) -> None:
    policy = DurationPolicy()
    if timedelta(minutes=5) <= span <= timedelta(hours=24):
        assert policy.schedule(start, end=start + span) == Schedule(start, start + span)
    else:
        with pytest.raises(InvalidSchedule):
            policy.schedule(start, end=start + span)


@given(start=starts, seconds=st.integers(min_value=300, max_value=86_400), unlimited=st.booleans())
def test_the_provider_gets_a_duration_only_when_rooms_are_limited(
    start: datetime, seconds: int, unlimited: bool
) -> None:
    policy = DurationPolicy(unlimited=unlimited)
    schedule = policy.schedule(start, duration_seconds=seconds)
    assert policy.provider_duration_seconds(schedule) == (None if unlimited else seconds)


def test_exactly_one_of_end_and_duration_is_required() -> None:
    policy = DurationPolicy()
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidSchedule, match="exactly one"):
        policy.schedule(start)
    with pytest.raises(InvalidSchedule, match="exactly one"):
        policy.schedule(start, end=start + timedelta(hours=1), duration_seconds=3600)


def test_naive_dates_are_refused() -> None:
    with pytest.raises(InvalidSchedule, match="time zone"):
        DurationPolicy().schedule(datetime(2030, 1, 1), duration_seconds=3600)


def test_messages_name_the_bounds() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidSchedule, match="at least 5 minutes"):
        DurationPolicy().schedule(start, duration_seconds=299)
    with pytest.raises(InvalidSchedule, match="at most 24 hours"):
        DurationPolicy().schedule(start, duration_seconds=86_401)


any_moment = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC))


@given(start=any_moment, seconds=st.integers(min_value=0, max_value=10**12))
def test_any_start_and_duration_give_a_schedule_or_a_clear_refusal_never_an_overflow(
    start: datetime, seconds: int
) -> None:
    try:
        schedule = DurationPolicy().schedule(start, duration_seconds=seconds)
    except InvalidSchedule:
        return
    # Accepted schedules leave a year of room on either side for the immutable period and the links' grace.
    assert schedule.start - timedelta(days=365) >= datetime(1, 1, 1, tzinfo=UTC)
    assert schedule.end + timedelta(days=365) <= datetime(9999, 12, 31, tzinfo=UTC)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        (datetime(9999, 12, 31, 23, tzinfo=UTC), None, "start_date must be between 1970-01-01 and 9998-12-31"),
        (datetime(1, 1, 1, tzinfo=UTC), None, "start_date must be between 1970-01-01 and 9998-12-31"),
        (datetime(9998, 12, 31, 23, tzinfo=UTC), None, "the end (start_date plus duration_in_seconds) must be"),
        (
            datetime(9998, 12, 31, 23, tzinfo=UTC),
            datetime(9999, 1, 1, 0, 30, tzinfo=UTC),
            "end_date must be between 1970-01-01 and 9998-12-31",
        ),
    ],
)
def test_dates_outside_the_supported_range_are_refused_by_name(
    start: datetime, end: datetime | None, message: str
) -> None:
    with pytest.raises(InvalidSchedule, match=message.replace("(", r"\(").replace(")", r"\)")):
        DurationPolicy().schedule(start, end=end, duration_seconds=None if end else 3600)
