"""Start-up configuration: every wrong value stops the service with one clear line."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from entrypoints.__main__ import main
from entrypoints.service_config import DEFAULT_CONFIG, load_service_config
from entrypoints.settings import ConfigurationError, Settings

KALEYRA = {"BANDYER_BASE_URL": "https://api.sandbox.eu.bandyer.com", "BANDYER_API_SECRET_KEY": "key"}


def test_defaults_run_without_any_account_or_database() -> None:
    settings = Settings.from_env({})
    assert settings.video_provider == "jitsi"
    assert settings.store.backend == "mongo"
    assert settings.store.mongodb_url is None
    assert settings.store.embedded_data_dir == Path("data")
    assert settings.store.teleconsultations_collection == "teleconsultations"
    assert settings.store.user_map_collection == "teleconsultations_users"
    assert settings.store.write_concern == "majority"
    assert (settings.store.embedded_max_restarts, settings.store.embedded_restart_window_seconds) == (5, 60.0)
    assert settings.unlimited_teleconsultation is True
    assert settings.immutable_period == timedelta(0)
    assert (settings.http_host, settings.http_port) == ("127.0.0.1", 3000)


def test_kaleyra_is_chosen_when_its_key_is_set() -> None:
    settings = Settings.from_env({**KALEYRA, "IMMUTABLE_PERIOD_MS": "600000", "LIVE_TELECONSULTATION": "false"})
    assert settings.video_provider == "kaleyra"
    assert settings.kaleyra is not None
    assert settings.kaleyra.live is False
    assert settings.immutable_period == timedelta(minutes=10)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"UNLIMITED_TELECONSULTATION": "maybe"}, "UNLIMITED_TELECONSULTATION"),
        ({"IMMUTABLE_PERIOD_MS": "-1"}, "IMMUTABLE_PERIOD_MS"),
        ({"IMMUTABLE_PERIOD_MS": "ten"}, "IMMUTABLE_PERIOD_MS"),
        ({"HTTP_PORT": "70000"}, "HTTP_PORT"),
        ({"DEFAULT_RECORDING_TYPE": "sometimes"}, "DEFAULT_RECORDING_TYPE"),
        ({"VIDEO_PROVIDER": "zoom"}, "VIDEO_PROVIDER"),
        ({"VIDEO_PROVIDER": "kaleyra"}, "BANDYER_BASE_URL"),
        ({"BANDYER_API_SECRET_KEY": "key"}, "BANDYER_BASE_URL"),
        ({**KALEYRA, "BANDYER_BASE_URL": "not a url"}, "BANDYER_BASE_URL"),
        ({"JITSI_APP_SECRET": "short", "JITSI_APP_ID": "app"}, "JITSI_APP_SECRET"),
        ({"STORE_BACKEND": "postgres"}, "STORE_BACKEND"),
        ({"LOG_LEVEL": "chatty"}, "LOG_LEVEL"),
        ({"TELECONSULTATIONS_CRUD_NAME": "$bad"}, "TELECONSULTATIONS_CRUD_NAME"),
        ({"PROVIDER_TIMEOUT_SECONDS": "0"}, "PROVIDER_TIMEOUT_SECONDS"),
        ({"AUTH_MODE": "magic"}, "AUTH_MODE"),
        ({"MONGODB_WRITE_CONCERN": "fast"}, "MONGODB_WRITE_CONCERN"),
        ({"EMBEDDED_MONGO_MAX_RESTARTS": "-1"}, "EMBEDDED_MONGO_MAX_RESTARTS"),
        ({"EMBEDDED_MONGO_RESTART_WINDOW_SECONDS": "0"}, "EMBEDDED_MONGO_RESTART_WINDOW_SECONDS"),
    ],
)
def test_a_wrong_value_names_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        Settings.from_env(env)


def test_the_store_durability_and_supervision_can_be_set() -> None:
    settings = Settings.from_env(
        {
            "MONGODB_WRITE_CONCERN": "Journaled",
            "EMBEDDED_MONGO_MAX_RESTARTS": "0",
            "EMBEDDED_MONGO_RESTART_WINDOW_SECONDS": "300",
        }
    )
    assert settings.store.write_concern == "journaled"
    assert (settings.store.embedded_max_restarts, settings.store.embedded_restart_window_seconds) == (0, 300.0)


def test_collection_names_accept_a_leading_slash() -> None:
    settings = Settings.from_env({"TELECONSULTATIONS_CRUD_NAME": "/my-teleconsultations"})
    assert settings.store.teleconsultations_collection == "my-teleconsultations"


def test_the_configuration_file_is_validated(tmp_path: Path) -> None:
    assert load_service_config(None) == DEFAULT_CONFIG
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"privileges": {"basic": {"groups": ["customer"]}, "plus": {"groups": ["gp"]}}}))
    policy = load_service_config(good).privilege_policy()
    assert policy.plus_groups == frozenset({"gp"})
    assert policy.plus_tools is None
    cases = {
        "missing.json": None,
        "broken.json": "{not json",
        "no-plus.json": json.dumps({"privileges": {"basic": {"groups": ["a"]}}}),
        "typo.json": json.dumps({"privileges": {"basic": {"groups": ["a"]}, "plus": {"groups": ["b"]}}, "themes": {}}),
        "bad-path.json": json.dumps(
            {
                "privileges": {"basic": {"groups": ["a"]}, "plus": {"groups": ["b"]}},
                "userIdPathInRequest": [{"from": "json", "extract": "x"}],
            }
        ),
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        with pytest.raises(ConfigurationError, match="TELECONSULTATION_SERVICE_CONFIG_PATH"):
            load_service_config(path)


def test_main_prints_one_line_and_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IMMUTABLE_PERIOD_MS", "soon")
    assert main([]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "IMMUTABLE_PERIOD_MS" in error
