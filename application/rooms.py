"""Opening and releasing provider rooms for a teleconsultation, each side effect recorded before it happens."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta

from application.dto import RecordedRoomDeletion, RoomIntent, RoomMember, RoomSpec
from application.errors import NotFound, ProviderError, ProviderUnavailable, StoreUnavailable
from application.ports import (
    Clock,
    PendingRoomCleanups,
    RecordedRoomDeletions,
    RoomIntents,
    TeleconsultationRepository,
    VideoProvider,
)
from domain.privileges import PrivilegePolicy
from domain.teleconsultation import SchedulingRules, Teleconsultation

logger = logging.getLogger(__name__)

# How long an intent whose room could not be found again is kept for an operator to look at.
UNKNOWN_OUTCOMES_KEPT = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class OpenedRoom:
    """A room just created, and the intent that covers it until the teleconsultation holding it is stored."""

    room_id: str
    intent_id: str


class RoomKeeper:
    """Creates the room a complete teleconsultation needs and makes sure discarded rooms get deleted.

    Every provider side effect is recorded before it happens, so that a crash at any moment leaves a record a sweep
    can finish from:

    * a room about to be created is covered by an intent (`RoomIntents`), opened before the provider is asked and
      given the room id as soon as the provider answers; the use case closes it once the teleconsultation holding
      the room is stored. An intent left behind is resolved by `sweep` once its lease has run out: the room is kept
      if a live teleconsultation holds it, deleted otherwise; without a room id, the room (if any) cannot be found
      again, and the intent is closed as "outcome unknown" (`on_outcome_unknown` hears of it);
    * a room given up by a change (a cancellation, a replacement) is listed in the teleconsultation's own
      `rooms_to_delete` by the very write that stores the change (`RecordedRoomDeletions`); `delete_given_up` then
      deletes it at once, and `sweep` finishes whatever a crash or a failing provider left.

    A room whose deletion fails is queued (`PendingRoomCleanups`); `sweep` retries the queue, leasing each room to
    this keeper while it tries, so that several instances sweeping one store never delete the same room at once.
    """

    def __init__(
        self,
        *,
        provider: VideoProvider,
        cleanups: PendingRoomCleanups,
        intents: RoomIntents,
        deletions: RecordedRoomDeletions,
        teleconsultations: TeleconsultationRepository,
        privileges: PrivilegePolicy,
        rules: SchedulingRules,
        clock: Clock,
        sweeper_id: str | None = None,
        lease: timedelta = timedelta(minutes=2),
        intent_lease: timedelta = timedelta(minutes=2),
        on_outcome_unknown: Callable[[], None] | None = None,
    ) -> None:
        self._provider = provider
        self._cleanups = cleanups
        self._intents = intents
        self._deletions = deletions
        self._teleconsultations = teleconsultations
        self._privileges = privileges
        self._rules = rules
        self._clock = clock
        self._sweeper_id = sweeper_id or secrets.token_hex(8)
        # Longer than one deletion with its retries can take, so a lease never runs out under a live sweeper.
        self._lease = lease
        # Longer than a request can take to finish a side effect it recorded (a creation, from its intent to the
        # stored teleconsultation; the deletion of a room it gave up): a sweep never does it under the request.
        self._intent_lease = intent_lease
        self._on_outcome_unknown = on_outcome_unknown

    async def open_room(self, teleconsultation: Teleconsultation) -> OpenedRoom | None:
        """Create the provider room if the teleconsultation needs one, under an intent the caller must `settle`
        (once the teleconsultation is stored) or `abandon` (when it cannot be)."""
        if not teleconsultation.needs_room:
            return None
        intent_id = secrets.token_hex(16)
        now = self._clock.now()
        await self._intents.open(intent_id, teleconsultation.id, now=now, lease_until=now + self._intent_lease)
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
            reference=intent_id,
        )
        try:
            room = await self._provider.create_room(spec)
        except ProviderError as error:
            if error.outcome_unknown:
                await self._close_unknown(intent_id)
            else:
                await self._close(intent_id)
            raise
        opened = OpenedRoom(room.room_id, intent_id)
        try:
            await self._intents.record_room(intent_id, room.room_id)
        except StoreUnavailable:
            await self.abandon(opened)
            raise
        if not all(member.provider_user_id in room.links for member in spec.members):
            # A room in which someone cannot join is useless: drop it rather than store it. Adapters hand back
            # whatever room they got, so that this one check also deletes it.
            await self.abandon(opened)
            raise ProviderError(self._provider.name, "create_room", "returned no link for some participants")
        teleconsultation.attach_room(room.room_id, room.links)
        return opened

    async def settle(self, opened: OpenedRoom | None) -> None:
        """The teleconsultation holding the room is stored: the intent is done."""
        if opened is not None:
            await self._close(opened.intent_id)

    async def abandon(self, opened: OpenedRoom | None) -> None:
        """No stored teleconsultation will hold the room: delete it (or queue it), then close the intent."""
        if opened is None:
            return
        await self.release(opened.room_id)
        await self._close(opened.intent_id)

    async def delete_given_up(self, teleconsultation: Teleconsultation) -> None:
        """Delete the rooms the stored teleconsultation lists as given up; a failed deletion is queued.

        Whatever is left undone (this instance dies, the store fails) stays listed, for the sweep.
        """
        for room_id in teleconsultation.rooms_to_delete:
            await self.release(room_id)
            with suppress(StoreUnavailable):
                await self._deletions.done(RecordedRoomDeletion(teleconsultation.id, room_id))

    async def release(self, room_id: str | None) -> None:
        """Delete a room nobody refers to any more; on failure it is queued for the sweeper."""
        if room_id is None:
            return
        try:
            await self._provider.delete_room(room_id)
        except ProviderError:
            await self._queue(room_id)

    async def sweep(self, limit: int = 100) -> int:
        """Resolve intents left behind, hand the recorded deletions to the queue, and retry up to `limit` queued
        deletions once each; returns how many rooms are still pending afterwards (queued, listed, or covered by an
        overdue intent not yet resolved).

        Rooms another sweeper holds are left to it. Once the provider is known to be down, the rest wait.
        """
        unresolved = await self._resolve_intents(limit)
        settled_before = self._clock.now() - self._intent_lease
        for deletion in await self._deletions.pending(limit, listed_before=settled_before):
            await self._cleanups.add(deletion.room_id)
            await self._deletions.done(deletion)
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
        return await self._cleanups.count() + await self._deletions.count() + unresolved

    async def _resolve_intents(self, limit: int) -> int:
        """Resolve the overdue intents; returns how many could not be (their room still to delete)."""
        unresolved = 0
        for intent in await self._intents.overdue(self._clock.now(), limit):
            now = self._clock.now()
            if not await self._intents.claim(intent.intent_id, self._sweeper_id, now=now, until=now + self._lease):
                continue
            if intent.room_id is None:
                await self._close_unknown(intent.intent_id)
            elif await self._held(intent):
                await self._close(intent.intent_id)
            else:
                try:
                    await self._provider.delete_room(intent.room_id)
                except ProviderError:
                    # Claimed until the lease runs out, then tried again.
                    unresolved += 1
                    continue
                await self._close(intent.intent_id)
                logger.info("room of an unfinished creation deleted", extra={"room_id": intent.room_id})
        return unresolved

    async def _held(self, intent: RoomIntent) -> bool:
        try:
            teleconsultation = await self._teleconsultations.get(intent.teleconsultation_id)
        except NotFound:
            return False
        return teleconsultation.provider_room_id == intent.room_id

    async def _close(self, intent_id: str) -> None:
        try:
            await self._intents.close(intent_id)
        except StoreUnavailable:
            # What the intent covered is settled; the sweep will see the intent again and find it settled.
            logger.warning("a room intent could not be closed; the sweep will", extra={"intent_id": intent_id})

    async def _close_unknown(self, intent_id: str) -> None:
        now = self._clock.now()
        try:
            closed = await self._intents.close_unknown(intent_id, now=now, expires_at=now + UNKNOWN_OUTCOMES_KEPT)
        except StoreUnavailable:
            logger.warning("a room intent could not be closed; the sweep will", extra={"intent_id": intent_id})
            return
        if not closed:
            return
        # The intent id is the room's description at the provider: the one thing that can tell the room apart.
        logger.warning(
            "a provider room may exist that nothing refers to: its creation's outcome is unknown",
            extra={"intent_id": intent_id},
        )
        if self._on_outcome_unknown is not None:
            self._on_outcome_unknown()

    async def _queue(self, room_id: str) -> None:
        try:
            await self._cleanups.add(room_id)
        except StoreUnavailable:
            # The caller's own change is already stored: failing its request now would not bring the room back.
            logger.error("room deletion failed and could not be queued: delete it by hand", extra={"room_id": room_id})
            return
        logger.warning("room deletion failed, queued for cleanup", extra={"room_id": room_id})
