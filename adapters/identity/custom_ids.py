"""The CustomIdResolver port spoken to a CRUD-like users collection (spec §8.5)."""

from __future__ import annotations

from collections.abc import Sequence

import aiohttp

from adapters.identity.documents import as_id, lookup
from adapters.identity.settings import CustomIdSettings
from adapters.identity.transport import forwarded_headers, get_json, in_query, json_list, unique_chunks
from application.dto import CallContext
from application.ports import CustomIdResolver

SERVICE = "custom id service"


class CrudCustomIdResolver(CustomIdResolver):
    """Maps custom ids with `GET <endpoint>?_q={"<source>": {"$in": [...]}}`, taking each document's `target`.

    The session is injected and owned by the caller; this class never opens or closes one.
    """

    def __init__(self, session: aiohttp.ClientSession, settings: CustomIdSettings) -> None:
        self._session = session
        self._settings = settings
        self._timeout = aiohttp.ClientTimeout(
            total=settings.total_timeout_seconds, connect=settings.connect_timeout_seconds
        )

    async def resolve(self, custom_ids: Sequence[str], context: CallContext) -> dict[str, str]:
        settings = self._settings
        headers = forwarded_headers(context)
        resolved: dict[str, str] = {}
        for chunk in unique_chunks(custom_ids, settings.max_ids_per_request):
            payload = await get_json(
                self._session,
                SERVICE,
                settings.endpoint,
                params=in_query(settings.source, chunk),
                headers=headers,
                client_timeout=self._timeout,
                max_bytes=settings.max_response_bytes,
            )
            wanted = set(chunk)
            for document in json_list(SERVICE, payload):
                source = as_id(lookup(document, settings.source))
                target = as_id(lookup(document, settings.target))
                # The first match wins when a non-unique source field matches several documents.
                if source is None or target is None or source not in wanted or source in resolved:
                    continue
                resolved[source] = target
        return resolved
