"""PATCH /settings/update: make one of the company's virtual backgrounds the default."""

from __future__ import annotations

from collections.abc import Mapping

from application.authorization import Action, AuthorizationPolicy
from application.dto import Requester
from application.errors import InvalidRequest, ProviderUnsupported
from application.events import EventType, Journal
from application.ports import CompanyBackgrounds
from application.upload_background import FEATURE


class SetDefaultBackground:
    """Raises Unauthorized, Forbidden, ProviderUnsupported (no backgrounds port), or InvalidRequest without an
    alias."""

    def __init__(
        self,
        *,
        policy: AuthorizationPolicy,
        backgrounds: CompanyBackgrounds | None,
        provider_name: str,
        journal: Journal,
    ) -> None:
        self._journal = journal
        self._policy = policy
        self._backgrounds = backgrounds
        self._provider_name = provider_name

    async def execute(self, requester: Requester | None, alias: str | None) -> Mapping[str, object]:
        self._policy.authorize(Action.CHANGE_SETTINGS, requester)
        if self._backgrounds is None:
            raise ProviderUnsupported(self._provider_name, FEATURE)
        if alias is None or not alias.strip():
            raise InvalidRequest("background_alias must be a non-empty string")
        company = await self._backgrounds.set_default_background(alias.strip())
        assert requester is not None  # ensure_admin let it through
        await self._journal.record(self._journal.event(EventType.SETTINGS_CHANGED, actor=requester.user_ids[0]))
        return company
