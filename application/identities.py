"""Who the participants are: from the request body (standalone) or from the identity service (auth mode)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from application.dto import CallContext, ParticipantInput, RosterInput
from application.errors import InvalidRequest
from application.ports import CustomIdResolver, UserDirectory
from domain.privileges import Privilege, PrivilegePolicy


@dataclass(frozen=True, slots=True)
class IdentifiedParticipant:
    """A participant whose identity, groups and privilege are settled but who may lack a provider user."""

    user_id: str
    resolved_user_id: str
    privilege: Privilege
    groups: tuple[str, ...]
    full_name: str | None
    language: str | None


class ParticipantIdentities(Protocol):
    async def identify(self, roster: RosterInput, context: CallContext) -> list[IdentifiedParticipant]:
        """Raises InvalidRequest for a participant that cannot be identified, NoConfiguredGroup for one
        whose groups give no privilege."""
        ...


class StandaloneIdentities(ParticipantIdentities):
    """Without an identity service the caller must give every participant's groups and full name."""

    def __init__(self, privileges: PrivilegePolicy) -> None:
        self._privileges = privileges

    async def identify(self, roster: RosterInput, context: CallContext) -> list[IdentifiedParticipant]:
        if roster.ids_only:
            raise InvalidRequest(
                "participants must be objects with userId, groups and fullName when AUTH_SERVICE is not set"
            )
        return [self._identify(given) for given in roster.data]

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


class DirectoryIdentities(ParticipantIdentities):
    """Groups and names come from the identity service, which is the source of truth: any sent in the
    body are ignored. Custom ids, when configured, are first translated into identity-provider ids."""

    def __init__(
        self,
        privileges: PrivilegePolicy,
        directory: UserDirectory,
        custom_ids: CustomIdResolver | None = None,
    ) -> None:
        self._privileges = privileges
        self._directory = directory
        self._custom_ids = custom_ids

    async def identify(self, roster: RosterInput, context: CallContext) -> list[IdentifiedParticipant]:
        received = [given.user_id for given in roster.data]
        resolved = await self._resolve(received, context)
        users = await self._directory.users(sorted(set(resolved.values())), context) if received else {}
        identified = []
        for given in roster.data:
            user = users.get(resolved[given.user_id])
            if user is None:
                raise InvalidRequest(self._unknown(given.user_id))
            identified.append(
                IdentifiedParticipant(
                    user_id=given.user_id,
                    resolved_user_id=user.user_id,
                    privilege=self._privileges.privilege_for(given.user_id, user.groups),
                    groups=user.groups,
                    full_name=user.full_name,
                    language=given.language,
                )
            )
        return identified

    async def _resolve(self, received: list[str], context: CallContext) -> dict[str, str]:
        """Custom ids → identity-provider ids. Participants *can* use a custom id, not must: an id the custom-id
        service does not know is tried as an identity-provider id as it is."""
        if self._custom_ids is None or not received:
            return {user_id: user_id for user_id in received}
        resolved = await self._custom_ids.resolve(sorted(set(received)), context)
        return {user_id: resolved.get(user_id, user_id) for user_id in received}

    def _unknown(self, user_id: str) -> str:
        if self._custom_ids is None:
            return f"user {user_id} not found"
        return f"user {user_id} not found: neither the custom-id service nor the identity service knows it"
