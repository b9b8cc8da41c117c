"""Beanie documents: the stored shape of teleconsultations and user mappings, named as in the CRUD collections."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, NamedTuple, cast

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field
from pymongo import ASCENDING, IndexModel

# Written to creatorId/updaterId, as the CRUD service records the `userId` header of the writer.
WRITER_ID = "teleconsultation-service"
STATE = "__STATE__"
PUBLIC = "PUBLIC"
DRAFT = "DRAFT"
TRASH = "TRASH"
VERSION = "version"
ROOMS_TO_DELETE = "roomsToDelete"
CrudState = Literal["PUBLIC", "DRAFT", "TRASH", "DELETED"]


class CrudFields(BaseModel):
    """The CRUD service's standard fields (spec §6.3); `_id` comes from beanie's Document."""

    model_config = ConfigDict(populate_by_name=True)

    state: CrudState = Field(alias=STATE)
    created_at: datetime = Field(alias="createdAt")
    updated_at: datetime = Field(alias="updatedAt")
    creator_id: str = Field(alias="creatorId")
    updater_id: str = Field(alias="updaterId")


class ParticipantEntry(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    user_id: str = Field(alias="userId")
    resolved_user_id: str = Field(alias="resolvedUserId")
    provider_user_id: str = Field(alias="userBandyerId")
    access_link: str | None = Field(default=None, alias="accessLinkURL")
    privilege: Literal["basic", "plus"]
    # True: the original stored no privilege and nothing to derive it from; the next change asks the identity service.
    privilege_guessed: bool = Field(default=False, alias="privilegeGuessed")
    groups: list[str] = Field(default_factory=list)
    full_name: str | None = Field(default=None, alias="fullName")
    language: str | None = None


class TeleconsultationFields(CrudFields):
    room_id: str | None = Field(default=None, alias="bandyerRoomId")
    participants_number: int = Field(alias="participantsNumber")
    participants: list[ParticipantEntry]
    start_date: datetime = Field(alias="startDate")
    end_date: datetime = Field(alias="endDate")
    # Optimistic concurrency: every write is conditional on the version it read.
    version: int = Field(alias=VERSION)
    # Provider rooms given up (cancelled, replaced) and not yet known to be deleted; unknown to the original.
    rooms_to_delete: list[str] = Field(default_factory=list, alias=ROOMS_TO_DELETE)


class UserIdMapFields(CrudFields):
    """A mapping (PUBLIC, with `bandyerId`), or a reservation while its provider user is created (DRAFT, without)."""

    received_user_id: str = Field(alias="receivedUserId")
    provider_user_id: str | None = Field(default=None, alias="bandyerId")
    full_name: str | None = Field(default=None, alias="fullName")
    groups: list[str] = Field(default_factory=list)
    reserved_by: str | None = Field(default=None, alias="reservedBy")
    reserved_until: datetime | None = Field(default=None, alias="reservedUntil")


class PendingRoomCleanupFields(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    room_id: str = Field(alias="roomId")
    created_at: datetime = Field(alias="createdAt")
    # The sweeper deleting the room now, and until when; both None while nobody is.
    lease_owner: str | None = Field(default=None, alias="leaseOwner")
    lease_until: datetime | None = Field(default=None, alias="leaseUntil")


class RoomIntentFields(BaseModel):
    """A provider room being created (`roomId` once the provider answered), or one whose outcome is unknown."""

    model_config = ConfigDict(populate_by_name=True)

    intent_id: str = Field(alias="intentId")
    teleconsultation_id: str = Field(alias="teleconsultationId")
    opened_at: datetime = Field(alias="openedAt")
    room_id: str | None = Field(default=None, alias="roomId")
    lease_owner: str | None = Field(default=None, alias="leaseOwner")
    lease_until: datetime = Field(alias="leaseUntil")
    # "unknown" once closed without the room being found again; kept until expiresAt.
    outcome: Literal["unknown"] | None = None
    expires_at: datetime | None = Field(default=None, alias="expiresAt")


class IdempotencyRecordFields(BaseModel):
    """The outcome of a request sent with an Idempotency-Key; `key` is already scoped and hashed."""

    model_config = ConfigDict(populate_by_name=True)

    key: str
    fingerprint: str
    owner: str
    lease_until: datetime | None = Field(default=None, alias="leaseUntil")
    expires_at: datetime = Field(alias="expiresAt")
    result: str | None = None  # None while the first attempt is in flight


# The types the rest of the package works with. They are never initialised by beanie: see bind_documents.
class TeleconsultationDocument(Document, TeleconsultationFields):
    pass


class UserIdMapDocument(Document, UserIdMapFields):
    pass


class PendingRoomCleanupDocument(Document, PendingRoomCleanupFields):
    pass


class IdempotencyRecordDocument(Document, IdempotencyRecordFields):
    pass


class RoomIntentDocument(Document, RoomIntentFields):
    pass


class BoundDocuments(NamedTuple):
    """The document classes of one store, each tied to its configured collection."""

    teleconsultations: type[TeleconsultationDocument]
    user_ids: type[UserIdMapDocument]
    cleanups: type[PendingRoomCleanupDocument]
    idempotency: type[IdempotencyRecordDocument]
    intents: type[RoomIntentDocument]


def bind_documents(
    teleconsultations: str,
    user_ids: str,
    cleanups: str,
    idempotency: str,
    intents: str = "teleconsultations_room_intents",
) -> BoundDocuments:
    """Fresh document classes for one store, named after its runtime collection names.

    Beanie keeps the database and collection on the class, so two stores (or two test databases)
    sharing a class would both use whichever was initialised last. And once beanie has initialised
    a class it replaces its fields with query expressions, which a later subclass would inherit as
    field defaults, losing the aliases. So each store gets classes built from Document and the
    plain field models, never from an initialised class; they match the `*Document` types field
    for field, hence the casts. Indexes keep the driver's default names, so an index a CRUD
    deployment already declared on the same keys is reused instead of clashing.
    """

    class Teleconsultations(Document, TeleconsultationFields):
        class Settings:
            name = teleconsultations
            # Every query goes through `_id`; `version` and `__STATE__` only narrow that match.

    class UserIds(Document, UserIdMapFields):
        class Settings:
            name = user_ids
            # The unique index on receivedUserId is created by adapters.mongo.user_id_index, once the data allows.
            indexes = [IndexModel([("auth0Id", ASCENDING)])]

    class Cleanups(Document, PendingRoomCleanupFields):
        class Settings:
            name = cleanups
            indexes = [
                IndexModel([("roomId", ASCENDING)], unique=True),
                IndexModel([("createdAt", ASCENDING), ("_id", ASCENDING)]),
            ]

    class IdempotencyRecords(Document, IdempotencyRecordFields):
        class Settings:
            name = idempotency
            indexes = [
                IndexModel([("key", ASCENDING)], unique=True),
                # Real MongoDB drops expired records by itself; every read checks expiry anyway.
                IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0),
            ]

    class Intents(Document, RoomIntentFields):
        class Settings:
            name = intents
            indexes = [
                IndexModel([("intentId", ASCENDING)], unique=True),
                IndexModel([("outcome", ASCENDING), ("leaseUntil", ASCENDING)]),
                # Real MongoDB drops expired "outcome unknown" records by itself; reads check expiry anyway.
                IndexModel([("expiresAt", ASCENDING)], expireAfterSeconds=0),
            ]

    return BoundDocuments(
        cast(type[TeleconsultationDocument], Teleconsultations),
        cast(type[UserIdMapDocument], UserIds),
        cast(type[PendingRoomCleanupDocument], Cleanups),
        cast(type[IdempotencyRecordDocument], IdempotencyRecords),
        cast(type[RoomIntentDocument], Intents),
    )
