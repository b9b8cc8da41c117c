"""Queued room deletions retried in the background while the service runs, and once on demand."""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from application.cancellation import stop_if_cancelled
from application.errors import ApplicationError
from application.request_context import current_request_id
from application.rooms import RoomKeeper
from entrypoints.background import in_background

logger = logging.getLogger(__name__)

# Rooms tried per sweep; a larger queue is worked through over several sweeps (or rounds of `sweep_all`).
BATCH = 100


# One of the sweeper's other jobs (relaying the event outbox, retention): its name for the logs, and the work.
Chore = tuple[str, Callable[[], Awaitable[object]]]


class RoomSweeper:
    """Calls RoomKeeper.sweep every `interval_seconds`, starting at once; `on_swept` hears the pending count.

    Each sweep then runs the `chores` in order, each on its own: one that fails is logged and the others still run.
    """

    def __init__(
        self,
        rooms: RoomKeeper,
        interval_seconds: float,
        on_swept: Callable[[int], None] | None = None,
        chores: Sequence[Chore] = (),
    ) -> None:
        self._chores = tuple(chores)
        self._rooms = rooms
        self._interval = interval_seconds
        self._on_swept = on_swept

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with in_background(self._sweep_forever(), "room-sweeper"):
            yield

    async def sweep_once(self) -> int | None:
        """One sweep; the number of rooms still pending, or None when the sweep itself failed (logged)."""
        token = current_request_id.set(f"sweep-{secrets.token_hex(8)}")
        try:
            remaining = await self._rooms.sweep(BATCH)
        except ApplicationError as error:
            logger.warning("room sweep failed: %s", error)
            return None
        except Exception:
            # A bug must not end the loop: the next sweep may well succeed.
            logger.exception("room sweep failed unexpectedly")
            return None
        finally:
            current_request_id.reset(token)
        if self._on_swept is not None:
            self._on_swept(remaining)
        if remaining:
            logger.info("provider rooms still pending deletion", extra={"pending": remaining})
        await self.run_chores()
        return remaining

    async def run_chores(self, *, strict: bool = False) -> None:
        """Each chore once; with `strict` (the command line) a failure is raised, else logged."""
        for name, chore in self._chores:
            token = current_request_id.set(f"sweep-{secrets.token_hex(8)}")
            try:
                await chore()
            except ApplicationError as error:
                if strict:
                    raise
                logger.warning("%s failed: %s", name, error)
            except Exception:
                if strict:
                    raise
                logger.exception("%s failed unexpectedly", name)
            finally:
                current_request_id.reset(token)

    async def sweep_all(self) -> int:
        """Sweep until the queue is empty or a sweep makes no progress; the number of rooms still pending.

        Raises what the store raises: the command-line caller reports it.
        """
        remaining = await self._rooms.sweep(BATCH)
        while remaining:
            before, remaining = remaining, await self._rooms.sweep(BATCH)
            if remaining >= before:
                break
        if self._on_swept is not None:
            self._on_swept(remaining)
        await self.run_chores(strict=True)
        return remaining

    async def _sweep_forever(self) -> None:
        while True:
            await self.sweep_once()
            stop_if_cancelled()
            await asyncio.sleep(self._interval)
