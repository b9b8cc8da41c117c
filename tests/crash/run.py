"""A crash run: the service and its embedded store killed with SIGKILL at random moments under a workload.

    python -m tests.crash.run --kills 20 --seed 1 [--store-kills quiesced|random] [--concurrency 4]

Starts the fake Kaleyra (`python -m tests.fakes.kaleyra_server`, with provider latency) and the service as a real
process (`python -m entrypoints`, embedded store in a temporary EMBEDDED_MONGO_DATA_DIR). Creations, changes and
cancellations run against it; after a random moment the service is killed with SIGKILL, or its store child first
and then the service; then it is started again, `--kills` times. Once the leases of the dead instances have run
out, one `python -m entrypoints sweep` runs, and the store and the provider are audited:

* confirmed writes lost: a teleconsultation a 201 or 204 promised that the store does not hold as promised;
* orphaned provider rooms: rooms at the provider that no live teleconsultation holds and no record accounts for;
  rooms that carry the id of an intent closed as "outcome unknown" (the instance died before the provider
  answered) are reported apart, as known-unknown;
* dangling room ids: live teleconsultations whose room is gone from the provider.

Exits 1 unless all three are 0 (and the sweep left nothing pending).

Store kills. Writes are journaled (`j: true`, MONGODB_WRITE_CONCERN), so `--store-kills random` (the default)
kills the store at any moment, like the service, and must still report 0 confirmed writes lost.
`--store-kills quiesced` kills it only once the workload is paused, every request has been answered and the store
has been asked to flush (`fsync`): it proves recovery after the store's death alone, for a write concern that does
not journal (`MONGODB_WRITE_CONCERN=acknowledged`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pymongo import AsyncMongoClient

from adapters.mongo.embedded import EmbeddedMongoServer
from adapters.mongo.lifecycle import open_mongo_store
from tests.crash.processes import API_KEY, FakeKaleyraProcess, ServiceProcess, wait_until_gone
from tests.crash.workload import Expected, Ledger, Workload
from tests.faults.report import audit_rooms

COLLECTION = "teleconsultations"
USER_MAP = "teleconsultations_users"
DATABASE = "teleconsultation"
LEASE_SECONDS = 4.0  # ROOM_LEASE_SECONDS: far above a creation here, so that no live request is swept under
EVERYTHING = 1_000_000


@dataclass(frozen=True)  # not slotted: the class attributes serve as the command line's defaults
class CrashOptions:
    kills: int = 20
    seed: int = 1
    concurrency: int = 4
    store_kills: str = "random"  # or "quiesced"
    latency_seconds: float = 0.05  # the fake provider's, on every answer
    shortest_life_seconds: float = 0.3
    longest_life_seconds: float = 1.5


@dataclass
class CrashReport:
    kills: list[str] = field(default_factory=list)  # "service" or "store", in order
    operations_confirmed: int = 0
    operations_unanswered: int = 0
    operations_refused: int = 0
    checked: int = 0  # teleconsultations whose every write was answered, checked against the store
    lost: list[str] = field(default_factory=list)  # "<id>: <what differs>"
    sweep_exit_code: int | None = None
    sweep_output: str = ""
    provider_rooms: int = 0
    live_rooms: int = 0
    orphaned_rooms: int = 0
    unknown_outcomes: int = 0
    known_unknown_rooms: int = 0
    dangling_rooms: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not (self.lost or self.orphaned_rooms or self.dangling_rooms) and self.sweep_exit_code == 0

    def render(self) -> str:
        service_kills, store_kills = self.kills.count("service"), self.kills.count("store")
        lines = [
            f"kills (SIGKILL):                       {len(self.kills)} ({service_kills} service, {store_kills} store)",
            f"operations confirmed (201/204):        {self.operations_confirmed}",
            f"operations without a clear answer:     {self.operations_unanswered} (killed in flight, or a 5xx)",
            f"operations refused (4xx):              {self.operations_refused}",
            f"teleconsultations checked:             {self.checked}",
            f"confirmed writes lost (must be 0):     {len(self.lost)}",
            *(f"  {entry}" for entry in self.lost[:10]),
            f"sweep exit code (must be 0):           {self.sweep_exit_code} ({self.sweep_output})",
            f"provider rooms left / held:            {self.provider_rooms} / {self.live_rooms}",
            f"orphaned provider rooms (must be 0):   {self.orphaned_rooms}",
            f"creations of unknown outcome:          {self.unknown_outcomes} (counted and logged by intent id)",
            f"  their rooms left at the provider:    {self.known_unknown_rooms} (known-unknown, not orphans)",
            f"dangling room ids (must be 0):         {self.dangling_rooms}",
            f"seconds:                               {self.seconds:.1f}",
            "result:                                " + ("OK" if self.ok else "FAILED"),
        ]
        return "\n".join(lines)


async def run_crashes(options: CrashOptions) -> CrashReport:
    started = time.monotonic()
    report, ledger, rng = CrashReport(), Ledger(), random.Random(options.seed)
    # At least one of each when there are two kills or more; the rest at random, a third of them the store.
    kinds = ["service", "store"][: options.kills] + [
        rng.choice(("service", "service", "store")) for _ in range(options.kills - 2)
    ]
    rng.shuffle(kinds)
    workload = Workload(rng, ledger)
    with tempfile.TemporaryDirectory(prefix="crash-run-") as scratch:
        root = Path(scratch)
        data_dir = root / "data"
        fake = FakeKaleyraProcess(root / "fake-kaleyra.log", options.latency_seconds)
        await fake.start()
        try:
            environment = _environment(fake.url, data_dir)
            for life, kind in enumerate(kinds):
                service = ServiceProcess(environment, root / "service.log")
                await service.start()
                await _live_then_die(service, workload, life, kind, options, rng)
                report.kills.append(kind)
            # The dead instances' leases run out; then one sweep, as a process of its own.
            await asyncio.sleep(LEASE_SECONDS + 0.5)
            sweep = ServiceProcess(environment, root / "sweep.log").run_command("sweep")
            report.sweep_exit_code = sweep.returncode
            said = (sweep.stdout or sweep.stderr).decode(errors="replace").strip().splitlines()
            report.sweep_output = said[-1] if said else "(it said nothing)"
            await _audit(report, ledger, data_dir, await fake.rooms())
        finally:
            fake.stop()
    report.operations_confirmed = ledger.confirmed
    report.operations_unanswered = ledger.unanswered
    report.operations_refused = ledger.refused
    report.seconds = time.monotonic() - started
    return report


async def _live_then_die(
    service: ServiceProcess, workload: Workload, life: int, kind: str, options: CrashOptions, rng: random.Random
) -> None:
    stop = asyncio.Event()
    running = asyncio.create_task(workload.run(service.url, life, options.concurrency, stop))
    await asyncio.sleep(rng.uniform(options.shortest_life_seconds, options.longest_life_seconds))
    if kind == "store" and options.store_kills == "quiesced":
        stop.set()
        await running  # every request answered
        await _flush(service)
        store = service.kill(store_first=True)
    else:
        store = service.kill(store_first=kind == "store")
        stop.set()
        await running  # the requests in flight fail at once
    await wait_until_gone(store)


async def _flush(service: ServiceProcess) -> None:
    """Ask the service's store to write everything to disk (until writes are journaled, see the module's notes)."""
    port = _store_port(service)
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{port}/?directConnection=true", serverSelectionTimeoutMS=5000
    )
    try:
        await client.admin.command("fsync")
    finally:
        await client.close()


def _store_port(service: ServiceProcess) -> int:
    # The store listens on a port of its choosing, which only its open sockets tell.
    pid = service.store_pid()
    inodes = {os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        columns = line.split()
        local, state, inode = columns[1], columns[3], columns[9]
        if state == "0A" and f"socket:[{inode}]" in inodes:  # LISTEN
            return int(local.split(":")[1], 16)
    raise RuntimeError("the embedded store listens on no TCP port")


async def _audit(report: CrashReport, ledger: Ledger, data_dir: Path, provider_rooms: dict[str, str]) -> None:
    async with (
        EmbeddedMongoServer(data_dir) as server,
        open_mongo_store(server.url, DATABASE, COLLECTION, USER_MAP) as store,
    ):
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(server.url, tz_aware=True)
        try:
            raw = {str(doc["_id"]): doc async for doc in client[DATABASE][COLLECTION].find({})}
        finally:
            await client.close()
        for teleconsultation_id, expected in ledger.expected.items():
            if teleconsultation_id in ledger.uncertain:
                continue
            report.checked += 1
            problem = _differs(raw.get(teleconsultation_id), expected)
            if problem is not None:
                report.lost.append(f"{teleconsultation_id}: {problem} (confirmed in life {expected.life})")
        unknown = {intent.intent_id for intent in await store.intents.unknown(datetime.now(UTC), EVERYTHING)}
        audit = await audit_rooms(provider_rooms, store.teleconsultations, raw, unknown)
    report.provider_rooms = len(provider_rooms)
    report.live_rooms = len(provider_rooms) - audit.orphaned - audit.known_unknown
    report.orphaned_rooms, report.dangling_rooms = audit.orphaned, audit.dangling
    report.unknown_outcomes, report.known_unknown_rooms = len(unknown), audit.known_unknown


def _differs(document: dict[str, Any] | None, expected: Expected) -> str | None:
    if document is None:
        return "missing"
    state = document.get("__STATE__")
    if expected.cancelled:
        return None if state == "TRASH" else f"cancelled, but stored as {state}"
    if state != "PUBLIC":
        return f"live, but stored as {state}"
    participants = document.get("participants")
    roster = tuple(p.get("userId") for p in participants) if isinstance(participants, list) else None
    if roster != expected.roster:
        return "another roster"
    start = document.get("startDate")
    if not isinstance(start, datetime) or abs(start.timestamp() - expected.start.timestamp()) > 0.001:
        return "another start"
    if not document.get("bandyerRoomId"):
        return "no room"
    return None


def _environment(kaleyra_url: str, data_dir: Path) -> dict[str, str]:
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("MONGODB_", "STORE_", "BANDYER_"))}
    return {
        **inherited,
        "VIDEO_PROVIDER": "kaleyra",
        "BANDYER_BASE_URL": kaleyra_url,
        "BANDYER_API_SECRET_KEY": API_KEY,
        "HTTP_HOST": "127.0.0.1",
        "STORE_BACKEND": "mongo",
        "EMBEDDED_MONGO_DATA_DIR": str(data_dir),
        "LOG_LEVEL": "warning",
        "SWEEP_INTERVAL_SECONDS": "1",
        "ROOM_LEASE_SECONDS": str(LEASE_SECONDS),
        "PROVIDER_TIMEOUT_SECONDS": "2",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Crash run: SIGKILL the service and its store under a workload")
    parser.add_argument("--kills", type=int, default=CrashOptions.kills)
    parser.add_argument("--seed", type=int, default=CrashOptions.seed)
    parser.add_argument("--concurrency", type=int, default=CrashOptions.concurrency)
    parser.add_argument("--store-kills", choices=("quiesced", "random"), default=CrashOptions.store_kills)
    args = parser.parse_args(argv)
    options = CrashOptions(kills=args.kills, seed=args.seed, concurrency=args.concurrency, store_kills=args.store_kills)
    report = asyncio.run(run_crashes(options))
    print(report.render())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
