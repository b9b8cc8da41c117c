"""Who may do what: the one authorization policy every use case asks, denying whatever it does not allow.

Three answers: allowed; Unauthorized (401, `{"error": "Unauthorized user"}`) when the requester is not identified or
is not a participant of the teleconsultation at stake; Forbidden (403, `{"error": "Forbidden"}`) when an identified
requester lacks the group (or, with a verified token, the scope) the action needs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum

from application.dto import Requester
from application.errors import Forbidden, Unauthorized
from domain.teleconsultation import Participant, Teleconsultation


class Action(Enum):
    SCHEDULE = "schedule"  # create, change and cancel a teleconsultation
    READ_ACCESS = "read access"  # a participant's own link and the room's details
    DELETE_UPLOADS = "delete uploads"  # the files shared during the call
    READ_TRANSCRIPTION = "read transcription"
    GET_CREDENTIALS = "get credentials"  # a mobile-SDK token for oneself
    CHANGE_SETTINGS = "change settings"  # the company's backgrounds
    READ_AUDIT = "read the audit trail"  # GET /audit/events


# Actions on one teleconsultation that only its participants may take.
PARTICIPANT_ACTIONS = frozenset({Action.READ_ACCESS, Action.DELETE_UPLOADS, Action.READ_TRANSCRIPTION})


class Decision(Enum):
    ALLOWED = "allowed"
    UNAUTHORIZED = "unauthorized"  # 401
    FORBIDDEN = "forbidden"  # 403


@dataclass(frozen=True, slots=True)
class Admitted:
    """A participant let through to an action on their teleconsultation."""

    requester: Requester
    teleconsultation: Teleconsultation
    participant: Participant


class AuthorizationPolicy:
    """Deny by default: an action is allowed only by a rule below.

    * schedule: `scheduling_groups` None means the gateway in front decides (the original's behaviour, headers
      mode without `schedulingGroups`): anyone it lets through, identified or not. Otherwise an identified
      requester in one of the groups, or holding one of the `scheduling_scopes` (a verified token's scopes).
    * read access, delete uploads, read a transcription: an identified participant of that teleconsultation.
    * get credentials: any identified requester (the credentials are their own).
    * change settings: an identified requester in one of the `settings_admin_groups`.
    * read the audit trail: an identified requester in one of the `auditor_groups`; nobody when there are none.
    """

    def __init__(
        self,
        *,
        scheduling_groups: frozenset[str] | None,
        settings_admin_groups: frozenset[str],
        scheduling_scopes: frozenset[str] = frozenset(),
        auditor_groups: frozenset[str] = frozenset(),
    ) -> None:
        self._auditor_groups = auditor_groups
        self._scheduling_groups = scheduling_groups
        self._scheduling_scopes = scheduling_scopes
        self._settings_admin_groups = settings_admin_groups

    @property
    def scheduling_is_open(self) -> bool:
        """Whether anyone who reaches the service may schedule (the gateway is the only guard)."""
        return self._scheduling_groups is None

    def decide(
        self, action: Action, requester: Requester | None, teleconsultation: Teleconsultation | None = None
    ) -> Decision:
        """The decision for `requester`; participant actions need the teleconsultation once one is identified."""
        if action is Action.SCHEDULE and self._scheduling_groups is None:
            return Decision.ALLOWED
        if requester is None or not requester.user_ids:
            return Decision.UNAUTHORIZED
        if action in PARTICIPANT_ACTIONS:
            if teleconsultation is None:
                raise ValueError(f"deciding on {action.value} needs the teleconsultation")
            is_participant = _participant(requester, teleconsultation) is not None
            return Decision.ALLOWED if is_participant else Decision.UNAUTHORIZED
        granted = self._grants(action, requester)
        if granted is None:  # an action no rule covers
            return Decision.UNAUTHORIZED
        return Decision.ALLOWED if granted else Decision.FORBIDDEN

    def _grants(self, action: Action, requester: Requester) -> bool | None:
        """Whether an identified requester holds what `action` needs; None for an action without a rule here."""
        if action is Action.SCHEDULE:
            return _shares(self._scheduling_groups, requester.groups) or _shares(
                self._scheduling_scopes, requester.scopes
            )
        if action is Action.GET_CREDENTIALS:
            return True
        if action is Action.CHANGE_SETTINGS:
            return _shares(self._settings_admin_groups, requester.groups)
        if action is Action.READ_AUDIT:
            return _shares(self._auditor_groups, requester.groups)
        return None

    def authorize(self, action: Action, requester: Requester | None) -> None:
        """Raises Unauthorized or Forbidden unless `requester` may take `action` (not a participant action)."""
        if action in PARTICIPANT_ACTIONS:
            raise ValueError(f"{action.value} is decided by authorize_participant")
        _enforce(self.decide(action, requester))

    def identified(self, action: Action, requester: Requester | None) -> Requester:
        """As `authorize`, for actions taken on the requester's own behalf: it is there once allowed."""
        self.authorize(action, requester)
        if requester is None or not requester.user_ids:
            raise Unauthorized
        return requester

    async def authorize_participant(
        self,
        action: Action,
        requester: Requester | None,
        load: Callable[[], Awaitable[Teleconsultation]],
    ) -> Admitted:
        """Admits a participant of the teleconsultation `load` reads, or raises Unauthorized.

        A requester who is not identified is refused before anything is read, so that without an identity nobody
        learns whether an id exists; `load` raises NotFound for an unknown id (the original's documented 404).
        """
        if action not in PARTICIPANT_ACTIONS:
            raise ValueError(f"{action.value} is decided by authorize")
        if requester is None or not requester.user_ids:
            raise Unauthorized
        teleconsultation = await load()
        # The rule `decide` applies, evaluated once: every participant's page polls GET through here.
        participant = _participant(requester, teleconsultation)
        if participant is None:
            raise Unauthorized
        return Admitted(requester, teleconsultation, participant)


def _participant(requester: Requester, teleconsultation: Teleconsultation) -> Participant | None:
    return teleconsultation.participant(requester.user_ids)


def _shares(allowed: frozenset[str] | None, held: tuple[str, ...]) -> bool:
    return allowed is not None and not allowed.isdisjoint(held)


def _enforce(decision: Decision) -> None:
    if decision is Decision.UNAUTHORIZED:
        raise Unauthorized
    if decision is Decision.FORBIDDEN:
        raise Forbidden
