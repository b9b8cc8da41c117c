"""A participant id that can never sign in is refused at creation and change, before anything is created."""

from __future__ import annotations

import pytest

from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import create, teleconsultation
from tests.http.conftest import Client

NEVER_SIGNS_IN = ["   ", "\t", "pat\x00-1", "pat-1\n", " pat-1", "pat\x851"]
REFUSAL = "participant 2 has a userId that can never sign in"


@pytest.mark.parametrize("user_id", NEVER_SIGNS_IN)
async def test_creation_refuses_it(client: Client, fake_kaleyra: FakeKaleyraServer, user_id: str) -> None:
    response = await client.post("/teleconsultation", json=teleconsultation(patient_id=user_id))

    assert response.status_code == 400
    assert response.json()["error"].startswith(f"Failed POST /teleconsultation: {REFUSAL}")
    assert fake_kaleyra.state.users == {}


@pytest.mark.parametrize("user_id", NEVER_SIGNS_IN)
async def test_a_change_refuses_it_and_keeps_the_roster(client: Client, user_id: str) -> None:
    room_id = await create(client)

    response = await client.patch(
        f"/teleconsultation/{room_id}", json={"participants": teleconsultation(patient_id=user_id)["participants"]}
    )

    assert response.status_code == 400
    assert response.json()["error"].startswith(f"Failed PATCH /teleconsultation: {REFUSAL}")
    assert (await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})).status_code == 200
