"""The options of one `crudops load` run and the Locust command line they make.

Every scenario option goes on Locust's command line, none through the environment:
the subprocess gets no `LOCUST_*` variable from the caller (say
LOCUST_EXIT_CODE_ON_ERROR=0), so what the run does is what this command line says.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import loadtests
from loadtests.contract import HTTP_TIMEOUT_SECONDS, MODES
from loadtests.mix import MIXES
from loadtests.schedules import Schedule
from tools.errors import UserError
from tools.load.slo import Slo, default_slos

SCENARIO_DIR: Final = Path(loadtests.__file__).resolve().parent
LOCUSTFILE: Final = SCENARIO_DIR / "locustfile.py"
# The closed loop's users follow a shape only through this LoadTestShape.
SHAPE_FILE: Final = SCENARIO_DIR / "shapes.py"
USER_CLASSES: Final = {"open": "OpenLoopUser", "closed": "CrudUser"}
# The open loop's users end their arrivals on their own schedule, which starts when
# their process starts the test (a worker joins a moment after its master); Locust's
# own --run-time is this much longer, so that it does not cut a late worker short.
OPEN_LOOP_END_GRACE_SECONDS: Final = 3.0
# Locust's --run-time: "90", "90s", "5m", "1h30m", "1h30m20s"
_RUN_TIME = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$|^(\d+)$")
# Options `crudops load` sets itself; passing them after `--` would contradict it.
OWN_LOCUST_OPTIONS: Final = ("-f", "--locustfile", "--host", "-H", "--headless",
                             "--summary-file", "--csv", "--html", "--ws-url", "--run-time",
                             "-t", "--users", "-u", "--processes")


def run_seconds(run_time: str) -> float:
    """Seconds of a Locust duration ("90s", "5m", "1h30m", "90"); a user error otherwise."""
    match = _RUN_TIME.match(run_time)
    if not run_time or match is None:
        raise UserError(f"--run-time {run_time!r} is not a duration above 0",
                        hint="e.g. 90s, 5m, 1h30m")
    hours, minutes, seconds, plain = (int(part) if part else 0 for part in match.groups())
    total = plain or hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        # 0 would be "no limit" to Locust: a run that never ends.
        raise UserError(f"--run-time {run_time!r} is not a duration above 0",
                        hint="e.g. 90s, 5m, 1h30m")
    return float(total)


@dataclass(frozen=True)
class LoadOptions:
    rest_url: str
    ws_url: str
    mode: str = "open"
    users: int = 10  # open loop: connections the rate is split over; closed: users
    rate: float = 10.0  # open loop: commands per second (times the shape's level)
    spawn_rate: float = 5.0  # closed loop without a shape
    run_time: str = "60s"
    mix: str = "crud"
    shared_items: int = 5
    notify_timeout_seconds: float = 30.0
    shape: str = "constant"
    step_seconds: float = 30.0
    steps: int = 4
    spike_at_seconds: float = 10.0
    spike_seconds: float = 20.0
    spike_factor: float = 3.0
    ramp_seconds: float = 0.0
    processes: int = 0  # Locust's --processes (0: one process)
    # ID tokens the users take in turn (given to Locust as LOCUST_TOKENS)
    tokens: tuple[str, ...] = ()
    # the gates (tools/load/slo.py); by default nothing lost and nothing failed
    slos: tuple[Slo, ...] = field(default_factory=lambda: tuple(default_slos()))
    out: Path | None = None  # the report directory
    # Locust's own options, after `--`, appended unchanged.
    locust_args: tuple[str, ...] = field(default_factory=tuple)

    @property
    def schedule(self) -> Schedule:
        return Schedule(shape=self.shape, run_seconds=run_seconds(self.run_time),
                        step_seconds=self.step_seconds, steps=self.steps,
                        spike_at_seconds=self.spike_at_seconds,
                        spike_seconds=self.spike_seconds, spike_factor=self.spike_factor,
                        ramp_seconds=self.ramp_seconds)

    @property
    def locust_run_seconds(self) -> float:
        grace = OPEN_LOOP_END_GRACE_SECONDS if self.mode == "open" else 0.0
        return self.schedule.total_seconds + grace

    @property
    def stop_timeout_seconds(self) -> int:
        """After the window the last commands get their chance to finish: a 202 and
        then its notification, each within its own timeout."""
        return HTTP_TIMEOUT_SECONDS + int(self.notify_timeout_seconds) + 5

    def check(self) -> None:
        if self.mode not in MODES:
            raise UserError(f"--mode {self.mode!r} is not one of {', '.join(MODES)}")
        if self.mix not in MIXES:
            raise UserError(f"--mix {self.mix!r} is not one of {', '.join(MIXES)}")
        if self.users < 1 or self.spawn_rate <= 0:
            raise UserError("--users must be at least 1 and --spawn-rate above 0")
        if self.rate <= 0 or self.notify_timeout_seconds <= 0:
            raise UserError("--rate and --notify-timeout must be above 0")
        if self.processes < 0 and self.processes != -1:
            raise UserError("--processes is a count of worker processes (-1: one per core)")
        if self.shared_items < 1:
            raise UserError("--shared-items must be at least 1")
        problems = self.schedule.problems()
        if problems:
            raise UserError("; ".join(problems))
        clashing = [a for a in self.locust_args if a.split("=", 1)[0] in OWN_LOCUST_OPTIONS]
        if clashing:
            raise UserError(f"{', '.join(clashing)} after -- is set by crudops load itself",
                            hint="use crudops load's own option of that name")

    def command(self, *, summary_file: Path, csv_prefix: Path, html: Path | None
                ) -> list[str]:
        schedule = self.schedule
        closed_shape = self.mode == "closed" and self.shape != "constant"
        files = ",".join(str(f) for f in (LOCUSTFILE, *([SHAPE_FILE] if closed_shape else [])))
        arguments = [
            sys.executable, "-m", "locust", "-f", files, "--headless",
            "--host", self.rest_url, "--ws-url", self.ws_url,
            "--users", str(self.users),
            "--spawn-rate", str(self.users if self.mode == "open" else self.spawn_rate),
            "--run-time", f"{self.locust_run_seconds:g}s",
            "--rate", f"{self.rate:g}", "--rate-users", str(self.users), "--mix", self.mix,
            "--shared-items", str(self.shared_items), "--shape", self.shape,
            "--schedule-seconds", f"{schedule.total_seconds:g}",
            "--step-seconds", f"{self.step_seconds:g}", "--steps", str(self.steps),
            "--spike-at", f"{self.spike_at_seconds:g}",
            "--spike-seconds", f"{self.spike_seconds:g}",
            "--spike-factor", f"{self.spike_factor:g}",
            "--ramp-seconds", f"{self.ramp_seconds:g}",
            "--notify-timeout", f"{self.notify_timeout_seconds:g}",
            "--stop-timeout", str(self.stop_timeout_seconds),
            "--csv", str(csv_prefix), "--csv-full-history",
            "--only-summary", "--summary-file", str(summary_file),
        ]
        if html is not None:
            arguments += ["--html", str(html)]
        if self.processes:
            arguments += ["--processes", str(self.processes)]
        # The user class before the pass-through: an option there taking many values
        # (`--tags a b`) must not swallow it.
        return [*arguments, USER_CLASSES[self.mode], *self.locust_args]
