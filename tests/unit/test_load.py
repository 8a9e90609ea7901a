"""`crudops load` without running Locust: options, the command it runs, and reading
Locust's CSV statistics into the summary."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tools.errors import UserError
from tools.load import LOCUSTFILE, LoadOptions, read_report, stack_urls

STATS = """Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,\
80%,90%,95%,98%,99%,99.9%,99.99%,100%
POST,POST /items,38,0,16,30.1,7.2,154.3,53.0,3.881,0.0,16,22,33,36,94,100,150,150,150,150,150
NOTIFY,create,38,2,26,197.0,14.1,1657.0,410.0,3.881,0.2,26,39,53,59,1500,1600,1700,1700,1700,\
1700,1700
NOTIFY,list,0,0,0,0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A
,Aggregated,76,2,21,77.0,7.2,1657.0,231.5,7.762,0.2,21,26,29,36,63,150,1500,1600,1700,1700,1700
"""
FAILURES = """Method,Name,Error,Occurrences,First Seen,Last Seen
NOTIFY,create,NotificationLost('lost'),1,0,0
NOTIFY,create,NotificationError('not_found'),1,0,0
"""


def test_the_summary_is_read_from_locusts_csv(tmp_path: Path) -> None:
    (tmp_path / "run_stats.csv").write_text(STATS)
    (tmp_path / "run_failures.csv").write_text(FAILURES)
    report = read_report(tmp_path / "run", exit_code=1)
    assert [(r.type, r.name) for r in report.rows] == [
        ("POST", "POST /items"), ("NOTIFY", "create"), ("NOTIFY", "list")]
    create = report.notifications[0]
    assert (create.count, create.failures, create.p50_ms, create.p95_ms, create.p99_ms) == (
        38, 2, 26, 1600, 1700)
    assert report.notifications[1].p99_ms == 0  # no responses: N/A
    assert report.lost == 1  # the error outcome is a failure, not a loss
    assert json.loads(json.dumps(report.as_json()))["lost"] == 1


def test_exceptions_of_the_scenario_are_errors(tmp_path: Path) -> None:
    (tmp_path / "run_stats.csv").write_text(STATS)
    (tmp_path / "run_exceptions.csv").write_text(
        'Count,Message,Traceback,Nodes\n3,ConnectionRefusedError(111),"Traceback ...",local\n')
    report = read_report(tmp_path / "run", exit_code=1)
    assert report.errors == {"ConnectionRefusedError(111)": 3}


def test_no_statistics_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no statistics"):
        read_report(tmp_path / "missing", exit_code=2)


def test_the_locust_command_carries_every_option(tmp_path: Path) -> None:
    options = LoadOptions("http://127.0.0.1:1/v1", "ws://127.0.0.1:1/live", users=7,
                          spawn_rate=2.5, run_time="2m", notify_timeout_seconds=12,
                          html=tmp_path / "r.html")
    command = options.command(tmp_path / "p")
    assert command[1:5] == ["-m", "locust", "-f", str(LOCUSTFILE)]
    pairs = dict(itertools.pairwise(command))
    assert pairs["--host"] == "http://127.0.0.1:1/v1"
    assert pairs["--ws-url"] == "ws://127.0.0.1:1/live"
    assert (pairs["--users"], pairs["--spawn-rate"], pairs["--run-time"]) == ("7", "2.5", "2m")
    assert pairs["--notify-timeout"] == "12" and pairs["--stop-timeout"] == "17"
    assert pairs["--csv"] == str(tmp_path / "p") and pairs["--html"] == str(tmp_path / "r.html")
    assert "--headless" in command and LOCUSTFILE.is_file()


@pytest.mark.parametrize(("change", "message"), [
    ({"users": 0}, "--users"), ({"spawn_rate": 0}, "--spawn-rate"),
    ({"run_time": "soon"}, "not a duration"), ({"run_time": ""}, "not a duration"),
])
def test_bad_options_are_user_errors(change: dict[str, object], message: str) -> None:
    options = LoadOptions("http://h/v1", "ws://h/live", **change)  # type: ignore[arg-type]
    with pytest.raises(UserError, match=message):
        options.check()


def test_the_local_stack_urls_come_from_its_state_file(tmp_path: Path) -> None:
    state = tmp_path / "local-stack.json"
    with pytest.raises(UserError, match="no running local stack"):
        stack_urls(stack=None, local=True, region=None, local_state_file=state)
    state.write_text(json.dumps({"rest_url": "http://127.0.0.1:9/v1",
                                 "ws_url": "ws://127.0.0.1:9/live"}))
    assert stack_urls(stack=None, local=True, region=None, local_state_file=state) == (
        "http://127.0.0.1:9/v1", "ws://127.0.0.1:9/live")
    with pytest.raises(UserError, match="exactly one of"):
        stack_urls(stack="Crudops", local=True, region=None, local_state_file=state)


def test_an_earlier_runs_csv_cannot_pass_for_this_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    from tools import load

    (tmp_path / "run_stats.csv").write_text(STATS)  # left by an earlier run

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


def test_the_step_shape_adds_users_each_step_then_stops() -> None:
    from loadtests.steps import step_at

    schedule = [step_at(t, step_users=5, step_seconds=30, steps=3) for t in (0, 29.9, 30, 89.9)]
    assert schedule == [(5, 5.0), (5, 5.0), (10, 5.0), (15, 5.0)]
    assert step_at(90, step_users=5, step_seconds=30, steps=3) is None


def test_a_shape_replaces_users_spawn_rate_and_run_time(tmp_path: Path) -> None:
    from tools.load import SHAPES

    options = LoadOptions("http://h/v1", "ws://h/live", shape="step", step_users=3,
                          step_seconds=10, steps=2)
    command = options.command(tmp_path / "p")
    pairs = dict(itertools.pairwise(command))
    assert pairs["-f"] == f"{LOCUSTFILE},{SHAPES['step']}" and SHAPES["step"].is_file()
    assert (pairs["--step-users"], pairs["--step-seconds"], pairs["--steps"]) == (
        "3", "10", "2")
    assert "--users" not in command and "--run-time" not in command
    with pytest.raises(UserError, match="not one of step"):
        LoadOptions("http://h/v1", "ws://h/live", shape="ramp").check()
    with pytest.raises(UserError, match="must be positive"):
        LoadOptions("http://h/v1", "ws://h/live", shape="step", steps=0).check()
