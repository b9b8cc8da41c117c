"""The shapes the Node service (through the CRUD service) left in the collections, read as today's shape.

Every function here takes a raw stored document and returns today's fields plus the names of the legacy shapes it
found; nothing is written. The repository validates the result as today's document; `migrate` writes the
difference. Upgrading only ever adds fields (and turns a `DRAFT` teleconsultation `PUBLIC`), so the original
service still reads an upgraded document: the v1 participant names, `auth0Id` and any field this service does not
know are kept as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId

from adapters.mongo.documents import DRAFT, PUBLIC, STATE, VERSION
from application.errors import StoredDocumentUnreadable
from domain.duration_policy import MAXIMUM_DURATION
from domain.errors import NoConfiguredGroup
from domain.privileges import Privilege, PrivilegePolicy

# Written as creatorId of a document the original stored without one: who created it is not known.
UNKNOWN_WRITER = "unknown"
# The states a teleconsultation is live in: the original's CRUD inserted DRAFT unless its endpoint defaulted to PUBLIC.
LIVE_STATES = (PUBLIC, DRAFT)


class Shape(StrEnum):
    """A way a stored document differs from today's shape; the names are what `migrate` reports."""

    NO_VERSION = "no version"
    NO_RESOLVED_USER_ID = "participants without resolvedUserId"
    NO_PRIVILEGE = "participants without privilege"
    PRIVILEGE_NOT_DERIVABLE = "participants whose groups give no privilege (read as basic)"
    V1_PARTICIPANT_NAMES = "participants with v1 names (userExternalId / bandyerId)"
    NO_END_DATE = "no endDate (unlimited)"
    NO_PARTICIPANTS_NUMBER = "no participantsNumber (before 1.2.0)"
    NO_CRUD_WRITERS = "no creatorId / updaterId"
    NO_CRUD_TIMESTAMPS = "no createdAt / updatedAt"
    DRAFT_STATE = "__STATE__ DRAFT"
    AUTH0_ID_KEY = "keyed by auth0Id (before 1.2.0)"


@dataclass(frozen=True, slots=True)
class Upgrade:
    """Today's fields of one stored document (stored names, legacy fields kept) and the shapes that were upgraded."""

    document: dict[str, Any]
    shapes: frozenset[Shape]

    def changes(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """The top-level fields whose value the upgrade adds or changes, `version` aside."""
        return {
            name: value
            for name, value in self.document.items()
            if name not in ("_id", VERSION) and (name not in raw or raw[name] != value)
        }


def upgrade_teleconsultation(raw: Mapping[str, Any], privileges: PrivilegePolicy) -> Upgrade:
    """Today's shape of a stored teleconsultation; raises StoredDocumentUnreadable naming the field it cannot read.

    Missing `version` → 0 (never written by this service); missing `resolvedUserId` → the user id; missing
    `privilege` → from the participant's stored groups and today's privileges configuration, basic (the least)
    when they give none; `userExternalId` / `bandyerId` → `userId` / `userBandyerId`; missing `endDate` → the
    start plus the longest a teleconsultation may last (24 hours); missing `participantsNumber` → the number of
    participants (before 1.2.0 every participant was known at creation); missing CRUD fields → derived from the id.
    """
    document_id = _document_id(raw)
    shapes: set[Shape] = set()
    upgraded = dict(raw)
    if VERSION not in raw:
        shapes.add(Shape.NO_VERSION)
        upgraded[VERSION] = 0
    elif not _is_int(raw[VERSION]) or raw[VERSION] < 0:
        raise StoredDocumentUnreadable(document_id, VERSION, "is not a whole number")
    if raw.get(STATE) == DRAFT:
        shapes.add(Shape.DRAFT_STATE)
        upgraded[STATE] = PUBLIC
    _crud_fields(raw, upgraded, shapes, document_id)
    start = raw.get("startDate")
    if not isinstance(start, datetime):
        raise StoredDocumentUnreadable(document_id, "startDate", "is missing" if start is None else "is not a date")
    if raw.get("endDate") is None:
        shapes.add(Shape.NO_END_DATE)
        upgraded["endDate"] = _utc(start) + MAXIMUM_DURATION
    elif not isinstance(raw["endDate"], datetime):
        raise StoredDocumentUnreadable(document_id, "endDate", "is not a date")
    entries = raw.get("participants", [])
    if not isinstance(entries, list):
        raise StoredDocumentUnreadable(document_id, "participants", "is not a list")
    upgraded["participants"] = [
        _participant(entry, index, privileges, shapes, document_id) for index, entry in enumerate(entries)
    ]
    if raw.get("participantsNumber") is None:
        shapes.add(Shape.NO_PARTICIPANTS_NUMBER)
        upgraded["participantsNumber"] = len(entries)
    elif not _is_int(raw["participantsNumber"]):
        raise StoredDocumentUnreadable(document_id, "participantsNumber", "is not a whole number")
    return Upgrade(upgraded, frozenset(shapes))


def upgrade_user_mapping(raw: Mapping[str, Any]) -> Upgrade:
    """Today's shape of a user-id map row: `auth0Id` (before 1.2.0) → `receivedUserId`, CRUD fields derived."""
    document_id = _document_id(raw)
    shapes: set[Shape] = set()
    upgraded = dict(raw)
    if raw.get("receivedUserId") is None:
        legacy = raw.get("auth0Id")
        if not isinstance(legacy, str):
            raise StoredDocumentUnreadable(document_id, "receivedUserId", "is missing", kind="user-id map row")
        shapes.add(Shape.AUTH0_ID_KEY)
        upgraded["receivedUserId"] = legacy
    _crud_fields(raw, upgraded, shapes, document_id)
    if STATE not in raw:
        upgraded[STATE] = PUBLIC
    return Upgrade(upgraded, frozenset(shapes))


def _participant(
    entry: Any, index: int, privileges: PrivilegePolicy, shapes: set[Shape], document_id: str
) -> dict[str, Any]:
    where = f"participants[{index}]"
    if not isinstance(entry, Mapping):
        raise StoredDocumentUnreadable(document_id, where, "is not an object")
    upgraded = dict(entry)
    user_id = _first_text(entry, "userId", "userExternalId")
    if user_id is None:
        raise StoredDocumentUnreadable(document_id, f"{where}.userId", "is missing")
    provider_user_id = _first_text(entry, "userBandyerId", "bandyerId")
    if provider_user_id is None:
        raise StoredDocumentUnreadable(document_id, f"{where}.userBandyerId", "is missing")
    if "userId" not in entry or "userBandyerId" not in entry:
        shapes.add(Shape.V1_PARTICIPANT_NAMES)
    upgraded["userId"] = user_id
    upgraded["userBandyerId"] = provider_user_id
    groups = entry.get("groups")
    if groups is None and isinstance(entry.get("group"), str):
        groups = [entry["group"]]  # the 1.x add-participant body's single `group`
        shapes.add(Shape.V1_PARTICIPANT_NAMES)
    if groups is None:
        groups = []
    if not isinstance(groups, list) or not all(isinstance(group, str) for group in groups):
        raise StoredDocumentUnreadable(document_id, f"{where}.groups", "is not a list of group names")
    upgraded["groups"] = groups
    if not isinstance(entry.get("resolvedUserId"), str):
        shapes.add(Shape.NO_RESOLVED_USER_ID)
        upgraded["resolvedUserId"] = user_id
    if entry.get("privilege") not in (Privilege.BASIC.value, Privilege.PLUS.value):
        shapes.add(Shape.NO_PRIVILEGE)
        try:
            upgraded["privilege"] = privileges.privilege_for(user_id, groups).value
        except NoConfiguredGroup:
            # Auth-mode documents store no groups. Least privilege: a guess never makes a patient a moderator.
            # Marked as a guess, so that the next change asks the identity service (Teleconsultation.identify).
            shapes.add(Shape.PRIVILEGE_NOT_DERIVABLE)
            upgraded["privilege"] = Privilege.BASIC.value
            upgraded["privilegeGuessed"] = True
    return upgraded


def _crud_fields(raw: Mapping[str, Any], upgraded: dict[str, Any], shapes: set[Shape], document_id: str) -> None:
    created = raw["_id"].generation_time if isinstance(raw.get("_id"), ObjectId) else datetime.fromtimestamp(0, UTC)
    for name in ("createdAt", "updatedAt"):
        if raw.get(name) is None:
            shapes.add(Shape.NO_CRUD_TIMESTAMPS)
            upgraded[name] = raw.get("createdAt") or created
        elif not isinstance(raw[name], datetime):
            raise StoredDocumentUnreadable(document_id, name, "is not a date")
    for name in ("creatorId", "updaterId"):
        if not isinstance(raw.get(name), str):
            shapes.add(Shape.NO_CRUD_WRITERS)
            upgraded[name] = raw.get("creatorId") if isinstance(raw.get("creatorId"), str) else UNKNOWN_WRITER


def _first_text(entry: Mapping[str, Any], *names: str) -> str | None:
    for name in names:
        value = entry.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def _document_id(raw: Mapping[str, Any]) -> str:
    return str(raw.get("_id"))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
