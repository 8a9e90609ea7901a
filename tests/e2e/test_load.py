"""`crudops load` against the running local stack: Locust's scenario in its own
process, reporting each operation's 202 → notification time, and counting a
notification that does not come in time as lost."""

from __future__ import annotations

import pytest

from crudops_local.run import LocalStack
from tools.load import LoadOptions, do_load

pytestmark = pytest.mark.e2e


def _options(local_stack: LocalStack, **overrides: object) -> LoadOptions:
    assert local_stack.endpoints is not None
    small: dict[str, object] = {"users": 2, "spawn_rate": 2, "run_time": "4s", **overrides}
    return LoadOptions(rest_url=local_stack.endpoints.rest_url,
                       ws_url=local_stack.endpoints.ws_url, **small)  # type: ignore[arg-type]


def test_every_operation_is_timed_from_202_to_its_notification(
        local_stack: LocalStack) -> None:
    output: list[str] = []
    report = do_load(_options(local_stack), on_output=output.append)
    assert report.exit_code == 0, (report.failures, output[-20:])
    notified = {row.name: row for row in report.notifications}
    assert notified["create"].count >= 1 and notified["create"].failures == 0
    assert notified["create"].p50_ms > 0
    assert report.lost == 0 and report.failures == {}
    # the HTTP side of the same commands: time to the 202
    assert any(row.type == "POST" and row.name == "POST /items" for row in report.rows)


def test_a_notification_that_comes_too_late_is_lost_and_fails_the_run(
        local_stack: LocalStack) -> None:
    report = do_load(_options(local_stack, notify_timeout_seconds=0.001, run_time="2s"),
                     on_output=lambda line: None)
    assert report.exit_code == 1
    # every one is counted, those whose wait ended as Locust stopped included
    notified = sum(row.count for row in report.notifications)
    assert notified >= 1 and report.lost == notified
    assert all(row.failures == row.count for row in report.notifications)
    assert all("NotificationLost" in key for key in report.failures)


def test_a_step_shape_runs_its_steps_and_stops(local_stack: LocalStack) -> None:
    report = do_load(_options(local_stack, shape="step", step_users=1, step_seconds=2,
                              steps=2), on_output=lambda line: None)
    assert report.exit_code == 0, (report.failures, report.errors)
    assert sum(row.count for row in report.notifications) >= 2
