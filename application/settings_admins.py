"""Who may change the company's settings."""

from __future__ import annotations

from application.dto import Requester
from application.errors import Forbidden, Unauthorized


class SettingsAdmins:
    """Company settings change only for requesters in one of the settings admin groups."""

    def __init__(self, groups: frozenset[str]) -> None:
        self._groups = groups

    def ensure_admin(self, requester: Requester | None) -> None:
        if requester is None or not requester.user_ids:
            raise Unauthorized
        if not self._groups.intersection(requester.groups):
            raise Forbidden
