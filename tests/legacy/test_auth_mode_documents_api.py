"""A teleconsultation the original stored in auth mode holds no groups: its participants' privileges are guessed
(basic) until a change needs them, and then the identity service gives the true ones, so a change that keeps the
participants is served and keeps the room the original made."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from adapters.memory.clock import FixedClock
from adapters.mongo.embedded import EmbeddedMongoServer
from tests.fakes.auth0_client import FakeAuth0Client
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.conftest import auth_settings, kaleyra_settings, serve, with_store
from tests.legacy.conftest import RawDatabase, seed_rooms
from tests.legacy.original_documents import AUTH_MODE_ID, TELECONSULTATIONS, link_of, room_of

MOVED = {"start_date": "2030-02-22T16:00:00Z"}


async def auth_mode_document(database: RawDatabase) -> dict[str, Any]:
    document = await database[TELECONSULTATIONS].find_one({"_id": ObjectId(AUTH_MODE_ID)})
    assert document is not None
    return document


async def test_moving_an_auth_mode_teleconsultation_learns_the_privileges_and_keeps_the_room(
    original_store: RawDatabase,
    fake_kaleyra: FakeKaleyraServer,
    auth0: FakeAuth0Client,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
) -> None:
    seed_rooms(fake_kaleyra)
    auth0.state.add_user("doc-6", name="Joe Smith", groups=["doctor"])
    auth0.state.add_user("pat-6", name="Jane Doe", groups=["patient"])
    settings = auth_settings(fake_kaleyra, auth0)
    settings = with_store(settings, backend="mongo", mongodb_url=embedded_server.url, database=database_name)
    async with serve(settings, clock) as client:
        moved = await client.patch(f"/teleconsultation/{AUTH_MODE_ID}", json=MOVED)
        assert moved.status_code == 204, moved.text
        assert room_of(AUTH_MODE_ID) in fake_kaleyra.state.rooms  # the original's room, with its links

    document = await auth_mode_document(original_store)
    assert document["bandyerRoomId"] == room_of(AUTH_MODE_ID)
    assert [(p["privilege"], p["privilegeGuessed"], p["groups"]) for p in document["participants"]] == [
        ("plus", False, ["doctor"]),
        ("basic", False, ["patient"]),
    ]
    assert [p["accessLinkURL"] for p in document["participants"]] == [
        link_of(AUTH_MODE_ID, "doc-6"),
        link_of(AUTH_MODE_ID, "pat-6"),
    ]


async def test_the_identity_service_decides_and_a_roster_without_a_plus_user_is_still_refused(
    original_store: RawDatabase,
    fake_kaleyra: FakeKaleyraServer,
    auth0: FakeAuth0Client,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
) -> None:
    seed_rooms(fake_kaleyra)
    auth0.state.add_user("doc-6", name="Joe Smith", groups=["patient"])  # no longer a doctor
    auth0.state.add_user("pat-6", name="Jane Doe", groups=["patient"])
    settings = auth_settings(fake_kaleyra, auth0)
    settings = with_store(settings, backend="mongo", mongodb_url=embedded_server.url, database=database_name)
    async with serve(settings, clock) as client:
        refused = await client.patch(f"/teleconsultation/{AUTH_MODE_ID}", json=MOVED)
    assert refused.status_code == 400
    assert refused.json() == {"error": "Failed PATCH /teleconsultation: no plus user in room"}
    # Nothing stored: the guess stays a guess.
    document = await auth_mode_document(original_store)
    assert "privilegeGuessed" not in document["participants"][0]
    assert document["startDate"] != MOVED["start_date"]


async def test_without_an_identity_service_the_change_must_name_the_participants(
    original_store: RawDatabase,
    fake_kaleyra: FakeKaleyraServer,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
) -> None:
    seed_rooms(fake_kaleyra)
    settings = with_store(
        kaleyra_settings(fake_kaleyra), backend="mongo", mongodb_url=embedded_server.url, database=database_name
    )
    async with serve(settings, clock) as client:
        refused = await client.patch(f"/teleconsultation/{AUTH_MODE_ID}", json=MOVED)
    assert refused.status_code == 400
    # Standalone mode takes groups and names from the body only, and the original stored none for these.
    assert refused.json() == {"error": "Failed PATCH /teleconsultation: participant doc-6 needs groups and fullName"}
