"""The service's background loops stop when the service stops, even when the store driver turns their
cancellation into an error of its own (a full test run once saw the webhook deliverer go on for minutes,
"cancelling", and the app's shutdown wait on it)."""

from __future__ import annotations

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from typing import cast

import pytest

from adapters.memory.clock import FixedClock
from adapters.memory.webhooks import InMemoryWebhookDeliveries
from application.errors import StoreUnavailable
from application.rooms import RoomKeeper
from application.webhooks import WebhookDeliverer, WebhookOutbox
from entrypoints.background import in_background
from entrypoints.sweeper import RoomSweeper
from entrypoints.webhook_pump import WebhookPump
from tests.builders import T0


async def store_call_that_turns_cancellation_into_an_error(started: asyncio.Event) -> int:
    started.set()
    try:
        await asyncio.sleep(3600)
    except asyncio.CancelledError:
        raise StoreUnavailable("the store connection was closed") from None
    return 0


class CancelledIntoAnError(WebhookDeliverer):
    def __init__(self) -> None:
        super().__init__(
            deliveries=InMemoryWebhookDeliveries(),
            sender=None,  # type: ignore[arg-type]  # never reached: the pass never gets that far
            clock=FixedClock(T0),
            max_attempts=3,
            retry_base=T0 - T0,
        )
        self.started = asyncio.Event()

    async def deliver_due(self) -> int:
        return await store_call_that_turns_cancellation_into_an_error(self.started)


class RoomsCancelledIntoAnError:
    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def sweep(self, limit: int) -> int:
        return await store_call_that_turns_cancellation_into_an_error(self.started)


async def stopped_within(seconds: float, running: AbstractAsyncContextManager[None], started: asyncio.Event) -> None:
    """Start, wait until the pass is under way, stop: the stop must be over within `seconds` (it is left running
    otherwise, and the test fails rather than hang the run)."""

    async def start_and_stop() -> None:
        async with running:
            await started.wait()

    stop = asyncio.create_task(start_and_stop())
    done, _ = await asyncio.wait({stop}, timeout=seconds)
    assert done, f"the stop was still waiting after {seconds:g} s"
    await stop


async def test_the_webhook_pump_stops_though_its_cancelled_pass_raised_a_store_error() -> None:
    deliverer = CancelledIntoAnError()
    pump = WebhookPump(
        deliverer=deliverer, outbox=WebhookOutbox(deliveries=InMemoryWebhookDeliveries(), targets=()), poll_seconds=30
    )
    await stopped_within(1.0, pump.running(), deliverer.started)
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "webhook-deliverer"]


async def test_the_room_sweeper_stops_though_its_cancelled_sweep_raised_a_store_error() -> None:
    rooms = RoomsCancelledIntoAnError()
    sweeper = RoomSweeper(cast(RoomKeeper, rooms), interval_seconds=30)
    await stopped_within(1.0, sweeper.running(), rooms.started)
    assert not [task for task in asyncio.all_tasks() if task.get_name() == "room-sweeper"]


async def test_work_that_ignores_its_cancellation_is_left_after_the_stop_bound_and_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def stubborn() -> None:
        started.set()
        while not release.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    try:
        with caplog.at_level(logging.WARNING, logger="entrypoints.background"):
            await stopped_within(1.0, in_background(stubborn(), "stubborn", stop_seconds=0.1), started)
        assert [r.getMessage() for r in caplog.records] == ["stubborn did not stop within 0.1 s; leaving it"]
    finally:  # whatever failed, the stubborn task ends here, not in the event loop's teardown
        release.set()
        for task in asyncio.all_tasks():
            if task.get_name() == "stubborn":
                task.cancel()
                await asyncio.wait({task})
