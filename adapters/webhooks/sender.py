"""POSTs one signed Standard Webhooks message (https://www.standardwebhooks.com) over the app's aiohttp session.

Signing is the `standardwebhooks` package's: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`
with the secret's bytes; the timestamp is the attempt's, in Unix seconds.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from math import floor

import aiohttp
from standardwebhooks import Webhook

from application.ports import Clock, WebhookSender

logger = logging.getLogger(__name__)


class StandardWebhookSender(WebhookSender):
    def __init__(self, session: aiohttp.ClientSession, secret: str, clock: Clock, timeout_seconds: float) -> None:
        self._session = session
        self._signer = Webhook(secret)
        self._clock = clock
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds, connect=min(timeout_seconds, 5.0))

    def headers(self, message_id: str, body: bytes, at: datetime) -> dict[str, str]:
        at = at.astimezone(UTC)
        return {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(floor(at.timestamp())),
            "webhook-signature": self._signer.sign(message_id, at, body.decode()),
        }

    async def send(self, url: str, message_id: str, body: bytes) -> bool:
        headers = self.headers(message_id, body, self._clock.now())
        try:
            async with self._session.post(
                url, data=body, headers=headers, timeout=self._timeout, allow_redirects=False
            ) as response:
                await response.read()
                ok = 200 <= response.status < 300
        except (aiohttp.ClientError, TimeoutError) as error:
            # The URL is configuration, but its query could hold a token: only the error's type is logged.
            logger.warning("a webhook delivery failed: %s", type(error).__name__)
            return False
        if not ok:
            logger.warning("a webhook receiver answered %d", response.status)
        return ok
