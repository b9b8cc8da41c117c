"""`python -m entrypoints`: run the service with settings from the environment."""

from __future__ import annotations

import logging
import os
import sys

from entrypoints.container import Container
from entrypoints.http.app import create_app
from entrypoints.server import run_server
from entrypoints.service_config import load_service_config
from entrypoints.settings import ConfigurationError, Settings

logger = logging.getLogger("teleconsultation")


def main() -> int:
    try:
        settings = Settings.from_env(os.environ)
        service_config = load_service_config(settings.config_path)
    except ConfigurationError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if settings.video_provider == "jitsi" and not settings.jitsi.app_secret:
        logger.warning("JITSI_APP_SECRET is not set: join links carry no token and anyone with a link can join")
    container = Container(settings=settings, service_config=service_config)
    run_server(create_app(container), host=settings.http_host, port=settings.http_port, log_level=settings.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
