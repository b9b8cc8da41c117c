"""The whole lifecycle over HTTP on a store the original service filled: every shape it wrote serves unchanged."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

from adapters.memory.clock import FixedClock
from adapters.mongo.embedded import EmbeddedMongoServer
from entrypoints.settings import Settings
from tests.builders import T0
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.conftest import kaleyra_settings, serve, with_store
from tests.legacy.conftest import RawDatabase, seed_rooms
from tests.legacy.original_documents import (
    AUTH_MODE_ID,
    DRAFT_ID,
    DUPLICATED_USER,
    LEGACY_USER,
    LIVE_IDS,
    NO_WRITERS_ID,
    PRE_120_ID,
    TELECONSULTATIONS,
    TRASHED_ID,
    UNLIMITED_ID,
    USER_MAP,
    V1_NAMES_ID,
    V2_ID,
    link_of,
    room_of,
)


def settings_for(fake: FakeKaleyraServer, server: EmbeddedMongoServer, database: str) -> Settings:
    base = kaleyra_settings(fake, delete_uploads=True)
    return with_store(base, backend="mongo", mongodb_url=server.url, database=database)


def as_user(user: str) -> dict[str, str]:
    return {"miauserid": user}


async def test_every_shape_the_original_stored_serves_the_whole_lifecycle(
    original_store: RawDatabase,
    fake_kaleyra: FakeKaleyraServer,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
) -> None:
    seed_rooms(fake_kaleyra)
    async with serve(settings_for(fake_kaleyra, embedded_server, database_name), clock) as client:
        for document_id in LIVE_IDS:
            patient = f"pat-{document_id[-1]}"
            waiting = await client.get(f"/teleconsultation/{document_id}", headers=as_user(patient))
            assert waiting.status_code == 200, (document_id, waiting.text)
            assert waiting.json()["accessLinkURL"] is None
            assert waiting.json()["bandyerUserId"] == f"kal_{patient}"
            assert waiting.json()["details"]["status"]
        assert (await client.get(f"/teleconsultation/{TRASHED_ID}", headers=as_user("pat-7"))).status_code == 404

        clock.set(T0)
        for document_id in LIVE_IDS:
            doctor = f"doc-{document_id[-1]}"
            joined = await client.get(f"/teleconsultation/{document_id}", headers=as_user(doctor))
            assert joined.json()["accessLinkURL"].startswith(link_of(document_id, doctor)), document_id

        fake_kaleyra.state.add_upload(f"room_{V1_NAMES_ID[-6:]}")
        fake_kaleyra.state.add_upload(f"room_{V1_NAMES_ID[-6:]}")
        # Only a participant may, here one named as 1.x named them (userExternalId).
        as_doctor = as_user(f"doc-{V1_NAMES_ID[-1]}")
        uploads = await client.delete(f"/teleconsultation/{V1_NAMES_ID}/uploads", headers=as_doctor)
        assert (uploads.status_code, uploads.json()) == (200, {"total": 2, "deleted": 2})

        clock.set(T0 - timedelta(days=1))
        for document_id in (V2_ID, UNLIMITED_ID, NO_WRITERS_ID):
            moved = await client.patch(f"/teleconsultation/{document_id}", json={"start_date": "2030-02-22T16:00:00Z"})
            assert moved.status_code == 204, (document_id, moved.text)
        for document_id in (V1_NAMES_ID, AUTH_MODE_ID):
            doctor = f"doc-{document_id[-1]}"
            replaced = await client.patch(
                f"/teleconsultation/{document_id}",
                json={
                    "participants": {
                        "number": 2,
                        "data": [
                            {"userId": doctor, "groups": ["doctor"], "fullName": "Joe Smith"},
                            {"userId": "pat-new", "groups": ["patient"], "fullName": "Jane Doe"},
                        ],
                    }
                },
            )
            assert replaced.status_code == 204, (document_id, replaced.text)
            assert room_of(document_id) not in fake_kaleyra.state.rooms  # a new room for new people
        assert (await client.delete(f"/teleconsultation/{DRAFT_ID}")).status_code == 204
        assert (await client.get(f"/teleconsultation/{DRAFT_ID}", headers=as_user("pat-5"))).status_code == 404

        # Upgraded by the write, and still the same teleconsultation.
        clock.set(T0 + timedelta(minutes=30))
        after = await client.get(f"/teleconsultation/{V2_ID}", headers=as_user("doc-1"))
        assert after.json()["accessLinkURL"].startswith(link_of(V2_ID, "doc-1"))

    stored = await original_store[TELECONSULTATIONS].find_one({"_id": _oid(V2_ID)})
    assert stored is not None
    assert stored["version"] == 1
    assert stored["creatorId"] == "public"  # who created it is kept
    assert stored["teleconsultationState"] == "created"
    assert [(p["resolvedUserId"], p["privilege"]) for p in stored["participants"]] == [
        ("doc-1", "plus"),
        ("pat-1", "basic"),
    ]
    no_writers = await original_store[TELECONSULTATIONS].find_one({"_id": _oid(NO_WRITERS_ID)})
    assert no_writers is not None
    assert (no_writers["creatorId"], no_writers["updaterId"]) == ("unknown", "teleconsultation-service")
    unlimited = await original_store[TELECONSULTATIONS].find_one({"_id": _oid(UNLIMITED_ID)})
    assert unlimited is not None
    assert unlimited["endDate"] - unlimited["startDate"] == timedelta(hours=24)
    v1_names = await original_store[TELECONSULTATIONS].find_one({"_id": _oid(V1_NAMES_ID)})
    assert v1_names is not None
    assert [p["userId"] for p in v1_names["participants"]] == ["doc-3", "pat-new"]
    assert "userExternalId" not in v1_names["participants"][0]  # rewritten participants carry today's names
    draft = await original_store[TELECONSULTATIONS].find_one({"_id": _oid(DRAFT_ID)})
    assert draft is not None
    assert draft["__STATE__"] == "TRASH"
    assert f"room_{DRAFT_ID[-6:]}" not in fake_kaleyra.state.rooms


async def test_a_document_that_cannot_be_understood_is_a_clear_503_and_the_log_names_its_id(
    original_store: RawDatabase,
    fake_kaleyra: FakeKaleyraServer,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
    json_logs: io.StringIO,
) -> None:
    async with serve(settings_for(fake_kaleyra, embedded_server, database_name), clock) as client:
        for request in (
            client.get(f"/teleconsultation/{PRE_120_ID}", headers=as_user("doc-8")),
            client.patch(f"/teleconsultation/{PRE_120_ID}", json={"start_date": "2030-02-22T16:00:00Z"}),
            client.delete(f"/teleconsultation/{PRE_120_ID}"),
        ):
            response = await request
            assert response.status_code == 503
            assert "retry-after" not in response.headers
            assert response.json()["error"].endswith(
                f"the stored teleconsultation {PRE_120_ID} cannot be read: its field startDate is missing"
            )
    lines = [json.loads(line) for line in json_logs.getvalue().splitlines()]
    unreadable = [line for line in lines if line["message"] == "a stored teleconsultation cannot be read"]
    assert unreadable
    assert all(line["document_id"] == PRE_120_ID for line in unreadable)
    assert unreadable[0]["field"] == "startDate"
    assert "doc-8" not in json_logs.getvalue()


async def test_the_user_map_as_the_original_left_it(
    original_store: RawDatabase,
    fake_kaleyra: FakeKaleyraServer,
    embedded_server: EmbeddedMongoServer,
    database_name: str,
    clock: FixedClock,
    json_logs: io.StringIO,
) -> None:
    for provider_user in ("kal_dup_oldest", "kal_dup_newer", "kal_legacy"):
        fake_kaleyra.state.add_user("plus", provider_user)
    async with serve(settings_for(fake_kaleyra, embedded_server, database_name), clock) as client:
        assert (await client.get("/-/ready")).status_code == 200
        created = await client.post(
            "/teleconsultation",
            json={
                "participants": {
                    "number": 2,
                    "data": [
                        {"userId": DUPLICATED_USER, "groups": ["doctor"], "fullName": "Joe Smith"},
                        {"userId": LEGACY_USER, "groups": ["patient"], "fullName": "Jane Doe"},
                    ],
                },
                "start_date": "2030-02-22T15:30:00Z",
                "duration_in_seconds": 3600,
            },
        )
        assert created.status_code == 201, created.text
    # No second provider user: the auth0Id row and the oldest of the duplicates are reused.
    assert len(fake_kaleyra.state.users) == 3
    room = next(iter(fake_kaleyra.state.rooms.values()))
    assert sorted(str(p.get("user_id")) for p in room.participants) == ["kal_dup_oldest", "kal_legacy"]
    warnings = [json.loads(line) for line in json_logs.getvalue().splitlines() if "unique index" in line]
    assert len(warnings) == 1
    message = warnings[0]["message"]
    assert f"collection {USER_MAP}: unique index receivedUserId_1 not created" in message
    assert "1 external user id(s) appear on more than one row (2 rows)" in message
    assert "2 rows have no receivedUserId" in message
    assert DUPLICATED_USER not in json_logs.getvalue()
    assert LEGACY_USER not in json_logs.getvalue()


def _oid(document_id: str) -> Any:
    from bson import ObjectId

    return ObjectId(document_id)
