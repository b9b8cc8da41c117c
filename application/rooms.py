"""Opening and releasing provider rooms for a teleconsultation."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

from application.dto import RoomMember, RoomSpec
from application.errors import ProviderError, ProviderUnavailable, StoreUnavailable
from application.ports import Clock, PendingRoomCleanups, VideoProvider
from domain.privileges import PrivilegePolicy
from domain.teleconsultation import SchedulingRules, Teleconsultation

logger = logging.getLogger(__name__)


class RoomKeeper:
    """Creates the room a complete teleconsultation needs and makes sure discarded rooms get deleted.

    A room whose deletion fails is queued; `sweep` retries the queue, leasing each room to this keeper while it
    tries, so that several instances sweeping one store never delete the same room at once.
    """

    def __init__(
        self,
        *,
        provider: VideoProvider,
        cleanups: PendingRoomCleanups,
        privileges: PrivilegePolicy,
        rules: SchedulingRules,
        clock: Clock,
        sweeper_id: str | None = None,
        lease: timedelta = timedelta(minutes=2),
    ) -> None:
        self._provider = provider
        self._cleanups = cleanups
        self._privileges = privileges
        self._rules = rules
        self._clock = clock
        self._sweeper_id = sweeper_id or secrets.token_hex(8)
        # Longer than one deletion with its retries can take, so a lease never runs out under a live sweeper.
        self._lease = lease

    async def open_room(self, teleconsultation: Teleconsultation) -> str | None:
        """Create the provider room if the teleconsultation needs one; returns the new room id."""
        if not teleconsultation.needs_room:
            return None
        terms = teleconsultation.room_terms(self._rules)
        spec = RoomSpec(
            members=tuple(
                RoomMember(
                    provider_user_id=p.provider_user_id,
                    privilege=p.privilege,
                    tools=self._privileges.tools_for(p.privilege),
                    full_name=p.full_name,
                )
                for p in terms.participants
            ),
            schedule=terms.schedule,
            duration_seconds=terms.duration_seconds,
            opens_at=terms.opens_at,
        )
        room = await self._provider.create_room(spec)
        if not all(member.provider_user_id in room.links for member in spec.members):
            # A room in which someone cannot join is useless: drop it rather than store it. Adapters hand back
            # whatever room they got, so that this one check also deletes it.
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
            await self._queue(room_id)

    async def sweep(self, limit: int = 100) -> int:
        """Retry up to `limit` queued deletions once each; returns how many rooms are still pending afterwards.

        Rooms another sweeper holds are left to it. Once the provider is known to be down, the rest wait.
        """
        for room_id in await self._cleanups.pending(limit):
            now = self._clock.now()
            if not await self._cleanups.claim(room_id, self._sweeper_id, now=now, until=now + self._lease):
                continue
            try:
                await self._provider.delete_room(room_id)
            except ProviderError as error:
                await self._cleanups.release(room_id, self._sweeper_id)
                if isinstance(error, ProviderUnavailable):
                    break
                continue
            await self._cleanups.remove(room_id)
            logger.info("queued room deleted", extra={"room_id": room_id})
        return await self._cleanups.count()

    async def _queue(self, room_id: str) -> None:
        try:
            await self._cleanups.add(room_id)
        except StoreUnavailable:
            # The caller's own change is already stored: failing its request now would not bring the room back.
            logger.error("room deletion failed and could not be queued: delete it by hand", extra={"room_id": room_id})
            return
        logger.warning("room deletion failed, queued for cleanup", extra={"room_id": room_id})
