"""Targets checked against one run's figures; the table, the JSON, the committed summary and the chart."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.phases import CACHE_SECONDS, Target

NOISE_NOTE = (
    "The machine has 2 cores shared by the load generator, the server, the fake provider and whatever else runs "
    "(other engineers' test suites): absolute figures are noisy and machine-dependent. Only ratios measured side "
    "by side in one run are meaningful; each GET figure is the best of the rounds."
)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    measured: str
    limit: str
    met: bool


def get_figures(targets: list[Target], seconds: float) -> dict[str, Any]:
    floors = {"": next(t for t in targets if t.name == "floor")}
    granian_floor = next((t for t in targets if t.name == "granian floor"), None)
    if granian_floor is not None:
        floors["granian"] = granian_floor
    figures = {}
    for target in targets:
        floor = floors["granian" if target.name.startswith("granian") else ""]
        best = target.best()
        entry: dict[str, Any] = {
            **best.as_dict(),
            "ratio_to_floor": round(best.rps / floor.best().rps, 2),
            "rounds": [run.as_dict() for run in target.runs],
        }
        if target.counts_provider_calls:
            periods = seconds / CACHE_SECONDS
            entry["provider_reads_per_run"] = target.provider_reads
            entry["provider_reads_per_cache_period"] = round(max(target.provider_reads) / periods, 2)
            entry["provider_reads_allowed_per_run"] = math.floor(periods) + 1
        figures[target.name] = entry
    return figures


def checks(figures: dict[str, Any]) -> list[Check]:
    get, post = figures["get"], figures["post"]
    found = [
        _at_least("GET memory, cache off, vs floor", get["memory, cache off"]["ratio_to_floor"], 0.8),
        _at_least("GET memory, cache 2 s, vs floor", get["memory, cache 2 s"]["ratio_to_floor"], 2.0),
    ]
    for name, entry in get.items():
        if "provider_reads_per_run" in entry:
            worst = max(entry["provider_reads_per_run"])
            allowed = entry["provider_reads_allowed_per_run"]
            found.append(
                Check(
                    f"provider reads of the polled room, {name}", f"{worst} per run", f"<= {allowed}", worst <= allowed
                )
            )
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
    lines = ["| GET /teleconsultation/{id}, 64 connections | req/s | x floor | p50 ms | p99 ms | errors |"]
    lines.append("|---|---:|---:|---:|---:|---:|")
    for name, entry in figures["get"].items():
        lines.append(
            f"| {name} | {entry['rps']:.0f} | {entry['ratio_to_floor']:.2f} | {entry['p50_ms']:.1f} "
            f"| {entry['p99_ms']:.1f} | {entry['errors']} |"
        )
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
            f"| {size} new participants, {store} | {post[key]['median_ms']} | {post[key]['ratio_to_provider']} |"
        )
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
