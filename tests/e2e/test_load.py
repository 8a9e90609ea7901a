"""`crudops load` against the session's local stack: Locust in its own process, open
loop by default, every operation timed from its 202 to its notification, SLO gates
deciding the exit code, the `--out` report (looked at in a headless Chromium), and
Locust's worker processes merged into one report.

Runs are short (seconds, tens of commands): the suite must stay within its budget on
two cores. Set CRUDOPS_LOAD_SCREENSHOT=/some/file.png to keep the report's screenshot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from crudops_local.run import LocalStack
from tests.e2e.conftest import NOTIFICATION_TIMEOUT_SECONDS, USER_A, id_token
from tests.support.browser import browser_missing, chromium_context
from tests.support.waiting import wait_until
from tools.load.options import LoadOptions
from tools.load.run import LoadResult, do_load
from tools.load.slo import parse_slo
from tools.load.target import LoadTarget, load_target
from tools.tokens import TOKEN_VARIABLE

pytestmark = pytest.mark.e2e

OPERATIONS = {"create", "get", "list", "update", "delete"}


def _warm_up(rest_url: str, token: str) -> None:
    """One command of each operation to its stored outcome, so that every function's
    worker is up before a short run measures anything (a first start takes seconds)."""
    with httpx.Client(base_url=rest_url, timeout=30, headers={"Authorization": token}) as http:
        def outcome(method: str, path: str, **kwargs: Any) -> dict[str, Any]:
            response = http.request(method, path, **kwargs)
            assert response.status_code == 202, response.text
            request_id = response.json()["requestId"]
            stored = wait_until(lambda: http.get(f"/requests/{request_id}"),
                                lambda r: r.status_code == 200, timeout=120,
                                describe=f"outcome of {method} {path}")
            document: dict[str, Any] = stored.json()
            return document

        item = outcome("POST", "/items", json={"name": "warm-up"})["result"]["id"]
        for method, path in (("GET", f"/items/{item}"), ("GET", "/items?limit=1"),
                             ("PUT", f"/items/{item}"), ("DELETE", f"/items/{item}")):
            outcome(method, path, **({"json": {"description": "w"}} if method == "PUT" else {}))


@pytest.fixture(scope="module")
def target(local_stack: LocalStack) -> Iterator[LoadTarget]:
    """The session's stack as `crudops load --local` finds it (its state file)."""
    assert local_stack.options.state_file is not None and local_stack.endpoints is not None
    _warm_up(local_stack.endpoints.rest_url, id_token(local_stack, USER_A))
    with load_target(rest_url=None, ws_url=None, stack=None, local=True, region=None,
                     state_file=local_stack.options.state_file) as found:
        assert found.queue_metrics is not None  # it publishes its queues' metrics
        yield found


def _run(target: LoadTarget, output: list[str] | None = None, **overrides: Any) -> LoadResult:
    # A notification may wait out a visibility timeout (6 s here) and its retry on a
    # busy machine: lost means not within the suite's notification deadline.
    small: dict[str, Any] = {"users": 3, "rate": 8.0, "run_time": "6s",
                             "notify_timeout_seconds": NOTIFICATION_TIMEOUT_SECONDS,
                             **overrides}
    return do_load(LoadOptions(rest_url="", ws_url="", **small), target,
                   on_output=(output if output is not None else []).append)


@pytest.fixture(scope="module")
def open_run(target: LoadTarget, tmp_path_factory: pytest.TempPathFactory) -> LoadResult:
    """One short open-loop run with a report, shared by the tests that read it."""
    # long enough for creates to be notified (and their items reused) on a busy machine
    # (8/s for 10 s: ~80 commands, so the rarest operation, list at 1 in 10, is in it)
    return _run(target, rate=8.0, run_time="10s", out=tmp_path_factory.mktemp("load-report"),
                slos=(parse_slo("lost==0"), parse_slo("errors==0"),
                      parse_slo("notify.p99<=20s")))


def test_an_open_loop_run_times_every_operation_and_loses_nothing(
        open_run: LoadResult) -> None:
    summary = open_run.summary
    assert open_run.exit_code == 0, (summary.failures, summary.errors)
    notified = {row.name: row for row in summary.notifications}
    assert set(notified) == OPERATIONS, notified
    assert all(row.count >= 1 and row.failures == 0 for row in notified.values())
    assert summary.lost == 0 and summary.failed == 0
    # the arrival rate held: 5/s for 10 s, whatever the notifications did (50, less
    # one at most per user for its random phase)
    assert summary.commands >= 47, summary.commands
    assert summary.total("offered") == summary.commands
    assert summary.total("notified") == sum(row.count for row in notified.values())
    # end-to-end and 202 → notification entries for the same commands
    assert {row.name for row in summary.rows if row.type == "E2E"} == OPERATIONS
    assert all(row.p50_ms is not None and row.p50_ms > 0 for row in notified.values())
    assert [r.met for r in open_run.slos] == [True, True, True]


def test_out_holds_locusts_csv_and_html_the_summary_the_plots_and_one_page(
        open_run: LoadResult) -> None:
    names = {f.name for f in open_run.files}
    assert {"locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv",
            "locust.html", "summary.json", "report.html", "notify_latency.png",
            "throughput.png", "lost.png", "queues.png"} <= names, names
    assert all(f.stat().st_size > 0 for f in open_run.files)
    assert not open_run.notes, open_run.notes  # the queue metrics were read


@pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing()))
def test_the_report_page_shows_the_slos_and_every_plot_in_a_browser(
        open_run: LoadResult, tmp_path: Path) -> None:
    page_file = next(f for f in open_run.files if f.name == "report.html")
    errors: list[str] = []
    elsewhere: list[str] = []
    with chromium_context(viewport=(1100, 1400)) as context:
        def only_files(route: Any) -> None:
            if route.request.url.startswith("file://"):
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        context.route("**/*", only_files)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(page_file.as_uri(), wait_until="load")
        images = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => [i.getAttribute('src'), i.naturalWidth])")
        verdict = page.inner_text("#verdict")
        slo_rows = page.eval_on_selector_all("#slos tr", "rows => rows.length")
        screenshot = tmp_path / "load-report.png"
        page.screenshot(path=str(screenshot), full_page=True)
    if os.environ.get("CRUDOPS_LOAD_SCREENSHOT"):
        shutil.copyfile(screenshot, os.environ["CRUDOPS_LOAD_SCREENSHOT"])
    assert {src for src, _ in images} == {"notify_latency.png", "throughput.png", "lost.png",
                                          "queues.png"}
    assert all(width > 500 for _, width in images), images  # drawn, not broken images
    assert verdict == "every SLO met" and slo_rows == 1 + len(open_run.slos)
    assert errors == [] and elsewhere == []


def test_an_slo_the_stack_cannot_meet_fails_the_run_with_exit_code_1(
        local_stack: LocalStack) -> None:
    assert local_stack.endpoints is not None
    result = subprocess.run(
        [sys.executable, "-m", "tools.cli", "load", "--rest-url", local_stack.endpoints.rest_url,
         "--ws-url", local_stack.endpoints.ws_url, "--users", "2", "--rate", "6",
         "--run-time", "3s", "--slo", "notify.p99<=1ms", "--slo", "lost==0"],
        capture_output=True, text=True, timeout=180, check=False,
        env={**os.environ, TOKEN_VARIABLE: id_token(local_stack, USER_A)})
    assert result.returncode == 1, (result.stdout, result.stderr[-2000:])
    lines = result.stdout.splitlines()
    assert any("notify.p99<=1ms" in line and "missed" in line for line in lines), lines
    assert any("lost==0" in line and "met" in line for line in lines), lines


def test_a_notification_later_than_the_timeout_is_lost(target: LoadTarget) -> None:
    result = _run(target, notify_timeout_seconds=0.001, run_time="2s", rate=6.0)
    assert result.exit_code == 1  # the default SLOs: nothing lost
    notified = sum(row.count for row in result.summary.notifications)
    assert notified >= 6 and result.summary.lost == notified
    assert all("NotificationLost" in key for key in result.summary.failures)


def test_the_conflict_mix_counts_its_conflicts_apart_from_errors(target: LoadTarget) -> None:
    # Two callers' users take turns, each caller contending for its own shared items:
    # twice the rate keeps as many updates per item in flight as one caller had.
    result = _run(target, mix="conflict", shared_items=2, rate=20.0, run_time="4s")
    summary = result.summary
    assert summary.conflicts >= 1, summary.rows
    assert summary.failed == 0 and summary.lost == 0, summary.failures
    assert result.exit_code == 0
    assert {row.name for row in summary.notifications} >= {"update", "update conflict"}


def test_two_worker_processes_are_merged_into_one_report(target: LoadTarget) -> None:
    result = _run(target, processes=2, users=2, rate=8.0, run_time="4s")
    summary = result.summary
    assert result.exit_code == 0, (summary.failures, summary.errors)
    assert summary.workers == 2
    # 8/s for 4 s split over one user on each worker: both workers' commands and both
    # workers' timelines are in the master's summary (one alone would be about half)
    assert summary.commands >= 30, summary.commands
    assert summary.total("offered") == summary.commands
    assert summary.total("notified") == sum(r.count for r in summary.notifications)


def test_the_closed_loop_still_waits_for_each_notification_and_follows_a_shape(
        target: LoadTarget) -> None:
    # a step shape: 1 user for 2 s, then 2 (the LoadTestShape of the closed loop)
    output: list[str] = []
    result = _run(target, output, mode="closed", users=1, shape="step", steps=2,
                  step_seconds=2)
    assert result.exit_code == 0, result.summary.failures
    notified = {row.name: row for row in result.summary.notifications}
    assert notified["create"].count >= 1 and result.summary.lost == 0
    # a command in flight when Locust stopped its user is started but not in its stats
    assert result.summary.total("offered") - result.summary.commands in (0, 1, 2)
    assert any("Shape test updating to 2 users" in line for line in output), output[-20:]
