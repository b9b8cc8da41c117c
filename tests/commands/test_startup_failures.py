"""`python -m entrypoints` that cannot start says so in one line, what failed and what to do, and exits non-zero."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

from adapters.mongo.embedded import EmbeddedMongoServer
from tests.commands.service_process import assert_no_traceback, errors, free_port, start_service
from tests.processes import stuck_store_of_a_dead_service


async def test_a_second_instance_on_the_same_data_directory_says_so_and_what_to_do(tmp_path: Path) -> None:
    async with EmbeddedMongoServer(tmp_path):  # the first instance's store holds the directory
        status, lines = await start_service(EMBEDDED_MONGO_DATA_DIR=str(tmp_path), HTTP_PORT=str(free_port()))
    assert status == 3
    assert errors(lines) == [
        f"the embedded store's data directory {tmp_path} is in use by another process (another instance of "
        "the service?): stop it, or set EMBEDDED_MONGO_DATA_DIR to another directory"
    ]
    assert_no_traceback(lines)


async def test_a_store_of_a_dead_service_still_there_is_waited_for_then_named(tmp_path: Path) -> None:
    async with stuck_store_of_a_dead_service(tmp_path) as hung:
        status, lines = await start_service(EMBEDDED_MONGO_DATA_DIR=str(tmp_path), HTTP_PORT=str(free_port()))
    assert status == 3
    waited = "waiting for the embedded store of a stopped service to let go of its data directory"
    assert [line["message"] for line in lines if line["message"] == waited and line["level"] == "INFO"] == [waited]
    assert errors(lines) == [
        f"the embedded store's data directory {tmp_path} is still held by process {hung}, the store of a service "
        "that stopped: stop that process, or set EMBEDDED_MONGO_DATA_DIR to another directory"
    ]
    assert_no_traceback(lines)


async def test_an_unreachable_mongodb_is_named_without_credentials_and_the_traceback_is_at_debug() -> None:
    port = free_port()  # nothing listens there any more
    status, lines = await start_service(
        MONGODB_URL=f"mongodb://alice:s3cret@127.0.0.1:{port}/teleconsultation?authSource=admin",
        HTTP_PORT=str(free_port()),
        LOG_LEVEL="DEBUG",
    )
    assert status == 3
    assert errors(lines) == [
        f"the store is unavailable: MongoDB at 127.0.0.1:{port} did not answer within 5 s: check MONGODB_URL"
    ]
    (debug,) = [line for line in lines if line["level"] == "DEBUG" and "exception" in line]
    assert debug["exception"]["type"] == "StoreUnavailable"
    assert any("adapters/mongo/lifecycle.py" in frame for frame in debug["exception"]["at"])
    everything = json.dumps(lines)
    assert "alice" not in everything
    assert "s3cret" not in everything


async def test_a_taken_http_port_says_which_setting_to_change() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        status, lines = await start_service(STORE_BACKEND="memory", HTTP_PORT=str(port))
    assert status == 1
    assert errors(lines) == [
        f"cannot listen on 127.0.0.1:{port}: stop the process that uses the port, or set HTTP_PORT (or HTTP_HOST)"
    ]
    assert_no_traceback(lines)


async def test_open_scheduling_is_warned_about_in_one_line_and_schedulinggroups_silences_it(tmp_path: Path) -> None:
    def warnings(lines: list[dict[str, Any]]) -> list[str]:
        return [
            line["message"] for line in lines if line["level"] == "WARNING" and "schedulingGroups" in line["message"]
        ]

    with socket.socket() as taken:  # the service stops right after its start-up warnings
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        _, open_lines = await start_service(STORE_BACKEND="memory", HTTP_PORT=port)
        config = tmp_path / "config.json"
        privileges = {"basic": {"groups": ["patient"]}, "plus": {"groups": ["doctor"]}}
        config.write_text(json.dumps({"privileges": privileges, "schedulingGroups": ["front-desk"]}))
        _, closed_lines = await start_service(
            STORE_BACKEND="memory", HTTP_PORT=port, TELECONSULTATION_SERVICE_CONFIG_PATH=str(config)
        )
    assert warnings(open_lines) == [
        "schedulingGroups is not configured and AUTH_MODE=headers: anyone the gateway lets through may create, change "
        "and cancel teleconsultations; restrict these routes at the gateway, or set schedulingGroups"
    ]
    assert warnings(closed_lines) == []
