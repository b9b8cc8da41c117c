"""The provider user behind each external user id, created on first use and never twice."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import partial

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
        """The provider user id of each, in order, every one of them recorded in the map.

        A reservation taken over while its provider user was made (the provider took longer than the reservation
        lasts) yields to whoever took it over: their provider user is the id's, and is returned.
        """
        known, missing = await self._looked_up(wanted)
        if missing:
            async with self._holding(missing):
                mine, others = await self._reserved(missing)
                created = await self._create_reserved(mine)
                lost = await self._complete(created)
                known |= _by_id(mapping for mapping in created if mapping.received_user_id not in lost)
                # Held by another creator, mapped meanwhile, or taken over while its provider user was made.
                known |= await self._settle(others + [missing[user_id] for user_id in lost])
        return [known[user.user_id] for user in wanted]

    @asynccontextmanager
    async def made(self, wanted: Sequence[WantedUser]) -> AsyncIterator[MadeUsers]:
        """The provider user of each, made where missing, for the caller to use while they are being recorded.

        Those just created are not in the map until `MadeUsers.recorded`, which the caller awaits before it stores
        anything that refers to them, and which fails if one of them does not get there. Until then, the other
        requests of this process for those ids wait. Whatever the caller does, they are recorded before it goes on.
        """
        known, missing = await self._looked_up(wanted)
        if not missing:
            yield MadeUsers([known[user.user_id] for user in wanted], None)
            return
        async with self._holding(missing):
            mine, others = await self._reserved(missing)
            created = await self._create_reserved(mine)
            try:
                known |= await self._settle(others)
            except BaseException:
                with suppress(StoreUnavailable):
                    await self._complete(created)
                raise
            known |= _by_id(created)
            users = MadeUsers([known[user.user_id] for user in wanted], partial(self._record, created))
            try:
                yield users
            finally:
                with suppress(UserCreationInProgress, StoreUnavailable):  # the caller heard of it, or raises its own
                    await users.recorded()

    async def _looked_up(self, wanted: Sequence[WantedUser]) -> tuple[dict[str, str], dict[str, WantedUser]]:
        """One look at the store: the provider user ids it knows, by external id, and the users it does not know."""
        found = await self._user_ids.find_many({user.user_id for user in wanted})
        known = {user_id: mapping.provider_user_id for user_id, mapping in found.items()}
        missing: dict[str, WantedUser] = {}
        for user in wanted:
            if user.user_id not in known:
                missing.setdefault(user.user_id, user)  # one id twice in a roster: one provider user
        return known, missing

    @asynccontextmanager
    async def _holding(self, wanted: dict[str, WantedUser]) -> AsyncIterator[None]:
        async with AsyncExitStack() as locks:
            # Always taken in one order, so two rosters sharing ids never hold one each of the other's locks.
            for user_id in sorted(wanted):
                await locks.enter_async_context(self._locks.hold(user_id))
            yield

    async def _reserved(self, wanted: dict[str, WantedUser]) -> tuple[list[WantedUser], list[WantedUser]]:
        """Reserve in one write the ids without any row: those now reserved, and the others (each to `_settle`)."""
        now = self._clock.now()
        reserved = await self._user_ids.reserve_new(
            list(wanted), self._owner, now=now, until=now + self._reservation_ttl
        )
        return (
            [user for user in wanted.values() if user.user_id in reserved],
            [user for user in wanted.values() if user.user_id not in reserved],
        )

    async def _settle(self, wanted: Sequence[WantedUser]) -> dict[str, str]:
        """The provider user ids of ids someone else holds or mapped meanwhile (or that were taken over), each
        waited for, taken over or created through `reserve`; by external id."""
        outcomes = await asyncio.gather(
            *(self._reserve_and_create(_mapping_of(user), user.privilege) for user in wanted),
            return_exceptions=True,  # every one is settled before the locks are let go
        )
        _raise_first_failure(outcomes)
        return {
            user.user_id: outcome for user, outcome in zip(wanted, outcomes, strict=True) if isinstance(outcome, str)
        }

    async def _create_reserved(self, wanted: list[WantedUser]) -> list[UserMapping]:
        """Provider users for ids this owner has just reserved: the mappings to record. When a creation fails, the
        others are recorded at once (in one write), then the failure is raised."""
        if not wanted:
            return []
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
        if len(made) < len(wanted):
            await self._abandon(
                [user.user_id for user, outcome in zip(wanted, outcomes, strict=True) if not isinstance(outcome, str)]
            )
            await self._complete(made)
            _raise_first_failure(outcomes)
        return made

    async def _complete(self, created: list[UserMapping]) -> set[str]:
        """Record the mappings of provider users just created, in one write; returns the ids whose reservation ran
        out and was taken over meanwhile (another creator's provider user is theirs)."""
        if not created:
            return set()
        lost = await self._user_ids.complete_all(created, self._owner)
        if lost:
            # The provider took longer than the reservation lasts and another creator took over: theirs wins.
            logger.warning(f"{len(lost)} provider user(s) created after their reservation ran out are left unused")
        return lost

    async def _record(self, created: list[UserMapping]) -> None:
        if await self._complete(created):
            # Whoever called has already used ours; a retry finds the winner's.
            raise UserCreationInProgress

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


class MadeUsers:
    """The provider user ids of a roster's users, in order; those just created are recorded by `recorded`."""

    def __init__(self, provider_user_ids: list[str], record: Callable[[], Awaitable[None]] | None) -> None:
        self.provider_user_ids = provider_user_ids
        self._record = record
        self._recording: asyncio.Future[None] | None = None

    async def recorded(self) -> None:
        """Once the users just created are in the map. Raises UserCreationInProgress when the reservation of one
        of them was taken over meanwhile (another creator's provider user is that id's: a retry gets it), and
        StoreUnavailable. Recording happens once: a second call has the first one's outcome."""
        if self._record is None:
            return
        if self._recording is None:
            self._recording = asyncio.ensure_future(self._record())
        await self._recording


def _by_id(mappings: Iterable[UserMapping]) -> dict[str, str]:
    return {mapping.received_user_id: mapping.provider_user_id for mapping in mappings}


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
