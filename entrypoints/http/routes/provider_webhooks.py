"""POST /webhooks/kaleyra: the video provider's events in (recordings, transcriptions, calls started and ended)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, post
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK

from adapters.kaleyra.webhooks import SIGNATURE_HEADER, decode_event, signature_matches
from application.errors import Unauthorized
from application.provider_events import ReceiveProviderEvent
from entrypoints.http.openapi import error_responses

# Kaleyra's event bodies are small (ids, a timestamp, links of a room's participants at most).
PROVIDER_WEBHOOK_BODY = 64 * 1024


class WebhookReceived(msgspec.Struct, frozen=True):
    received: bool


def provider_webhook_routes(*, receive: ReceiveProviderEvent, secret: str | None) -> list[HTTPRouteHandler]:
    """`secret` (the Kaleyra company API key) set: only requests whose `bandyer-signature` verifies are taken."""

    @post(
        "/webhooks/kaleyra",
        status_code=HTTP_200_OK,
        summary="Kaleyra's webhooks (signed with bandyer-signature)",
        description="Answered 200 once handled, also for a repeat or an event the service does not use, so that "
        "Kaleyra stops retrying. With TELECONSULTATION_DELETE_UPLOADS=true a call that ended has its uploads deleted.",
        tags=["calls"],
        responses={
            200: ResponseSpec(data_container=WebhookReceived, description="Handled", generate_examples=False),
            **error_responses(400, 401, 413, 502, 503),
        },
        request_max_body_size=PROVIDER_WEBHOOK_BODY,
    )
    async def receive_kaleyra_webhook(request: Request[Any, Any, Any]) -> WebhookReceived:
        body = await request.body()
        if secret is not None and not signature_matches(request.headers.get(SIGNATURE_HEADER), body, secret):
            raise Unauthorized
        await receive.execute(decode_event(body))
        return WebhookReceived(received=True)

    return [receive_kaleyra_webhook]
