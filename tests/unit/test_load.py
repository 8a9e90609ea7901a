"""`crudops load` without running Locust: options, the command it runs, and reading
Locust's CSV statistics into the summary."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tools.errors import UserError
from tools.load import LOCUSTFILE, LoadOptions, read_report

SUMMARY = {
    "exit_code": 1,
    "entries": [
        {"type": "POST", "name": "POST /items", "count": 38, "failures": 0, "p50_ms": 16,
         "p95_ms": 100, "p99_ms": 150, "per_second": 3.881},
        {"type": "NOTIFY", "name": "create", "count": 38, "failures": 2, "p50_ms": 26,
         "p95_ms": 1600, "p99_ms": 1700, "per_second": 3.881},
        {"type": "NOTIFY", "name": "list", "count": 0, "failures": 0, "p50_ms": 0,
         "p95_ms": 0, "p99_ms": 0, "per_second": 0},
    ],
    "failures": [
        {"type": "NOTIFY", "name": "create", "error": "NotificationLost('lost')",
         "occurrences": 1},
        {"type": "NOTIFY", "name": "create", "error": "NotificationError('not_found')",
         "occurrences": 1},
    ],
    "exceptions": [{"message": "ConnectionRefusedError(111)", "count": 3}],
}


def test_the_summary_is_the_scenarios_final_statistics(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps(SUMMARY))
    report = read_report(tmp_path / "summary.json", exit_code=1)
    assert [(r.type, r.name) for r in report.rows] == [
        ("POST", "POST /items"), ("NOTIFY", "create"), ("NOTIFY", "list")]
    create = report.notifications[0]
    assert (create.count, create.failures, create.p50_ms, create.p95_ms, create.p99_ms) == (
        38, 2, 26, 1600, 1700)
    assert create.per_second == 3.88
    assert report.lost == 1  # the error outcome is a failure, not a loss
    assert report.errors == {"ConnectionRefusedError(111)": 3}
    assert json.loads(json.dumps(report.as_json()))["lost"] == 1


def test_no_statistics_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no statistics"):
        read_report(tmp_path / "missing", exit_code=2)


def test_the_locust_command_carries_every_option(tmp_path: Path) -> None:
    options = LoadOptions("http://127.0.0.1:1/v1", "ws://127.0.0.1:1/live", users=7,
                          spawn_rate=2.5, run_time="2m", notify_timeout_seconds=12,
                          html=tmp_path / "r.html")
    command = options.command(tmp_path / "p", tmp_path / "summary.json")
    assert command[1:5] == ["-m", "locust", "-f", str(LOCUSTFILE)]
    pairs = dict(itertools.pairwise(command))
    assert pairs["--host"] == "http://127.0.0.1:1/v1"
    assert pairs["--ws-url"] == "ws://127.0.0.1:1/live"
    assert (pairs["--users"], pairs["--spawn-rate"], pairs["--run-time"]) == ("7", "2.5", "2m")
    # after the window: a 202 (30 s at most) and then its notification (12 s)
    assert pairs["--notify-timeout"] == "12" and pairs["--stop-timeout"] == "47"
    assert pairs["--summary-file"] == str(tmp_path / "summary.json")
    assert pairs["--csv"] == str(tmp_path / "p") and pairs["--html"] == str(tmp_path / "r.html")
    assert "--headless" in command and LOCUSTFILE.is_file()


@pytest.mark.parametrize(("change", "message"), [
    ({"users": 0}, "--users"), ({"spawn_rate": 0}, "--spawn-rate"),
    ({"run_time": "soon"}, "not a duration"), ({"run_time": ""}, "not a duration"),
    ({"run_time": "0s"}, "above 0"), ({"run_time": "0"}, "above 0"),
    ({"run_time": "1h30"}, "not a duration"),
])
def test_bad_options_are_user_errors(change: dict[str, object], message: str) -> None:
    options = LoadOptions("http://h/v1", "ws://h/live", **change)  # type: ignore[arg-type]
    with pytest.raises(UserError, match=message):
        options.check()


def test_an_earlier_runs_csv_cannot_pass_for_this_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from tools import load

    (tmp_path / "run_stats.csv").write_text("Type,Name\n")  # left by an earlier run
    (tmp_path / "run_notes.csv").write_text("mine")  # not Locust's: kept

    class FailedAtOnce:
        """Locust exiting before it wrote anything (a bad locustfile, a crash)."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            self.stdout = iter(["Traceback (most recent call last): ..."])

        def wait(self) -> int:
            return 1

    monkeypatch.setattr(subprocess, "Popen", FailedAtOnce)
    options = LoadOptions("http://h/v1", "ws://h/live", csv_prefix=tmp_path / "run")
    with pytest.raises(UserError, match="no statistics"):
        load.do_load(options, on_output=lambda line: None)
    assert not (tmp_path / "run_stats.csv").exists() and (tmp_path / "run_notes.csv").exists()


def test_the_step_shape_adds_users_each_step_then_stops() -> None:
    from loadtests.steps import step_at

    schedule = [step_at(t, step_users=5, step_seconds=30, steps=3) for t in (0, 29.9, 30, 89.9)]
    assert schedule == [(5, 5.0), (5, 5.0), (10, 5.0), (15, 5.0)]
    assert step_at(90, step_users=5, step_seconds=30, steps=3) is None


def test_a_shape_replaces_users_spawn_rate_and_run_time(tmp_path: Path) -> None:
    from tools.load import SHAPES

    options = LoadOptions("http://h/v1", "ws://h/live", shape="step", step_users=3,
                          step_seconds=10, steps=2)
    command = options.command(tmp_path / "p", tmp_path / "s.json")
    pairs = dict(itertools.pairwise(command))
    assert pairs["-f"] == f"{LOCUSTFILE},{SHAPES['step']}" and SHAPES["step"].is_file()
    assert (pairs["--step-users"], pairs["--step-seconds"], pairs["--steps"]) == (
        "3", "10", "2")
    assert "--users" not in command and "--run-time" not in command
    with pytest.raises(UserError, match="not one of step"):
        LoadOptions("http://h/v1", "ws://h/live", shape="ramp").check()
    with pytest.raises(UserError, match="must be positive"):
        LoadOptions("http://h/v1", "ws://h/live", shape="step", steps=0).check()
