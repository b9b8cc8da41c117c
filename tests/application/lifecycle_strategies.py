"""Hypothesis strategies for the requests the lifecycle state machine sends."""

from __future__ import annotations

import operator
from datetime import timedelta
from typing import TypeVar

from hypothesis import strategies as st

from application.dto import RosterInput
from tests.application.lifecycle_model import GROUPS, Change, person
from tests.builders import T0

T = TypeVar("T")
CONFIGURED_PEOPLE = sorted(user_id for user_id in GROUPS if user_id != "nurse-1")


def mostly(usual: st.SearchStrategy[T], now_and_then: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """`usual` seven times out of eight: refused requests are worth testing, but they change nothing."""
    return st.integers(min_value=0, max_value=7).flatmap(lambda n: now_and_then if n == 0 else usual)


STARTS = st.sampled_from([T0, T0 + timedelta(minutes=30), T0 + timedelta(hours=2), T0 + timedelta(days=1)])
# Now and then too short or too long.
DURATIONS = mostly(st.sampled_from([300, 1800, 3600, 24 * 3600]), st.sampled_from([60, 24 * 3600 + 60]))
LANGUAGES = st.sampled_from(["it", "en", None])
# Either side of each immutable period the machine uses (0, 10 and 60 minutes), and inside the call.
MINUTES = st.sampled_from([-90, -61, -60, -11, -10, -1, 0, 1, 15, 30]).map(lambda minutes: timedelta(minutes=minutes))
# Mostly just before or after a start (where windows open and changes lock), backwards as well as forwards.
CLOCK = mostly(
    st.builds(operator.add, STARTS, MINUTES),
    st.integers(min_value=-26 * 60, max_value=26 * 60).map(lambda minutes: T0 + timedelta(minutes=minutes)),
)


@st.composite
def rosters(draw: st.DrawFn) -> RosterInput:
    """Mostly complete rosters, some incomplete, now and then a duplicate or someone in no configured group."""
    number = draw(mostly(st.integers(min_value=2, max_value=4), st.just(1)))
    size = draw(st.sampled_from([number, number, max(number - 1, 0), 0]))
    user_ids = draw(st.lists(st.sampled_from(CONFIGURED_PEOPLE), min_size=size, max_size=size, unique=True))
    if user_ids and draw(st.integers(min_value=0, max_value=9)) == 0:
        user_ids[-1] = draw(st.sampled_from([user_ids[0], "nurse-1"]))
    return RosterInput(number=number, data=tuple(person(user_id, draw(LANGUAGES)) for user_id in user_ids))


def changes() -> st.SearchStrategy[Change]:
    """A PATCH body: a new roster or not, and any of the accepted ways to move the schedule."""
    return _changes(st.none() | rosters())


def reschedules() -> st.SearchStrategy[Change]:
    """A PATCH body that leaves the roster alone."""
    return _changes(st.none())


@st.composite
def _changes(draw: st.DrawFn, new_rosters: st.SearchStrategy[RosterInput | None]) -> Change:
    roster = draw(new_rosters)
    form = draw(st.sampled_from(["", "start", "end", "duration", "start end", "start duration"]))
    start = draw(STARTS) if "start" in form else None
    duration = draw(DURATIONS)
    end = (start or draw(STARTS)) + timedelta(seconds=duration) if "end" in form else None
    return Change(roster=roster, start=start, end=end, duration_seconds=duration if "duration" in form else None)
