"""The VideoProvider port for Jitsi Meet, which needs neither accounts nor API calls.

A Jitsi room exists as soon as someone opens its URL, so "creating" one means choosing a name nobody can
guess and, on deployments with token authentication, signing one JWT per member.
"""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import quote

import jwt

from adapters.jitsi.links import personalise_link
from adapters.jitsi.settings import JitsiSettings
from application.dto import LinkOptions, ProvisionedRoom, RoomDetails, RoomMember, RoomSpec
from application.ports import JoinLinks, VideoProvider
from domain.privileges import Privilege


class JitsiVideoProvider(VideoProvider, JoinLinks):
    name = "jitsi"

    def __init__(self, settings: JitsiSettings | None = None) -> None:
        self._settings = settings or JitsiSettings()

    async def create_user(self, privilege: Privilege) -> str:
        return "jitsi-" + secrets.token_hex(8)

    async def create_room(self, spec: RoomSpec) -> ProvisionedRoom:
        # Hex keeps the name intact on deployments that lowercase room names; 128 bits make it unguessable.
        room = secrets.token_hex(16)
        base = f"{self._settings.root}/{room}"
        if self._settings.app_secret is None:
            return ProvisionedRoom(room_id=room, links={m.provider_user_id: base for m in spec.members})
        links = {
            m.provider_user_id: f"{base}?jwt={quote(self._token(room, spec, m, self._settings.app_secret), safe='')}"
            for m in spec.members
        }
        return ProvisionedRoom(room_id=room, links=links)

    def personalise(self, link: str, options: LinkOptions) -> str:
        return personalise_link(link, options)

    async def delete_room(self, room_id: str) -> None:
        # Nothing to delete: the room vanishes when the last participant leaves and the tokens expire.
        return None

    async def room_details(self, room_id: str) -> RoomDetails | None:
        return None

    def _token(self, room: str, spec: RoomSpec, member: RoomMember, secret: str) -> str:
        moderator = member.privilege is Privilege.PLUS
        user: dict[str, Any] = {"id": member.provider_user_id, "moderator": moderator}
        if member.full_name:
            user["name"] = member.full_name
        claims: dict[str, Any] = {
            "aud": "jitsi",
            "iss": self._settings.app_id,
            "sub": self._settings.host,
            "room": room,
            "nbf": int(spec.opens_at.timestamp()),
            "exp": int((spec.schedule.end + self._settings.link_grace).timestamp()),
            "context": {"user": user},
            "moderator": moderator,
        }
        return jwt.encode(claims, secret, algorithm="HS256")
