"""The provider user behind each external user id, created on first use and never twice."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace
from datetime import timedelta

from application.dto import UserMapping
from application.errors import ReservationLost, StoreUnavailable, UserCreationInProgress
from application.ports import Clock, UserIdMap, VideoProvider
from domain.privileges import Privilege

# Per process. A roster of up to 16 new participants is created in one round trip to the provider (creating a
# teleconsultation for 10 new people costs about two provider latencies: users, then the room), while a burst
# of creations still reaches the provider at most 16 at a time.
MAX_CONCURRENT_CREATIONS = 16

logger = logging.getLogger(__name__)

# Waiting for another creator: the first look is soon (a provider call is often quick), later ones less often.
FIRST_POLL_SECONDS = 0.02
LAST_POLL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class WantedUser:
    """An external user who needs a provider user, with what to store about them."""

    user_id: str
    privilege: Privilege
    full_name: str | None = None
    groups: tuple[str, ...] = ()


class ProviderUsers:
    """Looks up the user-id map and creates the provider user when missing, never twice for one external id.

    The external id is reserved in the map before its provider user is created, and the reservation completed
    with it afterwards. Whoever finds a running reservation, in this process or another instance, waits for it
    to complete, for `max_wait` at most, then gets UserCreationInProgress. The reservation of a creator that
    died runs out after `reservation_ttl` (longer than a provider call may take) and is taken over. Within this
    process, requests for one id also queue on a lock, so that they do not poll the store. Creations run with
    bounded concurrency.
    """

    def __init__(
        self,
        *,
        user_ids: UserIdMap,
        provider: VideoProvider,
        clock: Clock,
        max_concurrent_creations: int = MAX_CONCURRENT_CREATIONS,
        reservation_ttl: timedelta = timedelta(seconds=30),
        max_wait: timedelta = timedelta(seconds=10),
        owner: str | None = None,
    ) -> None:
        self._user_ids = user_ids
        self._provider = provider
        self._clock = clock
        self._creation_slots = asyncio.Semaphore(max_concurrent_creations)
        self._locks = KeyedLocks()
        self._reservation_ttl = reservation_ttl
        self._max_wait = max_wait.total_seconds()
        self._owner = owner or secrets.token_hex(8)

    async def ensure(
        self, user_id: str, privilege: Privilege, full_name: str | None = None, groups: tuple[str, ...] = ()
    ) -> str:
        (provider_user_id,) = await self.ensure_all([WantedUser(user_id, privilege, full_name, groups)])
        return provider_user_id

    async def ensure_all(self, wanted: Sequence[WantedUser]) -> list[str]:
        """The provider user id of each, in order: one look at the store finds those that exist, and the others
        are created side by side (a roster of new people costs one store round trip less per person)."""
        found = await self._user_ids.find_many({user.user_id for user in wanted})
        return list(await asyncio.gather(*(self._found_or_created(user, found.get(user.user_id)) for user in wanted)))

    async def _found_or_created(self, user: WantedUser, found: UserMapping | None) -> str:
        if found is not None:
            return found.provider_user_id
        async with self._locks.hold(user.user_id):
            # No second look: a reservation answers with the mapping when someone completed it meanwhile.
            mapping = UserMapping(user.user_id, "", user.full_name, user.groups)
            return await self._reserve_and_create(mapping, user.privilege)

    async def _reserve_and_create(self, wanted: UserMapping, privilege: Privilege) -> str:
        """`wanted` is the mapping to store, save for the provider user id that is yet to be created."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._max_wait
        pause = FIRST_POLL_SECONDS
        while True:
            now = self._clock.now()
            try:
                existing = await self._user_ids.reserve(
                    wanted.received_user_id, self._owner, now=now, until=now + self._reservation_ttl
                )
            except UserCreationInProgress:
                if loop.time() + pause > deadline:
                    raise
                await asyncio.sleep(pause)
                pause = min(pause * 2, LAST_POLL_SECONDS)
                continue
            if existing is not None:
                return existing.provider_user_id
            created = await self._create(wanted, privilege)
            if created is not None:
                return created
            if loop.time() > deadline:
                raise UserCreationInProgress

    async def _create(self, wanted: UserMapping, privilege: Privilege) -> str | None:
        """The new provider user's id, or None when the reservation was lost meanwhile (the caller starts over)."""
        try:
            async with self._creation_slots:
                provider_user_id = await self._provider.create_user(privilege)
        except BaseException:
            # Otherwise others would wait for the reservation to run out before trying.
            with suppress(StoreUnavailable):
                await self._user_ids.abandon(wanted.received_user_id, self._owner)
            raise
        try:
            await self._user_ids.complete(replace(wanted, provider_user_id=provider_user_id), self._owner)
        except ReservationLost:
            # The provider took longer than the reservation lasts and another creator took over: theirs wins.
            logger.warning("a provider user was created after its reservation ran out and is left unused")
            return None
        return provider_user_id


class KeyedLocks:
    """One asyncio lock per key, dropped once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._entries.get(key, (asyncio.Lock(), 0))
        self._entries[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._entries[key]
            if users == 1:
                del self._entries[key]
            else:
                self._entries[key] = (lock, users - 1)
