"""POST /credentials: a mobile-SDK token for the logged-in user, creating their provider user if needed."""

from __future__ import annotations

from application.authorization import Action, AuthorizationPolicy
from application.dto import CallContext, Requester, SdkCredentials
from application.errors import InvalidRequest, ProviderUnsupported
from application.events import EventType, Journal
from application.ports import SdkCredentialIssuer, UserDirectory, UserIdMap
from application.provider_users import ProviderUsers
from domain.privileges import PrivilegePolicy


class IssueCredentials:
    """Needs auth mode: the identity service says who the user is when they have no provider user yet.

    Raises Unauthorized without an identity, InvalidRequest in standalone mode, NoConfiguredGroup when the
    user's groups give no privilege, ProviderUnsupported when the provider has no SDK (no issuer port).
    """

    def __init__(
        self,
        *,
        directory: UserDirectory | None,
        privileges: PrivilegePolicy,
        user_ids: UserIdMap,
        provider_users: ProviderUsers,
        issuer: SdkCredentialIssuer | None,
        provider_name: str,
        policy: AuthorizationPolicy,
        journal: Journal,
    ) -> None:
        self._journal = journal
        self._directory = directory
        self._policy = policy
        self._privileges = privileges
        self._user_ids = user_ids
        self._provider_users = provider_users
        self._issuer = issuer
        self._provider_name = provider_name

    async def execute(self, requester: Requester | None, expires_in: int, context: CallContext) -> SdkCredentials:
        requester = self._policy.identified(Action.GET_CREDENTIALS, requester)
        if self._directory is None:
            raise InvalidRequest("SDK credentials need an identity service: set AUTH_SERVICE")
        issuer = self._issuer
        if issuer is None:
            # Checked before any provider user is made for nothing.
            raise ProviderUnsupported(self._provider_name, "SDK credentials")
        user_id = requester.user_ids[0]
        mapping = await self._user_ids.find(user_id)
        if mapping is not None:
            provider_user_id = mapping.provider_user_id
        else:
            provider_user_id = await self._create_provider_user(user_id, requester, context)
        credentials = await issuer.sdk_credentials(provider_user_id, expires_in)
        await self._journal.record(self._journal.event(EventType.CREDENTIALS_ISSUED, actor=user_id))
        return credentials

    async def _create_provider_user(self, user_id: str, requester: Requester, context: CallContext) -> str:
        assert self._directory is not None
        user = (await self._directory.users([user_id], context)).get(user_id)
        groups = user.groups if user is not None and user.groups else requester.groups
        full_name = user.full_name if user is not None else None
        privilege = self._privileges.privilege_for(user_id, groups)
        return await self._provider_users.ensure(user_id, privilege, full_name, groups)
