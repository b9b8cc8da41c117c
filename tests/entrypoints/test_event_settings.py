"""WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_MAX_ATTEMPTS, RETENTION_DAYS and AUDIT_RETENTION_DAYS (issue 14)."""

from __future__ import annotations

import base64

import pytest

from entrypoints.settings import ConfigurationError, Settings

SECRET = "whsec_" + base64.b64encode(b"x" * 32).decode()


def test_by_default_nothing_is_sent_and_everything_is_kept() -> None:
    events = Settings.from_env({}).events
    assert events.webhook_urls == ()
    assert events.retention_days is None
    assert events.audit_retention_days is None


def test_several_targets_one_secret_and_the_retention_periods() -> None:
    env = {
        "WEBHOOK_URL": " https://ehr.example/hooks, http://billing.local:8080/in ",
        "WEBHOOK_SECRET": SECRET,
        "WEBHOOK_MAX_ATTEMPTS": "4",
        "RETENTION_DAYS": "30",
        "AUDIT_RETENTION_DAYS": "2190",
    }
    events = Settings.from_env(env).events
    assert events.webhook_urls == ("https://ehr.example/hooks", "http://billing.local:8080/in")
    assert events.webhook_secret == SECRET
    assert events.webhook_max_attempts == 4
    assert (events.retention_days, events.audit_retention_days) == (30, 2190)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WEBHOOK_URL": "https://ehr.example/hooks"}, "WEBHOOK_SECRET is required"),
        ({"WEBHOOK_URL": "ftp://ehr.example/hooks", "WEBHOOK_SECRET": SECRET}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://ehr.example/hooks", "WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": "not base64 at all!"}, "WEBHOOK_SECRET"),
        ({"RETENTION_DAYS": "0"}, "RETENTION_DAYS"),
        ({"AUDIT_RETENTION_DAYS": "soon"}, "AUDIT_RETENTION_DAYS"),
        ({"WEBHOOK_MAX_ATTEMPTS": "0"}, "WEBHOOK_MAX_ATTEMPTS"),
    ],
)
def test_a_wrong_value_names_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        Settings.from_env(env)
