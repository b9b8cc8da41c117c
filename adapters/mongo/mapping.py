"""Conversions between the domain and the beanie documents; nothing else in the service sees a document."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from adapters.mongo.documents import (
    DRAFT,
    PUBLIC,
    STATE,
    TRASH,
    WRITER_ID,
    ParticipantEntry,
    TeleconsultationDocument,
    UserIdMapDocument,
)
from application.dto import UserMapping
from domain.duration_policy import Schedule
from domain.privileges import Privilege
from domain.teleconsultation import Participant, Teleconsultation

# Written by every save; createdAt, creatorId and the version itself are never overwritten.
_UNCHANGED_ON_SAVE = frozenset({"id", "revision_id", "created_at", "creator_id", "version"})


def object_id(value: str) -> ObjectId | None:
    """The ObjectId of a 24-hex id, or None for anything else (a malformed id names nothing)."""
    if len(value) != 24:
        return None
    try:
        return ObjectId(value)
    except InvalidId:
        return None


def to_document(
    teleconsultation: Teleconsultation,
    model: type[TeleconsultationDocument],
    *,
    now: datetime,
    version: int | None = None,
    writer_id: str | None = None,
) -> TeleconsultationDocument:
    """`writer_id`: the requester, as the CRUD service records the writer's `userId` (the service's own name when
    no requester is known); a save writes it as `updaterId` only."""
    oid = object_id(teleconsultation.id)
    if oid is None:
        raise ValueError("a teleconsultation id must be a 24-hex ObjectId string")
    return model.model_validate(
        {
            "_id": oid,
            **_crud_fields(now, discarded=teleconsultation.discarded, writer_id=writer_id or WRITER_ID),
            "bandyerRoomId": teleconsultation.provider_room_id,
            "participantsNumber": teleconsultation.participants_number,
            "participants": [_participant_entry(p) for p in teleconsultation.participants],
            "startDate": as_bson_datetime(teleconsultation.schedule.start),
            "endDate": as_bson_datetime(teleconsultation.schedule.end),
            "version": teleconsultation.version if version is None else version,
            "roomsToDelete": list(teleconsultation.rooms_to_delete),
        }
    )


def to_domain(document: TeleconsultationDocument) -> Teleconsultation:
    return Teleconsultation(
        id=str(document.id),
        participants_number=document.participants_number,
        participants=tuple(_participant(entry) for entry in document.participants),
        schedule=Schedule(from_bson_datetime(document.start_date), from_bson_datetime(document.end_date)),
        provider_room_id=document.room_id,
        version=document.version,
        discarded=document.state != PUBLIC,
        rooms_to_delete=tuple(document.rooms_to_delete),
    )


def fields_to_set(document: TeleconsultationDocument) -> dict[str, Any]:
    """The stored fields a save replaces, by their stored names."""
    return document.model_dump(by_alias=True, exclude=set(_UNCHANGED_ON_SAVE))


def reservation_document(received_user_id: str, owner: str, *, now: datetime, until: datetime) -> dict[str, Any]:
    """A reservation as stored: a DRAFT entry (hidden from default CRUD reads) without a provider user yet."""
    return {
        "_id": ObjectId(),
        **_crud_fields(now, discarded=False),
        STATE: DRAFT,
        "receivedUserId": received_user_id,
        "groups": [],
        "reservedBy": owner,
        "reservedUntil": as_bson_datetime(until),
    }


def completed_fields(mapping: UserMapping, *, now: datetime) -> dict[str, Any]:
    """What completing a reservation sets; the reservation fields are removed alongside."""
    return {
        STATE: PUBLIC,
        "updatedAt": as_bson_datetime(now),
        "bandyerId": mapping.provider_user_id,
        "fullName": mapping.full_name,
        "groups": list(mapping.groups),
    }


def mapping_to_domain(document: UserIdMapDocument) -> UserMapping:
    if document.provider_user_id is None:
        raise ValueError("a reservation is not a mapping")
    return UserMapping(
        received_user_id=document.received_user_id,
        provider_user_id=document.provider_user_id,
        full_name=document.full_name,
        groups=tuple(document.groups),
    )


def as_bson_datetime(moment: datetime) -> datetime:
    """What a BSON date keeps of a datetime: the UTC instant, to the millisecond."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("teleconsultation datetimes must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def from_bson_datetime(moment: datetime) -> datetime:
    # A client without tz_aware returns naive datetimes, which BSON always means as UTC.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _crud_fields(now: datetime, *, discarded: bool, writer_id: str = WRITER_ID) -> dict[str, Any]:
    stamp = as_bson_datetime(now)
    return {
        STATE: TRASH if discarded else PUBLIC,
        "createdAt": stamp,
        "updatedAt": stamp,
        "creatorId": writer_id,
        "updaterId": writer_id,
    }


def _participant_entry(participant: Participant) -> ParticipantEntry:
    return ParticipantEntry.model_validate(
        {
            "userId": participant.user_id,
            "resolvedUserId": participant.resolved_user_id,
            "userBandyerId": participant.provider_user_id,
            "accessLinkURL": participant.access_link,
            "privilege": participant.privilege.value,
            "privilegeGuessed": participant.privilege_guessed,
            "groups": list(participant.groups),
            "fullName": participant.full_name,
            "language": participant.language,
        }
    )


def _participant(entry: ParticipantEntry) -> Participant:
    return Participant(
        user_id=entry.user_id,
        resolved_user_id=entry.resolved_user_id,
        provider_user_id=entry.provider_user_id,
        privilege=Privilege(entry.privilege),
        privilege_guessed=entry.privilege_guessed,
        full_name=entry.full_name,
        groups=tuple(entry.groups),
        language=entry.language,
        access_link=entry.access_link,
    )
