"""The fault-injection run, small enough for every test run (`make faults` runs the bigger one)."""

from __future__ import annotations

from collections import Counter

import pytest

from adapters.memory.repository import InMemoryTeleconsultationRepository
from tests.builders import make_teleconsultation
from tests.faults.report import FaultReport, audit_rooms
from tests.faults.run import FaultOptions, main, run_faults


async def test_under_provider_faults_callers_get_clean_errors_and_no_room_is_orphaned() -> None:
    report = await run_faults(FaultOptions(operations=40, failure_rate=0.3, seed=3))
    assert report.attempted == 40
    assert sum(report.faults_injected.values()) > 0, "the fake injected no fault"
    assert report.clean_failures[502] > 0, "no fault reached a caller"
    assert report.succeeded > 0
    assert report.other_server_errors == Counter()
    assert report.transport_errors == 0
    assert (report.orphaned_rooms, report.dangling_rooms) == (0, 0)
    assert report.ok


async def test_the_audit_counts_orphaned_rooms_and_rooms_missing_at_the_provider() -> None:
    repository = InMemoryTeleconsultationRepository()
    present, missing = make_teleconsultation(id="a" * 24), make_teleconsultation(id="b" * 24)
    present.attach_room("room-present", {})
    missing.attach_room("room-missing", {})
    for teleconsultation in (present, missing):
        await repository.add(teleconsultation)
    provider_rooms = {"room-present": "", "room-orphaned": "", "room-known": "intent-1", "room-other": "intent-2"}
    audit = await audit_rooms(provider_rooms, repository, ["a" * 24, "b" * 24, "c" * 24], {"intent-1"})
    assert (audit.orphaned, audit.known_unknown, audit.dangling) == (2, 1, 1)


async def test_with_lost_replies_the_rooms_left_are_known_unknown_never_silent_orphans() -> None:
    report = await run_faults(FaultOptions(operations=60, failure_rate=0.4, seed=5, lost_replies=True))
    assert report.faults_injected["lost"] > 0
    assert report.unknown_outcomes > 0, "no creation of unknown outcome: the run proves nothing"
    assert report.known_unknown_rooms <= report.unknown_outcomes
    assert (report.orphaned_rooms, report.dangling_rooms) == (0, 0)
    assert report.ok


@pytest.mark.parametrize(
    "failure",
    [
        {"other_server_errors": Counter({500: 1})},
        {"transport_errors": 1},
        {"orphaned_rooms": 1},
        {"dangling_rooms": 1},
    ],
)
def test_a_run_fails_on_any_server_error_missing_answer_or_misplaced_room(failure: dict[str, object]) -> None:
    assert FaultReport(attempted=1, succeeded=1).ok
    assert not FaultReport(attempted=1, **failure).ok  # type: ignore[arg-type]


def test_the_command_line_prints_the_summary_and_exits_0_when_all_is_well(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--operations", "10", "--failure-rate", "0.2", "--seed", "2"]) == 0
    printed = capsys.readouterr().out
    assert "operations attempted:              10" in printed
    assert printed.rstrip().endswith("OK")
