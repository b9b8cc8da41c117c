"""A room carries the intent's opaque id as its description, and a failed creation says whether a room may exist."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from adapters.kaleyra import KaleyraVideoProvider
from application.errors import ProviderError
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.provider.conftest import SpecFactory


async def test_the_reference_is_sent_as_the_rooms_description_and_read_back(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, make_spec: SpecFactory
) -> None:
    spec = replace(await make_spec(kaleyra), reference="3f1c0d9a8b7e6f5a4b3c2d1e0f9a8b7c")
    room = await kaleyra.create_room(spec)
    assert fake_kaleyra.state.last_request("POST", "/v2/rooms").json()["description"] == spec.reference
    details = await kaleyra.room_details(room.room_id)
    assert details is not None
    assert details.description == spec.reference


async def test_without_a_reference_no_description_is_sent(
    kaleyra: KaleyraVideoProvider, fake_kaleyra: FakeKaleyraServer, make_spec: SpecFactory
) -> None:
    await kaleyra.create_room(await make_spec(kaleyra))
    assert "description" not in fake_kaleyra.state.last_request("POST", "/v2/rooms").json()


@pytest.mark.parametrize(
    ("fault", "unknown"),
    [
        ("lost", True),  # carried out, the answer never arrives
        ("hang", True),  # no answer within the timeout
        ("reset", True),
        ("garbage", True),  # a success that cannot be read
        ("500", False),  # the provider answered: no room
        ("503", False),
        ("400", False),
    ],
)
async def test_a_failed_creation_says_whether_its_outcome_is_unknown(
    make_kaleyra: Callable[..., KaleyraVideoProvider],
    fake_kaleyra: FakeKaleyraServer,
    make_spec: SpecFactory,
    fault: str,
    unknown: bool,
) -> None:
    kaleyra = make_kaleyra(total_timeout_seconds=0.2)
    spec = await make_spec(kaleyra)
    fake_kaleyra.state.fail_next("create_room", fault)
    with pytest.raises(ProviderError) as raised:
        await kaleyra.create_room(spec)
    assert raised.value.outcome_unknown is unknown
