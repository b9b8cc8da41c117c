"""Closed-loop HTTP load at a fixed concurrency for a fixed time: wrk when available, else a Python generator."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import aiohttp

WRK_SCRIPT = Path(__file__).with_name("wrk_report.lua")


@dataclass(frozen=True, slots=True)
class LoadResult:
    tool: str
    requests: int
    seconds: float
    errors: int  # failed connections or answers other than 2xx
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds

    def as_dict(self) -> dict[str, float | int | str]:
        return {**asdict(self), "rps": round(self.rps, 1)}


def find_wrk(install: bool = True) -> str | None:
    """wrk's path; as root, installs Debian's package when it is missing. None: use the Python generator."""
    return find_debian_tool("wrk", "wrk", install=install)


def find_debian_tool(command: str, package: str, *, install: bool = True) -> str | None:
    """The command's path; as root, installs its Debian package when it is missing. None when it cannot be had."""
    found = shutil.which(command)
    if found or not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return found
    print(f"installing {package} from Debian's packages ...", flush=True)
    install_package = ["apt-get", "install", "-y", "-qq", package]
    # The package lists may be missing on a fresh machine: update only if a first try fails.
    for argv in (install_package, ["apt-get", "update", "-qq"], install_package):
        if shutil.which(command):
            break
        subprocess.run(argv, check=False, capture_output=True, timeout=300)  # noqa: S603
    return shutil.which(command)


def run_load(
    wrk: str | None, url: str, *, connections: int, seconds: float, headers: Mapping[str, str] | None = None
) -> LoadResult:
    if wrk is not None:
        return _wrk(wrk, url, connections, seconds, headers or {})
    return asyncio.run(_python_load(url, connections, seconds, headers or {}))


def _wrk(wrk: str, url: str, connections: int, seconds: float, headers: Mapping[str, str]) -> LoadResult:
    # One thread: wrk shares the two cores with the server and the fake provider.
    argv = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s", "-s", str(WRK_SCRIPT)]
    for name, value in headers.items():
        argv += ["-H", f"{name}: {value}"]
    done = subprocess.run([*argv, url], check=True, capture_output=True, text=True, timeout=seconds + 30)  # noqa: S603
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no figures: {done.stdout[-500:]} {done.stderr[-500:]}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    return LoadResult(
        tool="wrk",
        requests=figures["requests"],
        seconds=figures["duration_us"] / 1e6,
        errors=figures["errors"] + figures["non_2xx"],
        p50_ms=figures["p50_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
    )


async def _python_load(url: str, connections: int, seconds: float, headers: Mapping[str, str]) -> LoadResult:
    latencies: list[float] = []
    errors = 0
    connector = aiohttp.TCPConnector(limit=connections)
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout, headers=dict(headers)) as session:
        began = time.perf_counter()
        deadline = began + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                sent = time.perf_counter()
                try:
                    async with session.get(url) as response:
                        await response.read()
                        ok = 200 <= response.status < 300
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                latencies.append(time.perf_counter() - sent)
                errors += not ok

        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    return LoadResult("python", len(latencies), elapsed, errors, cuts[49] * 1000, cuts[98] * 1000)
