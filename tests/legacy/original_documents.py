"""Documents shaped exactly as the original Node service (through the Mia CRUD service) wrote them (spec §6).

No `version`, no `resolvedUserId`, no `privilege`: those are this service's. Each fixture is one shape the
original left; `load` inserts them with a bare driver, as a store taken over from a Mia deployment holds them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from pymongo.asynchronous.database import AsyncDatabase

from tests.builders import T0

TELECONSULTATIONS = "teleconsultations"
USER_MAP = "teleconsultations_users"
CREATED = datetime(2024, 1, 10, 10, 0, tzinfo=UTC)
LINK = "https://clinic.bandyer.com/eu/direct-rest-call-handler/"

# 2.x, standalone mode: participants with userId, userBandyerId, groups and fullName.
V2_ID = "65848e0f0b1c2a0011a1b2c1"
# 2.x, no endDate (unlimited).
UNLIMITED_ID = "65848e0f0b1c2a0011a1b2c2"
# 1.2-1.8: participants named userExternalId / bandyerId.
V1_NAMES_ID = "65848e0f0b1c2a0011a1b2c3"
# Written without the CRUD's userId header: no creatorId / updaterId.
NO_WRITERS_ID = "65848e0f0b1c2a0011a1b2c4"
# Inserted in the CRUD's default state, DRAFT.
DRAFT_ID = "65848e0f0b1c2a0011a1b2c5"
# Auth mode: no groups and no fullName stored (they come from the auth service).
AUTH_MODE_ID = "65848e0f0b1c2a0011a1b2c6"
# Deleted by the original: TRASH.
TRASHED_ID = "65848e0f0b1c2a0011a1b2c7"
# Before 1.2.0: no participantsNumber, startDate or endDate. Without a start it cannot be understood.
PRE_120_ID = "65848e0f0b1c2a0011a1b2c8"

LIVE_IDS = (V2_ID, UNLIMITED_ID, V1_NAMES_ID, NO_WRITERS_ID, DRAFT_ID, AUTH_MODE_ID)


def room_of(document_id: str) -> str:
    return f"room_{document_id[-6:]}"


def link_of(document_id: str, user: str) -> str:
    return f"{LINK}{document_id[-6:]}-{user}?x=1"


def _crud(document_id: str, state: str = "PUBLIC") -> dict[str, Any]:
    return {
        "_id": ObjectId(document_id),
        "__STATE__": state,
        "creatorId": "public",
        "createdAt": CREATED,
        "updaterId": "public",
        "updatedAt": CREATED,
    }


def _participant(document_id: str, user: str, groups: list[str] | None, *, v1: bool = False) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "userExternalId" if v1 else "userId": user,
        "bandyerId" if v1 else "userBandyerId": f"kal_{user}",
        "accessLinkURL": link_of(document_id, user),
    }
    if groups is not None:
        entry.update(groups=groups, fullName=f"Name of {user}", language="it")
    return entry


def teleconsultation(
    document_id: str, *, state: str = "PUBLIC", v1: bool = False, standalone: bool = True, end: bool = True
) -> dict[str, Any]:
    doctor = f"doc-{document_id[-1]}"
    patient = f"pat-{document_id[-1]}"
    document = {
        **_crud(document_id, state),
        "bandyerRoomId": room_of(document_id),
        "participantsNumber": 2,
        "participants": [
            _participant(document_id, doctor, ["doctor"] if standalone else None, v1=v1),
            _participant(document_id, patient, ["patient"] if standalone else None, v1=v1),
        ],
        "startDate": T0,
        "teleconsultationState": "created",  # undocumented, unknown here: must survive every write
    }
    if end:
        document["endDate"] = T0 + timedelta(hours=1)
    return document


def documents() -> list[dict[str, Any]]:
    no_writers = teleconsultation(NO_WRITERS_ID)
    for field in ("creatorId", "updaterId"):
        del no_writers[field]
    pre_120 = {
        **_crud(PRE_120_ID),
        "bandyerRoomId": room_of(PRE_120_ID),
        "participants": [_participant(PRE_120_ID, "doc-8", ["doctor"], v1=True)],
    }
    return [
        teleconsultation(V2_ID),
        teleconsultation(UNLIMITED_ID, end=False),
        teleconsultation(V1_NAMES_ID, v1=True),
        no_writers,
        teleconsultation(DRAFT_ID, state="DRAFT"),
        teleconsultation(AUTH_MODE_ID, standalone=False),
        teleconsultation(TRASHED_ID, state="TRASH"),
        pre_120,
    ]


# The user-id map: a 2.x row, a row keyed by the pre-1.2.0 auth0Id, and one external id on two rows.
LEGACY_USER = "auth0|legacy"
DUPLICATED_USER = "doc-dup"
OLDEST_ROW = ObjectId("65848e0f0b1c2a0011a10001")


def user_rows() -> list[dict[str, Any]]:
    return [
        {**_crud("65848e0f0b1c2a0011a10000"), "receivedUserId": "doc-1", "bandyerId": "kal_doc-1"},
        {**_crud("65848e0f0b1c2a0011a1000a"), "auth0Id": LEGACY_USER, "bandyerId": "kal_legacy"},
        {**_crud("65848e0f0b1c2a0011a1000b"), "auth0Id": "auth0|other", "bandyerId": "kal_other"},
        {"_id": OLDEST_ROW, "receivedUserId": DUPLICATED_USER, "bandyerId": "kal_dup_oldest"},
        {**_crud("65848e0f0b1c2a0011a10002"), "receivedUserId": DUPLICATED_USER, "bandyerId": "kal_dup_newer"},
    ]


async def load(database: AsyncDatabase[dict[str, Any]], *, users: bool = True) -> None:
    await database[TELECONSULTATIONS].insert_many(documents())
    if users:
        await database[USER_MAP].insert_many(user_rows())
