"""`python -m entrypoints` run as a process by the command tests: its exit code and its JSON log lines."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def start_service(**environment: str) -> tuple[int, list[dict[str, Any]]]:
    """Run the service until it exits; its exit code and its log lines (each must be a JSON object)."""
    env = {"PATH": os.environ.get("PATH", ""), "VIDEO_PROVIDER": "memory", **environment}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "entrypoints",
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, [json.loads(line) for line in stderr.decode().splitlines()]


async def run_command(*arguments: str, env: dict[str, str], seconds: float = 60) -> tuple[int, str, str]:
    """Run `python -m entrypoints <arguments>` to its end, awaited (fakes in the test's event loop answer it
    meanwhile); its exit code, standard output and standard error."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "entrypoints",
        *arguments,
        cwd=ROOT,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout=seconds)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode()


def errors(lines: list[dict[str, Any]]) -> list[str]:
    return [line["message"] for line in lines if line["level"] == "ERROR" and line["logger"] != "uvicorn.error"]


def assert_no_traceback(lines: list[dict[str, Any]]) -> None:
    for line in lines:
        assert "exception" not in line
        assert "Traceback" not in line["message"]
        assert "\n" not in line["message"]
