"""GET /teleconsultation/{id}: what the requesting participant needs to join the call."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from application.dto import Requester, RoomDetails
from application.errors import Unauthorized
from application.ports import Clock, TeleconsultationRepository, VideoProvider


@dataclass(frozen=True, slots=True)
class CallMember:
    provider_user_id: str
    full_name: str | None


@dataclass(frozen=True, slots=True)
class ParticipantAccess:
    provider_user_id: str
    access_link: str | None
    members: tuple[CallMember, ...]
    details: RoomDetails | None


class GetTeleconsultationAccess:
    """Returns the requester's own link, only once the room can no longer change.

    Raises Unauthorized when the requester is unknown or not a participant, NotFound for an unknown id.
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        provider: VideoProvider,
        clock: Clock,
        immutable_period: timedelta,
    ) -> None:
        self._repository = repository
        self._provider = provider
        self._clock = clock
        self._immutable_period = immutable_period

    async def execute(self, teleconsultation_id: str, requester: Requester | None) -> ParticipantAccess:
        if requester is None or not requester.user_ids:
            raise Unauthorized
        teleconsultation = await self._repository.get(teleconsultation_id)
        participant = teleconsultation.participant(requester.user_ids)
        if participant is None:
            raise Unauthorized
        details = None
        if teleconsultation.room_id is not None:
            details = await self._provider.room_details(teleconsultation.room_id)
        return ParticipantAccess(
            provider_user_id=participant.provider_user_id,
            access_link=teleconsultation.visible_link(participant, self._clock.now(), self._immutable_period),
            members=tuple(CallMember(p.provider_user_id, p.full_name) for p in teleconsultation.participants),
            details=details,
        )
