"""The provider user behind each external user id, created on first use and never twice."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
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
        """The provider user id of each, in order.

        One look at the store finds those that exist. The others are reserved in one write, created side by side
        and completed in one write: a roster of new people costs the same few store round trips whatever its size.
        An id that cannot be reserved at once (someone holds it or mapped it meanwhile) goes through `reserve`.
        """
        found = await self._user_ids.find_many({user.user_id for user in wanted})
        provider_user_ids = {user_id: mapping.provider_user_id for user_id, mapping in found.items()}
        missing: dict[str, WantedUser] = {}
        for user in wanted:
            if user.user_id not in provider_user_ids:
                missing.setdefault(user.user_id, user)  # one id twice in a roster: one provider user
        if missing:
            provider_user_ids |= await self._created(list(missing.values()))
        return [provider_user_ids[user.user_id] for user in wanted]

    async def _created(self, wanted: list[WantedUser]) -> dict[str, str]:
        """The provider user ids of users the map did not know, by external id."""
        async with AsyncExitStack() as locks:
            # Always taken in one order, so two rosters sharing ids never hold one each of the other's locks.
            for user in sorted(wanted, key=lambda user: user.user_id):
                await locks.enter_async_context(self._locks.hold(user.user_id))
            now = self._clock.now()
            reserved = await self._user_ids.reserve_new(
                [user.user_id for user in wanted], self._owner, now=now, until=now + self._reservation_ttl
            )
            created = await self._create_reserved([user for user in wanted if user.user_id in reserved])
            others = [user for user in wanted if user.user_id not in created]
            # Held by another creator, mapped meanwhile, or taken over while its provider user was made.
            outcomes = await asyncio.gather(
                *(self._reserve_and_create(_mapping_of(user), user.privilege) for user in others),
                return_exceptions=True,  # every one is settled before the locks are let go
            )
        _raise_first_failure(outcomes)
        return created | {
            user.user_id: outcome for user, outcome in zip(others, outcomes, strict=True) if isinstance(outcome, str)
        }

    async def _create_reserved(self, wanted: list[WantedUser]) -> dict[str, str]:
        """Provider users for ids this owner has just reserved, completed in one write; by external id, those
        completed. A reservation lost meanwhile (it ran out and was taken over) is left out: the caller starts
        over for it. When a creation fails, the others are still completed, then the failure is raised."""
        if not wanted:
            return {}
        try:
            outcomes = await asyncio.gather(
                *(self._new_provider_user(user.privilege) for user in wanted), return_exceptions=True
            )
        except BaseException:
            await self._abandon([user.user_id for user in wanted])  # others would wait for them to run out
            raise
        made = [
            replace(_mapping_of(user), provider_user_id=outcome)
            for user, outcome in zip(wanted, outcomes, strict=True)
            if isinstance(outcome, str)
        ]
        await self._abandon(
            [user.user_id for user, outcome in zip(wanted, outcomes, strict=True) if not isinstance(outcome, str)]
        )
        lost = await self._user_ids.complete_all(made, self._owner)
        if lost:
            # The provider took longer than the reservation lasts and another creator took over: theirs wins.
            logger.warning(f"{len(lost)} provider user(s) created after their reservation ran out are left unused")
        _raise_first_failure(outcomes)
        return {
            mapping.received_user_id: mapping.provider_user_id
            for mapping in made
            if mapping.received_user_id not in lost
        }

    async def _new_provider_user(self, privilege: Privilege) -> str:
        async with self._creation_slots:
            return await self._provider.create_user(privilege)

    async def _abandon(self, user_ids: Sequence[str]) -> None:
        for user_id in user_ids:
            with suppress(StoreUnavailable):
                await self._user_ids.abandon(user_id, self._owner)

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
            provider_user_id = await self._new_provider_user(privilege)
        except BaseException:
            await self._abandon([wanted.received_user_id])  # others would wait for it to run out
            raise
        try:
            await self._user_ids.complete(replace(wanted, provider_user_id=provider_user_id), self._owner)
        except ReservationLost:
            # The provider took longer than the reservation lasts and another creator took over: theirs wins.
            logger.warning("a provider user was created after its reservation ran out and is left unused")
            return None
        return provider_user_id


def _mapping_of(user: WantedUser) -> UserMapping:
    """The mapping to store for `user`, save for the provider user id that is yet to be created."""
    return UserMapping(user.user_id, "", user.full_name, user.groups)


def _raise_first_failure(outcomes: Sequence[object]) -> None:
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome


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
