"""App factories for granian, which imports its app: the service as `python -m entrypoints` builds it, and the floor."""

from __future__ import annotations

import os

from litestar import Litestar

from bench.floor_app import floor_app_from_env
from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.service_config import load_service_config
from entrypoints.settings import Settings


def service() -> Litestar:
    settings = Settings.from_env(os.environ)
    return create_app(Container(settings=settings, service_config=load_service_config(settings.config_path)))


def floor() -> Litestar:
    return floor_app_from_env()


GRANIAN_ARGS = ("--interface", "asgi", "--workers", "1", "--loop", "uvloop", "--no-access-log", "--factory")
