"""Whether the running task was asked to stop, for loops that catch every error of what they call."""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    """Raise CancelledError when the running task was asked to stop.

    The MongoDB driver, cancelled inside an operation, may answer with an error of its own instead of the
    cancellation. A loop that catches and logs it like any failed pass must look for itself: otherwise it goes on,
    and the service's stop waits for it forever (seen in a full test run: the webhook deliverer "cancelling" for
    minutes, the app's shutdown waiting on it).
    """
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
