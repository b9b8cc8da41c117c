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
