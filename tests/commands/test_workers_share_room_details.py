"""`python -m entrypoints` with HTTP_WORKERS=2 against the fake Kaleyra, polled from many connections: the two
workers ask the provider for the polled room's details at most once per cache period between them."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.commands.service_process import ROOT, free_port
from tests.http.builders import AS_PATIENT, body, doctor, patient

API_KEY = "workers-test-key"
PERIOD = 1.0  # ROOM_DETAILS_CACHE_SECONDS
POLLING = 4.0  # seconds
POLLERS = 16
FALLBACKS = "teleconsultation_room_details_store_fallbacks_total"


@contextmanager
def running(argv: list[str], env: dict[str, str], log: Path, ready_url: str) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as output:
        process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"{argv[2]} exited during start-up: {log.read_text()[-2000:]}"
            try:
                if httpx.get(ready_url, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, f"{argv[2]} was not ready within 60 s"
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def poll(url: str, until: float) -> int:
    """Poll on a new connection each time, so that both workers (which share the socket) answer."""
    served = 0
    limits = httpx.Limits(max_keepalive_connections=0)
    async with httpx.AsyncClient(timeout=10, limits=limits) as client:
        while time.monotonic() < until:
            answer = await client.get(url, headers=AS_PATIENT)
            assert answer.status_code == 200, answer.text
            assert answer.json()["details"] is not None
            served += 1
    return served


def counted(metrics: str, name: str, *labels: str) -> int:
    """The value of a sample in one worker's /-/metrics, 0 when it has none."""
    for line in metrics.splitlines():
        sample, _, value = line.rpartition(" ")
        if sample.partition("{")[0] == name and all(label in sample for label in labels):
            return int(float(value))
    return 0


def polls_counted_by(metrics: str) -> int:
    labels = ('method="GET"', 'route="/teleconsultation/{', 'status="200"')
    return counted(metrics, "teleconsultation_http_requests_total", *labels)


async def metrics_per_worker(service_url: str) -> dict[int, str]:
    """Each worker's /-/metrics by the polls it counted, asked for from new connections until both answered.

    An idle worker may take every new connection, so the metrics are asked for by many connections at once."""
    found: dict[int, str] = {}
    limits = httpx.Limits(max_keepalive_connections=0)
    until = time.monotonic() + 5

    async def ask(client: httpx.AsyncClient) -> None:
        while len(found) < 2 and time.monotonic() < until:
            metrics = (await client.get(f"{service_url}/-/metrics")).text
            found[polls_counted_by(metrics)] = metrics

    async with httpx.AsyncClient(timeout=5, limits=limits) as client:
        await asyncio.gather(*(ask(client) for _ in range(POLLERS)))
    return found


def stats(fake_url: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{fake_url}/_fake/stats", timeout=5).json()
    return answer


def test_two_workers_read_a_polled_room_from_the_provider_once_per_period(tmp_path: Path) -> None:
    fake_port, service_port = free_port(), free_port()
    fake_url, service_url = f"http://127.0.0.1:{fake_port}", f"http://127.0.0.1:{service_port}"
    path = os.environ.get("PATH", "")
    fake = [sys.executable, "-m", "tests.fakes.kaleyra_server", "--port", str(fake_port), "--api-key", API_KEY]
    service_env = {
        "PATH": path,
        "VIDEO_PROVIDER": "kaleyra",
        "BANDYER_BASE_URL": fake_url,
        "BANDYER_API_SECRET_KEY": API_KEY,
        "HTTP_WORKERS": "2",
        "HTTP_PORT": str(service_port),
        "EMBEDDED_MONGO_DATA_DIR": str(tmp_path / "data"),
        "ROOM_DETAILS_CACHE_SECONDS": str(PERIOD),
    }
    with (
        running([*fake, "--no-record-requests"], {"PATH": path}, tmp_path / "fake.log", f"{fake_url}/_fake/stats"),
        running([sys.executable, "-m", "entrypoints"], service_env, tmp_path / "service.log", f"{service_url}/-/ready"),
    ):
        created = httpx.post(f"{service_url}/teleconsultation", json=body(doctor(), patient()), timeout=10)
        assert created.status_code == 201, created.text
        url = f"{service_url}/teleconsultation/{created.json()['roomId']}"

        began = time.monotonic()
        served = asyncio.run(_poll_all(url, began + POLLING))
        polled_for = time.monotonic() - began
        seen = stats(fake_url)
        per_worker = asyncio.run(metrics_per_worker(service_url))

    assert sum(served) > 20 * POLLING  # polled throughout, far more often than once per period
    # Both workers served polls: each counted some, and together all.
    assert len(per_worker) == 2
    assert 0 not in per_worker
    assert sum(per_worker) == sum(served)
    (room_id,) = seen["room_reads"]  # the one room polled
    reads = seen["room_reads"][room_id]
    fallbacks = [counted(metrics, FALLBACKS) for metrics in per_worker.values()]
    logged = [json.loads(line) for line in (tmp_path / "service.log").read_text().splitlines() if line.startswith("{")]
    warnings = [line["message"] for line in logged if line.get("level") in ("WARNING", "ERROR")]
    explained = f"store fallbacks per worker {fallbacks}; warnings {warnings}"
    assert reads <= polled_for / PERIOD + 1, f"{reads} provider reads in {polled_for:.1f} s; {explained}"
    assert seen["shortest_room_read_gap"][room_id] >= 0.75 * PERIOD, explained
    assert fallbacks == [0, 0]


async def _poll_all(url: str, until: float) -> list[int]:
    return await asyncio.gather(*(poll(url, until) for _ in range(POLLERS)))
