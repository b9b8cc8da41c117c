"""An in-memory VideoProvider that behaves like a real one, for tests and local runs without an account."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from yarl import URL

from application.dto import LinkOptions, ProvisionedRoom, RoomDetails, RoomSpec, SdkCredentials
from application.errors import ProviderError
from application.ports import Clock, JoinLinks, SdkCredentialIssuer, VideoProvider
from domain.privileges import Privilege

OPERATIONS = frozenset({"create_user", "create_room", "delete_room", "room_details", "sdk_credentials"})


class InMemoryVideoProvider(VideoProvider, JoinLinks, SdkCredentialIssuer):
    """Users and rooms kept in dicts; `fail_next` makes chosen calls fail like an unreachable provider.

    The optional features are provided by InMemoryCallFeatures.
    """

    name = "memory"

    def __init__(self, *, clock: Clock | None = None, link_base: str = "https://video.invalid/rooms") -> None:
        self.users: dict[str, Privilege] = {}
        self.rooms: dict[str, RoomSpec] = {}
        self.deleted_rooms: list[str] = []
        self._clock = clock
        self._link_base = link_base.rstrip("/")
        self._created_at: dict[str, datetime] = {}
        self._failures: dict[str, int] = {}
        self._ids = itertools.count(1)

    def fail_next(self, operation: str, times: int = 1) -> None:
        """Make the next `times` calls of `operation` raise ProviderError (on top of any already pending)."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; expected one of {sorted(OPERATIONS)}")
        if times < 0:
            raise ValueError("times must not be negative")
        self._failures[operation] = self._failures.get(operation, 0) + times

    async def create_user(self, privilege: Privilege) -> str:
        self._maybe_fail("create_user")
        user_id = f"user-{next(self._ids)}"
        self.users[user_id] = privilege
        return user_id

    async def create_room(self, spec: RoomSpec) -> ProvisionedRoom:
        self._maybe_fail("create_room")
        if not spec.members:
            raise ProviderError(self.name, "create_room", "a room needs participants")
        room_id = f"room-{next(self._ids)}"
        self.rooms[room_id] = spec
        self._created_at[room_id] = self._now()
        links = {m.provider_user_id: f"{self._link_base}/{room_id}/{m.provider_user_id}" for m in spec.members}
        return ProvisionedRoom(room_id=room_id, links=links)

    def personalise(self, link: str, options: LinkOptions) -> str:
        """Query parameters, the way Kaleyra links carry them."""
        parameters = {"language": options.language} if options.language else {}
        if options.virtual_background:
            parameters["virtual_background"] = "image"
        return str(URL(link, encoded=True).extend_query(parameters)) if parameters else link

    async def delete_room(self, room_id: str) -> None:
        self._maybe_fail("delete_room")
        if self.rooms.pop(room_id, None) is not None:
            self._created_at.pop(room_id, None)
            self.deleted_rooms.append(room_id)

    async def room_details(self, room_id: str) -> RoomDetails | None:
        self._maybe_fail("room_details")
        spec = self.rooms.get(room_id)
        if spec is None:
            return None
        return RoomDetails(
            recording="none",
            recording_status="stopped",
            call_type="audio_video",
            description="",
            status="NOT_RUNNING",
            disabled=False,
            creation_date=self._created_at[room_id].isoformat(),
            duration_in_seconds=spec.duration_seconds,
            duration_used_in_seconds=0,
            live=True,
        )

    async def sdk_credentials(self, provider_user_id: str, expires_in: int) -> SdkCredentials:
        self._maybe_fail("sdk_credentials")
        if provider_user_id not in self.users:
            raise ProviderError(self.name, "sdk_credentials", "unknown user")
        expires_at = self._now() + timedelta(seconds=expires_in)
        token = f"memory-token-{next(self._ids)}"
        return SdkCredentials(token, expires_at.isoformat(timespec="milliseconds"), provider_user_id)

    def _maybe_fail(self, operation: str) -> None:
        pending = self._failures.get(operation, 0)
        if pending:
            self._failures[operation] = pending - 1
            raise ProviderError(self.name, operation, "injected failure")

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)
