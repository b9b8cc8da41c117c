"""Data the use cases exchange with ports and callers."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from domain.duration_policy import Schedule
from domain.privileges import Privilege


@dataclass(frozen=True, slots=True)
class RoomMember:
    provider_user_id: str
    privilege: Privilege
    tools: Mapping[str, bool] | None
    full_name: str | None = None


@dataclass(frozen=True, slots=True)
class RoomSpec:
    """Everything a provider needs to open a room; `duration_seconds` None means unlimited."""

    members: tuple[RoomMember, ...]
    schedule: Schedule
    duration_seconds: int | None
    opens_at: datetime  # from when links must work: the start minus the immutable period
    # An opaque correlation id (the room intent's), never personal data, for the provider to keep with the room.
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class ProvisionedRoom:
    room_id: str
    links: Mapping[str, str]  # provider user id -> personal join link


@dataclass(frozen=True, slots=True)
class RoomIntent:
    """A provider room about to be created for a teleconsultation, recorded before the provider is asked.

    `room_id` is filled in as soon as the provider answers; `lease_until` is how long its creator may still be at
    work on it (a sweeper leaves it alone until then).
    """

    intent_id: str
    teleconsultation_id: str
    opened_at: datetime
    lease_until: datetime
    room_id: str | None = None


@dataclass(frozen=True, slots=True)
class RecordedRoomDeletion:
    """A provider room a stored teleconsultation gave up (replaced or cancelled) and that is still to delete."""

    teleconsultation_id: str
    room_id: str


@dataclass(frozen=True, slots=True)
class RoomDetails:
    """Room usage as the provider reports it; fields the provider does not know stay None."""

    recording: str | None = None
    recording_status: str | None = None
    call_type: str | None = None
    description: str | None = None
    status: str | None = None
    disabled: bool | None = None
    creation_date: str | None = None
    duration_in_seconds: int | None = None
    duration_used_in_seconds: int | None = None
    live: bool | None = None


@dataclass(frozen=True, slots=True)
class SharedRoomDetailsRecord:
    """What every process of the service knows of one provider room's details, through the store.

    `fetched_at` is when the provider was asked for `details` (None: never yet, the record holds only a claim);
    `claimed_by` is fetching them now, until `claimed_until` at the latest.
    """

    details: RoomDetails | None
    fetched_at: datetime | None
    claimed_by: str | None = None
    claimed_until: datetime | None = None

    def fresh_at(self, now: datetime, ttl: timedelta) -> bool:
        # Details fetched up to a period "after now" are fresh: another process may have asked the provider after
        # this one read its clock, or its clock may run a little ahead. Further ahead, this clock went back, and
        # the record must not live that much longer.
        return self.fetched_at is not None and self.fetched_at - ttl <= now < self.fetched_at + ttl

    def claimed_by_another_at(self, now: datetime, owner: str) -> bool:
        return self.claimed_by not in (None, owner) and self.claimed_until is not None and now < self.claimed_until


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """How a join link is personalised; `language` None leaves the company's default language."""

    language: str | None = None
    virtual_background: bool = False


@dataclass(frozen=True, slots=True)
class CompanyBackground:
    """A virtual background stored by the provider; `alias` names it when making it the default."""

    alias: str
    url: str | None = None
    creation_date: str | None = None


@dataclass(frozen=True, slots=True)
class BackgroundImage:
    filename: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class UserMapping:
    """One external user and the provider user created for it."""

    received_user_id: str
    provider_user_id: str
    full_name: str | None = None
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParticipantInput:
    """A participant as the caller described it; groups and name may come from a directory instead."""

    user_id: str
    groups: tuple[str, ...] | None = None
    full_name: str | None = None
    language: str | None = None


@dataclass(frozen=True, slots=True)
class RosterInput:
    number: int
    data: tuple[ParticipantInput, ...]
    ids_only: bool = False  # sent as a plain list of user ids rather than participant objects


@dataclass(frozen=True, slots=True)
class Requester:
    """Who is calling: every id that may identify them, their groups, and the scopes a verified token grants."""

    user_ids: tuple[str, ...]
    groups: tuple[str, ...] = ()
    scopes: tuple[str, ...] = ()


def actor_id_of(requester: Requester | None) -> str | None:
    """The id a write records as its creator or updater: the requester's, None when nobody is identified."""
    return requester.user_ids[0] if requester is not None and requester.user_ids else None


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """A user as the identity service knows them."""

    user_id: str
    full_name: str | None
    groups: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CallContext:
    """Request headers to pass on to the identity services the service calls on the caller's behalf."""

    forwarded_headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    user_id: str
    groups: tuple[str, ...]
    scopes: tuple[str, ...] = ()  # from the token's `scope` (space-separated) or `scp` claim


@dataclass(frozen=True, slots=True)
class SdkCredentials:
    """A token a mobile SDK uses to connect as one provider user."""

    access_token: str
    expires_at: str  # as the provider wrote it, e.g. "2022-01-10T11:41:19.000Z"
    user_id: str


@dataclass(frozen=True, slots=True)
class CollectionMigration:
    """What `migrate` found in one collection and what it did (or, in a dry run, would do).

    `left` names what could not be upgraded, by document id and reason (ids and field names only).
    """

    collection: str
    scanned: int
    shapes: Mapping[str, int]  # legacy shape -> documents (or participants, or rows) found with it
    upgraded: int
    current: int  # already in today's shape
    ignored: Mapping[str, int] = field(default_factory=dict)  # what is deliberately left as it is, and why
    left: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.left
