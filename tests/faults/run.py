"""A fault-injection run of the whole service.

    python -m tests.faults.run --operations 300 --failure-rate 0.3 --seed 1 \
        [--concurrency 4] [--store embedded] [--lost-replies]

Starts the fake Kaleyra (tests/fakes/kaleyra_server.py) and the real app under uvicorn in this process
(memory store, or the embedded wire-compatible server), sends a mix of create, change, read and delete
requests while the fake answers a share of provider calls with 500, 503, 429, a reset connection or a hang
(cut short by a short provider timeout), then stops the faults, runs one sweep of the pending room
deletions and audits the provider's rooms against the store. Exits 1 when a caller got a 5xx other than
502/503 or no answer, or when a room was orphaned (or a stored room is missing at the provider).

`--lost-replies` adds calls that are carried out but whose answer never arrives. A room created that way
cannot be found again (Kaleyra has no list-rooms call): its creation's intent is closed as "outcome
unknown", counted and logged by intent id, which the room carries as its description. The run reports
such rooms as known-unknown, apart from silent orphans (rooms no record accounts for), which fail it.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import sys
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from dependency_injector import providers

from adapters.kaleyra import KaleyraSettings
from adapters.memory.clock import FixedClock
from application.rooms import RoomKeeper
from entrypoints.container import Container, resolved
from entrypoints.gateways import Store
from entrypoints.http.app import ServiceApp
from entrypoints.service_config import DEFAULT_CONFIG
from entrypoints.settings import Settings, StoreSettings
from tests.builders import T0
from tests.fakes.kaleyra_server import FakeKaleyraServer
from tests.fakes.kaleyra_state import RANDOM_FAULTS, Fault
from tests.faults.counting_fake import CountingKaleyraState
from tests.faults.report import FaultReport, audit_rooms
from tests.faults.workload import Workload
from tests.http.conftest import serve_app

API_KEY = "fault-run-api-key"
EVERYTHING = 1_000_000


@dataclass(frozen=True)  # not slotted: the class attributes serve as the command line's defaults
class FaultOptions:
    operations: int = 300
    failure_rate: float = 0.3
    seed: int = 1
    concurrency: int = 4
    store: str = "memory"  # or "embedded"
    provider_timeout_seconds: float = 0.3  # how long a hanging provider call lasts
    # Also let calls be carried out with their answer lost (the "committed but response lost" case).
    lost_replies: bool = False


async def run_faults(options: FaultOptions) -> FaultReport:
    report = FaultReport()
    faults = (*RANDOM_FAULTS, Fault.LOST) if options.lost_replies else RANDOM_FAULTS
    state = CountingKaleyraState(api_key=API_KEY, seed=options.seed, hang_seconds=5.0, random_faults=faults)
    clock = FixedClock(T0 - timedelta(days=2))  # two days before the appointments: nothing is locked
    async with FakeKaleyraServer(state) as fake, _service(options, fake.base_url, clock) as (client, container):
        state.failure_rate = options.failure_rate
        workload = Workload(client, random.Random(options.seed), report)
        await workload.run(options.operations, options.concurrency)
        state.failure_rate = 0.0
        rooms: RoomKeeper = await resolved(container.rooms)
        store: Store = await resolved(container.store)
        report.provider_calls = len(state.calls)
        report.faults_injected = state.injected
        report.queued_deletions = len(await store.cleanups.pending(EVERYTHING))
        before = await audit_rooms(_descriptions(state), store.teleconsultations, workload.created)
        report.orphaned_before_sweep = before.orphaned + before.known_unknown
        # Past every lease: whatever a request recorded and did not finish is the sweep's now.
        clock.advance(timedelta(seconds=Settings().reliability.room_lease_seconds + 1))
        report.still_pending = await rooms.sweep(limit=EVERYTHING)
        unknown = {intent.intent_id for intent in await store.intents.unknown(clock.now(), EVERYTHING)}
        audit = await audit_rooms(_descriptions(state), store.teleconsultations, workload.created, unknown)
        report.orphaned_rooms, report.dangling_rooms = audit.orphaned, audit.dangling
        report.unknown_outcomes, report.known_unknown_rooms = len(unknown), audit.known_unknown
    return report


@asynccontextmanager
async def _service(options: FaultOptions, kaleyra_url: str, clock: FixedClock) -> AsyncIterator[tuple[Any, Container]]:
    with tempfile.TemporaryDirectory(prefix="fault-run-") as data_dir:
        container = Container(settings=_settings(options, kaleyra_url, Path(data_dir)), service_config=DEFAULT_CONFIG)
        container.clock.override(providers.Object(clock))
        async with serve_app(ServiceApp(container)) as client:
            yield client, container


def _descriptions(state: CountingKaleyraState) -> dict[str, str]:
    return {room_id: room.description for room_id, room in state.rooms.items()}


def _settings(options: FaultOptions, kaleyra_url: str, data_dir: Path) -> Settings:
    timeout = options.provider_timeout_seconds
    kaleyra = KaleyraSettings(
        base_url=kaleyra_url,
        api_key=API_KEY,
        connect_timeout_seconds=timeout,
        total_timeout_seconds=timeout,
        retry_backoff_base_seconds=0.01,
        retry_backoff_max_seconds=0.05,
        retry_after_cap_seconds=0.05,  # the fake asks for 1 s; a run of hundreds of calls cannot wait that long
    )
    backend = "memory" if options.store == "memory" else "mongo"
    return Settings(
        video_provider="kaleyra",
        kaleyra=kaleyra,
        provider_timeout_seconds=timeout,
        store=StoreSettings(backend=backend, embedded_data_dir=data_dir),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fault-injection run of the teleconsultation service")
    parser.add_argument("--operations", type=int, default=FaultOptions.operations)
    parser.add_argument("--failure-rate", type=float, default=FaultOptions.failure_rate)
    parser.add_argument("--seed", type=int, default=FaultOptions.seed)
    parser.add_argument("--concurrency", type=int, default=FaultOptions.concurrency)
    parser.add_argument("--store", choices=("memory", "embedded"), default=FaultOptions.store)
    parser.add_argument(
        "--lost-replies", action="store_true", help="also carry out some calls and drop the connection before answering"
    )
    args = parser.parse_args(argv)
    options = FaultOptions(
        operations=args.operations,
        failure_rate=args.failure_rate,
        seed=args.seed,
        concurrency=args.concurrency,
        store=args.store,
        lost_replies=args.lost_replies,
    )
    # The service warns about every failed provider call, and the servers log every request: only errors
    # (a 500's stack trace, say) are worth reading here.
    logging.disable(logging.WARNING)
    try:
        report = asyncio.run(run_faults(options))
    finally:
        logging.disable(logging.NOTSET)
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
