"""`python -m entrypoints` with HTTP_WORKERS=2: one embedded store started by the parent for both workers, each
worker following its change stream."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.commands.service_process import ROOT, errors, free_port, start_service
from tests.http.builders import body, doctor, patient


def children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        found += [int(child) for child in task.read_text().split()]
    return found


def command_line(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def running(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    return status.exists() and "zombie" not in status.read_text()


def ready(client: httpx.Client, process: subprocess.Popen[bytes]) -> None:
    for _ in range(1200):
        assert process.poll() is None, "the service exited during start-up"
        try:
            if client.get("/-/ready").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("the service was not ready within 60 s")


def test_two_workers_share_one_embedded_store_that_the_parent_starts_and_stops(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "VIDEO_PROVIDER": "jitsi",
        "HTTP_WORKERS": "2",
        "HTTP_PORT": str(port),
        "EMBEDDED_MONGO_DATA_DIR": str(tmp_path / "data"),
        # Long, so that only each worker's change stream can show it what the other did in time.
        "ROOM_DETAILS_CACHE_SECONDS": "30",
        "CACHE_CHANGE_STREAM": "true",
    }
    log = tmp_path / "service.log"
    with log.open("wb") as output:
        process = subprocess.Popen([sys.executable, "-m", "entrypoints"], cwd=ROOT, env=env, stderr=output)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            ready(client, process)
            commands = [command_line(child) for child in children(process.pid)]
            # Two workers and one store, all children of the parent (beside multiprocessing's resource tracker).
            assert sum("spawn_main" in command for command in commands) == 2
            assert sum("secantusd" in command for command in commands) == 1
            created = client.post("/teleconsultation", json=body(doctor(), patient()))
            assert created.status_code == 201, created.text
            path = f"/teleconsultation/{created.json()['roomId']}"
            # Each new connection may land on either worker: every one of them finds what the other wrote.
            for _ in range(20):
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as fresh:
                    assert fresh.get(path, headers={"miauserid": "pat-1"}).status_code == 200
            assert client.delete(path).status_code == 204
            # Both workers have it cached; each hears of the cancellation from the store within a second.
            deadline, in_a_row = time.monotonic() + 1.0, 0
            while in_a_row < 20:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as fresh:
                    status = fresh.get(path, headers={"miauserid": "pat-1"}).status_code
                assert status == 404 or (status == 200 and time.monotonic() < deadline), status
                in_a_row = in_a_row + 1 if status == 404 else 0
        store = next(child for child in children(process.pid) if "secantusd" in command_line(child))
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert not running(store)  # the parent stopped the store and reaped it
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert errors(lines) == []


async def test_a_worker_that_cannot_reach_the_store_stops_them_all_with_one_line_each() -> None:
    store_port = free_port()  # nothing listens there
    status, lines = await start_service(
        MONGODB_URL=f"mongodb://127.0.0.1:{store_port}/",
        HTTP_WORKERS="2",
        HTTP_PORT=str(free_port()),
        VIDEO_PROVIDER="jitsi",
    )
    assert status == 1
    failed = errors(lines)
    expected = (
        f"the store is unavailable: MongoDB at 127.0.0.1:{store_port} did not answer within 5 s: check MONGODB_URL"
    )
    assert expected in failed
    assert set(failed) == {expected, "a worker did not start (its line above says why): every worker was stopped"}
