"""Signed Jitsi links carry the appointment's window, so moving the start must give new links."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from adapters.jitsi import JitsiSettings
from adapters.memory.clock import FixedClock
from entrypoints.settings import Settings, StoreSettings
from tests.builders import T0
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import serve

SECRET = "a-jitsi-test-secret-of-at-least-32-bytes"
SETTINGS = Settings(
    video_provider="jitsi",
    jitsi=JitsiSettings(base_url="https://meet.example.org", app_id="teleconsultation", app_secret=SECRET),
    store=StoreSettings(backend="memory"),
    immutable_period=timedelta(minutes=10),
)


def window_of(link: str) -> tuple[datetime, datetime]:
    [token] = parse_qs(urlsplit(link).query)["jwt"]
    # Judged against the test's clock below, not the real one.
    claims = jwt.decode(
        token, SECRET, algorithms=["HS256"], audience="jitsi", options={"verify_nbf": False, "verify_exp": False}
    )
    return datetime.fromtimestamp(claims["nbf"], T0.tzinfo), datetime.fromtimestamp(claims["exp"], T0.tzinfo)


@pytest.mark.parametrize("moved_by", [timedelta(days=1), timedelta(hours=-3)])
async def test_a_moved_appointment_gets_links_that_work_at_its_new_time(moved_by: timedelta) -> None:
    clock = FixedClock(T0 - timedelta(days=1))
    async with serve(SETTINGS, clock) as client:
        room_id = await create(client, body(doctor(), patient()))  # T0 to T0 + 1 h
        new_start = T0 + moved_by
        moved = await client.patch(f"/teleconsultation/{room_id}", json={"start_date": new_start.isoformat()})
        assert moved.status_code == 204
        for now in (new_start - timedelta(minutes=10), new_start + timedelta(hours=1)):
            clock.set(now)
            view = await client.get(f"/teleconsultation/{room_id}", headers={"miauserid": "pat-1"})
            link = view.json()["accessLinkURL"]
            assert link is not None
            opens, expires = window_of(link)
            assert opens <= now <= expires, f"the link shown at {now} works only from {opens} to {expires}"
