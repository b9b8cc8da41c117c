"""Turning the participants a caller sent into roster entries with privileges and provider users."""

from __future__ import annotations

from application.dto import CallContext, RosterInput
from application.identities import IdentifiedParticipant, ParticipantIdentities
from application.provider_users import ProviderUsers, WantedUser
from domain.participant_ids import check_participant_ids
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
        check_participant_ids(given.user_id for given in roster.data)  # before anyone is looked up or created
        identified = await self._identities.identify(roster, context)
        check_roster(roster.number, identified)
        provider_user_ids = await self._provider_users.ensure_all(
            [WantedUser(p.resolved_user_id, p.privilege, p.full_name, p.groups) for p in identified]
        )
        return tuple(map(_with_provider_user, identified, provider_user_ids))


def _with_provider_user(participant: IdentifiedParticipant, provider_user_id: str) -> Participant:
    return Participant(
        user_id=participant.user_id,
        resolved_user_id=participant.resolved_user_id,
        provider_user_id=provider_user_id,
        privilege=participant.privilege,
        full_name=participant.full_name,
        groups=participant.groups,
        language=participant.language,
    )
