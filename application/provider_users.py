"""The provider user behind each external user id, created on first use and never twice."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from application.dto import UserMapping
from application.errors import AlreadyMapped
from application.ports import UserIdMap, VideoProvider
from domain.privileges import Privilege

# Per process. A roster of up to 16 new participants is created in one round trip to the provider (creating a
# teleconsultation for 10 new people costs about two provider latencies: users, then the room), while a burst
# of creations still reaches the provider at most 16 at a time.
MAX_CONCURRENT_CREATIONS = 16


class ProviderUsers:
    """Looks up the user-id map and creates the provider user when missing.

    Creations run with bounded concurrency. Two requests naming the same new user in this process wait
    for each other; across instances the map's unique index decides and the loser adopts the winner's user.
    """

    def __init__(
        self, *, user_ids: UserIdMap, provider: VideoProvider, max_concurrent_creations: int = MAX_CONCURRENT_CREATIONS
    ) -> None:
        self._user_ids = user_ids
        self._provider = provider
        self._creation_slots = asyncio.Semaphore(max_concurrent_creations)
        self._locks = KeyedLocks()

    async def ensure(
        self, user_id: str, privilege: Privilege, full_name: str | None = None, groups: tuple[str, ...] = ()
    ) -> str:
        async with self._locks.hold(user_id):
            mapping = await self._user_ids.find(user_id)
            if mapping is not None:
                return mapping.provider_user_id
            async with self._creation_slots:
                provider_user_id = await self._provider.create_user(privilege)
            try:
                await self._user_ids.add(UserMapping(user_id, provider_user_id, full_name, groups))
            except AlreadyMapped:
                winner = await self._user_ids.find(user_id)
                if winner is None:
                    raise
                return winner.provider_user_id
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
