"""Instructions per GET request under callgrind: the one figure that other load on the machine cannot move.

Each server runs under `valgrind --tool=callgrind` (some fifty times slower), is warmed up, has its counters zeroed,
serves a closed-loop load of a few connections for a fixed time, and has its counters dumped: the instructions its
user space executed, divided by the requests it answered. Time in the kernel is not counted; the floor and the
service make the same system calls per poll (two reads and three writes with the cache off, one read and two
writes with it). The fake provider runs natively, so its answers come at once.
"""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench import scenarios
from bench.load import run_load
from bench.processes import BenchError, Server, start_floor, start_service

CONNECTIONS = 4
# Starting Python under valgrind takes tens of seconds on a loaded machine.
START_TIMEOUT = 300.0


@dataclass(frozen=True, slots=True)
class Callgrind:
    valgrind: str
    control: str  # callgrind_control


@dataclass(frozen=True, slots=True)
class Configuration:
    name: str
    path: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class _Counting:
    tools: Callgrind
    dumps: Path
    seconds: int
    wrk: str | None


def measure(fake: Server, tools: Callgrind, *, seconds: int, wrk: str | None, logs: Path) -> dict[str, Any]:
    """Instructions per request of the floor, the ceiling and the service with the cache off and on."""
    with ExitStack() as stack:
        dumps = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-callgrind-")))
        under = [tools.valgrind, "--tool=callgrind", f"--callgrind-out-file={dumps}/callgrind.%p"]
        room_id = asyncio.run(scenarios.provider_room(fake))
        floor = start_floor(stack, "callgrind-floor", fake, logs, under=under, timeout=START_TIMEOUT)
        servers: list[tuple[Server, Configuration]] = [
            (floor, Configuration("floor", f"/floor/{room_id}", {})),
            (floor, Configuration("ceiling", f"/ceiling/{room_id}", {})),
        ]
        for name, cache in (("memory, cache off", "0"), ("memory, cache 2 s", "2")):
            service, _ = start_service(
                stack,
                f"callgrind-{cache}",
                fake,
                logs,
                env={"ROOM_DETAILS_CACHE_SECONDS": cache},
                under=under,
                timeout=START_TIMEOUT,
            )
            polled = asyncio.run(scenarios.polled_teleconsultation(service))
            servers.append((service, Configuration(name, f"/teleconsultation/{polled}", scenarios.poller())))
        counting = _Counting(tools, dumps, seconds, wrk)
        figures = {config.name: _per_request(counting, server, config) for server, config in servers}
    floor_count = figures["floor"]
    return {
        name: {"instructions_per_request": count, "x_floor": round(count / floor_count, 3)}
        for name, count in figures.items()
    }


def _per_request(counting: _Counting, server: Server, configuration: Configuration) -> int:
    url, headers = server.url + configuration.path, configuration.headers
    run_load(counting.wrk, url, connections=CONNECTIONS, seconds=2, headers=headers)  # warm-up
    _control(counting.tools, server, "--zero")
    result = run_load(counting.wrk, url, connections=CONNECTIONS, seconds=counting.seconds, headers=headers)
    _control(counting.tools, server, "--dump")
    if result.errors or not result.requests:
        raise BenchError(f"{configuration.name} under callgrind: {result.errors} errors in {result.requests} requests")
    instructions = _latest_dump_total(counting.dumps, server.process.pid)
    print(f"  {configuration.name:20} {instructions / result.requests:10.0f} instructions per request", flush=True)
    return round(instructions / result.requests)


def _control(tools: Callgrind, server: Server, command: str) -> None:
    done = subprocess.run(  # noqa: S603 - fixed arguments
        [tools.control, command, str(server.process.pid)], check=False, capture_output=True, text=True, timeout=120
    )
    if done.returncode != 0:
        raise BenchError(f"callgrind_control {command} failed: {done.stderr.strip()[-300:]}")


def _latest_dump_total(dumps: Path, pid: int) -> int:
    files: Sequence[Path] = sorted(dumps.glob(f"callgrind.{pid}.*"), key=lambda path: path.stat().st_mtime)
    if not files:
        raise BenchError(f"callgrind wrote no dump for process {pid}")
    for line in files[-1].read_text().splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise BenchError(f"no totals in {files[-1].name}")
