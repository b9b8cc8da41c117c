"""A room the provider created without a link for someone is never kept, nor left behind at the provider."""

from __future__ import annotations

from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, doctor, patient
from tests.http.conftest import Client


async def test_a_room_answered_without_every_link_is_deleted_and_the_creation_fails(
    client: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    fake_kaleyra.state.links_withheld = 1

    response = await client.post("/teleconsultation", json=body(doctor(), patient()))

    assert response.status_code == 502
    assert fake_kaleyra.state.count("POST", "/v2/rooms") == 1
    assert fake_kaleyra.state.rooms == {}, "the room the provider made must be deleted again"
    assert response.json()["error"].endswith("returned no link for some participants")
