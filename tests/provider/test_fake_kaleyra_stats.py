"""The fake Kaleyra's load-test aids: call counts without recording, and the stats route."""

from __future__ import annotations

import aiohttp

from adapters.kaleyra import KaleyraSettings, KaleyraVideoProvider
from tests.fakes.kaleyra_server import STATS_PATH, FakeKaleyraServer
from tests.provider.conftest import API_KEY, FAST_KALEYRA, SpecFactory


async def test_room_reads_are_counted_even_when_requests_are_not_recorded(
    http_session: aiohttp.ClientSession, make_spec: SpecFactory
) -> None:
    async with FakeKaleyraServer(api_key=API_KEY, record_requests=False) as fake:
        kaleyra = KaleyraVideoProvider(
            http_session, KaleyraSettings(base_url=fake.base_url, api_key=API_KEY, **FAST_KALEYRA)
        )
        polled = await kaleyra.create_room(await make_spec(kaleyra))
        other = await kaleyra.create_room(await make_spec(kaleyra))
        for _ in range(3):
            await kaleyra.room_details(polled.room_id)
        await kaleyra.room_details(other.room_id)

        async with http_session.get(f"{fake.base_url}{STATS_PATH}") as response:
            stats = await response.json()

        assert stats["room_reads"] == {polled.room_id: 3, other.room_id: 1}
        assert set(stats["shortest_room_read_gap"]) == {polled.room_id}  # the other room was read once
        assert 0 < stats["shortest_room_read_gap"][polled.room_id] < 5
        assert fake.state.calls == []
        assert fake.state.requests == []
        assert fake.state.call_counts[("POST", "/v2/users")] == 4
