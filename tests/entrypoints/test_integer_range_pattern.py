"""The pattern that publishes an integer sent as a string matches exactly the integers of its range."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from entrypoints.http.compatible_bodies import integer_range_pattern

BOUND = st.integers(min_value=-(10**10), max_value=10**10)


@given(data=st.data(), low=BOUND, span=st.integers(min_value=0, max_value=10**10))
def test_the_pattern_matches_exactly_the_integers_of_the_range(data: st.DataObject, low: int, span: int) -> None:
    high = low + span
    pattern = re.compile(integer_range_pattern(low, high))
    near = st.integers(min_value=low - 3, max_value=low + 3) | st.integers(min_value=high - 3, max_value=high + 3)
    for number in data.draw(st.lists(near | st.integers(min_value=low - span - 10, max_value=high + span + 10))):
        assert bool(pattern.search(str(number))) == (low <= number <= high), number


@given(number=st.integers(min_value=0, max_value=10**6))
def test_the_pattern_refuses_other_spellings_of_an_integer(number: int) -> None:
    pattern = re.compile(integer_range_pattern(0, 10**6))
    for spelling in (f"0{number}", f"+{number}", f" {number}", f"{number}.0", f"{number}e0"):
        assert pattern.search(spelling) is None, spelling
