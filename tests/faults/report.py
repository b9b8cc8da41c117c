"""What a fault-injection run found: the answers callers got, and the rooms left at the provider."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

from application.errors import NotFound
from application.ports import TeleconsultationRepository

# What a caller may get when the provider misbehaves: its own mistakes, or "the provider failed" (502) and
# "the store is unavailable" (503), both with nothing half-written.
CLEAN_SERVER_ERRORS = frozenset({502, 503})


@dataclass
class FaultReport:
    attempted: int = 0
    succeeded: int = 0
    clean_failures: Counter[int] = field(default_factory=Counter)  # status -> count: 4xx, 502, 503
    other_server_errors: Counter[int] = field(default_factory=Counter)  # any other 5xx: must stay empty
    transport_errors: int = 0  # no HTTP answer at all: must stay 0
    provider_calls: int = 0
    faults_injected: Counter[str] = field(default_factory=Counter)  # by kind, as the fake chose them
    queued_deletions: int = 0  # failed room deletions waiting for the sweep when the faults stopped
    orphaned_before_sweep: int = 0
    still_pending: int = 0  # room deletions the sweep could not do
    orphaned_rooms: int = 0  # rooms at the provider that no live teleconsultation refers to, nor any record
    # Creations closed as "outcome unknown" (counted, logged by intent id), and the rooms at the provider they
    # account for: known, not silent, but still rooms nothing deletes (a reply lost for good).
    unknown_outcomes: int = 0
    known_unknown_rooms: int = 0
    dangling_rooms: int = 0  # live teleconsultations whose room is gone from the provider

    def record(self, status: int) -> None:
        if 200 <= status < 300:
            self.succeeded += 1
        elif 400 <= status < 500 or status in CLEAN_SERVER_ERRORS:
            self.clean_failures[status] += 1
        else:
            self.other_server_errors[status] += 1

    @property
    def ok(self) -> bool:
        return not (self.other_server_errors or self.transport_errors or self.orphaned_rooms or self.dangling_rooms)

    def render(self) -> str:
        return "\n".join(
            [
                f"operations attempted:              {self.attempted}",
                f"succeeded:                         {self.succeeded}",
                f"failed cleanly (4xx/502/503):      {sum(self.clean_failures.values())} "
                f"{_by_key(self.clean_failures)}",
                f"other 5xx (must be 0):             {sum(self.other_server_errors.values())} "
                f"{_by_key(self.other_server_errors)}",
                f"no answer at all (must be 0):      {self.transport_errors}",
                f"provider calls:                    {self.provider_calls}",
                f"provider faults injected:          {sum(self.faults_injected.values())} "
                f"{_by_key(self.faults_injected)}",
                f"room deletions queued:             {self.queued_deletions}",
                f"orphaned rooms before the sweep:   {self.orphaned_before_sweep}",
                f"deletions still pending after it:  {self.still_pending}",
                f"creations of unknown outcome:      {self.unknown_outcomes} (counted and logged by intent id)",
                f"  their rooms left at the provider: {self.known_unknown_rooms} (known-unknown, told apart by the"
                " intent id in the room's description)",
                f"silent orphans after one sweep:    {self.orphaned_rooms}",
                f"rooms missing at the provider:     {self.dangling_rooms}",
                "result:                            " + ("OK" if self.ok else "FAILED"),
            ]
        )


@dataclass(frozen=True)
class RoomAudit:
    orphaned: int  # at the provider, held by no live teleconsultation and accounted for by no record: must be 0
    known_unknown: int  # at the provider, held by none, but carrying the id of an intent closed as unknown
    dangling: int  # held by a live teleconsultation but gone from the provider: must be 0


async def audit_rooms(
    provider_rooms: Mapping[str, str],
    repository: TeleconsultationRepository,
    teleconsultation_ids: Iterable[str],
    unknown_outcomes: Collection[str] = (),
) -> RoomAudit:
    """The provider's rooms (room id -> description) against the live teleconsultations and the intents closed
    as "outcome unknown" (their ids, which the rooms carry as description).

    A teleconsultation stored although its creation was answered with an error has an id nobody was told;
    its room then counts as orphaned, which is what it is for the caller.
    """
    referenced: set[str] = set()
    for teleconsultation_id in set(teleconsultation_ids):
        try:
            teleconsultation = await repository.get(teleconsultation_id)
        except NotFound:
            continue
        if teleconsultation.provider_room_id is not None:
            referenced.add(teleconsultation.provider_room_id)
    unheld = {room: description for room, description in provider_rooms.items() if room not in referenced}
    known = {room for room, description in unheld.items() if description in unknown_outcomes}
    return RoomAudit(len(unheld) - len(known), len(known), len(referenced - set(provider_rooms)))


def _by_key(counts: Counter[int] | Counter[str]) -> str:
    return "(" + ", ".join(f"{key}: {count}" for key, count in sorted(counts.items())) + ")" if counts else ""
