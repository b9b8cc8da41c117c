"""`python -m entrypoints [serve|sweep]`: run the service, or retry queued room deletions once and exit."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from application.errors import StoreUnavailable
from entrypoints.container import Container, running_services
from entrypoints.http.app import create_app
from entrypoints.logs import configure_logging
from entrypoints.server import run_server
from entrypoints.service_config import load_service_config
from entrypoints.settings import ConfigurationError, Settings

logger = logging.getLogger("teleconsultation")

EXIT_ROOMS_PENDING = 1
EXIT_CONFIGURATION = 2
EXIT_STORE_UNAVAILABLE = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m entrypoints", description="The teleconsultation service.")
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=("serve", "sweep"),
        help="serve (default): run the HTTP service; sweep: retry every queued provider-room deletion once, "
        f"exit 0 when none is left, {EXIT_ROOMS_PENDING} when some still are, {EXIT_STORE_UNAVAILABLE} when the "
        "store is unavailable (also when a running service holds the embedded store's data directory)",
    )
    command = parser.parse_args(argv).command
    try:
        settings = Settings.from_env(os.environ)
        service_config = load_service_config(settings.config_path)
    except ConfigurationError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    configure_logging(settings.log_level)
    container = Container(settings=settings, service_config=service_config)
    if command == "sweep":
        return asyncio.run(sweep(container))
    serve(settings, container)
    return 0


def serve(settings: Settings, container: Container) -> None:
    if settings.video_provider == "jitsi" and not settings.jitsi.app_secret:
        logger.warning("JITSI_APP_SECRET is not set: join links carry no token and anyone with a link can join")
    run_server(create_app(container), host=settings.http_host, port=settings.http_port, log_level=settings.log_level)


async def sweep(container: Container) -> int:
    try:
        async with running_services(container) as services:
            remaining = await services.room_sweeper.sweep_all()
    except StoreUnavailable as error:
        print(f"sweep failed: {error}", file=sys.stderr)
        return EXIT_STORE_UNAVAILABLE
    print(f"{remaining} provider room(s) still pending deletion" if remaining else "no provider room pending deletion")
    return EXIT_ROOMS_PENDING if remaining else 0


if __name__ == "__main__":
    sys.exit(main())
