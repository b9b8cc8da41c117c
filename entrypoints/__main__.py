"""`python -m entrypoints [serve|sweep|migrate]`: run the service, retry queued room deletions once, or upgrade the
original service's stored data."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys

from application.errors import StoreUnavailable
from entrypoints.authorization import authorization_warnings
from entrypoints.container import Container, opened_resources, resolved
from entrypoints.exit_codes import EXIT_CONFIGURATION, EXIT_ROOMS_PENDING, EXIT_STORE_UNAVAILABLE
from entrypoints.http.app import ServiceApp
from entrypoints.legacy_settings import warn_about_legacy_variables
from entrypoints.logs import configure_logging
from entrypoints.migrate import migrate
from entrypoints.service_config import ServiceConfig, load_service_config
from entrypoints.settings import ConfigurationError, Settings
from entrypoints.startup import serve_until_stopped
from entrypoints.workers import serve_workers

logger = logging.getLogger("teleconsultation")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m entrypoints", description="The teleconsultation service.")
    parser.add_argument(
        "command",
        nargs="?",
        default="serve",
        choices=("serve", "sweep", "migrate"),
        help="serve (default): run the HTTP service; sweep: retry every queued provider-room deletion once, "
        f"exit 0 when none is left, {EXIT_ROOMS_PENDING} when some still are, {EXIT_STORE_UNAVAILABLE} when the "
        "store is unavailable (also when a running service holds the embedded store's data directory); migrate: "
        "upgrade the original service's documents, exit 0 when nothing is left, 1 when some could not be upgraded",
    )
    parser.add_argument("--dry-run", action="store_true", help="migrate: report what would be upgraded, write nothing")
    arguments = parser.parse_args(argv)
    command = arguments.command
    try:
        settings = Settings.from_env(os.environ)
        service_config = load_service_config(settings.config_path)
    except ConfigurationError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return EXIT_CONFIGURATION
    configure_logging(settings.log_level)
    warn_about_legacy_variables(os.environ)
    container = Container(settings=settings, service_config=service_config)
    if command == "sweep":
        return asyncio.run(sweep(container))
    if command == "migrate":
        return asyncio.run(migrate(container, dry_run=arguments.dry_run))
    return serve(settings, service_config, container)


def serve(settings: Settings, service_config: ServiceConfig, container: Container) -> int:
    for line in authorization_warnings(settings.identity, service_config):
        logger.warning(line)
    if settings.video_provider == "jitsi" and not settings.jitsi.app_secret:
        logger.warning("JITSI_APP_SECRET is not set: join links carry no token and anyone with a link can join")
    if settings.http_workers > 1:
        return serve_workers(settings)
    return serve_until_stopped(ServiceApp(container), settings)


async def sweep(container: Container) -> int:
    try:
        async with opened_resources(container):
            remaining = await (await resolved(container.room_sweeper)).sweep_all()
    except StoreUnavailable as error:
        print(f"sweep failed: {error}", file=sys.stderr)
        return EXIT_STORE_UNAVAILABLE
    print(f"{remaining} provider room(s) still pending deletion" if remaining else "no provider room pending deletion")
    return EXIT_ROOMS_PENDING if remaining else 0


if __name__ == "__main__":
    sys.exit(main())
