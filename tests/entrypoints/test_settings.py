"""Start-up configuration: every wrong value stops the service with one clear line."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta
from pathlib import Path

import pytest

from adapters.identity import JwtSettings
from adapters.kaleyra import KaleyraSettings
from entrypoints.__main__ import main
from entrypoints.legacy_settings import legacy_variable_warnings
from entrypoints.logs import configure_logging
from entrypoints.service_config import DEFAULT_CONFIG, load_service_config
from entrypoints.settings import ConfigurationError, HttpServerSettings, Settings

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


def test_an_unset_variable_leaves_the_default_its_settings_class_declares() -> None:
    assert Settings.from_env({}) == Settings()
    kaleyra = Settings.from_env(KALEYRA).kaleyra
    assert kaleyra == KaleyraSettings(base_url=KALEYRA["BANDYER_BASE_URL"], api_key="key")
    jwt = {
        "AUTH_MODE": "jwt",
        "AUTH_JWKS_URL": "https://idp.example/jwks",
        "AUTH_JWT_ISSUER": "i",
        "AUTH_JWT_AUDIENCE": "a",
    }
    assert Settings.from_env(jwt).identity.jwt == JwtSettings(
        jwks_url="https://idp.example/jwks", issuer="i", audience="a"
    )


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
        ({"HTTP_WORKERS": "0"}, "HTTP_WORKERS"),
        ({"HTTP_WORKERS": "two"}, "HTTP_WORKERS"),
        ({"TELECONSULTATION_CACHE_SIZE": "-1"}, "TELECONSULTATION_CACHE_SIZE"),
        # What lives inside one process cannot be shared by several workers.
        ({"HTTP_WORKERS": "2", "STORE_BACKEND": "memory"}, "HTTP_WORKERS above 1 needs a store the workers share"),
        ({"HTTP_WORKERS": "2", "VIDEO_PROVIDER": "memory"}, "HTTP_WORKERS above 1 needs a real video provider"),
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


def test_several_workers_and_the_cache_size_are_read() -> None:
    settings = Settings.from_env({"HTTP_WORKERS": "4", "TELECONSULTATION_CACHE_SIZE": "0"})
    assert (settings.http_workers, settings.teleconsultation_cache_size) == (4, 0)
    assert (Settings().http_workers, Settings().teleconsultation_cache_size) == (1, 10_000)


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


JWT_MODE = {
    "AUTH_MODE": "jwt",
    "AUTH_JWKS_URL": "https://idp.example/jwks",
    "AUTH_JWT_ISSUER": "i",
    "AUTH_JWT_AUDIENCE": "a",
}


def test_the_jwt_scheduling_scope_is_one_scope_and_only_for_jwt_mode() -> None:
    assert Settings.from_env(JWT_MODE).identity.scheduling_scope is None
    scoped = Settings.from_env({**JWT_MODE, "AUTH_JWT_SCHEDULING_SCOPE": " teleconsultation:schedule "})
    assert scoped.identity.scheduling_scope == "teleconsultation:schedule"
    with pytest.raises(ConfigurationError, match="AUTH_JWT_SCHEDULING_SCOPE works only with AUTH_MODE=jwt"):
        Settings.from_env({"AUTH_JWT_SCHEDULING_SCOPE": "teleconsultation:schedule"})
    with pytest.raises(ConfigurationError, match="one scope name, without spaces"):
        Settings.from_env({**JWT_MODE, "AUTH_JWT_SCHEDULING_SCOPE": "openid schedule"})


def test_scheduling_groups_come_from_the_configuration_file(tmp_path: Path) -> None:
    privileges = {"basic": {"groups": ["patient"]}, "plus": {"groups": ["doctor"]}}
    assert load_service_config(None).scheduling_groups() is None
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"privileges": privileges, "schedulingGroups": ["front-desk", "doctor"]}))
    assert load_service_config(path).scheduling_groups() == frozenset({"front-desk", "doctor"})
    path.write_text(json.dumps({"privileges": privileges, "schedulingGroups": []}))
    assert load_service_config(path).scheduling_groups() == frozenset()
    path.write_text(json.dumps({"privileges": privileges, "schedulingGroups": [""]}))
    with pytest.raises(ConfigurationError, match="schedulingGroups"):
        load_service_config(path)


def test_main_prints_one_line_and_exits_non_zero(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("IMMUTABLE_PERIOD_MS", "soon")
    assert main([]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1
    assert "IMMUTABLE_PERIOD_MS" in error


@pytest.mark.parametrize(
    ("value", "level"),
    [
        ("trace", "DEBUG"),
        ("debug", "DEBUG"),
        ("info", "INFO"),
        ("warn", "WARNING"),
        ("error", "ERROR"),
        ("fatal", "CRITICAL"),
        ("silent", "SILENT"),
        ("WARNING", "WARNING"),
        ("Critical", "CRITICAL"),
    ],
)
def test_log_level_takes_the_values_of_mia_and_of_python(value: str, level: str) -> None:
    assert Settings.from_env({"LOG_LEVEL": value}).log_level == level


def test_an_unknown_log_level_names_both_spellings() -> None:
    with pytest.raises(ConfigurationError, match=r"LOG_LEVEL must be one of trace, debug, info, warn.*not 'loud'"):
        Settings.from_env({"LOG_LEVEL": "loud"})


def test_silent_logs_nothing_at_all() -> None:
    stream = io.StringIO()
    configure_logging("SILENT", stream)
    try:
        logging.getLogger("teleconsultation").critical("not shown")
        logging.getLogger("pymongo").critical("nor this")
        assert stream.getvalue() == ""
    finally:
        configure_logging("INFO")


def test_the_originals_variables_that_do_not_apply_are_named_with_what_to_set_instead() -> None:
    env = {"CRUD_SERVICE_URL": "http://crud-service", "MICROSERVICE_GATEWAY_SERVICE_NAME": "gw", "HTTP_PORT": "3000"}
    warnings = legacy_variable_warnings(env)
    assert warnings == [
        "CRUD_SERVICE_URL is set but not used by this service: this service reads and writes MongoDB directly, "
        "not through the CRUD service: set MONGODB_URL (and MONGODB_DATABASE) to the database behind the CRUD service",
        "MICROSERVICE_GATEWAY_SERVICE_NAME is set but not used by this service: this service calls no microservice "
        "gateway: nothing to set",
    ]
    Settings.from_env(env)  # accepted


def test_the_http_server_limits_have_defaults_and_read_their_variables() -> None:
    assert Settings.from_env({}).http_server == HttpServerSettings()
    limits = Settings.from_env(
        {
            "HTTP_MAX_HEADER_BYTES": "16384",
            "HTTP_MAX_HEADERS": "50",
            "HTTP_HEADER_TIMEOUT_SECONDS": "2.5",
            "HTTP_BODY_TIMEOUT_SECONDS": "20",
            "HTTP_KEEP_ALIVE_TIMEOUT_SECONDS": "1",
            "HTTP_MAX_CONNECTIONS": "200",
        }
    ).http_server
    assert limits == HttpServerSettings(
        max_header_bytes=16384,
        max_headers=50,
        header_timeout_seconds=2.5,
        body_timeout_seconds=20,
        keep_alive_timeout_seconds=1,
        max_connections=200,
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HTTP_MAX_HEADER_BYTES", "100"),
        ("HTTP_MAX_HEADERS", "0"),
        ("HTTP_HEADER_TIMEOUT_SECONDS", "0"),
        ("HTTP_BODY_TIMEOUT_SECONDS", "inf"),
        ("HTTP_KEEP_ALIVE_TIMEOUT_SECONDS", "-1"),
        ("HTTP_MAX_CONNECTIONS", "many"),
        ("IMMUTABLE_PERIOD_MS", str(366 * 24 * 3600 * 1000)),
    ],
)
def test_a_wrong_http_server_limit_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=name):
        Settings.from_env({name: value})
