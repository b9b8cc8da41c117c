"""How the Kaleyra adapter copes with a slow, failing or hostile API, and what it never reveals."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import aiohttp
import pytest

from adapters.kaleyra import KaleyraSettings, KaleyraVideoProvider
from application.errors import ProviderError
from domain.privileges import Privilege
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import Fault
from tests.provider.conftest import API_KEY, SpecFactory

Build = Callable[..., KaleyraVideoProvider]


class SleepRecorder:
    """Stands in for asyncio.sleep so that backoff delays can be checked without waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


async def test_a_hanging_post_times_out_quickly_and_is_not_retried(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer
) -> None:
    fake_kaleyra.state.fail_next("create_user", "hang")
    started = time.monotonic()

    with pytest.raises(ProviderError, match="kaleyra create_user timed out"):
        await kaleyra.create_user(Privilege.PLUS)

    assert time.monotonic() - started < 1.5
    assert fake_kaleyra.state.count("POST", "/v2/users") == 1


async def test_a_hanging_get_is_retried_then_succeeds(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer, make_spec: SpecFactory
) -> None:
    kaleyra = make_kaleyra(total_timeout_seconds=0.2)
    room = await kaleyra.create_room(await make_spec(kaleyra))
    fake_kaleyra.state.fail_next("get_room", "hang")

    assert await kaleyra.room_details(room.room_id) is not None
    assert fake_kaleyra.state.count("GET", f"/v2/rooms/{room.room_id}") == 2


@pytest.mark.parametrize(
    ("fault", "detail"),
    [
        ("500", "status 500"),
        ("503", "status 503"),
        ("429", "status 429"),
        ("reset", "unreachable"),
        ("garbage", "undecodable response"),
    ],
)
async def test_a_failing_post_is_never_retried(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, fault: str, detail: str
) -> None:
    fake_kaleyra.state.fail_next("create_user", fault)

    with pytest.raises(ProviderError, match=f"^kaleyra create_user {detail}$"):
        await kaleyra.create_user(Privilege.PLUS)

    assert fake_kaleyra.state.count("POST", "/v2/users") == 1
    assert fake_kaleyra.state.users == {}


@pytest.mark.parametrize("fault", ["500", "503", "429", "reset"])
async def test_get_and_delete_are_retried_until_they_succeed(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer, make_spec: SpecFactory, fault: str
) -> None:
    kaleyra = make_kaleyra(retry_after_cap_seconds=0.0)
    room = await kaleyra.create_room(await make_spec(kaleyra))
    state = fake_kaleyra.state
    state.fail_next("get_room", fault, times=2)
    state.fail_next("delete_room", fault, times=2)

    details = await kaleyra.room_details(room.room_id)
    await kaleyra.delete_room(room.room_id)

    assert details is not None
    assert state.count("GET", f"/v2/rooms/{room.room_id}") == 3
    assert state.count("DELETE", f"/v2/rooms/{room.room_id}") == 3
    assert room.room_id not in state.rooms


async def test_retries_are_bounded(make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer) -> None:
    kaleyra = make_kaleyra(retry_attempts=4)
    fake_kaleyra.state.fail_next("delete_room", "503", times=10)

    with pytest.raises(ProviderError, match="kaleyra delete_room status 503"):
        await kaleyra.delete_room("room_x")

    assert fake_kaleyra.state.count("DELETE", "/v2/rooms/room_x") == 4


async def test_retry_after_is_honoured_up_to_its_cap(make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer) -> None:
    sleep = SleepRecorder()
    kaleyra = make_kaleyra(sleep=sleep, retry_after_cap_seconds=2.0, retry_attempts=4)
    state = fake_kaleyra.state
    state.fail_next("list_uploads", "429", times=3)
    state.retry_after = "0.5"
    await kaleyra.list_uploads("room_a")
    state.retry_after = "120"
    state.fail_next("list_uploads", "429")
    await kaleyra.list_uploads("room_a")

    assert sleep.delays == [0.5, 0.5, 0.5, 2.0]


async def test_retry_after_really_delays_the_next_attempt(make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer) -> None:
    kaleyra = make_kaleyra(retry_after_cap_seconds=0.2)
    fake_kaleyra.state.fail_next("delete_upload", "429")  # Retry-After: 1, capped to 0.2 s
    started = time.monotonic()

    await kaleyra.delete_upload("k")

    assert 0.19 <= time.monotonic() - started < 0.9


async def test_backoff_grows_exponentially_with_full_jitter(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer
) -> None:
    sleep = SleepRecorder()
    kaleyra = make_kaleyra(sleep=sleep, retry_attempts=6, retry_backoff_base_seconds=1.0, retry_backoff_max_seconds=8.0)
    fake_kaleyra.state.fail_next("delete_room", "503", times=5)

    await kaleyra.delete_room("room_x")

    ceilings = [1.0, 2.0, 4.0, 8.0, 8.0]
    assert len(sleep.delays) == len(ceilings)
    assert all(0.0 <= delay <= ceiling for delay, ceiling in zip(sleep.delays, ceilings, strict=True))


async def test_redirects_are_not_followed(kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer) -> None:
    fake_kaleyra.state.fail_next("get_room", "redirect")

    with pytest.raises(ProviderError, match="kaleyra room_details status 307"):
        await kaleyra.room_details("room_x")

    assert fake_kaleyra.state.calls == [("GET", "/v2/rooms/room_x")]


async def test_a_session_that_raises_for_status_does_not_change_the_outcome(
    fake_kaleyra: FakeKaleyraServer,
) -> None:
    settings = KaleyraSettings(base_url=fake_kaleyra.base_url, api_key=API_KEY, retry_attempts=1)
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        kaleyra = KaleyraVideoProvider(session, settings)

        await kaleyra.delete_room("room_x")
        assert await kaleyra.room_details("room_x") is None


async def test_an_unreachable_api_is_a_provider_error(http_session: aiohttp.ClientSession) -> None:
    # Port 9 (discard) on localhost is closed on any sane test machine.
    settings = KaleyraSettings(
        base_url="http://127.0.0.1:9", api_key=API_KEY, retry_attempts=2, retry_backoff_base_seconds=0.0
    )
    kaleyra = KaleyraVideoProvider(http_session, settings)

    with pytest.raises(ProviderError, match="kaleyra room_details unreachable"):
        await kaleyra.room_details("room_x")


async def test_secrets_never_reach_exceptions_or_logs(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer, make_spec: SpecFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    kaleyra = make_kaleyra(retry_attempts=2, total_timeout_seconds=0.2)
    spec = await make_spec(kaleyra)
    room = await kaleyra.create_room(spec)
    state = fake_kaleyra.state
    errors: list[ProviderError] = []
    for fault in ["500", "503", "429", "reset", "hang", "garbage"]:
        state.fail_next("create_room", fault)
        state.fail_next("get_room", fault, times=2)
        for call in (kaleyra.create_room(spec), kaleyra.room_details(room.room_id)):
            try:
                await call
            except ProviderError as error:
                errors.append(error)
    wrong_key = make_kaleyra(api_key="wrong-" + API_KEY)
    with pytest.raises(ProviderError, match="status 401") as refused:
        await wrong_key.create_user(Privilege.PLUS)
    errors.append(refused.value)

    assert len(errors) >= 12
    texts = [f"{e} {e!r} {e.args}" for e in errors] + [r.getMessage() for r in caplog.records]
    assert caplog.records  # retries were logged
    links = [link for stored in state.rooms.values() for link in (p["link"] for p in stored.participants)]
    for text in texts:
        assert API_KEY not in text
        assert "direct-rest-call-handler" not in text
        assert not any(link in text for link in links)
    assert API_KEY not in repr(kaleyra) + repr(KaleyraSettings(base_url="https://x.test", api_key=API_KEY))


async def test_random_failures_are_reproducible_and_absorbed_by_retries(
    make_kaleyra: Build, fake_kaleyra: FakeKaleyraServer
) -> None:
    state = fake_kaleyra.state
    state.random_faults = (Fault.SERVER_ERROR, Fault.UNAVAILABLE, Fault.RATE_LIMITED, Fault.RESET)
    state.retry_after = "0"
    kaleyra = make_kaleyra(retry_attempts=8, retry_backoff_base_seconds=0.0)
    for _ in range(5):
        state.add_upload("room_a")
    state.failure_rate = 0.3
    created, refused = 0, 0
    for _ in range(20):
        try:
            await kaleyra.create_user(Privilege.BASIC)
            created += 1
        except ProviderError:
            refused += 1
    listings = [await kaleyra.list_uploads("room_a") for _ in range(10)]

    assert refused > 0  # seed 0 with a 30 % rate fails some of twenty calls
    assert len(state.users) == created
    assert state.count("POST", "/v2/users") == 20
    assert all(len(keys) == 5 for keys in listings)
    assert state.count("GET", "/v2/uploads") > 10
