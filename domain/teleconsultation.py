"""The Teleconsultation aggregate: roster, schedule, immutability and the provider room it needs."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from domain.duration_policy import DurationPolicy, Schedule, earlier
from domain.errors import InvalidRoster, NoPlusUser, TeleconsultationLocked
from domain.privileges import Privilege

# Kaleyra rooms accept between 2 and 25 participants.
MINIMUM_PARTICIPANTS = 2
MAXIMUM_PARTICIPANTS = 25


@dataclass(frozen=True, slots=True, kw_only=True)
class Participant:
    """A known participant. `user_id` is the id the caller sent; `resolved_user_id` the identity-provider id.

    `privilege_guessed`: the privilege was never stored and cannot be derived from what was (the original service
    in auth mode stored no groups), so it reads as basic, the least, until the identity service says (see
    `Teleconsultation.identify`). The provider room, made by the original, has the participant's true role.
    """

    user_id: str
    resolved_user_id: str
    provider_user_id: str
    privilege: Privilege
    full_name: str | None = None
    groups: tuple[str, ...] = ()
    language: str | None = None
    access_link: str | None = None
    privilege_guessed: bool = False

    def is_identified_by(self, identities: Collection[str]) -> bool:
        return self.user_id in identities or self.resolved_user_id in identities

    def room_features(self) -> tuple[str, Privilege]:
        return (self.provider_user_id, self.privilege)


@dataclass(frozen=True, slots=True)
class SchedulingRules:
    """The deployment's rules every teleconsultation is held to.

    `immutable_period`: from this long before the start, a complete teleconsultation refuses every change but
    cancellation, and its links are shown. `links_bound_to_schedule`: the provider's links work only inside the
    appointment's window (signed Jitsi tokens), so moving the start needs new links.
    """

    durations: DurationPolicy = field(default_factory=DurationPolicy)
    immutable_period: timedelta = timedelta(0)
    links_bound_to_schedule: bool = False

    def schedule(
        self, start: datetime, *, end: datetime | None = None, duration_seconds: int | None = None
    ) -> Schedule:
        return self.durations.schedule(start, end=end, duration_seconds=duration_seconds)

    def locked_from(self, schedule: Schedule) -> datetime:
        return earlier(schedule.start, self.immutable_period)


@dataclass(frozen=True, slots=True)
class RoomChange:
    """What the provider must do after a change: drop the obsolete room, create a new one, or both."""

    obsolete_room_id: str | None = None
    needs_new_room: bool = False


@dataclass(frozen=True, slots=True)
class RoomTerms:
    """What the provider room of a complete teleconsultation must offer."""

    participants: tuple[Participant, ...]
    schedule: Schedule
    duration_seconds: int | None  # None: an unlimited room
    opens_at: datetime  # from when its links must work: the moment the teleconsultation locks


@dataclass(slots=True, kw_only=True)
class Teleconsultation:
    id: str
    participants_number: int
    participants: tuple[Participant, ...]
    schedule: Schedule
    provider_room_id: str | None = None
    version: int = 0
    discarded: bool = False
    # Provider rooms this teleconsultation no longer uses but whose deletion is not yet known to be done: recorded
    # by the very change that gave them up, so that a crash right after it leaves a record behind.
    rooms_to_delete: tuple[str, ...] = ()

    @classmethod
    def plan(
        cls,
        *,
        id: str,  # noqa: A002 - the aggregate's identity
        participants_number: int,
        participants: Iterable[Participant],
        schedule: Schedule,
    ) -> Teleconsultation:
        """A new teleconsultation; `schedule` comes from `SchedulingRules.schedule`, which checked it."""
        roster = tuple(participants)
        check_roster(participants_number, roster)
        return cls(id=id, participants_number=participants_number, participants=roster, schedule=schedule)

    @property
    def is_complete(self) -> bool:
        return len(self.participants) == self.participants_number

    @property
    def needs_room(self) -> bool:
        return self.is_complete and self.provider_room_id is None and not self.discarded

    def is_locked(self, now: datetime, rules: SchedulingRules) -> bool:
        """A complete teleconsultation refuses changes from `rules.immutable_period` before its start."""
        return self.is_complete and now >= rules.locked_from(self.schedule)

    def participant(self, identities: Iterable[str]) -> Participant | None:
        wanted = {identity for identity in identities if identity}
        return next((p for p in self.participants if p.is_identified_by(wanted)), None)

    def visible_link(self, participant: Participant, now: datetime, rules: SchedulingRules) -> str | None:
        """The join link is shown only once the room can no longer be replaced."""
        if self.provider_room_id is None or not self.is_locked(now, rules):
            return None
        return participant.access_link

    def room_terms(self, rules: SchedulingRules) -> RoomTerms:
        return RoomTerms(
            participants=self.participants,
            schedule=self.schedule,
            duration_seconds=rules.durations.provider_duration_seconds(self.schedule),
            opens_at=rules.locked_from(self.schedule),
        )

    def revision(
        self,
        *,
        now: datetime,
        rules: SchedulingRules,
        start: datetime | None = None,
        end: datetime | None = None,
        duration_seconds: int | None = None,
    ) -> Revision:
        """Begin a change: refused inside the immutable period, and the new schedule checked, before anything
        (such as making provider users for a new roster) is done for it.

        Moving only the start keeps the appointment exactly as long as it was.
        """
        if self.is_locked(now, rules):
            raise TeleconsultationLocked
        schedule = self.schedule
        if end is not None or duration_seconds is not None:
            schedule = rules.schedule(start or self.schedule.start, end=end, duration_seconds=duration_seconds)
        elif start is not None:
            schedule = rules.durations.moved(self.schedule, start)
        return Revision(self, rules, schedule)

    @property
    def participants_to_identify(self) -> tuple[Participant, ...]:
        """Those whose privilege is only guessed: a change must learn it before the roster rules can judge."""
        return tuple(p for p in self.participants if p.privilege_guessed)

    def identify(self, privileges: Mapping[str, tuple[Privilege, tuple[str, ...]]]) -> None:
        """Record the privilege and groups the identity service gives a participant whose privilege was guessed
        (by user id). Nothing changes for the room: it was made with the participant's true role."""
        self.participants = tuple(
            replace(p, privilege=privileges[p.user_id][0], groups=privileges[p.user_id][1], privilege_guessed=False)
            if p.privilege_guessed and p.user_id in privileges
            else p
            for p in self.participants
        )

    def attach_room(self, room_id: str, links: Mapping[str, str]) -> None:
        """Record the provider room and each participant's personal link (keyed by provider user id)."""
        self.provider_room_id = room_id
        self.participants = tuple(replace(p, access_link=links.get(p.provider_user_id)) for p in self.participants)

    def detach_room(self) -> None:
        self.provider_room_id = None
        self.participants = tuple(replace(p, access_link=None) for p in self.participants)

    def discard(self) -> str | None:
        """Move to the trash; returns the provider room that must be deleted, if any.

        The trashed teleconsultation keeps naming its room, which is also recorded as still to delete.
        """
        room_id = self.provider_room_id
        self.participants = tuple(replace(p, access_link=None) for p in self.participants)
        self.discarded = True
        if room_id is not None:
            self.give_up_room(room_id)
        return room_id

    def give_up_room(self, room_id: str) -> None:
        """Record that the provider room must be deleted (once: recording it again changes nothing)."""
        if room_id not in self.rooms_to_delete:
            self.rooms_to_delete = (*self.rooms_to_delete, room_id)


@dataclass(frozen=True, slots=True)
class Revision:
    """A change under way, its schedule already checked; `apply` it with the new roster, if any."""

    teleconsultation: Teleconsultation
    rules: SchedulingRules
    schedule: Schedule

    def apply(
        self, *, participants_number: int | None = None, participants: Iterable[Participant] | None = None
    ) -> RoomChange:
        """Change the teleconsultation and decide what must happen to its provider room.

        The room is replaced when its participants or the duration the provider room has change (an unlimited
        room has none, so a new duration keeps it); when its links work only inside the appointment's window,
        also when the start or the end moves.
        """
        current = self.teleconsultation
        room_duration = self.rules.durations.provider_duration_seconds
        new_number = current.participants_number if participants_number is None else participants_number
        new_roster = current.participants if participants is None else tuple(participants)
        check_roster(new_number, new_roster)
        features_changed = (
            new_number != current.participants_number
            or _features(new_roster) != _features(current.participants)
            or room_duration(self.schedule) != room_duration(current.schedule)
            or (self.rules.links_bound_to_schedule and self.schedule != current.schedule)
        )
        obsolete = current.provider_room_id if features_changed else None
        if participants is not None and not features_changed:
            # Same people, maybe new names or languages: keep the links the room already gave them.
            links = {p.provider_user_id: p.access_link for p in current.participants}
            new_roster = tuple(replace(p, access_link=links.get(p.provider_user_id)) for p in new_roster)
        current.schedule = self.schedule
        current.participants_number = new_number
        current.participants = new_roster
        if obsolete is not None:
            current.detach_room()
            current.give_up_room(obsolete)
        return RoomChange(obsolete_room_id=obsolete, needs_new_room=current.needs_room)


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
