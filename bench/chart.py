"""A PNG of one run's figures: GET throughput against the floor, and creation latency against the provider's."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def draw(figures: dict[str, Any], path: Path) -> bool:
    """Draws the chart; False when matplotlib (the `bench` extra) is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    figure, (get_axis, post_axis) = plt.subplots(1, 2, figsize=(13, 5), gridspec_kw={"width_ratios": [3, 2]})
    get = figures["get"]
    names = list(get)
    ratios = [get[name]["ratio_to_floor"] for name in names]
    get_axis.barh(names, ratios, color="#480ca8")
    for row, (name, ratio) in enumerate(zip(names, ratios, strict=True)):
        get_axis.text(ratio, row, f" {get[name]['rps']:.0f} req/s", va="center", fontsize=8)
    get_axis.invert_yaxis()
    for limit, label in ((0.8, "0.8 x (cache off)"), (2.0, "2 x (cache on)")):
        get_axis.axvline(limit, linestyle="--", color="#d62828")
        get_axis.text(limit, -0.6, f" {label}", color="#d62828", fontsize=8, va="bottom")
    get_axis.axvline(1.0, color="grey", linewidth=0.8)
    get_axis.set_xlim(0, max(ratios) * 1.25)
    get_axis.set_xlabel("requests per second, as a multiple of the floor app on the same server")
    get_axis.set_title("GET /teleconsultation/{id}, 64 connections")

    post = figures["post"]
    keys = ["memory_2", "memory_10", "mongo_2", "mongo_10"]
    ratios = [post[key]["ratio_to_provider"] for key in keys]
    limits = [2.5 if key.endswith("_2") else 3.0 for key in keys]
    positions = range(len(keys))
    post_axis.bar(positions, ratios, color="#003049", label="median")
    post_axis.scatter(positions, limits, marker="_", s=900, color="#d62828", label="target")
    post_axis.set_xticks(list(positions), [key.replace("_", "\n") + " new" for key in keys])
    post_axis.set_ylabel(f"median latency / provider latency ({post['provider_latency_ms']:g} ms)")
    post_axis.set_title("POST /teleconsultation")
    post_axis.legend(loc="lower left")
    figure.suptitle(f"teleconsultation-service benchmark, {figures['meta']['date']} (ratios from one run)")
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return True
