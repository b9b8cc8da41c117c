"""The Kaleyra adapter behind a circuit breaker: what opens it, what does not, and what callers see."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from adapters.kaleyra import KaleyraVideoProvider
from adapters.memory.clock import FixedClock
from application.circuit_breaker import CircuitBreaker, CircuitState
from application.errors import ProviderError, ProviderUnavailable
from application.request_context import current_request_id
from domain.privileges import Privilege
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import Fault

Build = Callable[..., KaleyraVideoProvider]
THRESHOLD = 3


@dataclass
class RecordingObserver:
    calls: list[tuple[str, str, str]] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def provider_call(self, provider: str, operation: str, outcome: str, seconds: float) -> None:
        self.calls.append((provider, operation, outcome))
        self.seconds.append(seconds)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2030, 1, 1, tzinfo=UTC))


@pytest.fixture
def circuit(clock: FixedClock) -> CircuitBreaker:
    return CircuitBreaker("kaleyra", clock=clock, failure_threshold=THRESHOLD, reset_after=timedelta(seconds=30))


@pytest.mark.parametrize("fault", [Fault.SERVER_ERROR, Fault.UNAVAILABLE, Fault.RESET, Fault.HANG])
async def test_outages_open_the_circuit_and_later_calls_never_reach_kaleyra(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer, circuit: CircuitBreaker, fault: Fault
) -> None:
    kaleyra = make_kaleyra(breaker=circuit, total_timeout_seconds=0.2)
    fake_kaleyra.state.fail_next("create_user", fault, times=THRESHOLD)
    for _ in range(THRESHOLD):
        with pytest.raises(ProviderError) as failed:
            await kaleyra.create_user(Privilege.BASIC)
        assert not isinstance(failed.value, ProviderUnavailable)
    assert circuit.state is CircuitState.OPEN
    before = len(fake_kaleyra.state.calls)
    with pytest.raises(ProviderUnavailable) as refused:
        await kaleyra.delete_room("room_1")
    assert refused.value.operation == "delete_room"
    assert len(fake_kaleyra.state.calls) == before


async def test_answers_about_the_request_itself_never_open_it(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer, circuit: CircuitBreaker
) -> None:
    kaleyra = make_kaleyra(breaker=circuit)
    fake_kaleyra.state.fail_next("create_user", Fault.BAD_REQUEST, times=THRESHOLD * 3)
    for _ in range(THRESHOLD * 3):
        with pytest.raises(ProviderError, match="status 400"):
            await kaleyra.create_user(Privilege.BASIC)
    assert await kaleyra.room_details("no-such-room") is None  # a 404
    assert circuit.state is CircuitState.CLOSED


async def test_a_retried_call_counts_once(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer, circuit: CircuitBreaker
) -> None:
    kaleyra = make_kaleyra(breaker=circuit, retry_attempts=3)
    fake_kaleyra.state.fail_next("delete_room", Fault.UNAVAILABLE, times=3 * (THRESHOLD - 1))
    for _ in range(THRESHOLD - 1):
        with pytest.raises(ProviderError):
            await kaleyra.delete_room("room_1")
    assert fake_kaleyra.state.count("DELETE", "/v2/rooms/room_1") == 3 * (THRESHOLD - 1)
    assert circuit.state is CircuitState.CLOSED


async def test_an_oversized_answer_is_refused_without_blaming_the_provider(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer, circuit: CircuitBreaker
) -> None:
    kaleyra = make_kaleyra(breaker=circuit)
    fake_kaleyra.state.add_transcription("room_1", "session_1", "x" * 5000)
    for _ in range(THRESHOLD + 1):
        with pytest.raises(ProviderError, match="exceeds the configured maximum"):
            await kaleyra.transcription("room_1", "session_1", "txt", max_bytes=100)
    assert circuit.state is CircuitState.CLOSED


async def test_after_the_reset_period_a_successful_trial_closes_it(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer, circuit: CircuitBreaker, clock: FixedClock
) -> None:
    kaleyra = make_kaleyra(breaker=circuit)
    fake_kaleyra.state.fail_next("create_user", Fault.SERVER_ERROR, times=THRESHOLD)
    for _ in range(THRESHOLD):
        with pytest.raises(ProviderError):
            await kaleyra.create_user(Privilege.BASIC)
    clock.advance(timedelta(seconds=30))
    assert await kaleyra.create_user(Privilege.PLUS)
    assert circuit.state is CircuitState.CLOSED


async def test_every_logical_call_is_observed_with_its_outcome(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer, circuit: CircuitBreaker
) -> None:
    observer = RecordingObserver()
    kaleyra = make_kaleyra(breaker=circuit, observer=observer)
    await kaleyra.create_user(Privilege.PLUS)
    await kaleyra.delete_room("gone")  # 404: already deleted
    fake_kaleyra.state.fail_next("create_user", Fault.SERVER_ERROR, times=THRESHOLD)
    for _ in range(THRESHOLD):
        with pytest.raises(ProviderError):
            await kaleyra.create_user(Privilege.BASIC)
    with pytest.raises(ProviderUnavailable):
        await kaleyra.create_user(Privilege.BASIC)
    assert observer.calls == [
        ("kaleyra", "create_user", "2xx"),
        ("kaleyra", "delete_room", "4xx"),
        *[("kaleyra", "create_user", "failed")] * THRESHOLD,
        ("kaleyra", "create_user", "short_circuited"),
    ]
    assert all(0 <= seconds < 5 for seconds in observer.seconds)


async def test_the_request_id_is_passed_on(kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer) -> None:
    await kaleyra.create_user(Privilege.PLUS)
    assert "x-request-id" not in fake_kaleyra.state.last_request("POST", "/v2/users").headers
    token = current_request_id.set("req-42")
    try:
        await kaleyra.create_user(Privilege.PLUS)
    finally:
        current_request_id.reset(token)
    assert fake_kaleyra.state.last_request("POST", "/v2/users").headers["x-request-id"] == "req-42"
