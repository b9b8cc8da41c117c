"""The seed's GET answer and the CRUD fields, over HTTP on the embedded wire store: `durationInSeconds` is always
in the details, a new duration keeps an unlimited room, the trash keeps `bandyerRoomId`, and `creatorId` /
`updaterId` name the requester."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bson import ObjectId

from adapters.memory.clock import FixedClock
from adapters.mongo.embedded import EmbeddedMongoServer
from entrypoints.settings import Settings
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve, with_store
from tests.legacy.conftest import RawDatabase
from tests.legacy.original_documents import TELECONSULTATIONS

DOCTOR = {"miauserid": "doc-1"}
PATIENT = {"miauserid": "pat-1"}


def on_the_store(fake: FakeKaleyraServer, server: EmbeddedMongoServer, database: str, **overrides: Any) -> Settings:
    return with_store(kaleyra_settings(fake, **overrides), backend="mongo", mongodb_url=server.url, database=database)


async def created(client: Client, payload: dict[str, Any], headers: dict[str, str] | None = None) -> str:
    response = await client.post("/teleconsultation", json=payload, headers=headers)
    assert response.status_code == 201, response.text
    room_id: str = response.json()["roomId"]
    return room_id


async def stored(database: RawDatabase, teleconsultation_id: str) -> dict[str, Any]:
    document = await database[TELECONSULTATIONS].find_one({"_id": ObjectId(teleconsultation_id)})
    assert document is not None
    return document


async def test_an_unlimited_room_s_details_say_its_duration_is_null(
    fake_kaleyra: FakeKaleyraServer,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
) -> None:
    async with serve(on_the_store(fake_kaleyra, embedded_server, database_name), clock) as client:
        teleconsultation_id = await created(client, body(doctor(), patient()))
        details = (await client.get(f"/teleconsultation/{teleconsultation_id}", headers=PATIENT)).json()["details"]
    assert "durationInSeconds" in details
    assert details["durationInSeconds"] is None
    assert list(details) == [
        "recording",
        "recordingStatus",
        "callType",
        "description",
        "status",
        "disabled",
        "creationDate",
        "durationInSeconds",
        "durationUsedInSeconds",
        "live",
    ]


async def test_a_new_duration_keeps_an_unlimited_room_and_its_links(
    fake_kaleyra: FakeKaleyraServer,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
    raw_database: RawDatabase,
) -> None:
    async with serve(on_the_store(fake_kaleyra, embedded_server, database_name), clock) as client:
        teleconsultation_id = await created(client, body(doctor(), patient()))
        before = await stored(raw_database, teleconsultation_id)
        changed = await client.patch(f"/teleconsultation/{teleconsultation_id}", json={"duration_in_seconds": 1800})
        assert changed.status_code == 204
    after = await stored(raw_database, teleconsultation_id)
    assert after["endDate"] - after["startDate"] == timedelta(seconds=1800)
    assert after["bandyerRoomId"] == before["bandyerRoomId"]
    assert [p["accessLinkURL"] for p in after["participants"]] == [p["accessLinkURL"] for p in before["participants"]]
    assert list(fake_kaleyra.state.rooms) == [before["bandyerRoomId"]]


async def test_a_new_duration_replaces_a_room_that_has_one(
    fake_kaleyra: FakeKaleyraServer,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
    raw_database: RawDatabase,
) -> None:
    settings = on_the_store(fake_kaleyra, embedded_server, database_name, unlimited_teleconsultation=False)
    async with serve(settings, clock) as client:
        teleconsultation_id = await created(client, body(doctor(), patient()))
        before = await stored(raw_database, teleconsultation_id)
        changed = await client.patch(f"/teleconsultation/{teleconsultation_id}", json={"duration_in_seconds": 1800})
        assert changed.status_code == 204
    after = await stored(raw_database, teleconsultation_id)
    assert after["bandyerRoomId"] != before["bandyerRoomId"]
    assert [room.duration for room in fake_kaleyra.state.rooms.values()] == [1800]


async def test_a_cancelled_teleconsultation_keeps_its_room_id_and_the_room_is_deleted(
    fake_kaleyra: FakeKaleyraServer,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
    raw_database: RawDatabase,
) -> None:
    async with serve(on_the_store(fake_kaleyra, embedded_server, database_name), clock) as client:
        teleconsultation_id = await created(client, body(doctor(), patient()))
        room = (await stored(raw_database, teleconsultation_id))["bandyerRoomId"]
        assert (await client.delete(f"/teleconsultation/{teleconsultation_id}")).status_code == 204
        assert (await client.get(f"/teleconsultation/{teleconsultation_id}", headers=PATIENT)).status_code == 404
    trashed = await stored(raw_database, teleconsultation_id)
    assert (trashed["__STATE__"], trashed["bandyerRoomId"]) == ("TRASH", room)
    assert fake_kaleyra.state.rooms == {}  # the provider room is gone all the same


async def test_creator_and_updater_are_the_requesters(
    fake_kaleyra: FakeKaleyraServer,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
    raw_database: RawDatabase,
) -> None:
    async with serve(on_the_store(fake_kaleyra, embedded_server, database_name), clock) as client:
        by_doctor = await created(client, body(doctor(), patient()), headers=DOCTOR)
        assert (await stored(raw_database, by_doctor))["creatorId"] == "doc-1"
        assert (await stored(raw_database, by_doctor))["updaterId"] == "doc-1"

        moved = await client.patch(
            f"/teleconsultation/{by_doctor}", json={"start_date": "2030-02-23T15:30:00Z"}, headers=PATIENT
        )
        assert moved.status_code == 204
        after_change = await stored(raw_database, by_doctor)
        assert (after_change["creatorId"], after_change["updaterId"]) == ("doc-1", "pat-1")

        assert (
            await client.delete(f"/teleconsultation/{by_doctor}", headers={"miauserid": "admin-7"})
        ).status_code == 204
        trashed = await stored(raw_database, by_doctor)
        assert (trashed["creatorId"], trashed["updaterId"]) == ("doc-1", "admin-7")

        # No requester known: the service's own name, as before.
        anonymous = await created(client, body(doctor(), patient()))
        assert (await stored(raw_database, anonymous))["creatorId"] == "teleconsultation-service"
