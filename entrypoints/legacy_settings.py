"""The Node service's configuration as this one reads it: Mia's LOG_LEVEL values, and its variables that do not
apply here, accepted with a warning that says what to set instead."""

from __future__ import annotations

import logging
from collections.abc import Mapping

logger = logging.getLogger("teleconsultation")

# Nothing at all is logged; above every level Python knows.
SILENT = "SILENT"
SILENT_LEVEL = logging.CRITICAL + 10
# LOG_LEVEL as Mia (pino, through lc39) spells it → Python's level. Python has no `trace`: DEBUG is the most this
# service ever says.
MIA_LOG_LEVELS = {
    "trace": "DEBUG",
    "debug": "DEBUG",
    "info": "INFO",
    "warn": "WARNING",
    "warning": "WARNING",
    "error": "ERROR",
    "fatal": "CRITICAL",
    "critical": "CRITICAL",
    "silent": SILENT,
}

_DATABASE = (
    "this service reads and writes MongoDB directly, not through the CRUD service: set MONGODB_URL (and "
    "MONGODB_DATABASE) to the database behind the CRUD service"
)
# The original's environment variables (spec §5.1) that mean nothing here, and what to set instead.
NOT_APPLICABLE = {
    "CRUD_SERVICE_URL": _DATABASE,
    "CRUD_SERVICE": _DATABASE,
    "USER_MAP_ID_CRUD_NAME": "the name is a typo of the original's documentation: set USER_ID_MAP_CRUD_NAME",
    "BACKOFFICE_HEADER_KEY": "no behaviour here depends on the back-office header: nothing to set",
    "MICROSERVICE_GATEWAY_SERVICE_NAME": "this service calls no microservice gateway: nothing to set",
}


def python_log_level(value: str) -> str | None:
    """The Python level of a LOG_LEVEL value in either spelling (any case), or None for an unknown one."""
    return MIA_LOG_LEVELS.get(value.strip().lower())


def legacy_variable_warnings(env: Mapping[str, str]) -> list[str]:
    """One line per variable of the original that is set but does not apply here (names only, never values)."""
    return [
        f"{name} is set but not used by this service: {instead}"
        for name, instead in NOT_APPLICABLE.items()
        if env.get(name, "").strip()
    ]


def warn_about_legacy_variables(env: Mapping[str, str]) -> None:
    for line in legacy_variable_warnings(env):
        logger.warning(line)
