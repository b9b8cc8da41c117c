"""Small builders for test data; every argument can be overridden."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.duration_policy import Schedule
from domain.privileges import Privilege
from domain.teleconsultation import Participant, Teleconsultation

T0 = datetime(2030, 2, 22, 15, 30, tzinfo=UTC)


def make_participant(user_id: str = "doc-1", privilege: Privilege = Privilege.PLUS, **overrides: object) -> Participant:
    fields: dict[str, object] = {
        "user_id": user_id,
        "resolved_user_id": user_id,
        "provider_user_id": f"p-{user_id}",
        "privilege": privilege,
        "full_name": f"Name {user_id}",
        "groups": ("doctor",) if privilege is Privilege.PLUS else ("patient",),
        "language": "it",
    }
    fields.update(overrides)
    return Participant(**fields)  # type: ignore[arg-type]


def make_schedule(start: datetime = T0, minutes: int = 60) -> Schedule:
    return Schedule(start, start + timedelta(minutes=minutes))


def make_teleconsultation(
    *,
    participants: tuple[Participant, ...] | None = None,
    number: int | None = None,
    schedule: Schedule | None = None,
    id: str = "0123456789abcdef01234567",  # noqa: A002
) -> Teleconsultation:
    roster = (
        participants
        if participants is not None
        else (
            make_participant("doc-1"),
            make_participant("pat-1", Privilege.BASIC),
        )
    )
    return Teleconsultation.plan(
        id=id,
        participants_number=len(roster) if number is None else number,
        participants=roster,
        schedule=schedule or make_schedule(),
    )
