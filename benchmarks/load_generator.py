"""How many commands per second one `crudops load` process can generate.

The echo server (benchmarks/echo_server.py) answers every command at once, so what
limits the run is the generator (or the server: both CPU shares are printed, the
server's from /proc). For each rate, one open-loop run of `--seconds`:
offered, accepted and notified per second, arrivals fired late (the generator fell
behind its schedule), and the CPU of Locust and of the server. The ceiling is the
highest rate whose notifications kept up (≥ 95 % of the rate) with no more than 1 %
of its arrivals late.

    python -m benchmarks.load_generator --rates 100,200,400,800 --seconds 10 --json
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tools.load.options import LoadOptions
from tools.load.run import do_load
from tools.load.slo import parse_slo
from tools.load.target import LoadTarget, probe

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
KEPT_UP = 0.95
LATE_SHARE = 0.01


@dataclass(frozen=True)
class RatePoint:
    rate: float
    users: int
    offered_per_second: float
    accepted_per_second: float
    notified_per_second: float
    late_share: float
    generator_cpu_share: float  # of one core
    server_cpu_share: float
    notify_p99_ms: float | None

    @property
    def kept_up(self) -> bool:
        return (self.notified_per_second >= KEPT_UP * self.rate
                and self.late_share <= LATE_SHARE)


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def measure(rates: list[float], seconds: float, users: int) -> list[RatePoint]:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "benchmarks.echo_server", "--port",
                               str(port)])
    try:
        deadline = time.monotonic() + 30
        while probe(f"http://127.0.0.1:{port}") is not None:
            if time.monotonic() > deadline:
                raise RuntimeError("the echo server did not start")
            time.sleep(0.1)
        target = LoadTarget(f"http://127.0.0.1:{port}/v1", f"ws://127.0.0.1:{port}/live",
                            "echo server")
        points = []
        for rate in rates:
            server_before = _cpu_seconds(server.pid)
            result = do_load(LoadOptions(
                rest_url="", ws_url="", rate=rate, users=users, run_time=f"{seconds:g}s",
                notify_timeout_seconds=10, slos=(parse_slo("lost==0"),)), target,
                on_output=lambda line: None)
            summary = result.summary
            span = summary.seconds
            offered = summary.total("offered")
            points.append(RatePoint(
                rate=rate, users=users, offered_per_second=round(offered / span, 1),
                accepted_per_second=round(summary.total("accepted") / span, 1),
                notified_per_second=round(summary.total("notified") / span, 1),
                late_share=round(summary.total("late") / offered, 4) if offered else 0.0,
                generator_cpu_share=round(result.generator_cpu_share, 3),
                server_cpu_share=round((_cpu_seconds(server.pid) - server_before)
                                       / result.wall_seconds, 3),
                notify_p99_ms=summary.aggregates["NOTIFY"].p99_ms
                if "NOTIFY" in summary.aggregates else None))
        return points
    finally:
        server.terminate()
        server.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", default="100,200,400,800")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    arguments = parser.parse_args()
    points = measure([float(r) for r in arguments.rates.split(",")], arguments.seconds,
                     arguments.users)
    ceiling = max((p.rate for p in points if p.kept_up), default=None)
    document: dict[str, Any] = {"points": [asdict(p) | {"kept_up": p.kept_up} for p in points],
                                "ceiling_commands_per_second": ceiling,
                                "load_average": os.getloadavg()}
    if arguments.json:
        print(json.dumps(document, indent=2))
        return
    print("rate  offered/s  accepted/s  notified/s  late  generator CPU  server CPU  p99 ms")
    for p in points:
        print(f"{p.rate:>5g} {p.offered_per_second:>9} {p.accepted_per_second:>10} "
              f"{p.notified_per_second:>10} {p.late_share:>6.1%} {p.generator_cpu_share:>12.0%} "
              f"{p.server_cpu_share:>10.0%} {p.notify_p99_ms}")
    print(f"ceiling: {ceiling} commands/s per process")


if __name__ == "__main__":
    main()
