"""Turning the participants a caller sent into roster entries with privileges and provider users."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

from application.dto import CallContext, ParticipantInput, RosterInput
from application.identities import IdentifiedParticipant, ParticipantIdentities
from application.provider_users import MadeUsers, ProviderUsers, WantedUser
from domain.participant_ids import check_participant_ids
from domain.privileges import Privilege
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
        """The roster's participants, every provider user recorded in the user-id map."""
        identified = await self._identified(roster, context)
        provider_user_ids = await self._provider_users.ensure_all([_wanted(p) for p in identified])
        return tuple(map(_with_provider_user, identified, provider_user_ids))

    @asynccontextmanager
    async def made(self, roster: RosterInput, context: CallContext) -> AsyncIterator[MadeRoster]:
        """The roster's participants once their provider users exist, while those just created are recorded in
        the user-id map (see `ProviderUsers.made`): what refers to them is stored only after `recorded`."""
        identified = await self._identified(roster, context)
        async with self._provider_users.made([_wanted(p) for p in identified]) as users:
            yield MadeRoster(tuple(map(_with_provider_user, identified, users.provider_user_ids)), users)

    async def privileges_of(
        self, participants: Sequence[Participant], context: CallContext
    ) -> dict[str, tuple[Privilege, tuple[str, ...]]]:
        """The privilege and groups of participants already on a roster, by user id, identified as a new roster's
        would be (the identity service in auth mode, the stored groups otherwise). Their provider users are kept."""
        roster = RosterInput(
            number=len(participants),
            data=tuple(
                ParticipantInput(user_id=p.user_id, groups=p.groups, full_name=p.full_name, language=p.language)
                for p in participants
            ),
        )
        return {p.user_id: (p.privilege, p.groups) for p in await self._identities.identify(roster, context)}

    async def _identified(self, roster: RosterInput, context: CallContext) -> list[IdentifiedParticipant]:
        check_participant_ids(given.user_id for given in roster.data)  # before anyone is looked up or created
        identified = await self._identities.identify(roster, context)
        check_roster(roster.number, identified)
        return identified


@dataclass(frozen=True, slots=True)
class MadeRoster:
    """Participants whose provider users exist; `recorded` once those just created are in the user-id map."""

    participants: tuple[Participant, ...]
    users: MadeUsers

    async def recorded(self) -> None:
        """Raises UserCreationInProgress when another creator's provider user became one participant's meanwhile
        (a retry gets it), StoreUnavailable when the store failed."""
        await self.users.recorded()


def _wanted(participant: IdentifiedParticipant) -> WantedUser:
    return WantedUser(participant.resolved_user_id, participant.privilege, participant.full_name, participant.groups)


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
