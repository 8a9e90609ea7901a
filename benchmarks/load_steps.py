"""Per step (or per phase) of a `crudops load --out` run: what was offered, accepted and
notified per second, the 202 → notification p99 and the losses.

Reads the run's `summary.json` (its per-second timeline); `--edges` splits the run
where its shape changes (a step run: every `--step-seconds`; a spike: its start and
end). Notified and p99 are counted when the notification arrived, lost when it was
declared (`--notify-timeout` after its 202, or at the end of the run), and the last
phase runs to the last second that counted anything, so the drain shows.

    python -m benchmarks.load_steps load-report/summary.json --edges 20,40,60,80,100
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

from loadtests.timeline import Timeline
from tools.load.plots import percentile


def phases(summary: dict[str, Any], edges: list[float]) -> list[dict[str, Any]]:
    timeline = Timeline.from_json(summary["timeline"])
    start = float(summary["started_at"])
    last = max(timeline.counts) - start + 1
    bounds = [0.0, *edges, max(last, edges[-1] if edges else last)]
    rows = []
    for low, high in itertools.pairwise(bounds):
        seconds = [s for s in timeline.counts if low <= s - start < high]
        span = max(high - low, 1e-9)

        def total(counter: str, seconds: list[int] = seconds) -> int:
            return sum(timeline.counts[s].get(counter, 0) for s in seconds)

        latencies = [v for s in timeline.notify_ms if low <= s - start < high
                     for values in timeline.notify_ms[s].values() for v in values]
        rows.append({
            "from_s": low, "to_s": round(high, 1),
            "offered_per_s": round(total("offered") / span, 1),
            "accepted_per_s": round(total("accepted") / span, 1),
            "notified_per_s": round(total("notified") / span, 1),
            "p99_ms": round(percentile(latencies, 99)) if latencies else None,
            "p50_ms": round(percentile(latencies, 50)) if latencies else None,
            "lost": total("lost"), "failed": total("errors"), "late": total("late"),
        })
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("summary", type=Path)
    parser.add_argument("--edges", default="", help="seconds where a phase ends")
    arguments = parser.parse_args()
    summary = json.loads(arguments.summary.read_text())
    edges = [float(e) for e in arguments.edges.split(",") if e]
    print("| phase (s) | offered/s | accepted/s | notified/s | p50 ms | p99 ms | lost | "
          "failed | late |")
    print("|---|---|---|---|---|---|---|---|---|")
    for row in phases(summary, edges):
        print(f"| {row['from_s']:g}-{row['to_s']:g} | {row['offered_per_s']} | "
              f"{row['accepted_per_s']} | {row['notified_per_s']} | {row['p50_ms']} | "
              f"{row['p99_ms']} | {row['lost']} | {row['failed']} | {row['late']} |")
    generator = summary.get("generator", {})
    print(f"\ngenerator: {generator}")


if __name__ == "__main__":
    main()
