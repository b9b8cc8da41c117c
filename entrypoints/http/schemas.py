"""Request and response bodies of the HTTP API, with the original service's field names."""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from datetime import datetime
from operator import attrgetter
from typing import Annotated, Any

import msgspec

from application.dto import RoomDetails

UserId = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
Text = Annotated[str, msgspec.Meta(max_length=512)]
Language = Annotated[str, msgspec.Meta(min_length=2, max_length=16)]
# RFC 3339 with a mandatory offset: a naive date-time could mean any hour of the day.
DateTime = Annotated[datetime, msgspec.Meta(tz=True)]
Seconds = Annotated[int, msgspec.Meta(ge=0, le=10 * 365 * 24 * 3600)]
# Kaleyra rooms take at most 25 participants; the bound here only keeps bodies small.
MAX_LISTED = 100


Groups = Annotated[list[Annotated[str, msgspec.Meta(max_length=256)]], msgspec.Meta(max_length=MAX_LISTED)]


class _Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, frozen=True):
    """A request body (or a part of one), read by entrypoints/http/bodies.py."""


def is_request_body(struct: type[Any]) -> bool:
    return issubclass(struct, _Body)


class ParticipantBody(_Body, frozen=True):
    userId: UserId
    groups: (
        Annotated[list[Annotated[str, msgspec.Meta(max_length=256)]], msgspec.Meta(max_length=MAX_LISTED)] | None
    ) = None
    fullName: Text | None = None
    language: Language | None = None


class ParticipantsBody(_Body, frozen=True):
    number: Annotated[int, msgspec.Meta(ge=0, le=MAX_LISTED)]
    data: Annotated[list[ParticipantBody], msgspec.Meta(max_length=MAX_LISTED)] = msgspec.field(default_factory=list)


Participants = Annotated[list[UserId], msgspec.Meta(max_length=MAX_LISTED)] | ParticipantsBody


class CreateTeleconsultationBody(_Body, frozen=True):
    participants: Participants
    start_date: DateTime
    end_date: DateTime | None = None
    duration_in_seconds: Seconds | None = None


class UpdateTeleconsultationBody(_Body, frozen=True):
    participants: Participants | None = None
    start_date: DateTime | None = None
    end_date: DateTime | None = None
    duration_in_seconds: Seconds | None = None


class CreatedTeleconsultation(msgspec.Struct, frozen=True):
    roomId: str


class CallParticipant(msgspec.Struct, frozen=True):
    bandyerUserId: str
    fullName: str | None


class RoomDetailsBody(msgspec.Struct, frozen=True, rename="camel"):
    """RoomDetails as the original words it: the same fields in the same order, camelCased on the wire.

    Every field is always there, as in the original's answer: null when the provider does not report it (the
    `durationInSeconds` of an unlimited room).
    """

    recording: str | None
    recording_status: str | None
    call_type: str | None
    description: str | None
    status: str | None
    disabled: bool | None
    creation_date: str | None
    duration_in_seconds: int | None
    duration_used_in_seconds: int | None
    live: bool | None


_ROOM_DETAILS = attrgetter(*(field.name for field in dataclass_fields(RoomDetails)))


def room_details_body(details: RoomDetails | None) -> RoomDetailsBody | None:
    # Positional, since the fields line up (a test holds them to it): the cheapest copy on the polling route.
    return None if details is None else RoomDetailsBody(*_ROOM_DETAILS(details))


class TeleconsultationAccessBody(msgspec.Struct, frozen=True):
    bandyerUserId: str
    accessLinkURL: str | None
    participantsBandyerCall: list[CallParticipant]
    details: RoomDetailsBody | None


# The error bodies are closed so that a client (and the OpenAPI document) can tell them apart.
class ServiceError(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The service's own documented error body."""

    error: str


class CrudError(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The CRUD-service error body the original relays for everything else."""

    statusCode: int
    error: str
    message: str


class ProblemDetails(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """RFC 9457 problem details, for a client that asks for `application/problem+json`."""

    type: str
    title: str
    status: int
    detail: str
    instance: str


class Status(msgspec.Struct, frozen=True):
    status: str


# Kaleyra issues SDK tokens valid from 6 minutes to one day.
DEFAULT_EXPIRES_IN = 3600


class CredentialsBody(_Body, frozen=True):
    expiresIn: Annotated[int, msgspec.Meta(ge=360, le=86_400)] = DEFAULT_EXPIRES_IN


class CredentialsCreated(msgspec.Struct, frozen=True):
    accessToken: str
    expiresAt: str
    bandyerUserId: str


class UploadsDeleted(msgspec.Struct, frozen=True):
    total: int
    deleted: int


class VirtualBackground(msgspec.Struct, frozen=True):
    background_alias: str
    url: str | None
    creation_date: str | None


class BackgroundUploaded(msgspec.Struct, frozen=True):
    virtual_background: VirtualBackground


class UpdateSettingsBody(_Body, frozen=True):
    # Optional here so that an unauthorised caller hears 401/403 before any word about the body.
    background_alias: Annotated[str, msgspec.Meta(max_length=256)] | None = None


class CompanySettings(msgspec.Struct, frozen=True):
    company: dict[str, Any]


class Transcription(msgspec.Struct, frozen=True):
    transcription: str
