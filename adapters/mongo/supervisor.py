"""The embedded server kept running: a child that dies is reaped and started again, within a restart budget."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from enum import Enum
from types import TracebackType

from adapters.mongo.embedded import EmbeddedMongoServer, EmbeddedServerError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RestartPolicy:
    """At most `max_restarts` restarts within any `window_seconds`; then the supervisor gives up.

    Before each attempt it waits `initial_backoff_seconds`, doubled after every attempt that follows another
    one within the window, up to `max_backoff_seconds`. `poll_seconds` is how often the child is checked.
    """

    max_restarts: int = 5
    window_seconds: float = 60.0
    initial_backoff_seconds: float = 0.1
    max_backoff_seconds: float = 5.0
    poll_seconds: float = 0.1

    def __post_init__(self) -> None:
        if self.max_restarts < 0:
            raise ValueError("max_restarts must not be negative")
        if min(self.window_seconds, self.poll_seconds) <= 0:
            raise ValueError("the window and the poll interval must be positive")
        if not 0 <= self.initial_backoff_seconds <= self.max_backoff_seconds:
            raise ValueError("backoffs must satisfy 0 <= initial <= max")


class ServerState(Enum):
    SERVING = "serving"
    RESTARTING = "restarting"
    FAILED = "failed"  # the budget is spent: only a restart of the whole service brings the store back
    STOPPED = "stopped"


class SupervisedEmbeddedServer:
    """`async with SupervisedEmbeddedServer(path) as server:` an EmbeddedMongoServer that restarts when it dies.

    A restart keeps the first server's port, so `url` never changes and the driver reconnects by itself. A
    failure to start the first server is raised; later failures are logged and count against the budget.
    """

    def __init__(
        self,
        storage_path: str | os.PathLike[str],
        policy: RestartPolicy = RestartPolicy(),
        *,
        sync_on_commit: bool = True,
        startup_timeout: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._storage_path = storage_path
        self._policy = policy
        self._sync_on_commit = sync_on_commit
        self._startup_timeout = startup_timeout
        self._clock = clock
        self._server: EmbeddedMongoServer | None = None
        self._url: str | None = None
        self._port = 0
        self._state = ServerState.STOPPED
        self._restarts: deque[float] = deque()
        self._watcher: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        if self._url is None:
            raise EmbeddedServerError("the embedded server is not running")
        return self._url

    @property
    def state(self) -> ServerState:
        return self._state

    @property
    def serving(self) -> bool:
        return self._state is ServerState.SERVING and self._server is not None and self._server.returncode is None

    @property
    def recoverable(self) -> bool:
        return self._state is not ServerState.FAILED

    @property
    def pid(self) -> int | None:
        return None if self._server is None else self._server.pid

    async def __aenter__(self) -> SupervisedEmbeddedServer:
        server = await self._start()
        self._url = server.url
        self._port = server.port or 0
        self._state = ServerState.SERVING
        self._watcher = asyncio.create_task(self._watch(), name="embedded-store-supervisor")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None
        server, self._server = self._server, None
        self._state = ServerState.STOPPED
        if server is not None:
            await server.stop()

    async def _start(self) -> EmbeddedMongoServer:
        server = EmbeddedMongoServer(
            self._storage_path,
            port=self._port,
            sync_on_commit=self._sync_on_commit,
            startup_timeout=self._startup_timeout,
        )
        # Held before it answers, so that a shutdown meanwhile still stops it.
        self._server = server
        try:
            await server.__aenter__()
        except BaseException:
            self._server = None
            raise
        return server

    async def _watch(self) -> None:
        try:
            await self._keep_serving()
        except Exception:
            # A bug here must not leave a dead store reported as recovering forever.
            self._state = ServerState.FAILED
            logger.exception("the embedded store supervisor failed: the service must be restarted")

    async def _keep_serving(self) -> None:
        while True:
            server = self._server
            assert server is not None
            code = await self._exit_of(server)
            logger.error("the embedded store exited unexpectedly, restarting it", extra={"exit_code": code})
            await server.stop()  # closes its log; nothing left to stop
            self._server = None
            self._state = ServerState.RESTARTING
            if not await self._restart():
                self._state = ServerState.FAILED
                logger.critical(
                    "the embedded store could not be kept running: the service must be restarted",
                    extra={"restarts": len(self._restarts), "window_seconds": self._policy.window_seconds},
                )
                return
            self._state = ServerState.SERVING
            logger.warning("the embedded store was restarted", extra={"restarts": len(self._restarts)})

    async def _exit_of(self, server: EmbeddedMongoServer) -> int:
        # `returncode` polls the child, which reaps it: a dead store never lingers as a zombie.
        while True:
            code = server.returncode
            if code is not None:
                return code
            await asyncio.sleep(self._policy.poll_seconds)

    async def _restart(self) -> bool:
        """Start a new server, with backoff, while the budget allows; whether one runs."""
        while self._spend_one_restart():
            attempt = len(self._restarts)
            backoff = self._policy.initial_backoff_seconds * 2 ** (attempt - 1)
            await asyncio.sleep(min(backoff, self._policy.max_backoff_seconds))
            try:
                await self._start()
            except EmbeddedServerError as error:
                # The first line only: the rest is the server's log, which is in its log file.
                logger.error(
                    "the embedded store did not restart: %s", str(error).splitlines()[0], extra={"attempt": attempt}
                )
                continue
            return True
        return False

    def _spend_one_restart(self) -> bool:
        now = self._clock()
        while self._restarts and now - self._restarts[0] > self._policy.window_seconds:
            self._restarts.popleft()
        if len(self._restarts) >= self._policy.max_restarts:
            return False
        self._restarts.append(now)
        return True
