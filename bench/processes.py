"""Child processes of the benchmark: servers on free loopback ports, waited for, measured and always stopped."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
PYTHON = sys.executable
API_KEY = "bench-api-key"


class BenchError(RuntimeError):
    """A step of the benchmark could not run; the message says which."""


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def rss_bytes(self) -> int:
        """Resident memory of the server process (uvicorn serves in this very process)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise BenchError(f"{self.name}: no VmRSS in /proc")

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server and its descendants (granian serves from a child process)."""
        return sum(_cpu_seconds(pid) for pid in _process_tree(self.process.pid))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _process_tree(pid: int) -> list[int]:
    tree = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        for child in task.read_text().split():
            tree += _process_tree(int(child))
    return tree


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:  # ended meanwhile
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def http_status(port: int, path: str, timeout: float = 1.0) -> int | None:
    """The status of GET `path`, or None while nothing answers."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    except OSError:
        return None
    finally:
        connection.close()


def start(
    stack: ExitStack,
    name: str,
    argv: Sequence[str],
    *,
    port: int,
    logs: Path,
    env: Mapping[str, str] | None = None,
    ready_path: str = "/",
    ready_status: int | None = 200,
    timeout: float = 30.0,
) -> tuple[Server, float]:
    """Start a server and wait until `ready_path` answers (any status when `ready_status` is None).

    Returns the server, registered on `stack` to be stopped, and the seconds it took to become ready.
    """
    log = logs / f"{name}.log"
    began = time.perf_counter()
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - argv is built by the benchmark itself
            list(argv), env={**os.environ, **(env or {})}, stdout=output, stderr=subprocess.STDOUT
        )
    server = Server(name, process, port, log)
    stack.callback(server.stop)
    deadline = began + timeout
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise BenchError(f"{name} exited with status {process.returncode} during start-up; see {log}")
        status = http_status(port, ready_path, timeout=0.5)
        if status is not None and (ready_status is None or status == ready_status):
            return server, time.perf_counter() - began
        time.sleep(0.005)
    raise BenchError(f"{name} was not ready within {timeout:.0f} s; see {log}")


def start_fake_kaleyra(stack: ExitStack, name: str, logs: Path, latency: float = 0.0) -> Server:
    port = free_port()
    argv = [PYTHON, "-m", "tests.fakes.kaleyra_server", "--port", str(port), "--api-key", API_KEY]
    argv += ["--latency", str(latency), "--no-record-requests"]
    server, _ = start(stack, name, argv, port=port, logs=logs, ready_path="/_fake/stats")
    return server


def service_env(fake: Server, port: int, overrides: Mapping[str, str]) -> dict[str, str]:
    """The service's environment as an operator would set it: Kaleyra (here the fake), the in-memory store."""
    env = {
        "HTTP_HOST": HOST,
        "HTTP_PORT": str(port),
        "VIDEO_PROVIDER": "kaleyra",
        "BANDYER_BASE_URL": fake.url,
        "BANDYER_API_SECRET_KEY": API_KEY,
        "STORE_BACKEND": "memory",
    }
    env.update(overrides)
    return env


def start_service(
    stack: ExitStack,
    name: str,
    fake: Server,
    logs: Path,
    *,
    granian: bool = False,
    env: Mapping[str, str] | None = None,
    under: Sequence[str] = (),
    timeout: float = 30.0,
) -> tuple[Server, float]:
    """The service as `python -m entrypoints` runs it; `under` prefixes the command (a profiler)."""
    port = free_port()
    argv = [PYTHON, "-m", "entrypoints"]
    if granian:
        from bench.granian_targets import GRANIAN_ARGS

        argv = [PYTHON, "-m", "granian", *GRANIAN_ARGS, "--port", str(port), "bench.granian_targets:service"]
    env = service_env(fake, port, env or {})
    return start(stack, name, [*under, *argv], port=port, logs=logs, env=env, ready_path="/-/ready", timeout=timeout)


def start_floor(
    stack: ExitStack,
    name: str,
    fake: Server,
    logs: Path,
    *,
    granian: bool = False,
    under: Sequence[str] = (),
    timeout: float = 30.0,
) -> Server:
    port = free_port()
    if granian:
        from bench.granian_targets import GRANIAN_ARGS

        argv = [PYTHON, "-m", "granian", *GRANIAN_ARGS, "--port", str(port), "bench.granian_targets:floor"]
        env = {"FLOOR_KALEYRA_URL": fake.url, "FLOOR_KALEYRA_API_KEY": API_KEY}
    else:
        argv = [PYTHON, "-m", "bench.floor_app", "--port", str(port), "--kaleyra-url", fake.url]
        argv += ["--api-key", API_KEY]
        env = {}
    server, _ = start(
        stack,
        name,
        [*under, *argv],
        port=port,
        logs=logs,
        env=env,
        ready_path="/floor/none",
        ready_status=None,
        timeout=timeout,
    )
    return server


def stop_early(server: Server) -> None:
    with suppress(ProcessLookupError):
        server.stop()
