"""Turning the participants a caller sent into roster entries with privileges and provider users."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from application.dto import ParticipantInput, RosterInput, UserMapping
from application.errors import AlreadyMapped, InvalidRequest
from application.ports import UserIdMap, VideoProvider
from domain.privileges import Privilege, PrivilegePolicy
from domain.teleconsultation import Participant, check_roster


@dataclass(frozen=True, slots=True)
class IdentifiedParticipant:
    """A participant whose identity, groups and privilege are settled but who may lack a provider user."""

    user_id: str
    resolved_user_id: str
    privilege: Privilege
    groups: tuple[str, ...]
    full_name: str | None
    language: str | None


class RosterBuilder:
    """Validates a roster, then makes sure every participant has a provider user (created at most once)."""

    def __init__(
        self,
        *,
        privileges: PrivilegePolicy,
        user_ids: UserIdMap,
        provider: VideoProvider,
        max_concurrent_user_creations: int = 8,
    ) -> None:
        self._privileges = privileges
        self._user_ids = user_ids
        self._provider = provider
        self._creation_slots = asyncio.Semaphore(max_concurrent_user_creations)
        self._locks = KeyedLocks()

    async def build(self, roster: RosterInput) -> tuple[Participant, ...]:
        if roster.ids_only:
            raise InvalidRequest(
                "participants must be objects with userId, groups and fullName when AUTH_SERVICE is not set"
            )
        identified = [self._identify(p) for p in roster.data]
        check_roster(roster.number, identified)
        return tuple(await asyncio.gather(*(self._with_provider_user(p) for p in identified)))

    def _identify(self, given: ParticipantInput) -> IdentifiedParticipant:
        if given.groups is None or given.full_name is None:
            raise InvalidRequest(f"participant {given.user_id} needs groups and fullName")
        return IdentifiedParticipant(
            user_id=given.user_id,
            resolved_user_id=given.user_id,
            privilege=self._privileges.privilege_for(given.user_id, given.groups),
            groups=given.groups,
            full_name=given.full_name,
            language=given.language,
        )

    async def _with_provider_user(self, participant: IdentifiedParticipant) -> Participant:
        provider_user_id = await self._provider_user_for(participant)
        return Participant(
            user_id=participant.user_id,
            resolved_user_id=participant.resolved_user_id,
            provider_user_id=provider_user_id,
            privilege=participant.privilege,
            full_name=participant.full_name,
            groups=participant.groups,
            language=participant.language,
        )

    async def _provider_user_for(self, participant: IdentifiedParticipant) -> str:
        key = participant.resolved_user_id
        # Two requests naming the same new user must not create two provider users.
        async with self._locks.hold(key):
            mapping = await self._user_ids.find(key)
            if mapping is not None:
                return mapping.provider_user_id
            async with self._creation_slots:
                provider_user_id = await self._provider.create_user(participant.privilege)
            try:
                await self._user_ids.add(UserMapping(key, provider_user_id, participant.full_name, participant.groups))
            except AlreadyMapped:
                # Another instance won the race; use its provider user.
                winner = await self._user_ids.find(key)
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
