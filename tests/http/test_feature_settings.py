"""Room options and feature variables: read from the environment, and seen by the fake Kaleyra."""

from __future__ import annotations

import pytest

from adapters.memory.clock import FixedClock
from entrypoints.settings import ConfigurationError, Settings
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.conftest import API_KEY, serve
from tests.http.test_teleconsultation_api import body, create, doctor, patient


@pytest.mark.parametrize(("live", "recording"), [("false", "automatic"), ("true", "none"), (None, "manual")])
async def test_room_options_from_the_environment_reach_the_kaleyra_room(
    fake_kaleyra: FakeKaleyraServer, clock: FixedClock, live: str | None, recording: str
) -> None:
    env = {
        "BANDYER_BASE_URL": fake_kaleyra.base_url,
        "BANDYER_API_SECRET_KEY": API_KEY,
        "STORE_BACKEND": "memory",
        "DEFAULT_RECORDING_TYPE": recording,
    }
    if live is not None:
        env["LIVE_TELECONSULTATION"] = live
    async with serve(Settings.from_env(env), clock) as client:
        teleconsultation_id = await create(client, body(doctor(), patient()))
        view = (await client.get(f"/teleconsultation/{teleconsultation_id}", headers={"miauserid": "doc-1"})).json()

    (room,) = fake_kaleyra.state.rooms.values()
    assert room.live is (live != "false")
    assert room.recording == recording
    assert room.offline_transcription is (recording != "none")
    assert (view["details"]["live"], view["details"]["recording"]) == (room.live, recording)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DEFAULT_RECORDING_TYPE", "always"),
        ("LIVE_TELECONSULTATION", "perhaps"),
        ("TELECONSULTATION_DELETE_UPLOADS", "2"),
    ],
)
def test_a_wrong_value_stops_start_up_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=rf"^{name} must be"):
        Settings.from_env({name: value})


def test_uploads_deletion_is_off_unless_switched_on() -> None:
    assert Settings.from_env({}).delete_uploads is False
    assert Settings.from_env({"TELECONSULTATION_DELETE_UPLOADS": "true"}).delete_uploads is True
