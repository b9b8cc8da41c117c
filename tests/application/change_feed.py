"""A TeleconsultationChanges the test tells what to say, as the store's change stream would."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from application.ports import ChangeListener

Action = Callable[[ChangeListener], None]


class FakeChangeFeed:
    """Opens at once (unless `opens` is cleared, or `supported` is False), then tells what the test asks, in order.

    Each `follow` opens the feed afresh: the listener hears first that writes may have been missed, as from the
    store. An action that raises makes `follow` fail, as a bug would.
    """

    def __init__(self, *, supported: bool = True, stubborn: bool = False) -> None:
        self.supported = supported
        self.stubborn = stubborn  # ignores the first cancellation, as a driver caught mid-operation may
        self.follows = 0  # how many times `follow` was called
        self.opens = asyncio.Event()
        self.opens.set()
        self.live = asyncio.Event()
        self._actions: asyncio.Queue[Action] = asyncio.Queue()

    async def follow(self, listener: ChangeListener) -> None:
        self.follows += 1
        if not self.supported:
            return
        await self.opens.wait()
        listener.missed()
        listener.following(True)
        self.live.set()
        while True:
            try:
                action = await self._actions.get()
            except asyncio.CancelledError:
                if not self.stubborn:
                    raise
                self.stubborn = False
                await asyncio.sleep(3600)
                raise
            try:
                action(listener)
            finally:
                self._actions.task_done()

    async def tell(self, action: Action) -> None:
        """`action` done by the feed once it is open (raised out of `follow` if it raises)."""
        self._actions.put_nowait(action)
        await self._actions.join()

    async def changed(self, teleconsultation_id: str) -> None:
        await self.tell(lambda listener: listener.changed(teleconsultation_id))

    async def lost_and_not_resumed(self) -> None:
        def gap(listener: ChangeListener) -> None:
            listener.following(False)
            listener.missed()
            listener.following(True)

        await self.tell(gap)

    async def crash(self) -> None:
        self.live.clear()

        def fail(_: ChangeListener) -> None:
            raise RuntimeError("a bug in the feed")

        await self.tell(fail)
