"""The crash run, small enough for every test run (`make crash` runs the bigger one)."""

from __future__ import annotations

import pytest

from tests.crash.run import CrashOptions, CrashReport, run_crashes


async def test_killed_service_and_store_lose_no_confirmed_write_and_leave_no_room_nobody_deletes() -> None:
    report = await run_crashes(CrashOptions(kills=2, seed=2))
    assert sorted(report.kills) == ["service", "store"]
    assert report.operations_confirmed > 0, "nothing was confirmed: the run proves nothing"
    assert report.checked > 0
    assert report.lost == []
    assert report.sweep_exit_code == 0, report.sweep_output
    assert (report.orphaned_rooms, report.dangling_rooms) == (0, 0)
    assert report.known_unknown_rooms <= report.unknown_outcomes
    assert report.ok, report.render()


@pytest.mark.parametrize(
    "failure",
    [{"lost": ["x: missing"]}, {"orphaned_rooms": 1}, {"dangling_rooms": 1}, {"sweep_exit_code": 1}],
)
def test_a_crash_run_fails_on_a_lost_write_an_orphan_a_dangling_room_or_a_sweep_left_undone(
    failure: dict[str, object],
) -> None:
    assert CrashReport(sweep_exit_code=0, known_unknown_rooms=2, unknown_outcomes=2).ok
    assert not CrashReport(**{"sweep_exit_code": 0, **failure}).ok  # type: ignore[arg-type]
