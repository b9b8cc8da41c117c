"""Kaleyra v2 payloads, private to this adapter (see kaleyra-wire.md).

Responses are decoded leniently: unknown keys are ignored and every alternative form the contract lists is
accepted, because most response shapes are assumptions rather than documented facts.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

import msgspec

from application.dto import RoomDetails

# ---------------------------------------------------------------- requests


class CreateUserRequest(msgspec.Struct, frozen=True):
    role: str
    language: str | msgspec.UnsetType = msgspec.UNSET


class RoomParticipant(msgspec.Struct, frozen=True):
    user_id: str
    is_admin: bool
    tools: dict[str, bool] | msgspec.UnsetType = msgspec.UNSET


class CreateRoomRequest(msgspec.Struct, frozen=True):
    participants: list[RoomParticipant]
    recording: str
    call_type: str
    live: bool
    # Omitted, not null, for an unlimited room.
    duration: int | msgspec.UnsetType = msgspec.UNSET
    offline_transcription: bool | msgspec.UnsetType = msgspec.UNSET
    # The room intent's id (an opaque correlation id), so that a room whose creation reply was lost can be told
    # apart at the provider; never personal data.
    description: str | msgspec.UnsetType = msgspec.UNSET


class SdkCredentialsRequest(msgspec.Struct, frozen=True):
    user_id: str
    expires_in: int


class UpdateCompanyRequest(msgspec.Struct, frozen=True):
    background_alias: str


# ---------------------------------------------------------------- responses


class NestedUser(msgspec.Struct, frozen=True):
    id: str | None = None
    user_id: str | None = None


class CreateUserResponse(msgspec.Struct, frozen=True):
    user_id: str | None = None
    id: str | None = None
    user: NestedUser | None = None

    def provider_user_id(self) -> str | None:
        nested = (self.user.id or self.user.user_id) if self.user is not None else None
        return self.user_id or self.id or nested


class ParticipantLink(msgspec.Struct, frozen=True):
    """A v2 `participants[]` entry or a v1 `user_urls[]` entry (`user` is an id or a user object)."""

    user_id: str | None = None
    user: str | NestedUser | None = None
    link: str | None = None
    url: str | None = None

    def owner(self) -> str | None:
        if self.user_id:
            return self.user_id
        if isinstance(self.user, NestedUser):
            return self.user.id or self.user.user_id
        return self.user

    def join_link(self) -> str | None:
        return self.link or self.url


class CreatedRoom(msgspec.Struct, frozen=True):
    room_id: str | None = None
    participants: list[ParticipantLink] | None = None
    user_urls: list[ParticipantLink] | None = None


class CreateRoomResponse(msgspec.Struct, frozen=True):
    room_id: str | None = None
    participants: list[ParticipantLink] | None = None
    user_urls: list[ParticipantLink] | None = None
    room: CreatedRoom | None = None

    def resolved_room_id(self) -> str | None:
        return self.room_id or (self.room.room_id if self.room is not None else None)

    def links(self) -> dict[str, str]:
        """Provider user id -> join link, from whichever of the accepted forms is present."""
        entries: list[ParticipantLink] = [*(self.participants or ()), *(self.user_urls or ())]
        if self.room is not None:
            entries += [*(self.room.participants or ()), *(self.room.user_urls or ())]
        links: dict[str, str] = {}
        for entry in entries:
            owner, link = entry.owner(), entry.join_link()
            if owner and link:
                links.setdefault(owner, link)
        return links


class RoomBody(msgspec.Struct, frozen=True):
    room_id: str | None = None
    recording: str | None = None
    recording_status: str | None = None
    call_type: str | None = None
    description: str | None = None
    status: str | None = None
    disabled: bool | None = None
    creation_date: str | None = None
    duration: int | float | None = None
    duration_in_seconds: int | float | None = None
    duration_used: int | float | None = None
    duration_used_in_seconds: int | float | None = None
    live: bool | None = None

    def to_details(self) -> RoomDetails:
        return RoomDetails(
            **{name: getattr(self, name) for name in _REPORTED_AS_IS},
            duration_in_seconds=_whole(self.duration, self.duration_in_seconds),
            duration_used_in_seconds=_whole(self.duration_used, self.duration_used_in_seconds),
        )


# The RoomDetails fields Kaleyra reports under the same name and type; the durations come in two forms.
_REPORTED_AS_IS = tuple(
    field.name
    for field in dataclass_fields(RoomDetails)
    if field.name not in {"duration_in_seconds", "duration_used_in_seconds"}
)


class RoomResponse(RoomBody, frozen=True):
    # Tolerated like the creation answer: the room may come wrapped in `room`.
    room: RoomBody | None = None

    def details(self) -> RoomDetails:
        return (self.room if self.room is not None else self).to_details()


class Upload(msgspec.Struct, frozen=True):
    key: str
    room_id: str | None = None
    user_id: str | None = None
    session_id: str | None = None
    upload_type: str | None = None
    creation_date: str | None = None


class UploadsPage(msgspec.Struct, frozen=True):
    uploads: list[Upload] = []
    offset: int | None = None
    limit: int | None = None
    has_more: bool = False
    count: int | None = None


class SdkCredentialsResponse(msgspec.Struct, frozen=True):
    access_token: str
    expires_at: str
    user_id: str | None = None


class Background(msgspec.Struct, frozen=True):
    alias: str | None = None
    url: str | None = None
    creation_date: str | None = None


class CompanyLogos(msgspec.Struct, frozen=True):
    light_url: str | None = None
    dark_url: str | None = None


class Company(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str | None = None
    default_language: str | None = None
    default_background: Background | None = None
    end_call_redirect_url: str | None = None
    user_details_provider_url: str | None = None
    end_call_redirect_timeout_ms: int | None = None
    logos: CompanyLogos | None = None


class TranscriptionResponse(msgspec.Struct, frozen=True):
    transcription: str


class ErrorBody(msgspec.Struct, frozen=True):
    """Assumed error shape; only used to log a short machine-readable code."""

    error: str | None = None
    message: str | None = None


def encode(payload: msgspec.Struct) -> bytes:
    return msgspec.json.encode(payload)


def to_builtins(payload: msgspec.Struct) -> dict[str, Any]:
    built = msgspec.to_builtins(payload)
    assert isinstance(built, dict)
    return built


def _whole(primary: float | None, alternative: float | None) -> int | None:
    value = primary if primary is not None else alternative
    return None if value is None else int(value)
