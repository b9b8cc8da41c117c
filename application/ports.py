"""Ports: what the use cases need from the outside world, named by role."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from application.dto import (
    CallContext,
    CollectionMigration,
    CompanyBackground,
    DirectoryUser,
    LinkOptions,
    ProvisionedRoom,
    RoomDetails,
    RoomSpec,
    SdkCredentials,
    UserMapping,
    VerifiedIdentity,
)
from domain.privileges import Privilege
from domain.teleconsultation import Teleconsultation


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

    async def add(self, teleconsultation: Teleconsultation, *, actor_id: str | None = None) -> None:
        """Store a new teleconsultation (version 0 becomes 1).

        `actor_id`: who asked for it, recorded as the writer where the store keeps one; None when not known.
        """
        ...

    async def save(self, teleconsultation: Teleconsultation, *, actor_id: str | None = None) -> None:
        """Store a change (a discarded one goes to the trash); `actor_id` as for `add`.

        Raises ConcurrentUpdate unless the stored version equals `teleconsultation.version`;
        on success the version is incremented in the store and on the object.
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

    async def complete(self, mapping: UserMapping, owner: str) -> None:
        """Turn `owner`'s reservation into the mapping; raises ReservationLost when `owner` no longer holds it."""
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
