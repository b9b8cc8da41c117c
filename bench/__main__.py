"""`python -m bench` (`make bench`): the service against the framework's floor, every figure from one run.

Starts the fake Kaleyra (twice: instant, and answering after 50 ms), the floor app and the service in several
configurations, each in its own process; loads them in turns; then times creations, start-up and memory.
Prints a table, writes bench/results/latest.json, summary.md and chart.png. Exit status 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import chart, instructions, peer, phases, report
from bench.load import find_debian_tool, find_wrk
from bench.processes import BenchError, start_fake_kaleyra

RESULTS = Path(__file__).with_name("results")


def parse(argv: list[str] | None) -> tuple[phases.Options, bool]:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0] if __doc__ else "")
    defaults = phases.Options()
    # Whole seconds: wrk takes no fractions.
    parser.add_argument("--seconds", type=int, default=defaults.seconds, help="seconds of each measured GET run")
    parser.add_argument("--warmup", type=int, default=defaults.warmup, help="seconds of warm-up before each GET run")
    parser.add_argument("--rounds", type=int, default=defaults.rounds, help="rounds of GET runs (medians count)")
    parser.add_argument("--posts", type=int, default=defaults.posts, help="timed creations per roster size and store")
    parser.add_argument("--fill", type=int, default=defaults.fill, help="teleconsultations created for the RSS figure")
    parser.add_argument("--no-granian", action="store_true", help="skip the granian comparison")
    parser.add_argument("--no-peer", action="store_true", help="skip the Fastify peer (needs Node.js 20 and npm)")
    parser.add_argument(
        "--no-instructions", action="store_true", help="skip counting instructions per request under callgrind"
    )
    parser.add_argument("--python-load", action="store_true", help="use the Python load generator, not wrk")
    parser.add_argument(
        "--rewrite", action="store_true", help="only rewrite summary.md and chart.png from latest.json's figures"
    )
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    logs = RESULTS / "logs"
    logs.mkdir(exist_ok=True)
    if args.rewrite:
        return phases.Options(), True
    return phases.Options(
        seconds=args.seconds,
        warmup=args.warmup,
        rounds=max(1, args.rounds),
        posts=args.posts,
        fill=args.fill,
        granian=not args.no_granian,
        node=None if args.no_peer else _node(),  # found (or installed) before the long runs
        callgrind=None if args.no_instructions else _callgrind(),  # found (or installed) before the long runs
        wrk=None if args.python_load else find_wrk(),
        logs=logs,
    ), False


def measure(options: phases.Options) -> dict[str, Any]:
    figures: dict[str, Any] = {"meta": _meta(options)}
    with ExitStack() as stack:
        fake = start_fake_kaleyra(stack, "fake-kaleyra", options.logs)
        slow_fake = start_fake_kaleyra(stack, "fake-kaleyra-50ms", options.logs, latency=phases.PROVIDER_LATENCY)
        print("GET load (floor and service in turns):", flush=True)
        with ExitStack() as get_stack:
            targets = phases.get_targets(get_stack, fake, options)
            phases.load_all(targets, fake, options)
        figures["get"] = report.get_figures(targets, options.seconds)
        if options.callgrind is not None:
            print("Instructions per GET request (under callgrind):", flush=True)
            figures["instructions"] = instructions.measure(
                fake, options.callgrind, seconds=options.instruction_seconds, wrk=options.wrk, logs=options.logs
            )
        print("POST latency:", flush=True)
        with ExitStack() as post_stack:
            figures["post"] = phases.post_latencies(post_stack, slow_fake, options)
        print("Start-up and memory:", flush=True)
        figures["startup"] = phases.startup(fake, options)
        figures["memory"] = phases.memory(fake, options)
    return figures


def _node() -> str:
    node, npm = peer.find_node()
    peer.install(npm)
    return node


def _callgrind() -> instructions.Callgrind:
    control = find_debian_tool("callgrind_control", "valgrind")
    valgrind = shutil.which("valgrind")
    if control is None or valgrind is None:
        raise BenchError("valgrind is needed to count instructions (or pass --no-instructions)")
    return instructions.Callgrind(valgrind=valgrind, control=control)


def _measured(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise BenchError(f"no figures to rewrite from: {path} is missing")
    figures: dict[str, Any] = json.loads(path.read_text())
    figures.pop("checks", None)
    return figures


def _meta(options: phases.Options) -> dict[str, Any]:
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "node": peer.node_version(options.node) if options.node else None,
        "load_tool": "wrk" if options.wrk else "the Python load generator",
        "seconds": options.seconds,
        "warmup": options.warmup,
        "rounds": options.rounds,
        "connections": options.connections,
    }


def main(argv: list[str] | None = None) -> int:
    try:
        options, rewrite = parse(argv)
        figures = _measured(RESULTS / "latest.json") if rewrite else measure(options)
    except BenchError as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 2
    found = report.checks(figures)
    print()
    print(report.write(RESULTS, figures, found))
    if chart.draw(figures, RESULTS / "chart.png"):
        print(f"\nchart: {RESULTS / 'chart.png'}")
    missed = [check.name for check in found if not check.met]
    if missed:
        print(f"\n{len(missed)} target(s) missed: {'; '.join(missed)}", file=sys.stderr)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
