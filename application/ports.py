"""Ports: what the use cases need from the outside world, named by role."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from application.dto import (
    CallContext,
    CollectionMigration,
    CompanyBackground,
    DirectoryUser,
    LinkOptions,
    ProvisionedRoom,
    RecordedRoomDeletion,
    RoomDetails,
    RoomIntent,
    RoomSpec,
    SdkCredentials,
    SharedRoomDetailsRecord,
    UserMapping,
    VerifiedIdentity,
)
from domain.privileges import Privilege
from domain.teleconsultation import Teleconsultation

if TYPE_CHECKING:
    from application.events import Event, EventQuery
    from application.retention import Retained
    from application.webhooks import Delivery


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...


class TeleconsultationRepository(Protocol):
    """Live teleconsultations. Raises StoreUnavailable when the store cannot be used."""

    async def next_id(self) -> str:
        """A fresh id (a 24-hex ObjectId string)."""
        ...

    async def get(self, teleconsultation_id: str) -> Teleconsultation:
        """The live teleconsultation; raises NotFound when absent or trashed."""
        ...

    async def add(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        """Store a new teleconsultation (version 0 becomes 1), with `events` in its outbox in the same write.

        `actor_id`: who asked for it, recorded as the writer where the store keeps one; None when not known.
        """
        ...

    async def save(
        self, teleconsultation: Teleconsultation, events: Sequence[Event] = (), *, actor_id: str | None = None
    ) -> None:
        """Store a change (a discarded one goes to the trash), with `events` in its outbox in the same write;
        `actor_id` as for `add`.

        Raises ConcurrentUpdate unless the stored version equals `teleconsultation.version`;
        on success the version is incremented in the store and on the object.
        """
        ...


class ChangeListener(Protocol):
    """What hears of the writes TeleconsultationChanges tells of (the teleconsultation cache, through the service)."""

    def changed(self, teleconsultation_id: str) -> None:
        """The teleconsultation was written (added, changed, trashed or removed), by whichever instance."""
        ...

    def missed(self) -> None:
        """Writes before the ones told of from now on may have gone untold: anything read before may be stale."""
        ...

    def following(self, live: bool) -> None:
        """Whether writes are being told of as they happen (False while the feed is lost and being resumed)."""
        ...


class TeleconsultationChanges(Protocol):
    """The writes the store sees to teleconsultations, from every instance, told soon after they are made.

    Where the store cannot tell of its writes, this port is not offered (None), or `follow` says so at once.
    """

    async def follow(self, listener: ChangeListener) -> None:
        """Tell `listener` of each write until cancelled; returns only when the store offers no such feed.

        `listener.missed()` comes first, once the feed is open (what was read before it opened is not covered),
        and again whenever the feed was lost and could not be resumed where it stopped. A feed lost for a while
        and resumed tells of the writes made meanwhile, late, and misses nothing.
        """
        ...


class UserIdMap(Protocol):
    """External user id -> provider user id. Raises StoreUnavailable when the store cannot be used.

    Creating a provider user goes through a reservation of the external id, so that one provider user at most is
    ever created per id, whichever instance of the service asks: reserve, create the provider user, complete.
    """

    async def find(self, received_user_id: str) -> UserMapping | None:
        """The completed mapping; None when there is none (also while one is being created)."""
        ...

    async def find_many(self, received_user_ids: Collection[str]) -> dict[str, UserMapping]:
        """The completed mappings of those ids that have one, by id, in one look at the store."""
        ...

    async def reserve(self, received_user_id: str, owner: str, *, now: datetime, until: datetime) -> UserMapping | None:
        """Reserve the id so that `owner` may create its provider user.

        Returns the completed mapping when there is one (nothing is reserved), None when `owner` now holds the
        reservation: a new one, its own, or one whose holder let it run out before `now`.
        Raises UserCreationInProgress while another owner's reservation runs.
        """
        ...

    async def reserve_new(
        self, received_user_ids: Collection[str], owner: str, *, now: datetime, until: datetime
    ) -> set[str]:
        """Reserve for `owner`, in one write, those of the ids that have no row at all (mapping or reservation).

        Returns the ids `owner` now holds a new reservation of. The others are left as they are: each goes
        through `reserve`, which knows how to wait for, take over or return what is there.
        """
        ...

    async def complete(self, mapping: UserMapping, owner: str) -> None:
        """Turn `owner`'s reservation into the mapping; raises ReservationLost when `owner` no longer holds it."""
        ...

    async def complete_all(self, mappings: Collection[UserMapping], owner: str) -> set[str]:
        """`complete` for each of the mappings (of distinct ids, with provider users just created), in one write;
        returns the ids whose reservation `owner` no longer held (those are not completed, as `complete` would
        have raised ReservationLost)."""
        ...

    async def abandon(self, received_user_id: str, owner: str) -> None:
        """Drop `owner`'s reservation (no provider user was created), so that others may try at once."""
        ...


class VideoProvider(Protocol):
    """Users and rooms at the video provider. Raises ProviderError on any provider failure.

    The optional features (files, backgrounds, transcriptions, SDK credentials) are ports of their own, which a
    provider without them simply does not offer.
    """

    name: str

    async def create_user(self, privilege: Privilege) -> str:
        """Create a provider user with the role of `privilege`; returns its provider id. Never retried."""
        ...

    async def create_room(self, spec: RoomSpec) -> ProvisionedRoom: ...

    async def delete_room(self, room_id: str) -> None:
        """Delete the room; a room that is already gone counts as deleted."""
        ...

    async def room_details(self, room_id: str) -> RoomDetails | None:
        """Usage details, or None when the provider keeps none."""
        ...


class SharedRoomDetails(Protocol):
    """One record per provider room, shared by every process using the store: the latest room details fetched,
    and a short claim by the process fetching them now, so that one provider call per period serves them all.

    A claim is taken by a conditional write: of several processes at once exactly one gets it. Records are kept a
    few minutes after their last write, then the store drops them. Raises StoreUnavailable.
    """

    async def read(self, room_id: str) -> SharedRoomDetailsRecord | None:
        """The room's record; None when there is none."""
        ...

    async def claim(self, room_id: str, owner: str, *, now: datetime, until: datetime, fresh_for: timedelta) -> bool:
        """Let `owner` fetch the room's details, until `until`; False (nothing written) while the record holds
        details fresh at `now` (fetched less than `fresh_for` before it, and not after it) or another owner's
        claim still runs at `now`."""
        ...

    async def publish(self, room_id: str, owner: str, details: RoomDetails | None, *, fetched_at: datetime) -> bool:
        """Store the details `owner` fetched (asked at `fetched_at`) and end its claim; False, and nothing
        written, unless `owner` still holds the claim (the record was forgotten or claimed by another since)."""
        ...

    async def release(self, room_id: str, owner: str) -> None:
        """End `owner`'s claim (its provider call failed) and keep the details, so that another may fetch at once."""
        ...

    async def forget(self, room_id: str) -> None:
        """Drop the room's record, claim included (the room is being deleted)."""
        ...


class JoinLinks(Protocol):
    def personalise(self, link: str, options: LinkOptions) -> str:
        """`link` asking for the options the provider has an equivalent for (others are ignored).

        Whatever query string or fragment the link already carries is kept. A pure function of its arguments:
        callers may remember its answers.
        """
        ...


class CallUploads(Protocol):
    """Files shared during calls. Raises ProviderError, or ProviderUnsupported when the provider has none."""

    async def list_uploads(self, room_id: str) -> list[str]:
        """The keys of every file uploaded in the room, all pages read."""
        ...

    async def delete_upload(self, key: str) -> None:
        """Delete one file; a file that is already gone counts as deleted."""
        ...


class CompanyBackgrounds(Protocol):
    """The company's virtual backgrounds. Raises ProviderError, or ProviderUnsupported."""

    async def upload_background(self, filename: str, content_type: str, data: bytes) -> CompanyBackground:
        """Store a background image; raises InvalidRequest when the provider refuses the image."""
        ...

    async def set_default_background(self, alias: str) -> Mapping[str, object]:
        """Make the background the company default; returns the provider's company object.

        Raises InvalidRequest when the provider refuses the alias.
        """
        ...


class SessionTranscriptions(Protocol):
    """Transcriptions of recorded call sessions. Raises ProviderError, or ProviderUnsupported."""

    async def transcription(self, room_id: str, session_id: str, fmt: str, max_bytes: int) -> str | None:
        """The text in `fmt` (txt or srt), None when the provider has none for the session.

        Raises ProviderError when the text is larger than `max_bytes`.
        """
        ...


class PendingRoomCleanups(Protocol):
    """Provider rooms that must still be deleted because an earlier deletion failed.

    A sweeper claims a room before deleting it. A claim is a lease held by one owner until it expires, so that
    two instances never delete the same room at once and the rooms of a sweeper that died come back in time.
    """

    async def add(self, room_id: str) -> None:
        """Queue the room; a room already queued keeps its place and its lease."""
        ...

    async def remove(self, room_id: str) -> None: ...

    async def pending(self, limit: int) -> list[str]:
        """Up to `limit` rooms still to delete, oldest first, leased or not."""
        ...

    async def count(self) -> int:
        """How many rooms are still to delete."""
        ...

    async def claim(self, room_id: str, owner: str, *, now: datetime, until: datetime) -> bool:
        """Lease the room to `owner` until `until`, unless another owner's lease still runs at `now`.

        False when someone else holds it or it is no longer pending.
        """
        ...

    async def release(self, room_id: str, owner: str) -> None:
        """End `owner`'s lease early (its deletion failed) so that the next sweep may retry at once."""
        ...


class RoomIntents(Protocol):
    """Provider rooms being created, each recorded before the provider is asked, so a crash leaves a trace.

    An intent is opened with a lease held by its creator; once the teleconsultation holding the room is stored (or
    the room is deleted) it is closed. An intent whose lease ran out was left by a creator that died or gave up: a
    sweeper claims it (a lease of its own) and resolves it. An intent whose room can never be found again is closed
    as "outcome unknown" and kept, for an operator, until `expires_at`. Raises StoreUnavailable.
    """

    async def open(self, intent_id: str, teleconsultation_id: str, *, now: datetime, lease_until: datetime) -> None:
        """Record the intent; `intent_id` is fresh and opaque (it travels to the provider with the room)."""
        ...

    async def record_room(self, intent_id: str, room_id: str) -> None:
        """The provider created room `room_id` for the intent."""
        ...

    async def close(self, intent_id: str) -> bool:
        """Forget the resolved intent; False when it was no longer open (another sweeper resolved it)."""
        ...

    async def close_unknown(self, intent_id: str, *, now: datetime, expires_at: datetime) -> bool:
        """Keep the intent as "outcome unknown" until `expires_at`; False when it was no longer open."""
        ...

    async def overdue(self, now: datetime, limit: int) -> list[RoomIntent]:
        """Up to `limit` open intents whose lease ran out at `now`, oldest first."""
        ...

    async def claim(self, intent_id: str, owner: str, *, now: datetime, until: datetime) -> bool:
        """Lease the open intent to `owner` until `until`, unless its lease still runs at `now` (and is not
        `owner`'s). False when someone holds it or it is no longer open."""
        ...

    async def unknown(self, now: datetime, limit: int) -> list[RoomIntent]:
        """Up to `limit` intents closed as "outcome unknown" that have not expired at `now`, oldest first."""
        ...


class RecordedRoomDeletions(Protocol):
    """The rooms stored teleconsultations (live or trashed) still list as to delete. Raises StoreUnavailable.

    A room is listed by the same single-document write that gave it up (a cancellation, a replacement), so that no
    crash can come between the change and the record of what the change leaves to do.
    """

    async def pending(self, limit: int, *, listed_before: datetime) -> list[RecordedRoomDeletion]:
        """Up to `limit` rooms still to delete, listed by a write made no later than `listed_before` (a request
        that just listed one is still deleting it itself)."""
        ...

    async def done(self, deletion: RecordedRoomDeletion) -> None:
        """The room is deleted: drop it from its teleconsultation's list (no new version: nothing else changes)."""
        ...

    async def count(self) -> int:
        """How many rooms are still to delete."""
        ...


class IdempotencyRecords(Protocol):
    """What became of requests sent with an Idempotency-Key, until the records expire.

    Keys arrive already scoped and hashed; only successes are kept, so that a failed attempt never stops a retry.
    Raises StoreUnavailable when the store cannot be used.
    """

    async def begin(
        self, key: str, fingerprint: str, owner: str, *, now: datetime, lease_until: datetime, expires_at: datetime
    ) -> str | None:
        """Claim `key` for `owner`'s attempt at a request whose body hashes to `fingerprint`.

        Returns the stored result when the key already succeeded with this fingerprint (nothing is claimed); None
        when `owner` now holds the key, until `lease_until`, and must `finish` or `release` it. A record that
        expired, or an attempt whose lease ran out (its instance died), counts as absent.
        Raises IdempotencyKeyReused when the key is held or done with another fingerprint, IdempotencyKeyInFlight
        while another attempt with this fingerprint holds it.
        """
        ...

    async def finish(self, key: str, owner: str, result: str) -> None:
        """Keep `owner`'s successful result for replays; nothing happens if `owner` no longer holds the key."""
        ...

    async def release(self, key: str, owner: str) -> None:
        """Forget `owner`'s failed attempt, so that a retry with the key may succeed."""
        ...


class UserDirectory(Protocol):
    """The identity service (auth0-client). Raises IdentityServiceError when it cannot answer."""

    async def users(self, user_ids: Sequence[str], context: CallContext) -> dict[str, DirectoryUser]:
        """The known users among `user_ids`, by id; unknown ids are simply absent."""
        ...


class CustomIdResolver(Protocol):
    """Translates custom user ids (e.g. a user-manager `_id`) into identity-provider ids."""

    async def resolve(self, custom_ids: Sequence[str], context: CallContext) -> dict[str, str]:
        """custom id -> identity-provider id for the ids that resolve; others are absent.

        Raises IdentityServiceError when the service cannot answer.
        """
        ...


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> VerifiedIdentity:
        """Check signature, expiry, issuer and audience; raises Unauthorized when any check fails."""
        ...


class SdkCredentialIssuer(Protocol):
    """Issues mobile-SDK tokens. Raises ProviderError, or ProviderUnsupported when the provider has no SDK."""

    async def sdk_credentials(self, provider_user_id: str, expires_in: int) -> SdkCredentials: ...


class LegacyDataMigration(Protocol):
    """Upgrades, in place, what the original service stored to today's shape; conditional writes only, so it is
    safe while the service runs. Raises StoreUnavailable when the store cannot be used."""

    async def upgrade_teleconsultations(self, *, dry_run: bool) -> CollectionMigration: ...

    async def upgrade_user_ids(self, *, dry_run: bool) -> CollectionMigration:
        """Legacy rows, duplicate ids (the oldest row kept), then the unique index on the external id."""
        ...


class EventLog(Protocol):
    """The audit trail: events newest first. Raises StoreUnavailable when the store cannot be used."""

    async def append(self, event: Event) -> bool:
        """Add the event; False (and nothing written) when an event with its id is already logged."""
        ...

    async def append_all(self, events: Sequence[Event]) -> set[str]:
        """Add them in their order (one write when none is logged yet): each is placed after those before it, and
        one already logged is left as it was. Returns the ids of those that were not logged yet."""
        ...

    async def contains(self, event_id: str) -> bool: ...

    async def query(self, query: EventQuery, limit: int, after: str | None = None) -> tuple[list[Event], str | None]:
        """Up to `limit` matching events, newest first, from after the position `after` (from an earlier page);
        returns them with the position to continue from, None when there is nothing more."""
        ...


class EventOutbox(Protocol):
    """Events stored with their change (in the teleconsultation's own document) and not yet in the log."""

    async def pending(self, teleconsultation_id: str | None, limit: int) -> list[tuple[str, list[Event]]]:
        """(teleconsultation id, its waiting events in order) for one teleconsultation, or for up to `limit`."""
        ...

    async def remove(self, teleconsultation_id: str, event_ids: Sequence[str]) -> None: ...


class WebhookDeliveries(Protocol):
    """Outbound webhook deliveries, one per event and target, each leased to one deliverer at a time.

    Raises StoreUnavailable when the store cannot be used.
    """

    async def enqueue(self, deliveries: Sequence[Delivery]) -> None:
        """Queue them; a delivery already queued (same id) is left as it is."""
        ...

    async def claim_due(self, owner: str, *, now: datetime, until: datetime, limit: int) -> list[Delivery]:
        """Lease to `owner`, until `until`, up to `limit` pending deliveries due by `now` that nobody else holds."""
        ...

    async def delivered(self, delivery_id: str, owner: str) -> None: ...

    async def failed(self, delivery_id: str, owner: str, *, retry_at: datetime | None) -> None:
        """Count a failed attempt and free the lease; `retry_at` None dead-letters the delivery."""
        ...

    async def counts(self) -> dict[str, int]:
        """How many deliveries are `pending`, `delivered` and `dead`."""
        ...


class WebhookSender(Protocol):
    async def send(self, url: str, message_id: str, body: bytes) -> bool:
        """POST the signed message; True when the receiver took it (2xx). Never raises for a failed delivery."""
        ...


class RoomIndex(Protocol):
    """Which teleconsultation a provider room belongs to (for the provider's webhooks, which name rooms)."""

    async def teleconsultation_of_room(self, room_id: str) -> str | None:
        """The id of the live or trashed teleconsultation whose current room it is; None when none is."""
        ...


class RetentionStore(Protocol):
    """Teleconsultations whose personal data must go (RETENTION_DAYS). Raises StoreUnavailable."""

    async def due_for_purge(self, *, ended_before: datetime, cancelled_before: datetime, limit: int) -> list[Retained]:
        """Up to `limit` not yet purged: live ones that ended before `ended_before`, trashed ones cancelled
        before `cancelled_before`."""
        ...

    async def purge(self, teleconsultation_id: str, event: Event) -> bool:
        """Remove the participants' names, links and groups, with `event` in the same write; False when it was
        purged already or changed since it was listed (the next sweep lists it again)."""
        ...
