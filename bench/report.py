"""Targets checked against one run's figures; the table, the JSON, the committed summary and the chart."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from statistics import median
from typing import Any

from bench.phases import CACHE_SECONDS, PEER_MEMORY, PEER_MONGO, Target

# Instructions per cached poll (memory store, 2 s cache) counted by bench/instructions.py on main before the
# teleconsultation cache: the target is to stay within 10 % of it.
CACHED_POLL_INSTRUCTIONS_BEFORE = 500_060

NOISE_NOTE = (
    "The machine has 2 cores shared by the load generator, the server, the fake provider and whatever else runs "
    "(other engineers' test suites): absolute figures are noisy and machine-dependent. Only ratios measured side "
    "by side in one run are meaningful. GET runs go in rounds (floor, then each configuration, in turn); a ratio "
    "to the floor is taken within each round and the median of the rounds is reported, as are the other GET "
    "figures. CPU per request (from /proc; a server's child processes included: granian's worker, the "
    "embedded SecantusDB) is the least noisy figure: it does not depend on what else runs."
)


# The gap is measured where the fake receives the reads, and a read can spend tens of milliseconds between the
# service deciding to make it and the fake seeing it when the two cores are loaded (p99 latencies of 70 to 100 ms
# were seen): a broken cache reads several times per period, far below this.
GAP_SLACK_SECONDS = 0.25


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    measured: str
    limit: str
    met: bool


def get_figures(targets: list[Target], seconds: float) -> dict[str, Any]:
    """Medians over the rounds; a target's ratio to its floor is taken round by round, then the median."""
    floors = {target.name: target for target in targets if target.name.endswith("floor")}
    figures = {}
    for target in targets:
        floor = floors["granian floor" if target.name.startswith("granian") else "floor"]
        ratios = [run.rps / floor_run.rps for run, floor_run in zip(target.runs, floor.runs, strict=True)]
        entry: dict[str, Any] = {
            "rps": round(median(run.rps for run in target.runs)),
            "ratio_to_floor": round(median(ratios), 3),
            "p50_ms": round(median(run.p50_ms for run in target.runs), 1),
            "p99_ms": round(median(run.p99_ms for run in target.runs), 1),
            "errors": sum(run.errors for run in target.runs),
            "server_cpu_us_per_request": round(median(target.cpu_us)),
            "provider_cpu_us_per_request": round(median(target.fake_cpu_us)),
            "rounds": [run.as_dict() for run in target.runs],
            "round_ratios_to_floor": [round(ratio, 3) for ratio in ratios],
        }
        peer = _peer_of(target.name, names={t.name: t for t in targets})
        if peer is not None:
            peer_ratios = [run.rps / peer_run.rps for run, peer_run in zip(target.runs, peer.runs, strict=True)]
            entry["ratio_to_peer"] = round(median(peer_ratios), 3)
            entry["round_ratios_to_peer"] = [round(ratio, 3) for ratio in peer_ratios]
        entry["provider_reads_per_run"] = target.provider_reads
        if target.counts_provider_calls:
            entry["provider_reads_per_cache_period"] = round(max(target.provider_reads) * CACHE_SECONDS / seconds, 2)
            entry["shortest_provider_read_gap_s"] = target.shortest_read_gap
        figures[target.name] = entry
    return figures


def _peer_of(name: str, names: dict[str, Target]) -> Target | None:
    """The Fastify peer on the same store as the service configuration `name`, if it ran."""
    if name.startswith("mongo"):
        return names.get(PEER_MONGO)
    if name.startswith("memory"):
        return names.get(PEER_MEMORY)
    return None


def checks(figures: dict[str, Any]) -> list[Check]:
    get, post = figures["get"], figures["post"]
    # A run of `seconds` can hold one more read than it holds whole cache periods: it may start just before one.
    most_reads = int(figures["meta"]["seconds"] // CACHE_SECONDS) + 1
    found = [
        _at_least("GET memory, cache off, vs floor", get["memory, cache off"]["ratio_to_floor"], 0.8),
        _at_least("GET memory, cache 2 s, vs floor", get["memory, cache 2 s"]["ratio_to_floor"], 2.0),
    ]
    # The targets on the embedded default store, one worker and two.
    for name in ("mongo, cache 2 s", "mongo, cache 2 s, 2 workers"):
        entry = get[name]
        found.append(_at_least(f"GET {name}, vs floor", entry["ratio_to_floor"], 2.0))
        if PEER_MONGO in get:
            found.append(_at_least(f"GET {name}, vs Fastify peer", entry["ratio_to_peer"], 2.0))
            peer_p99 = get[PEER_MONGO]["p99_ms"]
            found.append(_at_most(f"GET {name}, p99 ms (Fastify peer's: {peer_p99:g})", entry["p99_ms"], peer_p99))
    if "instructions" in figures:
        cached = figures["instructions"]["memory, cache 2 s"]["instructions_per_request"]
        most = round(CACHED_POLL_INSTRUCTIONS_BEFORE * 1.1)
        found.append(_at_most("instructions per cached poll, memory store", cached, most))
    for name, entry in get.items():
        if "shortest_provider_read_gap_s" in entry:
            # At most one call per cache period: two calls for the room are never closer than the period.
            # Measured where the fake receives them, hence a little slack for loopback jitter.
            gap = entry["shortest_provider_read_gap_s"]
            limit = CACHE_SECONDS - GAP_SLACK_SECONDS
            found.append(
                Check(
                    f"shortest gap between provider reads of the polled room (s), {name}",
                    "never read twice" if gap is None else f"{gap:.3f}",
                    f">= {limit:g}",
                    gap is None or gap >= limit,
                )
            )
            reads = max(entry["provider_reads_per_run"])
            name_of_check = f"provider reads of the polled room per run, {name}"
            found.append(Check(name_of_check, str(reads), f"<= {most_reads}", reads <= most_reads))
        found.append(Check(f"GET errors, {name}", str(entry["errors"]), "0", entry["errors"] == 0))
    for store in ("memory", "mongo"):
        found.append(
            _at_most(f"POST 10 new, {store}, x provider latency", post[f"{store}_10"]["ratio_to_provider"], 3.0)
        )
        found.append(_at_most(f"POST 2 new, {store}, x provider latency", post[f"{store}_2"]["ratio_to_provider"], 2.5))
    found.append(_at_most("start-up to ready (s), memory store", figures["startup"]["median_s"], 2.0))
    return found


def _at_least(name: str, value: float, limit: float) -> Check:
    return Check(name, f"{value:g}", f">= {limit:g}", value >= limit)


def _at_most(name: str, value: float, limit: float) -> Check:
    return Check(name, f"{value:g}", f"<= {limit:g}", value <= limit)


def tables(figures: dict[str, Any], found: list[Check]) -> str:
    lines = [
        "| GET /teleconsultation/{id}, 64 connections | req/s | x floor (each round) | x Fastify peer, same store "
        "(each round) | p50 ms | p99 ms | errors | server CPU µs/req | provider CPU µs/req | provider reads per run "
        "| shortest gap between reads |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, entry in figures["get"].items():
        gap = entry.get("shortest_provider_read_gap_s")
        lines.append(
            f"| {name} | {entry['rps']} | {_ratio_with_rounds(entry)} | {_ratio_with_rounds(entry, 'peer')} "
            f"| {entry['p50_ms']} | {entry['p99_ms']} "
            f"| {entry['errors']} | {entry['server_cpu_us_per_request']} | {entry['provider_cpu_us_per_request']} "
            f"| {round(median(entry['provider_reads_per_run']))} | {'-' if gap is None else f'{gap:.2f} s'} |"
        )
    lines += ["", _capacity(figures["get"])]
    if "ceiling" in figures["get"]:  # figures of runs made before the ceiling was measured have none
        lines += ["", _ceiling(figures["get"])]
    if "instructions" in figures:
        lines += _instructions(figures["instructions"])
    post = figures["post"]
    lines += [
        "",
        f"| POST /teleconsultation, provider answers after {post['provider_latency_ms']:g} ms "
        "| median ms | x provider latency |",
        "|---|---:|---:|",
    ]
    for key in ("memory_2", "memory_10", "mongo_2", "mongo_10"):
        store, size = key.split("_")
        lines.append(
            f"| {size} new participants, {store} | {post[key]['median_ms']} | {post[key]['ratio_to_provider']:.2f} |"
        )
    lines += _servers(figures["get"])
    memory, startup = figures["memory"], figures["startup"]
    lines += [
        "",
        f"Start-up to `/-/ready` (memory store): median {startup['median_s']} s, max {startup['max_s']} s.",
        f"Resident memory: {memory['rss_idle_mib']} MiB idle, {memory['rss_filled_mib']} MiB after "
        f"{memory['teleconsultations']} teleconsultations ({memory['kib_per_teleconsultation']} KiB each).",
        "",
        "| Target | Measured | Limit | Met |",
        "|---|---:|---:|:-:|",
    ]
    lines += [f"| {c.name} | {c.measured} | {c.limit} | {'yes' if c.met else '**no**'} |" for c in found]
    return "\n".join(lines)


def _ratio_with_rounds(entry: dict[str, Any], to: str = "floor") -> str:
    if f"ratio_to_{to}" not in entry:
        return "-"
    rounds = entry[f"round_ratios_to_{to}"]
    return f"{entry[f'ratio_to_{to}']:.2f}" + ("" if len(rounds) < 2 else f" ({', '.join(f'{r:.2f}' for r in rounds)})")


def _capacity(get: dict[str, Any]) -> str:
    """The GET ratios again from CPU per request (server plus provider), which other load does not skew."""

    def cost(name: str) -> int:
        return int(get[name]["server_cpu_us_per_request"] + get[name]["provider_cpu_us_per_request"])

    floor, off, on = cost("floor"), cost("memory, cache off"), cost("memory, cache 2 s")
    return (
        f"CPU per request, server plus provider: floor {floor} µs, memory store with the cache off {off} µs "
        f"({floor / off:.2f} x the floor's capacity), with the 2 s cache {on} µs ({floor / on:.2f} x)."
    )


def _ceiling(get: dict[str, Any]) -> str:
    """How far the service with its cache is from what the server and framework serve with no work at all."""
    ceiling, cached = get["ceiling"]["ratio_to_floor"], get["memory, cache 2 s"]["ratio_to_floor"]
    return (
        f"Ceiling: a bare handler answering the floor's body without the provider call serves {ceiling:.2f} x the "
        f"floor on the same server; the service with the 2 s cache serves {cached:.2f} x, {cached / ceiling:.0%} of "
        "that ceiling."
    )


def _instructions(counts: dict[str, Any]) -> list[str]:
    lines = [
        "",
        "| GET under callgrind (user space, uvicorn) | instructions per request | x floor |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {entry['instructions_per_request']} | {entry['x_floor']:.2f} |" for name, entry in counts.items()
    ]
    return lines


def _servers(get: dict[str, Any]) -> list[str]:
    """granian against uvicorn, configuration by configuration (median req/s and server CPU per request)."""
    pairs = [("floor", "granian floor")] + [
        (name, f"granian {name}") for name in get if f"granian {name}" in get and name != "floor"
    ]
    if "granian floor" not in get:
        return []
    lines = [
        "",
        "| ASGI server, one worker | uvicorn req/s | granian req/s | granian / uvicorn | "
        "uvicorn CPU µs/req | granian CPU µs/req |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for uvicorn, granian in pairs:
        u, g = get[uvicorn], get[granian]
        lines.append(
            f"| {uvicorn} | {u['rps']} | {g['rps']} | {g['rps'] / u['rps']:.2f} "
            f"| {u['server_cpu_us_per_request']} | {g['server_cpu_us_per_request']} |"
        )
    return lines


def write(results: Path, figures: dict[str, Any], found: list[Check]) -> str:
    text = tables(figures, found)
    meta = figures["meta"]
    (results / "latest.json").write_text(json.dumps({**figures, "checks": [asdict(c) for c in found]}, indent=2))
    summary = [
        "# Benchmark summary",
        "",
        f"Written by `make bench` on {meta['date']} ({meta['cpus']} cores, Python {meta['python']}, load by "
        f"{meta['load_tool']}, {meta['seconds']:g} s per run after a {meta['warmup']:g} s warm-up, "
        f"{meta['rounds']} rounds).",
        "",
        NOISE_NOTE,
        "",
        text,
        "",
    ]
    (results / "summary.md").write_text("\n".join(summary))
    return text
