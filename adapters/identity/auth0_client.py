"""The UserDirectory port spoken to Mia-Platform's auth0-client service (spec §8.4)."""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from adapters.identity.documents import as_id, first_groups, first_text, lookup
from adapters.identity.settings import AuthServiceSettings
from adapters.identity.transport import forwarded_headers, get_json, in_query, json_list, unique_chunks
from application.dto import CallContext, DirectoryUser
from application.ports import UserDirectory

SERVICE = "auth service"


class Auth0ClientDirectory(UserDirectory):
    """Looks users up with `GET /users/?_q={"user_id": {"$in": [...]}}`, one request per chunk of ids.

    The session is injected and owned by the caller; this class never opens or closes one.
    """

    def __init__(self, session: aiohttp.ClientSession, settings: AuthServiceSettings) -> None:
        self._session = session
        self._settings = settings
        self._timeout = aiohttp.ClientTimeout(
            total=settings.total_timeout_seconds, connect=settings.connect_timeout_seconds
        )

    async def users(self, user_ids: Sequence[str], context: CallContext) -> dict[str, DirectoryUser]:
        settings = self._settings
        headers = forwarded_headers(context, default_client_type=settings.client_type)
        found: dict[str, DirectoryUser] = {}
        # Sequential on purpose: rosters are small and one request at a time keeps the load on auth0-client flat.
        for chunk in unique_chunks(user_ids, settings.max_ids_per_request):
            payload = await get_json(
                self._session,
                SERVICE,
                settings.users_url,
                params=in_query(settings.id_field, chunk),
                headers=headers,
                client_timeout=self._timeout,
                max_bytes=settings.max_response_bytes,
            )
            wanted = set(chunk)
            for document in json_list(SERVICE, payload):
                user_id = as_id(lookup(document, settings.id_field))
                # A lenient or misconfigured service may answer with more users than asked for.
                if user_id is None or user_id not in wanted or user_id in found:
                    continue
                found[user_id] = DirectoryUser(
                    user_id=user_id,
                    full_name=first_text(document, settings.name_fields),
                    groups=first_groups(document, settings.groups_fields),
                )
        return found
