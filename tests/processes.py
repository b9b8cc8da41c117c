"""What the operating system says about processes: found by their command line, and whether one is a zombie."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pids_running(path: Path) -> list[int]:
    """The live (non-zombie) processes whose command line names `path`: the embedded store of a data directory."""
    wanted = os.fsencode(str(path.resolve()))
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            arguments = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted in arguments and state(int(entry.name)) not in (None, "Z"):
            found.append(int(entry.name))
    return found


def state(pid: int) -> str | None:
    """The kernel's one-letter state of `pid` (`Z` for a zombie no one reaped), None once it is gone entirely."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[0]


def kill_hard(pid: int) -> None:
    os.kill(pid, signal.SIGKILL)


async def eventually(check: Callable[[], object], *, seconds: float = 10.0, what: str = "the condition") -> None:
    """Wait until `check()` is truthy (called every 20 ms), or fail after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not hold within {seconds:g} s")
        await asyncio.sleep(0.02)


async def eventually_async(
    check: Callable[[], Awaitable[bool]], *, seconds: float = 15.0, what: str = "the condition"
) -> None:
    """Wait until `await check()` is true (tried every 20 ms), or fail after `seconds`."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds:g} s")
        await asyncio.sleep(0.02)


KILLED_SERVICE = textwrap.dedent(
    """
    import asyncio, sys
    from pymongo import AsyncMongoClient
    from adapters.mongo.embedded import EmbeddedMongoServer
    async def main():
        async with EmbeddedMongoServer(sys.argv[1]) as server:
            client = AsyncMongoClient(server.url)
            await client.db.kept.insert_one({"_id": "written before the crash"})
            print(server.pid, flush=True)
            await asyncio.sleep(120)
    asyncio.run(main())
    """
)


async def store_of_a_killed_service(data: Path) -> int:
    """Starts a service-like process on `data` and SIGKILLs it (no atexit, no finally); returns its store's pid."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    service = await asyncio.create_subprocess_exec(
        sys.executable, "-c", KILLED_SERVICE, str(data), stdout=subprocess.PIPE, env=env, cwd=ROOT
    )
    try:
        assert service.stdout is not None
        async with asyncio.timeout(30):
            store = int(await service.stdout.readline())
    finally:
        service.kill()
        await service.wait()
    return store


# What the kernel's SIGKILL leaves no time to show: a store of a service that died, still holding its data directory
# (say, stuck in the kernel). A stand-in with that store's marks: the lock, and the environment naming a service
# that is gone.
STUCK_STORE = textwrap.dedent(
    """
    import fcntl, os, sys, time
    os.makedirs(sys.argv[1], exist_ok=True)
    descriptor = os.open(os.path.join(sys.argv[1], "WiredTiger.lock"), os.O_RDWR | os.O_CREAT)
    fcntl.lockf(descriptor, fcntl.LOCK_EX)
    print(os.getpid(), flush=True)
    time.sleep(120)
    """
)


@asynccontextmanager
async def stuck_store_of_a_dead_service(data: Path) -> AsyncIterator[int]:
    """A process holding `data`'s lock as the store of a service that died would, until the block ends; its pid."""
    gone = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await gone.wait()
    marker = f"{os.readlink('/proc/self/ns/pid')}/{gone.pid}"
    env = {"PATH": os.environ.get("PATH", ""), "TELECONSULTATION_EMBEDDED_STORE_PARENT": marker}
    stuck = await asyncio.create_subprocess_exec(
        sys.executable, "-c", STUCK_STORE, str(data), stdout=subprocess.PIPE, env=env
    )
    try:
        assert stuck.stdout is not None
        async with asyncio.timeout(30):
            pid = int(await stuck.stdout.readline())
        yield pid
    finally:
        if stuck.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                stuck.kill()
        await stuck.communicate()
