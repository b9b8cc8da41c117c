"""Jitsi links and the JWTs they carry."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from adapters.jitsi import JitsiSettings, JitsiVideoProvider
from application.dto import RoomMember
from domain.privileges import Privilege
from tests.provider.conftest import JITSI_SECRET, SpecFactory


def token_of(link: str) -> str:
    [token] = parse_qs(urlsplit(link).query)["jwt"]
    return token


def decode(token: str) -> dict[str, Any]:
    claims: dict[str, Any] = jwt.decode(token, JITSI_SECRET, algorithms=["HS256"], audience="jitsi")
    return claims


async def test_every_link_carries_a_token_with_the_documented_claims(
    jitsi_jwt_provider: JitsiVideoProvider, make_spec: SpecFactory
) -> None:
    spec = await make_spec(jitsi_jwt_provider, 3)
    doctor, patient, _ = spec.members
    spec = replace(spec, members=(doctor, patient, RoomMember("nameless", Privilege.BASIC, None)))

    room = await jitsi_jwt_provider.create_room(spec)

    assert all(link.startswith(f"https://meet.example.org/{room.room_id}?jwt=") for link in room.links.values())
    nbf = int(spec.opens_at.timestamp())
    exp = int((spec.schedule.end + timedelta(hours=1)).timestamp())
    expected = {
        doctor.provider_user_id: (True, {"name": doctor.full_name}),
        patient.provider_user_id: (False, {"name": patient.full_name}),
        "nameless": (False, {}),
    }
    for user_id, (moderator, name) in expected.items():
        assert decode(token_of(room.links[user_id])) == {
            "aud": "jitsi",
            "iss": "teleconsultation",
            "sub": "meet.example.org",
            "room": room.room_id,
            "nbf": nbf,
            "exp": exp,
            "context": {"user": {"id": user_id, "moderator": moderator, **name}},
            "moderator": moderator,
        }


async def test_the_token_is_signed_with_hs256_and_the_secret(
    jitsi_jwt_provider: JitsiVideoProvider, make_spec: SpecFactory
) -> None:
    room = await jitsi_jwt_provider.create_room(await make_spec(jitsi_jwt_provider))
    token = token_of(next(iter(room.links.values())))

    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, JITSI_SECRET + "x", algorithms=["HS256"], audience="jitsi")


async def test_link_grace_and_host_come_from_the_settings(make_spec: SpecFactory) -> None:
    provider = JitsiVideoProvider(
        JitsiSettings(
            base_url="https://video.clinic.example:8443/",
            app_id="clinic",
            app_secret=JITSI_SECRET,
            link_grace=timedelta(minutes=10),
        )
    )
    spec = await make_spec(provider)

    room = await provider.create_room(spec)

    claims = decode(token_of(room.links[spec.members[0].provider_user_id]))
    assert claims["sub"] == "video.clinic.example"
    assert claims["iss"] == "clinic"
    assert claims["exp"] == int((spec.schedule.end + timedelta(minutes=10)).timestamp())
    assert room.links[spec.members[0].provider_user_id].startswith(f"https://video.clinic.example:8443/{room.room_id}?")


async def test_without_a_secret_links_are_plain(jitsi_provider: JitsiVideoProvider, make_spec: SpecFactory) -> None:
    spec = await make_spec(jitsi_provider, 4)

    room = await jitsi_provider.create_room(spec)

    assert set(room.links.values()) == {f"https://meet.example.org/{room.room_id}"}


async def test_room_names_are_unguessable(jitsi_provider: JitsiVideoProvider, make_spec: SpecFactory) -> None:
    spec = await make_spec(jitsi_provider)

    names = {(await jitsi_provider.create_room(spec)).room_id for _ in range(20)}

    assert len(names) == 20
    assert all(len(name) >= 32 and name == name.lower() for name in names)


async def test_users_need_no_account(jitsi_provider: JitsiVideoProvider) -> None:
    user_id = await jitsi_provider.create_user(Privilege.PLUS)

    assert user_id.startswith("jitsi-")
    assert len(user_id) == len("jitsi-") + 16


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        ({"base_url": "meet.example.org"}, "absolute"),
        ({"app_secret": JITSI_SECRET}, "app_id"),
        ({"app_id": "clinic", "app_secret": "too-short"}, "at least 32 bytes"),
        ({"link_grace": timedelta(minutes=-1)}, "negative"),
    ],
)
def test_inconsistent_settings_are_refused(settings: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        JitsiSettings(**settings)


def test_the_secret_stays_out_of_repr() -> None:
    assert JITSI_SECRET not in repr(JitsiSettings(app_id="clinic", app_secret=JITSI_SECRET))
