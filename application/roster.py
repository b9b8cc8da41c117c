"""Turning the participants a caller sent into roster entries with privileges and provider users."""

from __future__ import annotations

import asyncio

from application.dto import CallContext, RosterInput
from application.identities import IdentifiedParticipant, ParticipantIdentities
from application.provider_users import ProviderUsers
from domain.teleconsultation import Participant, check_roster


class RosterBuilder:
    """Identifies the participants, validates the roster, then makes sure every participant has a provider user."""

    def __init__(
        self,
        *,
        identities: ParticipantIdentities,
        provider_users: ProviderUsers,
    ) -> None:
        self._identities = identities
        self._provider_users = provider_users

    async def build(self, roster: RosterInput, context: CallContext) -> tuple[Participant, ...]:
        identified = await self._identities.identify(roster, context)
        check_roster(roster.number, identified)
        return tuple(await asyncio.gather(*(self._with_provider_user(p) for p in identified)))

    async def _with_provider_user(self, participant: IdentifiedParticipant) -> Participant:
        provider_user_id = await self._provider_users.ensure(
            participant.resolved_user_id, participant.privilege, participant.full_name, participant.groups
        )
        return Participant(
            user_id=participant.user_id,
            resolved_user_id=participant.resolved_user_id,
            provider_user_id=provider_user_id,
            privilege=participant.privilege,
            full_name=participant.full_name,
            groups=participant.groups,
            language=participant.language,
        )
