"""GET /audit/events over HTTP: a scripted lifecycle leaves its events, in order, for auditors only (issue 14)."""

from __future__ import annotations

from typing import Any

import msgspec

from adapters.memory.clock import FixedClock
from entrypoints.service_config import DEFAULT_CONFIG
from tests.builders import T0
from tests.fakes.auth0_client import FakeAuth0Client
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, doctor, patient
from tests.http.conftest import Client, auth_settings, kaleyra_settings, serve

AUDITOR = {"miauserid": "aud-1", "miausergroups": "auditor"}
AUDITED = msgspec.structs.replace(DEFAULT_CONFIG, auditorGroups=["auditor"])


async def audit(client: Client, **query: Any) -> list[dict[str, Any]]:
    """Every page of the answer, newest first."""
    events: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {**query, **({"cursor": cursor} if cursor else {})}
        response = await client.get("/audit/events", params=params, headers=AUDITOR)
        assert response.status_code == 200, response.text
        page = response.json()
        events.extend(page["events"])
        cursor = page["nextCursor"]
        if cursor is None:
            return events


async def test_a_scripted_lifecycle_is_in_the_audit_trail_in_order(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    async with serve(kaleyra_settings(fake_kaleyra), clock, AUDITED) as client:
        created = await client.post("/teleconsultation", json=body(doctor(), patient()), headers={"miauserid": "doc-1"})
        room_id = created.json()["roomId"]
        changed = await client.patch(
            f"/teleconsultation/{room_id}",
            json={"participants": {"number": 2, "data": [doctor(), patient("pat-2")]}},
            headers={"miauserid": "doc-1"},
        )
        assert changed.status_code == 204
        clock.set(T0)
        polls = [await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-2"}) for _ in range(3)]
        assert all(poll.json()["accessLinkURL"] for poll in polls)
        refused = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "stranger"})
        assert refused.status_code == 401
        cancelled = await client.delete(f"/teleconsultation/{room_id}", headers={"miauserid": "doc-1"})
        assert cancelled.status_code == 204

        events = await audit(client, teleconsultationId=room_id, limit=2)

    story = [(e["type"], e["actor"], e["outcome"], e["requestId"]) for e in reversed(events)]
    rid = [r.headers["x-request-id"] for r in (created, changed, polls[0], refused, cancelled)]
    assert story == [
        ("teleconsultation.created", "doc-1", "success", rid[0]),
        ("room.created", "doc-1", "success", rid[0]),
        ("teleconsultation.changed", "doc-1", "success", rid[1]),
        ("room.replaced", "doc-1", "success", rid[1]),
        ("link.served", "pat-2", "success", rid[2]),
        ("access.refused", "stranger", "401", rid[3]),
        ("teleconsultation.cancelled", "doc-1", "success", rid[4]),
        ("room.deleted", "doc-1", "success", rid[4]),
    ]
    assert {e["teleconsultationId"] for e in events} == {room_id}
    times = [e["at"] for e in events]
    assert times == sorted(times, reverse=True)
    # Ids and types only: nothing of the body, the names or the links.
    text = msgspec.json.encode(events).decode()
    for secret in ("Joe Smith", "Jane Doe", "http"):
        assert secret not in text


async def test_filters_select_by_actor_type_and_time(fake_kaleyra: FakeKaleyraServer, clock: FixedClock) -> None:
    async with serve(kaleyra_settings(fake_kaleyra), clock, AUDITED) as client:
        await client.post("/teleconsultation", json=body(doctor(), patient()), headers={"miauserid": "doc-1"})
        await client.post("/teleconsultation", json=body(doctor(), patient()), headers={"miauserid": "doc-2"})
        by_actor = await audit(client, actor="doc-2", type="teleconsultation.created")
        assert [e["actor"] for e in by_actor] == ["doc-2"]
        assert await audit(client, since="2040-01-01T00:00:00Z") == []
        assert len(await audit(client, until="2040-01-01T00:00:00Z", type="room.created")) == 2


async def test_only_auditors_read_the_trail_and_each_refusal_is_in_it(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    async with serve(kaleyra_settings(fake_kaleyra), clock, AUDITED) as client:
        anonymous = await client.get("/audit/events")
        assert anonymous.status_code == 401
        assert anonymous.json() == {"error": "Unauthorized user"}
        doctor_answer = await client.get("/audit/events", headers={"miauserid": "doc-1", "miausergroups": "doctor"})
        assert doctor_answer.status_code == 403
        assert doctor_answer.json() == {"error": "Forbidden"}
        bad_cursor = await client.get("/audit/events", params={"cursor": "not-ours"}, headers=AUDITOR)
        assert bad_cursor.status_code == 400
        refusals = await audit(client, type="access.refused")
        assert [(e["actor"], e["outcome"]) for e in refusals] == [("doc-1", "403"), ("anonymous", "401")]


async def test_without_auditor_groups_nobody_reads_the_trail(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock
) -> None:
    async with serve(kaleyra_settings(fake_kaleyra), clock) as client:
        response = await client.get("/audit/events", headers=AUDITOR)
        assert response.status_code == 403


async def test_issued_credentials_and_settings_changes_are_in_the_trail(
    fake_kaleyra: FakeKaleyraServer, auth0: FakeAuth0Client, clock: FixedClock
) -> None:
    async with serve(auth_settings(fake_kaleyra, auth0), clock, AUDITED) as client:
        issued = await client.post("/credentials", headers={"miauserid": "auth0|doc"})
        assert issued.status_code == 201
        refused = await client.patch(
            "/settings/update", json={"background_alias": "x"}, headers={"miauserid": "auth0|pat"}
        )
        assert refused.status_code == 403
        events = await audit(client)
    assert [(e["type"], e["actor"], e["outcome"], e["teleconsultationId"]) for e in reversed(events)] == [
        ("credentials.issued", "auth0|doc", "success", None),
        ("access.refused", "auth0|pat", "403", None),
    ]
    assert "accessToken" not in msgspec.json.encode(events).decode()
