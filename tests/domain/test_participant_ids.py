"""Participant ids that no requester can ever carry are refused where a roster comes in."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import InvalidRoster
from domain.participant_ids import can_sign_in, check_participant_ids


@pytest.mark.parametrize(
    "user_id", ["", " ", "   ", "\t", " pat-1", "pat-1\t", "pat\x00", "pat\x1f1", "a\x7fb", "a\x85b"]
)
def test_ids_no_requester_can_carry_are_refused(user_id: str) -> None:
    assert not can_sign_in(user_id)
    with pytest.raises(InvalidRoster, match="participant 2 has a userId that can never sign in"):
        check_participant_ids(["doc-1", user_id])


@pytest.mark.parametrize("user_id", ["pat-1", "jürgen.müller@example.de", "auth0|abc", "a b", "pat-1\u00a0", "0"])
def test_ordinary_ids_and_unicode_blanks_inside_are_kept(user_id: str) -> None:
    assert can_sign_in(user_id)
    check_participant_ids([user_id])


@given(st.text(alphabet=st.characters(blacklist_categories=["Cc", "Cs"]), min_size=1))
def test_an_id_without_controls_or_ascii_padding_can_sign_in(user_id: str) -> None:
    assert can_sign_in(user_id) == (user_id.strip(" \t") == user_id)
