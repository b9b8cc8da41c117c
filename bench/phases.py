"""The benchmark's phases; each starts what it needs, measures, stops it, and returns plain figures."""

from __future__ import annotations

import asyncio
import statistics
import tempfile
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import peer, scenarios
from bench.instructions import Callgrind
from bench.load import LoadResult, run_load
from bench.processes import Server, start_floor, start_service

PROVIDER_LATENCY = 0.05
CACHE_SECONDS = 2.0  # the default of ROOM_DETAILS_CACHE_SECONDS
NO_ENV: Mapping[str, str] = {}
TWO = {"HTTP_WORKERS": "2"}
PEER_MONGO = "fastify peer, mongo"
PEER_MEMORY = "fastify peer, memory"


@dataclass(frozen=True, slots=True)
class Options:
    seconds: int = 8
    warmup: int = 2
    rounds: int = 3
    connections: int = 64
    posts: int = 15
    fill: int = 10_000
    granian: bool = True
    node: str | None = None  # None: no Fastify peer
    callgrind: Callgrind | None = None  # None: no instruction counts
    instruction_seconds: int = 10  # of load under callgrind, per configuration
    wrk: str | None = None
    logs: Path = Path("bench/results/logs")


@dataclass
class Target:
    """One configuration under GET load: a URL on a server, with the headers of a participant."""

    name: str
    server: Server
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    counts_provider_calls: bool = False
    runs: list[LoadResult] = field(default_factory=list)
    provider_reads: list[int] = field(default_factory=list)  # reads of the polled room in each measured run
    shortest_read_gap: float | None = None  # seconds between the two closest reads of the polled room
    cpu_us: list[float] = field(default_factory=list)  # CPU per request of the server, then of the fake provider
    fake_cpu_us: list[float] = field(default_factory=list)


def _mongo_env(stack: ExitStack) -> dict[str, str]:
    """The embedded store in a data directory of its own (one server per directory), removed afterwards."""
    data_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-mongo-"))
    return {"STORE_BACKEND": "mongo", "EMBEDDED_MONGO_DATA_DIR": data_dir}


def _service_target(
    stack: ExitStack,
    name: str,
    fake: Server,
    options: Options,
    *,
    granian: bool = False,
    env: Mapping[str, str] = NO_ENV,
) -> Target:
    service, _ = start_service(stack, name, fake, options.logs, granian=granian, env=env)
    teleconsultation_id = asyncio.run(scenarios.polled_teleconsultation(service))
    cached = env.get("ROOM_DETAILS_CACHE_SECONDS") != "0"
    return Target(name, service, f"/teleconsultation/{teleconsultation_id}", scenarios.poller(), cached)


def get_targets(stack: ExitStack, fake: Server, options: Options) -> list[Target]:
    room_id = asyncio.run(scenarios.provider_room(fake))
    off = {"ROOM_DETAILS_CACHE_SECONDS": "0"}
    floor = start_floor(stack, "floor", fake, options.logs)
    cached_mongo = _mongo_env(stack)
    targets = [
        Target("floor", floor, f"/floor/{room_id}"),
        Target("ceiling", floor, f"/ceiling/{room_id}"),
        _service_target(stack, "memory, cache off", fake, options, env=off),
        _service_target(stack, "memory, cache 2 s", fake, options),
        _service_target(stack, "mongo, cache off", fake, options, env={**_mongo_env(stack), **off}),
        _service_target(stack, "mongo, cache 2 s", fake, options, env=cached_mongo),
        _service_target(stack, "mongo, cache 2 s, 2 workers", fake, options, env={**_mongo_env(stack), **TWO}),
    ]
    if options.node is not None:
        # The peer polls a document like the one the service on the embedded store polls, from that very store,
        # made by that service but with a provider room of its own: reads of the service's room are the service's
        # alone, so the fake's shortest gap between them is the service's.
        polled = targets[5]
        own_id = asyncio.run(scenarios.polled_teleconsultation(polled.server))
        store_url = peer.embedded_store_url(Path(cached_mongo["EMBEDDED_MONGO_DATA_DIR"]))
        documents = peer.stored_documents(store_url, own_id)
        on_mongo = peer.start_peer(stack, "fastify-peer-mongo", fake, options.logs, options.node, store_url=store_url)
        in_memory = peer.start_peer(stack, "fastify-peer-memory", fake, options.logs, options.node, documents=documents)
        own_path = f"/teleconsultation/{own_id}"
        targets += [
            Target(PEER_MONGO, on_mongo, own_path, polled.headers),
            Target(PEER_MEMORY, in_memory, own_path, polled.headers),
        ]
    if options.granian:
        granian_floor = start_floor(stack, "granian-floor", fake, options.logs, granian=True)
        targets += [
            Target("granian floor", granian_floor, targets[0].path),
            Target("granian ceiling", granian_floor, targets[1].path),
            _service_target(stack, "granian memory, cache off", fake, options, granian=True, env=off),
            _service_target(stack, "granian memory, cache 2 s", fake, options, granian=True),
        ]
    return targets


def load_all(targets: list[Target], fake: Server, options: Options) -> None:
    """Rounds of: for each target, a warm-up then a measured run, side by side in time."""
    for round_number in range(1, options.rounds + 1):
        for target in targets:
            _measure(target, fake, options)
            result = target.runs[-1]
            print(
                f"  round {round_number} {target.name:28} {result.rps:8.0f} req/s  p50 {result.p50_ms:6.1f} ms"
                f"  p99 {result.p99_ms:6.1f} ms  errors {result.errors}",
                flush=True,
            )


def _measure(target: Target, fake: Server, options: Options) -> None:
    url = target.server.url + target.path
    run_load(options.wrk, url, connections=options.connections, seconds=options.warmup, headers=target.headers)
    before, _ = asyncio.run(scenarios.provider_stats(fake))
    server_cpu, fake_cpu = target.server.cpu_seconds(), fake.cpu_seconds()
    result = run_load(
        options.wrk, url, connections=options.connections, seconds=options.seconds, headers=target.headers
    )
    server_cpu, fake_cpu = target.server.cpu_seconds() - server_cpu, fake.cpu_seconds() - fake_cpu
    after, gaps = asyncio.run(scenarios.provider_stats(fake))
    target.runs.append(result)
    target.cpu_us.append(server_cpu / max(result.requests, 1) * 1e6)
    target.fake_cpu_us.append(fake_cpu / max(result.requests, 1) * 1e6)
    # Only this target is under load, so the busiest room is the one it polls.
    reads = {room: count - before.get(room, 0) for room, count in after.items()}
    polled = max(reads, key=reads.__getitem__, default=None)
    target.provider_reads.append(reads.get(polled, 0) if polled else 0)
    if polled in gaps:
        target.shortest_read_gap = gaps[polled]


def post_latencies(stack: ExitStack, slow_fake: Server, options: Options) -> dict[str, Any]:
    figures: dict[str, Any] = {"provider_latency_ms": PROVIDER_LATENCY * 1000}
    for store, env in (("memory", NO_ENV), ("mongo", _mongo_env(stack))):
        service, _ = start_service(stack, f"post-{store}", slow_fake, options.logs, env=env)
        for size in (2, 10):
            timings = asyncio.run(scenarios.creation_latencies(service, size, options.posts))
            median = scenarios.median_ms(timings)
            figures[f"{store}_{size}"] = {
                "median_ms": round(median, 1),
                "max_ms": round(max(timings) * 1000, 1),
                "ratio_to_provider": round(median / (PROVIDER_LATENCY * 1000), 3),
                "samples": len(timings),
            }
            print(f"  POST {store:6} {size:2} new participants: median {median:6.1f} ms", flush=True)
        service.stop()
    return figures


def startup(fake: Server, options: Options, times: int = 3) -> dict[str, Any]:
    seconds = []
    for attempt in range(times):
        with ExitStack() as stack:
            _, ready_after = start_service(stack, f"startup-{attempt}", fake, options.logs)
            seconds.append(ready_after)
    print(f"  start-up to ready: {', '.join(f'{s:.2f} s' for s in seconds)}", flush=True)
    return {"median_s": round(statistics.median(seconds), 3), "max_s": round(max(seconds), 3), "runs": seconds}


def memory(fake: Server, options: Options) -> dict[str, Any]:
    with ExitStack() as stack:
        service, _ = start_service(stack, "memory-fill", fake, options.logs)
        idle = service.rss_bytes()
        created = asyncio.run(scenarios.fill(service, options.fill))
        filled = service.rss_bytes()
    per_item = (filled - idle) / created if created else 0.0
    print(f"  RSS {idle / 2**20:.1f} MiB idle, {filled / 2**20:.1f} MiB after {created} teleconsultations", flush=True)
    return {
        "teleconsultations": created,
        "rss_idle_mib": round(idle / 2**20, 1),
        "rss_filled_mib": round(filled / 2**20, 1),
        "kib_per_teleconsultation": round(per_item / 1024, 2),
    }
