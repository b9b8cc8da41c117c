"""App factories for granian, which imports its app: the service as `python -m entrypoints` builds it, and the floor."""

from __future__ import annotations

import os
from typing import Any

from bench.floor_app import floor_app_from_env
from entrypoints.container import Container
from entrypoints.http.app import ServiceApp
from entrypoints.service_config import load_service_config
from entrypoints.settings import Settings


def service() -> Any:
    settings = Settings.from_env(os.environ)
    return ServiceApp(Container(settings=settings, service_config=load_service_config(settings.config_path)))


def floor() -> Any:
    return floor_app_from_env()


GRANIAN_ARGS = ("--interface", "asgi", "--workers", "1", "--loop", "uvloop", "--no-access-log", "--factory")
