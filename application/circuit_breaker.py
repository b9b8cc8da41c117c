"""A circuit breaker: while the video provider keeps failing, calls fail at once instead of piling up."""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from enum import Enum
from typing import TypeVar

from application.errors import ProviderError, ProviderUnavailable
from application.ports import Clock

T = TypeVar("T")

logger = logging.getLogger(__name__)


class CircuitState(Enum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Closed: calls go through, and `failure_threshold` consecutive failures open the circuit.
    Open: calls raise ProviderUnavailable without being attempted, until `reset_after` has passed.
    Half-open: one call is let through as a trial while the others still fail fast; its success closes the
    circuit, its failure opens it again for another `reset_after`.

    Only a ProviderError raised by the call is a failure. Whoever wraps a call decides what raises one: an answer
    the provider gave on purpose (a 4xx about the request) is not a sign of an outage and must not raise here.
    State is kept per process; every instance of the service judges the provider on its own calls.
    """

    def __init__(
        self,
        provider: str,
        *,
        clock: Clock,
        failure_threshold: int = 5,
        reset_after: timedelta = timedelta(seconds=30),
    ) -> None:
        if failure_threshold < 1:
            raise ValueError("the failure threshold must be at least 1")
        if reset_after <= timedelta(0):
            raise ValueError("the reset period must be positive")
        self.provider = provider
        self._clock = clock
        self._threshold = failure_threshold
        self._reset_after = reset_after
        self._consecutive_failures = 0
        self._opened_at: datetime | None = None
        self._trial_running = False

    @property
    def state(self) -> CircuitState:
        if self._opened_at is None:
            return CircuitState.CLOSED
        if self._clock.now() - self._opened_at < self._reset_after:
            return CircuitState.OPEN
        return CircuitState.HALF_OPEN

    async def call(self, operation: str, action: Callable[[], Awaitable[T]]) -> T:
        """Run `action` unless the circuit refuses it; raises ProviderUnavailable when it does."""
        trial = self._admit(operation)
        try:
            result = await action()
        except ProviderError:
            self._failed(trial)
            raise
        except BaseException:
            # Cancelled or broken for a reason that says nothing about the provider: no verdict.
            if trial:
                self._trial_running = False
            raise
        self._succeeded()
        return result

    def _admit(self, operation: str) -> bool:
        """Whether the call is the half-open trial; raises when the call must not be attempted."""
        state = self.state
        if state is CircuitState.CLOSED:
            return False
        if state is CircuitState.HALF_OPEN and not self._trial_running:
            self._trial_running = True
            return True
        raise ProviderUnavailable(self.provider, operation, self._retry_after_seconds())

    def _retry_after_seconds(self) -> int:
        assert self._opened_at is not None
        remaining = (self._opened_at + self._reset_after - self._clock.now()).total_seconds()
        # While a trial runs the period is over: a second is the shortest useful wait.
        return max(1, math.ceil(remaining))

    def _failed(self, trial: bool) -> None:
        if trial:
            self._trial_running = False
            self._opened_at = self._clock.now()
            logger.warning("%s still failing: circuit open again", self.provider)
            return
        if self._opened_at is not None:
            return  # a call admitted before the circuit opened: it says nothing new
        self._consecutive_failures += 1
        if self._consecutive_failures >= self._threshold:
            self._opened_at = self._clock.now()
            logger.warning(
                "%s failed %d times in a row: circuit open, calls paused for %d s",
                self.provider,
                self._consecutive_failures,
                self._reset_after.total_seconds(),
            )

    def _succeeded(self) -> None:
        if self._opened_at is not None:
            logger.info("%s answered again: circuit closed", self.provider)
        self._consecutive_failures = 0
        self._opened_at = None
        self._trial_running = False
