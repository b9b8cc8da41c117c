"""Work that runs beside the service while it serves: started with the app, cancelled when it stops."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

logger = logging.getLogger(__name__)

# A stopping service waits this long for its background work to end, then leaves it (and says so).
STOP_SECONDS = 10.0


@asynccontextmanager
async def in_background(
    work: Coroutine[Any, Any, None], name: str, *, stop_seconds: float = STOP_SECONDS
) -> AsyncIterator[None]:
    task = asyncio.create_task(work, name=name)
    try:
        yield
    finally:
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=stop_seconds)
        if not done:
            logger.warning("%s did not stop within %g s; leaving it", name, stop_seconds)
        elif not task.cancelled() and (error := task.exception()) is not None:
            raise error


def stop_if_cancelled() -> None:
    """Raise CancelledError when the running task was asked to stop.

    The MongoDB driver, cancelled inside an operation, may answer with an error of its own instead of the
    cancellation. A background pass catches and logs it like any failed pass, so its loop must look for itself:
    otherwise it goes on, and the service's stop waits for it forever (seen in a full test run: the webhook
    deliverer "cancelling" for minutes, the app's shutdown waiting on it).
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
