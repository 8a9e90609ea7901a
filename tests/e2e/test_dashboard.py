"""The dashboard page in a real headless browser, against the session's local stack.

The page is served by the same code `crudops dashboard --local` runs, from the state
file the stack wrote. Set CRUDOPS_DASHBOARD_SCREENSHOT=/some/file.png to keep a copy
of the screenshot outside the test's temporary directory.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Api
from tests.support.browser import browser_missing, chromium_context
from tests.support.poison import PoisonMessage, publish_poison
from tests.support.waiting import wait_until
from tools.dashboard.body import Widget
from tools.dashboard.command import DashboardOptions, LocalDashboard, open_local_dashboard
from tools.dashboard.serve import DashboardServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(browser_missing() is not None, reason=str(browser_missing())),
]

# A poison message fails at once (the failed-records alarm's first breach, over its
# 10 s period here); parking it takes maxReceiveCount receives (6 s visibility here):
# as in test_observability.
ALARM_DEADLINE_SECONDS = 120.0
CREATE_DLQ_ALARM = "Crudops-create-dlq-not-empty"
CREATE_FAILED_RECORDS_ALARM = "Crudops-create-failed-records"

@pytest.fixture
def dashboard(api: Api) -> LocalDashboard:
    state_file = api.stack.options.state_file
    assert state_file is not None
    return open_local_dashboard(DashboardOptions(minutes=5, refresh_seconds=1), state_file)


@pytest.fixture
def browser_page(dashboard: LocalDashboard) -> Iterator[tuple[Any, list[str], list[str]]]:
    """The served dashboard open in Chromium, with the console errors and every request
    to another host it made (both should stay empty)."""
    errors: list[str] = []
    elsewhere: list[str] = []
    with DashboardServer(dashboard) as server, chromium_context() as context:
        def only_here(route: Any) -> None:
            if urlsplit(route.request.url).hostname == "127.0.0.1":
                route.continue_()
            else:
                elsewhere.append(route.request.url)
                route.abort()

        context.route("**/*", only_here)
        page = context.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url, wait_until="load")
        yield page, errors, elsewhere


def _widget_drawing(dashboard: LocalDashboard, namespace: str, metric: str,
                    dimensions: tuple[tuple[str, str], ...]) -> Widget:
    """The first graph (in reading order) that draws this metric."""
    return next(w for w in dashboard.widgets if any(
        r.visible and r.metric == (namespace, metric, dimensions) for r in w.rows))


def _graph_of_alarm(dashboard: LocalDashboard, alarm: str) -> Widget:
    """The first graph (in reading order) that shows this alarm."""
    return next(w for w in dashboard.widgets if w.type == "metric"
                and alarm in [a.name for a in dashboard.alarms.of_widget(w)])


def _alarm_badges(page: Any, widget: Widget) -> list[str]:
    badges: list[str] = page.eval_on_selector_all(f"#{widget.widget_id} .state.ALARM",
                                                  "els => els.map(e => e.textContent)")
    return badges


def _classes(page: Any, widget: Widget) -> list[str]:
    classes: str = page.eval_on_selector(f"#{widget.widget_id}", "e => e.className")
    return classes.split()


def test_the_dashboard_page_draws_the_local_stack_and_turns_red_on_a_poison_message(
        api: Api, dashboard: LocalDashboard, browser_page: tuple[Any, list[str], list[str]],
        parked_poison: PoisonMessage, tmp_path: Path) -> None:
    page, errors, elsewhere = browser_page
    # THEN every widget of the body is on the page, each graph with its title
    sections = page.eval_on_selector_all("section.widget", "els => els.length")
    assert sections == len(dashboard.widgets)
    titles = set(page.eval_on_selector_all("section.widget h2",
                                           "els => els.map(e => e.textContent)"))
    assert {w.title for w in dashboard.widgets if w.title} <= titles

    # WHEN a few items are created
    for index in range(3):
        api.created_item(f"dashboard {index}")
    create_function = api.ref("WorkersCreateHandler", "AWS::Lambda::Function")
    invocations = _widget_drawing(dashboard, "AWS/Lambda", "Invocations",
                                  (("FunctionName", create_function),))
    # THEN, after a refresh, the create function's graph has a drawn line with data
    wait_until(lambda: page.eval_on_selector_all(
        f"#{invocations.widget_id} polyline.series", "els => els.map(e => e.dataset.points)"),
        lambda points: any(int(p) >= 1 for p in points), timeout=60, interval=0.5,
        describe="a drawn line in the create function's invocations graph")
    # AND its latency percentiles, which the emulator cannot compute, are drawn from
    # the local stack's samples, and say so
    duration = _widget_drawing(dashboard, "AWS/Lambda", "Duration",
                               (("FunctionName", create_function),))
    wait_until(lambda: page.inner_text(f"#{duration.widget_id} ul.legend"),
               lambda legend: "computed from the local stack's samples" in legend,
               timeout=60, interval=0.5, describe="the create function's p50/p99 legend")
    assert page.eval_on_selector_all(f"#{duration.widget_id} polyline.series",
                                     "els => els.length") >= 1

    # GIVEN the shared poison message parked in the create DLQ
    parked_poison.parked()
    dlq_url = api.queue_url("MessagingCreateConsumerDlq")
    dlq_name = dlq_url.rstrip("/").rsplit("/", 1)[-1]
    dlq_widget = _widget_drawing(dashboard, "AWS/SQS", "ApproximateNumberOfMessagesVisible",
                                 (("QueueName", dlq_name),))
    assert CREATE_DLQ_ALARM in [a.name for a in dashboard.alarms.of_widget(dlq_widget)]
    # THEN the create DLQ alarm's graph is red, naming the alarm in ALARM
    wait_until(lambda: _classes(page, dlq_widget), lambda classes: "in-alarm" in classes,
               timeout=ALARM_DEADLINE_SECONDS, interval=0.5,
               describe="the create DLQ graph drawn in ALARM")
    badge = page.inner_text(f"#{dlq_widget.widget_id} .state.ALARM")
    assert badge == f"{CREATE_DLQ_ALARM}: ALARM"
    assert CREATE_DLQ_ALARM in page.inner_text("header.page .summary")
    assert page.eval_on_selector_all(f"#{dlq_widget.widget_id} line.threshold",
                                     "els => els.length") >= 1

    # GIVEN the failed-records graph, not red once no record has failed for a period
    failed_widget = _graph_of_alarm(dashboard, CREATE_FAILED_RECORDS_ALARM)
    wait_until(lambda: _classes(page, failed_widget), lambda classes: "in-alarm" not in classes,
               timeout=ALARM_DEADLINE_SECONDS, interval=0.5,
               describe="the failed-records graph drawn without an alarm in ALARM")
    assert f"{CREATE_FAILED_RECORDS_ALARM}: ALARM" not in _alarm_badges(page, failed_widget)

    # WHEN a poison message is published, which the create consumer fails at once
    publish_poison(api.stack, "poison for the dashboard")

    # THEN, while the page stays open, that graph turns red, naming the alarm in ALARM
    wait_until(lambda: _classes(page, failed_widget), lambda classes: "in-alarm" in classes,
               timeout=ALARM_DEADLINE_SECONDS, interval=0.5,
               describe="the failed-records graph drawn in ALARM")
    assert f"{CREATE_FAILED_RECORDS_ALARM}: ALARM" in _alarm_badges(page, failed_widget)
    assert CREATE_FAILED_RECORDS_ALARM in page.inner_text("header.page .summary")

    # The page header stays on top: scroll the graph to just below it.
    page.eval_on_selector(f"#{dlq_widget.widget_id}", """e => window.scrollTo(0,
        e.getBoundingClientRect().top + window.scrollY
        - document.querySelector("header.page").offsetHeight - 60)""")
    screenshot = tmp_path / "dashboard.png"
    page.screenshot(path=str(screenshot))
    page.screenshot(path=str(tmp_path / "dashboard-full.png"), full_page=True)
    if os.environ.get("CRUDOPS_DASHBOARD_SCREENSHOT"):
        shutil.copyfile(screenshot, os.environ["CRUDOPS_DASHBOARD_SCREENSHOT"])

    # AND the page never logged an error nor asked another host for anything
    assert errors == []
    assert elsewhere == []
