"""The circuit breaker's states, driven by a fixed clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory.clock import FixedClock
from application.circuit_breaker import CircuitBreaker, CircuitState
from application.errors import ProviderError, ProviderUnavailable

NOW = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


class Calls:
    """Counts attempts; each attempt succeeds or raises ProviderError as told."""

    def __init__(self) -> None:
        self.attempts = 0

    async def ok(self) -> str:
        self.attempts += 1
        return "answer"

    async def failing(self) -> str:
        self.attempts += 1
        raise ProviderError("kaleyra", "create_room", "status 503")


def breaker(clock: FixedClock, threshold: int = 3, reset_seconds: float = 30) -> CircuitBreaker:
    return CircuitBreaker(
        "kaleyra", clock=clock, failure_threshold=threshold, reset_after=timedelta(seconds=reset_seconds)
    )


def state_of(circuit: CircuitBreaker) -> CircuitState:
    # A call, so that mypy does not keep a narrowed state across the awaits in between.
    return circuit.state


async def fail_times(circuit: CircuitBreaker, calls: Calls, times: int) -> None:
    for _ in range(times):
        with pytest.raises(ProviderError):
            await circuit.call("create_room", calls.failing)


async def test_consecutive_failures_up_to_the_threshold_open_the_circuit() -> None:
    clock, calls = FixedClock(NOW), Calls()
    circuit = breaker(clock)
    await fail_times(circuit, calls, 2)
    assert state_of(circuit) is CircuitState.CLOSED
    await fail_times(circuit, calls, 1)
    assert state_of(circuit) is CircuitState.OPEN
    with pytest.raises(ProviderUnavailable) as refused:
        await circuit.call("delete_room", calls.ok)
    assert calls.attempts == 3  # the refused call was never attempted
    assert refused.value.operation == "delete_room"
    assert refused.value.retry_after_seconds == 30


async def test_a_success_resets_the_count_of_consecutive_failures() -> None:
    clock, calls = FixedClock(NOW), Calls()
    circuit = breaker(clock)
    for _ in range(5):
        await fail_times(circuit, calls, 2)
        assert await circuit.call("create_room", calls.ok) == "answer"
    assert state_of(circuit) is CircuitState.CLOSED


async def test_retry_after_counts_down_and_never_says_zero() -> None:
    clock, calls = FixedClock(NOW), Calls()
    circuit = breaker(clock, threshold=1, reset_seconds=30)
    await fail_times(circuit, calls, 1)
    clock.advance(timedelta(seconds=12.3))
    with pytest.raises(ProviderUnavailable) as refused:
        await circuit.call("create_room", calls.ok)
    assert refused.value.retry_after_seconds == 18
    clock.advance(timedelta(seconds=17.6))
    with pytest.raises(ProviderUnavailable) as refused:
        await circuit.call("create_room", calls.ok)
    assert refused.value.retry_after_seconds == 1


async def test_after_the_reset_period_one_trial_call_closes_the_circuit() -> None:
    clock, calls = FixedClock(NOW), Calls()
    circuit = breaker(clock, threshold=1)
    await fail_times(circuit, calls, 1)
    clock.advance(timedelta(seconds=30))
    assert state_of(circuit) is CircuitState.HALF_OPEN
    trial_started, release = asyncio.Event(), asyncio.Event()

    async def slow_trial() -> str:
        trial_started.set()
        await release.wait()
        return "back"

    trial = asyncio.create_task(circuit.call("create_room", slow_trial))
    await trial_started.wait()
    with pytest.raises(ProviderUnavailable) as refused:
        await circuit.call("create_room", calls.ok)  # only one trial at a time
    assert refused.value.retry_after_seconds == 1
    release.set()
    assert await trial == "back"
    assert state_of(circuit) is CircuitState.CLOSED
    assert await circuit.call("create_room", calls.ok) == "answer"


async def test_a_failed_trial_opens_the_circuit_for_another_full_period() -> None:
    clock, calls = FixedClock(NOW), Calls()
    circuit = breaker(clock, threshold=2)
    await fail_times(circuit, calls, 2)
    clock.advance(timedelta(seconds=31))
    await fail_times(circuit, calls, 1)
    assert state_of(circuit) is CircuitState.OPEN
    clock.advance(timedelta(seconds=29))
    with pytest.raises(ProviderUnavailable):
        await circuit.call("create_room", calls.ok)
    clock.advance(timedelta(seconds=1))
    assert await circuit.call("create_room", calls.ok) == "answer"


async def test_errors_that_say_nothing_about_the_provider_do_not_count() -> None:
    clock = FixedClock(NOW)
    circuit = breaker(clock, threshold=1)

    async def broken() -> str:
        raise ValueError("a bug on our side")

    for _ in range(3):
        with pytest.raises(ValueError, match="bug"):
            await circuit.call("create_room", broken)
    assert state_of(circuit) is CircuitState.CLOSED


async def test_a_cancelled_trial_lets_the_next_call_try() -> None:
    clock, calls = FixedClock(NOW), Calls()
    circuit = breaker(clock, threshold=1)
    await fail_times(circuit, calls, 1)
    clock.advance(timedelta(seconds=30))
    never = asyncio.Event()

    async def hanging() -> str:
        await never.wait()
        return "never"

    trial = asyncio.create_task(circuit.call("create_room", hanging))
    await asyncio.sleep(0)
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert await circuit.call("create_room", calls.ok) == "answer"
    assert state_of(circuit) is CircuitState.CLOSED


async def test_failures_of_calls_started_before_the_circuit_opened_do_not_extend_it() -> None:
    clock = FixedClock(NOW)
    circuit = breaker(clock, threshold=1)
    started, release = asyncio.Event(), asyncio.Event()

    async def late_failure() -> str:
        started.set()
        await release.wait()
        raise ProviderError("kaleyra", "create_room", "timed out")

    straggler = asyncio.create_task(circuit.call("create_room", late_failure))
    await started.wait()
    await fail_times(circuit, Calls(), 1)
    clock.advance(timedelta(seconds=30))
    release.set()
    with pytest.raises(ProviderError):
        await straggler
    assert state_of(circuit) is CircuitState.HALF_OPEN


def test_nonsense_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="threshold"):
        breaker(FixedClock(NOW), threshold=0)
    with pytest.raises(ValueError, match="reset"):
        breaker(FixedClock(NOW), reset_seconds=0)
