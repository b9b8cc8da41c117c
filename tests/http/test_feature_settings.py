"""Room options and feature variables: read from the environment, and seen by the fake Kaleyra."""

from __future__ import annotations

import pytest

from adapters.memory.clock import FixedClock
from entrypoints.settings import ConfigurationError, Settings, StoreSettings
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.http.builders import body, create, doctor, patient
from tests.http.conftest import API_KEY, serve


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


def test_feature_defaults() -> None:
    settings = Settings.from_env({})
    assert settings.delete_uploads is False
    assert settings.recording_type == "none"
    assert settings.records_calls is False
    assert settings.transcription_max_bytes == 50_000_000


def test_uploads_deletion_and_recording_are_switched_on_by_their_variables() -> None:
    settings = Settings.from_env({"TELECONSULTATION_DELETE_UPLOADS": "true", "DEFAULT_RECORDING_TYPE": "Automatic"})
    assert settings.delete_uploads is True
    assert settings.recording_type == "automatic"
    assert settings.records_calls is True


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ("50MB", 50_000_000),
        ("512KB", 512_000),
        ("1GB", 1_000_000_000),
        ("2048", 2048),
        ("50MiB", 50 * 2**20),
        ("1 kb", 1000),
    ],
)
def test_transcription_sizes_are_read_with_their_units(value: str, size: int) -> None:
    assert Settings.from_env({"TRANSCRIPTION_MAX_FILE_SIZE": value}).transcription_max_bytes == size


@pytest.mark.parametrize("value", ["lots", "0", "-1", "50 parsecs", "2GB"])
def test_a_wrong_transcription_size_stops_start_up(value: str) -> None:
    with pytest.raises(ConfigurationError, match=r"^TRANSCRIPTION_MAX_FILE_SIZE must be"):
        Settings.from_env({"TRANSCRIPTION_MAX_FILE_SIZE": value})


async def test_the_memory_provider_offers_every_feature(clock: FixedClock) -> None:
    settings = Settings(
        video_provider="memory", store=StoreSettings(backend="memory"), delete_uploads=True, recording_type="manual"
    )
    admin = {"miauserid": "doc-1", "miausergroups": "doctor"}
    async with serve(settings, clock) as client:
        teleconsultation_id = await create(client, body(doctor(), patient()))
        uploads = await client.delete(f"/teleconsultation/{teleconsultation_id}/uploads", headers=admin)
        transcription = await client.get(f"/transcription/{teleconsultation_id}/session-1", headers=admin)
        files = {"virtual_background": ("a.jpg", b"\xff\xd8\xff\xe0", "image/jpeg")}
        background = await client.post("/settings/background-image", files=files, headers=admin)
        alias = background.json()["virtual_background"]["background_alias"]
        company = await client.patch("/settings/update", json={"background_alias": alias}, headers=admin)
    assert (uploads.status_code, uploads.json()) == (200, {"total": 0, "deleted": 0})
    assert transcription.status_code == 404  # no session was recorded
    assert company.json()["company"]["default_background"]["alias"] == alias
