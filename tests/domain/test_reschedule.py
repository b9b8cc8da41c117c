"""Moving an appointment: its room stays, unless the room's links are bound to the appointment's window."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.builders import T0, make_schedule, make_teleconsultation


@pytest.mark.parametrize("links_bound_to_schedule", [False, True])
def test_moving_the_start_replaces_the_room_only_when_its_links_carry_the_window(
    links_bound_to_schedule: bool,
) -> None:
    teleconsultation = make_teleconsultation()
    teleconsultation.attach_room("room-1", {"p-doc-1": "link-doc", "p-pat-1": "link-pat"})

    change = teleconsultation.revise(
        now=T0 - timedelta(days=1),
        immutable_period=timedelta(0),
        schedule=make_schedule(T0 + timedelta(hours=2)),
        links_bound_to_schedule=links_bound_to_schedule,
    )

    assert change.obsolete_room_id == ("room-1" if links_bound_to_schedule else None)
    assert change.needs_new_room is links_bound_to_schedule
    assert (teleconsultation.room_id is None) is links_bound_to_schedule
