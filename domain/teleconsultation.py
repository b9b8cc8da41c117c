"""The Teleconsultation aggregate: roster, schedule, immutability and the provider room it needs."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Protocol

from domain.duration_policy import Schedule
from domain.errors import InvalidRoster, NoPlusUser, TeleconsultationLocked
from domain.privileges import Privilege

# Kaleyra rooms accept between 2 and 25 participants.
MINIMUM_PARTICIPANTS = 2
MAXIMUM_PARTICIPANTS = 25


@dataclass(frozen=True, slots=True, kw_only=True)
class Participant:
    """A known participant. `user_id` is the id the caller sent; `resolved_user_id` the identity-provider id."""

    user_id: str
    resolved_user_id: str
    provider_user_id: str
    privilege: Privilege
    full_name: str | None = None
    groups: tuple[str, ...] = ()
    language: str | None = None
    access_link: str | None = None

    def is_identified_by(self, identities: Collection[str]) -> bool:
        return self.user_id in identities or self.resolved_user_id in identities

    def room_features(self) -> tuple[str, Privilege]:
        return (self.provider_user_id, self.privilege)


@dataclass(frozen=True, slots=True)
class RoomChange:
    """What the provider must do after a change: drop the obsolete room, create a new one, or both."""

    obsolete_room_id: str | None = None
    needs_new_room: bool = False


@dataclass(slots=True, kw_only=True)
class Teleconsultation:
    id: str
    participants_number: int
    participants: tuple[Participant, ...]
    schedule: Schedule
    room_id: str | None = None
    version: int = 0
    discarded: bool = False

    @classmethod
    def plan(
        cls,
        *,
        id: str,  # noqa: A002 - the aggregate's identity
        participants_number: int,
        participants: Iterable[Participant],
        schedule: Schedule,
    ) -> Teleconsultation:
        roster = tuple(participants)
        check_roster(participants_number, roster)
        return cls(id=id, participants_number=participants_number, participants=roster, schedule=schedule)

    @property
    def is_complete(self) -> bool:
        return len(self.participants) == self.participants_number

    @property
    def needs_room(self) -> bool:
        return self.is_complete and self.room_id is None and not self.discarded

    def is_locked(self, now: datetime, immutable_period: timedelta) -> bool:
        """A complete teleconsultation refuses changes from `immutable_period` before its start."""
        return self.is_complete and self.schedule.start - now <= immutable_period  # no date arithmetic to overflow

    def ensure_mutable(self, now: datetime, immutable_period: timedelta) -> None:
        if self.is_locked(now, immutable_period):
            raise TeleconsultationLocked

    def participant(self, identities: Iterable[str]) -> Participant | None:
        wanted = {identity for identity in identities if identity}
        return next((p for p in self.participants if p.is_identified_by(wanted)), None)

    def visible_link(self, participant: Participant, now: datetime, immutable_period: timedelta) -> str | None:
        """The join link is shown only once the room can no longer be replaced."""
        if self.room_id is None or not self.is_locked(now, immutable_period):
            return None
        return participant.access_link

    def revise(
        self,
        *,
        now: datetime,
        immutable_period: timedelta,
        schedule: Schedule | None = None,
        participants_number: int | None = None,
        participants: Iterable[Participant] | None = None,
        links_bound_to_schedule: bool = False,
    ) -> RoomChange:
        """Apply a partial update and decide what must happen to the provider room.

        The room is replaced when its participants or its duration change; when its links work only inside
        the appointment's window (`links_bound_to_schedule`, e.g. signed Jitsi tokens), also when the start moves.
        """
        self.ensure_mutable(now, immutable_period)
        new_schedule = schedule or self.schedule
        new_number = self.participants_number if participants_number is None else participants_number
        new_roster = self.participants if participants is None else tuple(participants)
        check_roster(new_number, new_roster)
        features_changed = (
            new_number != self.participants_number
            or _features(new_roster) != _features(self.participants)
            or new_schedule.duration != self.schedule.duration
            or (links_bound_to_schedule and new_schedule != self.schedule)
        )
        obsolete = self.room_id if features_changed else None
        if participants is not None and not features_changed:
            # Same people, maybe new names or languages: keep the links the room already gave them.
            links = {p.provider_user_id: p.access_link for p in self.participants}
            new_roster = tuple(replace(p, access_link=links.get(p.provider_user_id)) for p in new_roster)
        self.schedule = new_schedule
        self.participants_number = new_number
        self.participants = new_roster
        if obsolete is not None:
            self.detach_room()
        return RoomChange(obsolete_room_id=obsolete, needs_new_room=self.needs_room)

    def attach_room(self, room_id: str, links: Mapping[str, str]) -> None:
        """Record the provider room and each participant's personal link (keyed by provider user id)."""
        self.room_id = room_id
        self.participants = tuple(replace(p, access_link=links.get(p.provider_user_id)) for p in self.participants)

    def detach_room(self) -> None:
        self.room_id = None
        self.participants = tuple(replace(p, access_link=None) for p in self.participants)

    def discard(self) -> str | None:
        """Move to the trash; returns the provider room that must be deleted, if any."""
        room_id = self.room_id
        self.detach_room()
        self.discarded = True
        return room_id


def _features(roster: tuple[Participant, ...]) -> frozenset[tuple[str, Privilege]]:
    return frozenset(p.room_features() for p in roster)


class RosterEntry(Protocol):
    @property
    def resolved_user_id(self) -> str: ...

    @property
    def privilege(self) -> Privilege: ...


def check_roster(participants_number: int, roster: Sequence[RosterEntry]) -> None:
    """The roster rules, usable before any participant has a provider user."""
    if not MINIMUM_PARTICIPANTS <= participants_number <= MAXIMUM_PARTICIPANTS:
        raise InvalidRoster(
            f"the number of participants must be between {MINIMUM_PARTICIPANTS} and {MAXIMUM_PARTICIPANTS}"
        )
    if len(roster) > participants_number:
        raise InvalidRoster("more participants were given than the expected number")
    ids = [p.resolved_user_id for p in roster]
    if len(set(ids)) != len(ids):
        raise InvalidRoster("a participant appears more than once")
    if len(roster) == participants_number and all(p.privilege is not Privilege.PLUS for p in roster):
        raise NoPlusUser
