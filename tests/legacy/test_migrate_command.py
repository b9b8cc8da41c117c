"""`python -m entrypoints migrate [--dry-run]` as an operator runs it, on a store the original service filled."""

from __future__ import annotations

import os

from adapters.mongo.embedded import EmbeddedMongoServer
from tests.commands.service_process import run_command
from tests.legacy.conftest import RawDatabase
from tests.legacy.original_documents import (
    AUTH_MODE_ID,
    DUPLICATED_USER,
    LEGACY_USER,
    OLDEST_ROW,
    PRE_120_ID,
    TELECONSULTATIONS,
    USER_MAP,
    V1_NAMES_ID,
)


async def run_migrate(server: EmbeddedMongoServer, database: str, *arguments: str) -> tuple[int, str, str]:
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "MONGODB_URL": server.url,
        "MONGODB_DATABASE": database,
        "VIDEO_PROVIDER": "memory",
        "CRUD_SERVICE_URL": "http://crud-service",
    }
    return await run_command("migrate", *arguments, env=environment, seconds=120)


async def snapshot(database: RawDatabase) -> list[object]:
    return [await database[name].find({}).sort("_id", 1).to_list() for name in (TELECONSULTATIONS, USER_MAP)]


async def test_a_dry_run_reports_every_shape_and_writes_nothing(
    original_store: RawDatabase, embedded_server: EmbeddedMongoServer, database_name: str
) -> None:
    before = await snapshot(original_store)

    status, out, err = await run_migrate(embedded_server, database_name, "--dry-run")

    assert status == 1, out + err  # the pre-1.2.0 document without a start cannot be upgraded
    assert await snapshot(original_store) == before
    for line in (
        "teleconsultations: 8 scanned, 0 already current",
        "  no version: 6",
        "  participants without privilege: 6",
        "  participants without resolvedUserId: 6",
        "  participants whose groups give no privilege (read as basic): 1",
        "  participants with v1 names (userExternalId / bandyerId): 1",
        "  no endDate (unlimited): 1",
        "  no creatorId / updaterId: 1",
        "  __STATE__ DRAFT: 1",
        "  left as they are, state TRASH (never read by the service): 1",
        "  would upgrade: 6",
        f"  NOT UPGRADED {PRE_120_ID}: the stored teleconsultation {PRE_120_ID} cannot be read: "
        "its field startDate is missing",
        "teleconsultations_users: 5 scanned, 2 already current",
        "  keyed by auth0Id (before 1.2.0): 2",
        "  no createdAt / updatedAt: 1",
    ):
        assert line in out.splitlines(), (line, out)
    assert "unique index receivedUserId_1 blocked today by" in out
    assert DUPLICATED_USER not in out + err
    assert LEGACY_USER not in out + err
    # One start-up warning per variable of the original that does not apply here.
    assert "CRUD_SERVICE_URL is set but not used by this service" in err
    assert "set MONGODB_URL" in err


async def test_migrate_upgrades_everything_it_can_is_idempotent_and_then_exits_zero(
    original_store: RawDatabase, embedded_server: EmbeddedMongoServer, database_name: str
) -> None:
    status, out, err = await run_migrate(embedded_server, database_name)
    assert status == 1, out + err
    assert "  upgraded: 6" in out.splitlines()

    teleconsultations = original_store[TELECONSULTATIONS]
    v1 = await teleconsultations.find_one({"_id": _oid(V1_NAMES_ID)})
    assert v1 is not None
    assert v1["version"] == 1
    # Only added: the original's names stay beside today's, so the original still reads the document.
    first = v1["participants"][0]
    assert (first["userExternalId"], first["userId"], first["bandyerId"], first["userBandyerId"]) == (
        "doc-3",
        "doc-3",
        "kal_doc-3",
        "kal_doc-3",
    )
    assert (first["resolvedUserId"], first["privilege"]) == ("doc-3", "plus")
    assert v1["teleconsultationState"] == "created"
    auth_mode = await teleconsultations.find_one({"_id": _oid(AUTH_MODE_ID)})
    assert auth_mode is not None
    assert [p["privilege"] for p in auth_mode["participants"]] == ["basic", "basic"]
    users = original_store[USER_MAP]
    legacy = await users.find_one({"auth0Id": LEGACY_USER})
    assert legacy is not None
    assert legacy["receivedUserId"] == LEGACY_USER
    assert [row["_id"] for row in await users.find({"receivedUserId": DUPLICATED_USER}).to_list()] == [OLDEST_ROW]
    moved = await original_store[f"{USER_MAP}_duplicates"].find({}).to_list()
    assert [(row["bandyerId"], row["duplicateOf"]) for row in moved] == [("kal_dup_newer", OLDEST_ROW)]
    indexes = await users.index_information()
    assert indexes["receivedUserId_1"].get("unique") is True

    # Once the document that cannot be understood is repaired, the next run finishes the job and exits 0.
    await teleconsultations.update_one({"_id": _oid(PRE_120_ID)}, {"$set": {"startDate": v1["startDate"]}})
    status, out, err = await run_migrate(embedded_server, database_name)
    assert status == 0, out + err
    assert "  upgraded: 1" in out.splitlines()
    assert "the store is in today's shape" in out

    before = await snapshot(original_store)
    status, out, err = await run_migrate(embedded_server, database_name)
    assert status == 0, out + err
    assert "  upgraded: 0" in out.splitlines()
    assert await snapshot(original_store) == before


def _oid(document_id: str) -> object:
    from bson import ObjectId

    return ObjectId(document_id)
