"""GET /teleconsultation/{id}: what the requesting participant needs to join the call."""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from application.authorization import Action, AuthorizationPolicy
from application.dto import Requester, RoomDetails
from application.events import EventType, Journal, derived_id
from application.join_links import LinkPreferences, choose_link_options
from application.ports import Clock, JoinLinks, TeleconsultationRepository, VideoProvider
from domain.teleconsultation import SchedulingRules

# Personalising a link parses and rebuilds a URL, a tenth of a poll's work; every poll of a participant asks for the
# same one. A few thousand links of a few hundred bytes each.
PERSONALISED_LINKS_REMEMBERED = 4096


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
    """Returns the requester's own link, only once the room can no longer change, personalised with the
    language and background chosen for them. The link itself always comes from the store.

    Raises Unauthorized when the requester is unknown (before anything is read) or not a participant, NotFound for
    an unknown id.
    """

    def __init__(
        self,
        *,
        repository: TeleconsultationRepository,
        provider: VideoProvider,
        links: JoinLinks,
        clock: Clock,
        rules: SchedulingRules,
        policy: AuthorizationPolicy,
        journal: Journal,
        background_groups: frozenset[str] = frozenset(),
    ) -> None:
        self._journal = journal
        # The link.served events this process knows are logged: a poll writes nothing once its link is reported.
        self._reported: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._repository = repository
        self._policy = policy
        self._provider = provider
        self._personalise = lru_cache(maxsize=PERSONALISED_LINKS_REMEMBERED)(links.personalise)
        self._clock = clock
        self._rules = rules
        self._background_groups = background_groups

    async def execute(
        self,
        teleconsultation_id: str,
        requester: Requester | None,
        preferences: LinkPreferences | None = None,
    ) -> ParticipantAccess:
        admitted = await self._policy.authorize_participant(
            Action.READ_ACCESS, requester, lambda: self._repository.get(teleconsultation_id)
        )
        teleconsultation, participant = admitted.teleconsultation, admitted.participant
        details = None
        if teleconsultation.provider_room_id is not None:
            details = await self._provider.room_details(teleconsultation.provider_room_id)
        link = teleconsultation.visible_link(participant, self._clock.now(), self._rules)
        if link is not None:
            await self._report_link(teleconsultation.id, participant.user_id, link)
            options = choose_link_options(
                preferences or LinkPreferences(), participant, admitted.requester.groups, self._background_groups
            )
            link = self._personalise(link, options)
        return ParticipantAccess(
            provider_user_id=participant.provider_user_id,
            access_link=link,
            members=tuple(CallMember(p.provider_user_id, p.full_name) for p in teleconsultation.participants),
            details=details,
        )

    async def _report_link(self, teleconsultation_id: str, user_id: str, link: str) -> None:
        """Log that the participant was handed this link: once per participant and link, whichever instance
        serves it (the event id derives from the three). A link that cannot be logged is not handed out."""
        reported = (teleconsultation_id, user_id, link)
        if reported in self._reported:  # every later poll of this link: no hashing, no store
            self._reported.move_to_end(reported)
            return
        link_hash = hashlib.sha256(link.encode()).hexdigest()
        event_id = derived_id(EventType.LINK_SERVED.value, teleconsultation_id, user_id, link_hash)
        if not await self._journal.known(event_id):
            event = self._journal.event(EventType.LINK_SERVED, teleconsultation_id, event_id=event_id, actor=user_id)
            await self._journal.record(event)
        self._reported[reported] = None
        if len(self._reported) > PERSONALISED_LINKS_REMEMBERED:
            self._reported.popitem(last=False)
