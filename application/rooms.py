"""Opening and releasing provider rooms for a teleconsultation."""

from __future__ import annotations

import logging
from datetime import timedelta

from application.dto import RoomMember, RoomSpec
from application.errors import ProviderError
from application.ports import PendingRoomCleanups, VideoProvider
from domain.duration_policy import DurationPolicy
from domain.privileges import PrivilegePolicy
from domain.teleconsultation import Teleconsultation

logger = logging.getLogger(__name__)


class RoomKeeper:
    """Creates the room a complete teleconsultation needs and makes sure discarded rooms get deleted."""

    def __init__(
        self,
        *,
        provider: VideoProvider,
        cleanups: PendingRoomCleanups,
        privileges: PrivilegePolicy,
        durations: DurationPolicy,
        immutable_period: timedelta,
    ) -> None:
        self._provider = provider
        self._cleanups = cleanups
        self._privileges = privileges
        self._durations = durations
        self._immutable_period = immutable_period

    async def open_room(self, teleconsultation: Teleconsultation) -> str | None:
        """Create the provider room if the teleconsultation needs one; returns the new room id."""
        if not teleconsultation.needs_room:
            return None
        spec = RoomSpec(
            members=tuple(
                RoomMember(
                    provider_user_id=p.provider_user_id,
                    privilege=p.privilege,
                    tools=self._privileges.tools_for(p.privilege),
                    full_name=p.full_name,
                )
                for p in teleconsultation.participants
            ),
            schedule=teleconsultation.schedule,
            duration_seconds=self._durations.provider_duration_seconds(teleconsultation.schedule),
            opens_at=teleconsultation.schedule.start - self._immutable_period,
        )
        room = await self._provider.create_room(spec)
        if not all(member.provider_user_id in room.links for member in spec.members):
            # A room in which someone cannot join is useless: drop it rather than store it.
            await self.release(room.room_id)
            raise ProviderError(self._provider.name, "create_room", "returned no link for some participants")
        teleconsultation.attach_room(room.room_id, room.links)
        return room.room_id

    async def release(self, room_id: str | None) -> None:
        """Delete a room nobody refers to any more; on failure it is queued for the sweeper."""
        if room_id is None:
            return
        try:
            await self._provider.delete_room(room_id)
        except ProviderError:
            logger.warning("room deletion failed, queued for cleanup", extra={"room_id": room_id})
            await self._cleanups.add(room_id)

    async def sweep(self, limit: int = 100) -> int:
        """Retry queued deletions once; returns how many rooms are still pending afterwards."""
        pending = await self._cleanups.pending(limit)
        still_pending = 0
        for room_id in pending:
            try:
                await self._provider.delete_room(room_id)
            except ProviderError:
                still_pending += 1
                continue
            await self._cleanups.remove(room_id)
        return still_pending
