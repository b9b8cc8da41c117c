"""The outbound webhook deliverer, run beside the room sweeper while the service runs.

It sends as soon as an event is queued, and looks for due retries every `poll_seconds`; after each pass the metrics
hear how many deliveries are pending and dead-lettered.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress

from application.cancellation import stop_if_cancelled
from application.errors import ApplicationError
from application.request_context import current_request_id
from application.webhooks import WebhookDeliverer, WebhookOutbox
from entrypoints.background import in_background

logger = logging.getLogger(__name__)


class WebhookPump:
    def __init__(
        self,
        *,
        deliverer: WebhookDeliverer | None,
        outbox: WebhookOutbox,
        poll_seconds: float,
        on_counted: Callable[[dict[str, int]], None] | None = None,
    ) -> None:
        self._deliverer = deliverer
        self._outbox = outbox
        self._poll = poll_seconds
        self._on_counted = on_counted

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        if self._deliverer is None:  # no WEBHOOK_URL
            yield
            return
        async with in_background(self._pump_forever(), "webhook-deliverer"):
            yield

    async def pump_once(self) -> None:
        if self._deliverer is None:
            return
        token = current_request_id.set(f"webhooks-{secrets.token_hex(8)}")
        try:
            await self._deliverer.deliver_due()
            if self._on_counted is not None:
                self._on_counted(await self._deliverer.counts())
        except ApplicationError as error:
            logger.warning("webhook delivery pass failed: %s", error)
        except Exception:
            logger.exception("webhook delivery pass failed unexpectedly")
        finally:
            current_request_id.reset(token)

    async def _pump_forever(self) -> None:
        while True:
            self._outbox.queued.clear()
            await self.pump_once()
            stop_if_cancelled()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._outbox.queued.wait(), self._poll)
