"""The processes of a crash run: the fake Kaleyra, the service (with its embedded store as a child), the sweep."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx

API_KEY = "crash-run-api-key"
READY_WITHIN_SECONDS = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def is_gone(pid: int) -> bool:
    """Whether the process has exited (a zombie counts: it runs no more)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return "\nState:\tZ" in status


async def wait_until_gone(pid: int, seconds: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not is_gone(pid):
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError(f"process {pid} did not exit within {seconds:g} s")
        await asyncio.sleep(0.02)


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


class FakeKaleyraProcess:
    """`python -m tests.fakes.kaleyra_server`, with a latency on every answer."""

    def __init__(self, log: Path, latency_seconds: float) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = log
        self._latency = latency_seconds
        self._process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self._process = self._spawn()
        await _wait_for(f"{self.url}/_fake/rooms", self._process, self._log)

    async def rooms(self) -> dict[str, str]:
        """Room id -> description, of every room the fake holds."""
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"{self.url}/_fake/rooms")
        answer.raise_for_status()
        rooms: dict[str, str] = answer.json()
        return rooms

    def _spawn(self) -> subprocess.Popen[bytes]:
        command = [sys.executable, "-m", "tests.fakes.kaleyra_server", "--port", str(self.port)]
        command += ["--api-key", API_KEY, "--latency", str(self._latency)]
        with self._log.open("ab") as log:
            return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(10)
            self._process = None


class ServiceProcess:
    """`python -m entrypoints [command]` on the embedded store in `data_dir`; the store is its child process."""

    def __init__(self, environment: Mapping[str, str], log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._environment = {**environment, "HTTP_PORT": str(self.port)}
        self._log = log
        self.process: subprocess.Popen[bytes] | None = None

    async def start(self) -> None:
        self.process = self._spawn()
        await _wait_for(f"{self.url}/-/ready", self.process, self._log)

    def store_pid(self) -> int:
        assert self.process is not None
        [store] = children(self.process.pid)
        return store

    def kill(self, *, store_first: bool) -> int:
        """SIGKILL the service (its store first, when asked); returns the store's pid, to `wait_until_gone`: the
        service's death stops it (PR_SET_PDEATHSIG), and a new one cannot open the data directory before."""
        assert self.process is not None
        store = self.store_pid()
        if store_first:
            os.kill(store, signal.SIGKILL)
        self.process.kill()
        self.process.wait(10)
        self.process = None
        return store

    def run_command(self, command: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [sys.executable, "-m", "entrypoints", command],
            env=self._environment,
            capture_output=True,
            timeout=120,
            check=False,
        )

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self._log.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "entrypoints"], env=self._environment, stdout=log, stderr=subprocess.STDOUT
            )


async def _wait_for(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = asyncio.get_running_loop().time() + READY_WITHIN_SECONDS
    async with httpx.AsyncClient(timeout=1.0) as client:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{url} exited with {process.returncode} before it was ready:\n{_tail(log)}")
            try:
                if (await client.get(url)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"{url} was not ready within {READY_WITHIN_SECONDS:g} s:\n{_tail(log)}")
            await asyncio.sleep(0.05)


def _tail(log: Path, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
