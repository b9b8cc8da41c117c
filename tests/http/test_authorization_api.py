"""Nobody acts on a teleconsultation they have no business with: the attacks of issue 11 against the running app.

Run in `AUTH_MODE=jwt` (signed tokens from a local JWKS) and in headers mode with `schedulingGroups`; without
`schedulingGroups`, headers mode keeps the original's open scheduling (the other HTTP tests rely on it).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

import msgspec
import pytest

from adapters.identity import JwtSettings
from adapters.memory.clock import FixedClock
from entrypoints.service_config import DEFAULT_CONFIG
from entrypoints.settings import IdentitySettings, Settings
from tests.fakes.jwks import FakeJwks, SigningKey, signing_key
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, doctor, patient
from tests.http.conftest import Client, kaleyra_settings, serve

ISSUER, AUDIENCE = "https://idp.test/", "teleconsultation"
SCOPE = "teleconsultation:schedule"
TRANSCRIPT = "Patient Jane Doe reports chest pain"
UNAUTHORIZED = (401, {"error": "Unauthorized user"})
FORBIDDEN = (403, {"error": "Forbidden"})


@dataclass
class Deployment:
    client: Client
    kaleyra: FakeKaleyraServer
    headers_of: Callable[[str], dict[str, str]]  # who → the headers their requests carry


def settings_for(fake: FakeKaleyraServer, identity: IdentitySettings) -> Settings:
    settings = kaleyra_settings(fake, delete_uploads=True, recording_type="manual", identity=identity)
    assert settings.kaleyra is not None
    return replace(settings, kaleyra=replace(settings.kaleyra, recording="manual"))


def jwt_headers(key: SigningKey) -> Callable[[str], dict[str, str]]:
    claims: dict[str, dict[str, Any]] = {
        "doctor": {"sub": "doc-1", "groups": ["doctor"]},
        "patient": {"sub": "pat-1", "groups": ["patient"]},
        "stranger": {"sub": "mallory", "groups": ["patient"]},
        # A back-office service's client-credentials token: no groups, the configured scope.
        "scheduler": {"sub": "backoffice@clients", "scope": f"openid {SCOPE}"},
        "unscoped-service": {"sub": "other@clients", "scope": "openid reports:read"},
    }

    def headers_of(who: str) -> dict[str, str]:
        if who == "nobody":
            return {}
        if who == "spoofer":  # identity headers, which jwt mode ignores
            return {"miauserid": "doc-1", "miausergroups": "doctor"}
        now = int(time.time())
        token = key.mint({"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 600, **claims[who]})
        return {"authorization": f"Bearer {token}"}

    return headers_of


def gateway_headers(who: str) -> dict[str, str]:
    identities = {
        "nobody": {},
        "doctor": {"miauserid": "doc-1", "miausergroups": "doctor"},
        "patient": {"miauserid": "pat-1", "miausergroups": "patient"},
        "stranger": {"miauserid": "mallory", "miausergroups": "patient"},
        "scheduler": {"miauserid": "desk-1", "miausergroups": "front-desk"},
        "spoofer": {"miausergroups": "front-desk"},  # groups without a user id identify nobody
    }
    return identities[who]


@pytest.fixture(params=["jwt", "headers+schedulingGroups"], name="d")
async def deployment(
    request: pytest.FixtureRequest, fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> AsyncIterator[Deployment]:
    if request.param == "jwt":
        key = signing_key("key-1")
        async with FakeJwks(key) as jwks:
            identity = IdentitySettings(
                auth_mode="jwt",
                jwt=JwtSettings(jwks_url=jwks.jwks_url, issuer=ISSUER, audience=AUDIENCE),
                scheduling_scope=SCOPE,
            )
            async with serve(settings_for(fake_kaleyra, identity), clock) as client:
                yield Deployment(client, fake_kaleyra, jwt_headers(key))
    else:
        config = msgspec.structs.replace(DEFAULT_CONFIG, schedulingGroups=["front-desk"])
        async with serve(settings_for(fake_kaleyra, IdentitySettings()), clock, config) as client:
            yield Deployment(client, fake_kaleyra, gateway_headers)


def answer(response: Any) -> tuple[int, Any]:
    return response.status_code, response.json()


async def planned(d: Deployment) -> tuple[str, str]:
    """A teleconsultation the scheduler planned, with a file shared and a session transcribed in its room."""
    created = await d.client.post(
        "/teleconsultation", json=body(doctor(), patient()), headers=d.headers_of("scheduler")
    )
    assert created.status_code == 201, created.text
    (room_id,) = d.kaleyra.state.rooms
    d.kaleyra.state.add_upload(room_id)
    d.kaleyra.state.add_transcription(room_id, "session-1", TRANSCRIPT)
    return created.json()["roomId"], room_id


async def test_without_an_identity_nothing_is_created_changed_cancelled_deleted_or_read(d: Deployment) -> None:
    client = d.client
    crowd = [patient(f"pat-{n}") for n in range(23)]
    for who in ("nobody", "spoofer"):
        refused = await client.post("/teleconsultation", json=body(doctor(), *crowd), headers=d.headers_of(who))
        assert answer(refused) == UNAUTHORIZED, who
    assert d.kaleyra.state.users == {}  # not one provider user was made
    assert d.kaleyra.state.rooms == {}

    teleconsultation_id, room_id = await planned(d)
    path = f"/teleconsultation/{teleconsultation_id}"
    takeover = body(doctor("mallory"), patient())
    for who in ("nobody", "spoofer"):
        headers = d.headers_of(who)
        assert answer(await client.patch(path, json=takeover, headers=headers)) == UNAUTHORIZED, who
        assert answer(await client.delete(path, headers=headers)) == UNAUTHORIZED, who
        assert answer(await client.delete(f"{path}/uploads", headers=headers)) == UNAUTHORIZED, who
        transcript = await client.get(f"/transcription/{teleconsultation_id}/session-1", headers=headers)
        assert answer(transcript) == UNAUTHORIZED, who
        assert TRANSCRIPT not in transcript.text

    assert list(d.kaleyra.state.rooms) == [room_id]
    assert len(d.kaleyra.state.uploads) == 1
    access = await client.get(path, headers=d.headers_of("doctor"))
    assert access.status_code == 200
    assert [m["fullName"] for m in access.json()["participantsBandyerCall"]] == ["Joe Smith", "Jane Doe"]


async def test_a_patient_cannot_make_themselves_the_doctor_nor_cancel(d: Deployment) -> None:
    client = d.client
    teleconsultation_id, room_id = await planned(d)
    path = f"/teleconsultation/{teleconsultation_id}"
    as_patient = d.headers_of("patient")
    doctor_before = (await client.get(path, headers=d.headers_of("doctor"))).json()
    # The patient in the doctor's place, under the doctor's display name, and the start moved.
    takeover = body(
        {"userId": "pat-1", "groups": ["doctor"], "fullName": "Joe Smith", "language": "it"},
        patient("pat-2"),
        start_date="2030-02-22T15:00:00.000Z",
    )
    assert answer(await client.patch(path, json=takeover, headers=as_patient)) == FORBIDDEN
    assert answer(await client.delete(path, headers=as_patient)) == FORBIDDEN
    assert answer(await client.post("/teleconsultation", json=takeover, headers=as_patient)) == FORBIDDEN

    assert list(d.kaleyra.state.rooms) == [room_id]
    assert (await client.get(path, headers=d.headers_of("doctor"))).json() == doctor_before
    # The patient still reaches what participants may.
    assert (await client.get(path, headers=as_patient)).status_code == 200
    transcript = await client.get(f"/transcription/{teleconsultation_id}/session-1", headers=as_patient)
    assert answer(transcript) == (200, {"transcription": TRANSCRIPT})


async def test_an_identified_stranger_reads_and_deletes_nothing(d: Deployment) -> None:
    teleconsultation_id, _ = await planned(d)
    as_stranger = d.headers_of("stranger")
    path = f"/teleconsultation/{teleconsultation_id}"
    assert answer(await d.client.get(path, headers=as_stranger)) == UNAUTHORIZED
    assert answer(await d.client.delete(f"{path}/uploads", headers=as_stranger)) == UNAUTHORIZED
    transcript = await d.client.get(f"/transcription/{teleconsultation_id}/session-1", headers=as_stranger)
    assert answer(transcript) == UNAUTHORIZED
    assert len(d.kaleyra.state.uploads) == 1
    # A participant may delete the call's files.
    deleted = await d.client.delete(f"{path}/uploads", headers=d.headers_of("doctor"))
    assert answer(deleted) == (200, {"total": 1, "deleted": 1})


async def test_the_scheduler_plans_changes_and_cancels(d: Deployment) -> None:
    client, as_scheduler = d.client, d.headers_of("scheduler")
    teleconsultation_id, first_room = await planned(d)
    path = f"/teleconsultation/{teleconsultation_id}"
    changed = await client.patch(
        path, json={"participants": body(doctor(), patient("pat-2"))["participants"]}, headers=as_scheduler
    )
    assert changed.status_code == 204, changed.text
    assert first_room not in d.kaleyra.state.rooms
    assert (await client.get(path, headers=d.headers_of("patient"))).status_code == 401  # no longer a participant
    cancelled = await client.delete(path, headers=as_scheduler)
    assert cancelled.status_code == 204, cancelled.text
    assert d.kaleyra.state.rooms == {}


async def test_in_jwt_mode_doctors_schedule_and_a_service_needs_the_scope(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    key = signing_key("key-1")
    async with FakeJwks(key) as jwks:
        identity = IdentitySettings(
            auth_mode="jwt",
            jwt=JwtSettings(jwks_url=jwks.jwks_url, issuer=ISSUER, audience=AUDIENCE),
            scheduling_scope=SCOPE,
        )
        headers_of = jwt_headers(key)
        async with serve(settings_for(fake_kaleyra, identity), clock) as client:
            by_doctor = await client.post(
                "/teleconsultation", json=body(doctor(), patient()), headers=headers_of("doctor")
            )
            assert by_doctor.status_code == 201, by_doctor.text
            unscoped = await client.post(
                "/teleconsultation", json=body(doctor(), patient()), headers=headers_of("unscoped-service")
            )
            assert answer(unscoped) == FORBIDDEN
