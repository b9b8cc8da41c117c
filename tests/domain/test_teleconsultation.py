from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.duration_policy import DurationPolicy
from domain.errors import InvalidRoster, NoConfiguredGroup, NoPlusUser, TeleconsultationLocked
from domain.privileges import Privilege, PrivilegePolicy
from domain.teleconsultation import SchedulingRules, Teleconsultation
from tests.builders import T0, make_participant, make_schedule, make_teleconsultation

privileges = st.sampled_from(list(Privilege))
RULES = SchedulingRules()


@st.composite
def rosters(draw: st.DrawFn) -> tuple[int, list[Privilege]]:
    number = draw(st.integers(min_value=2, max_value=25))
    known = draw(st.lists(privileges, max_size=number))
    return number, known


@given(rosters())
def test_a_roster_is_complete_exactly_when_everyone_is_known_and_needs_a_plus_user(
    roster: tuple[int, list[Privilege]],
) -> None:
    number, known = roster
    participants = tuple(make_participant(f"u{i}", privilege) for i, privilege in enumerate(known))
    complete = len(known) == number
    if complete and Privilege.PLUS not in known:
        with pytest.raises(NoPlusUser):
            make_teleconsultation(participants=participants, number=number)
        return
    teleconsultation = make_teleconsultation(participants=participants, number=number)
    assert teleconsultation.is_complete == complete
    assert teleconsultation.needs_room == complete


@given(
    offset=st.timedeltas(min_value=timedelta(hours=-48), max_value=timedelta(hours=48)),
    period=st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=24)),
    complete=st.booleans(),
    has_room=st.booleans(),
)
def test_the_link_appears_exactly_when_changes_stop_being_accepted(
    offset: timedelta, period: timedelta, complete: bool, has_room: bool
) -> None:
    doctor = make_participant("doc", access_link="https://video.invalid/doc")
    roster = (doctor, make_participant("pat", Privilege.BASIC)) if complete else (doctor,)
    teleconsultation = make_teleconsultation(participants=roster, number=2)
    if complete and has_room:
        teleconsultation.attach_room(
            "room-1", {p.provider_user_id: f"https://video.invalid/{p.user_id}" for p in roster}
        )
    now = T0 + offset
    rules = SchedulingRules(immutable_period=period)
    locked = teleconsultation.is_locked(now, rules)
    link = teleconsultation.visible_link(teleconsultation.participants[0], now, rules)
    assert locked == (complete and now >= T0 - period)
    assert (link is not None) == (locked and complete and has_room)
    if locked:
        with pytest.raises(TeleconsultationLocked):
            teleconsultation.revision(now=now, rules=rules, start=T0 + timedelta(days=1))
    else:
        teleconsultation.revision(now=now, rules=rules).apply()


def test_plus_beats_basic_and_unknown_groups_are_named() -> None:
    policy = PrivilegePolicy(basic_groups=frozenset({"patient"}), plus_groups=frozenset({"doctor"}))
    assert policy.privilege_for("u", ["patient", "doctor"]) is Privilege.PLUS
    assert policy.privilege_for("u", ["patient"]) is Privilege.BASIC
    with pytest.raises(NoConfiguredGroup, match="user u3 has no group"):
        policy.privilege_for("u3", ["nurse"])


def test_roster_size_and_duplicates_are_checked() -> None:
    with pytest.raises(InvalidRoster):
        make_teleconsultation(participants=(make_participant("a"),), number=1)
    with pytest.raises(InvalidRoster):
        make_teleconsultation(participants=(make_participant("a"),), number=26)
    with pytest.raises(InvalidRoster, match="more participants"):
        make_teleconsultation(
            participants=(make_participant("a"), make_participant("b"), make_participant("c")), number=2
        )
    with pytest.raises(InvalidRoster, match="more than once"):
        make_teleconsultation(participants=(make_participant("a"), make_participant("a")), number=3)


def _complete_with_room() -> Teleconsultation:
    teleconsultation = make_teleconsultation()
    teleconsultation.attach_room(
        "room-1", {p.provider_user_id: "https://x/" + p.user_id for p in teleconsultation.participants}
    )
    return teleconsultation


def test_changing_participants_or_a_limited_room_s_duration_replaces_the_room() -> None:
    early = T0 - timedelta(days=1)
    teleconsultation = _complete_with_room()
    limited = SchedulingRules(durations=DurationPolicy(unlimited=False))
    change = teleconsultation.revision(now=early, rules=limited, duration_seconds=30 * 60).apply()
    assert change.obsolete_room_id == "room-1"
    assert change.needs_new_room
    assert teleconsultation.provider_room_id is None
    assert all(p.access_link is None for p in teleconsultation.participants)

    teleconsultation = _complete_with_room()
    new_roster = (make_participant("doc-1"), make_participant("pat-2", Privilege.BASIC))
    change = teleconsultation.revision(now=early, rules=RULES).apply(participants=new_roster, participants_number=2)
    assert change.obsolete_room_id == "room-1"
    assert change.needs_new_room


def test_moving_the_start_or_renaming_keeps_the_room_and_the_links() -> None:
    early = T0 - timedelta(days=1)
    teleconsultation = _complete_with_room()
    change = teleconsultation.revision(now=early, rules=RULES, start=T0 + timedelta(hours=2)).apply()
    assert change.obsolete_room_id is None
    assert not change.needs_new_room
    renamed = tuple(make_participant(p.user_id, p.privilege, full_name="Other") for p in teleconsultation.participants)
    change = teleconsultation.revision(now=early, rules=RULES).apply(participants=renamed)
    assert change.obsolete_room_id is None
    assert teleconsultation.provider_room_id == "room-1"
    assert all(p.access_link for p in teleconsultation.participants)
    assert {p.full_name for p in teleconsultation.participants} == {"Other"}


def test_shrinking_the_expected_number_below_the_known_ones_is_refused_and_growing_it_drops_the_room() -> None:
    early = T0 - timedelta(days=1)
    teleconsultation = _complete_with_room()
    change = teleconsultation.revision(now=early, rules=RULES).apply(participants_number=3)
    assert change.obsolete_room_id == "room-1"
    assert not change.needs_new_room
    assert not teleconsultation.is_complete


def test_discarding_returns_the_room_to_delete() -> None:
    teleconsultation = _complete_with_room()
    assert teleconsultation.discard() == "room-1"
    assert teleconsultation.discarded
    assert not teleconsultation.needs_room
    assert teleconsultation.provider_room_id == "room-1"  # which room it had stays on record


def test_the_immutable_window_of_a_stored_appointment_at_the_edge_of_time_is_decided_without_overflow() -> None:
    earliest = make_teleconsultation(schedule=make_schedule(datetime(1, 1, 1, tzinfo=UTC)))
    now = datetime(2030, 1, 1, tzinfo=UTC)

    rules = SchedulingRules(immutable_period=timedelta(days=365))
    assert earliest.is_locked(now, rules)
    latest = make_teleconsultation(schedule=make_schedule(datetime(9999, 12, 31, 22, tzinfo=UTC)))
    assert not latest.is_locked(now, rules)
