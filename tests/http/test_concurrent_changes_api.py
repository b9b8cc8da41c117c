"""Concurrent changes of one teleconsultation over HTTP: one wins, the loser gets 409, nothing is half-applied."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import Client


def roster(*participants: dict[str, Any]) -> dict[str, Any]:
    return {"participants": {"number": len(participants), "data": list(participants)}}


async def test_of_two_concurrent_changes_one_wins_and_the_other_gets_409(
    client: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    room_id = await create(client, body(doctor(), patient()))
    fake_kaleyra.state.latency_seconds = 0.2  # both read the same version before either saves
    path = f"/teleconsultation/{room_id}"
    first = asyncio.create_task(client.patch(path, json=roster(doctor(), patient("pat-3"))))
    await asyncio.sleep(0.05)
    second = await client.patch(path, json=roster(doctor(), patient("pat-4")))
    answers = {"pat-3": await first, "pat-4": second}
    assert sorted(a.status_code for a in answers.values()) == [204, 409]
    [winner] = [user for user, answer in answers.items() if answer.status_code == 204]
    [loser] = [user for user, answer in answers.items() if answer.status_code == 409]
    assert answers[loser].json() == {
        "error": "Failed PATCH /teleconsultation: the teleconsultation was modified concurrently, retry the request"
    }
    fake_kaleyra.state.latency_seconds = 0
    assert (await client.get(path, headers={"miauserid": winner})).status_code == 200
    assert (await client.get(path, headers={"miauserid": loser})).status_code == 401
    assert len(fake_kaleyra.state.rooms) == 1  # the winner's: the loser's and the original were deleted


async def test_a_change_that_loses_to_a_concurrent_delete_gets_409_and_leaves_no_room(
    client: Client, fake_kaleyra: FakeKaleyraServer
) -> None:
    room_id = await create(client, body(doctor(), patient()))
    fake_kaleyra.state.latency_seconds = 0.2  # the change waits for its new room while the delete is stored
    path = f"/teleconsultation/{room_id}"
    change = asyncio.create_task(client.patch(path, json=roster(doctor(), patient("pat-3"))))
    await asyncio.sleep(0.05)
    deleted = await client.delete(path)
    changed = await change
    assert (deleted.status_code, changed.status_code) == (204, 409)
    assert (await client.get(path, headers={"miauserid": "doc-1"})).status_code == 404
    assert fake_kaleyra.state.rooms == {}
