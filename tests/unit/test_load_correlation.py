"""The open loop's pending table (loadtests/correlation.py), without Locust or gevent:
a notification completes its command once, the reaper declares the old ones lost,
and what is left when the run stops is lost too."""

from __future__ import annotations

import json

from loadtests.correlation import Completed, Lost, Pending, PendingTable


def _notification(request_id: str, status: str = "success", code: str | None = None,
                  **result: object) -> str:
    message: dict[str, object] = {"type": "notification", "requestId": request_id,
                                  "status": status, "result": result or None}
    if code:
        message["error"] = {"code": code, "message": "..."}
    return json.dumps(message)


def _pending(request_id: str, accepted_at: float, **kwargs: object) -> Pending:
    return Pending(request_id, "create", sent_at=accepted_at - 0.05, accepted_at=accepted_at,
                   **kwargs)  # type: ignore[arg-type]


def test_a_notification_completes_its_command_once_with_both_times() -> None:
    table = PendingTable(timeout_seconds=2.5)
    table.accepted(_pending("r1", accepted_at=10.0))
    table.accepted(_pending("r2", accepted_at=10.1))
    frame = _notification("r1", id="item-1", version=1)

    completed = table.notified(frame, at=10.25)

    assert isinstance(completed, Completed) and completed.pending.request_id == "r1"
    assert completed.kind == "success" and completed.result == {"id": "item-1", "version": 1}
    assert round(completed.notify_ms) == 250 and round(completed.end_to_end_ms) == 300
    assert completed.size == len(frame)
    # the stack delivers at least once: the same notification again matches nothing
    assert table.notified(frame, at=10.3) is None and table.unmatched == 1
    assert list(table) == ["r2"]


def test_error_outcomes_carry_their_code_and_expected_ones_are_apart() -> None:
    table = PendingTable(timeout_seconds=2.5)
    table.accepted(_pending("a", 1.0))
    table.accepted(_pending("b", 1.0, expected_codes=frozenset({"conflict"})))
    table.accepted(_pending("c", 1.0, expected_codes=frozenset({"conflict"})))
    failed = table.notified(_notification("a", "error", "conflict"), at=2.0)
    expected = table.notified(_notification("b", "error", "conflict"), at=2.0)
    other = table.notified(_notification("c", "error", "not_found"), at=2.0)
    assert isinstance(failed, Completed) and (failed.kind, failed.code) == ("error", "conflict")
    assert isinstance(expected, Completed)
    assert (expected.kind, expected.code) == ("expected", "conflict")
    assert isinstance(other, Completed) and (other.kind, other.code) == ("error", "not_found")


def test_frames_that_are_not_notifications_complete_nothing() -> None:
    table = PendingTable(timeout_seconds=2.5)
    table.accepted(_pending("r1", 1.0))
    assert table.notified("not json", at=2.0) is None
    assert table.notified(json.dumps({"type": "error", "message": "bad"}), at=2.0) is None
    assert table.notified(json.dumps({"type": "subscribed", "requestId": "r1"}), at=2.0) is None
    assert table.bad_frames == 2 and len(table) == 1


def test_the_reaper_declares_lost_what_waited_longer_than_the_timeout() -> None:
    table = PendingTable(timeout_seconds=2.5)
    for i, accepted_at in enumerate((1.0, 2.0, 3.0, 4.5)):
        table.accepted(_pending(f"r{i}", accepted_at))

    lost = table.reap(now=5.0)  # r0 (4 s) and r1 (3 s) only

    assert [item.pending.request_id for item in lost] == ["r0", "r1"]
    assert [round(item.notify_ms) for item in lost] == [4000, 3000]
    assert list(table) == ["r2", "r3"]
    # a reaped command's late notification is not a completion
    assert table.notified(_notification("r0"), at=5.1) is None
    assert table.reap(now=5.0) == []


def test_a_notification_after_the_timeout_is_lost_before_the_reaper_comes_by() -> None:
    table = PendingTable(timeout_seconds=1.0)
    table.accepted(_pending("r1", accepted_at=1.0))
    late = table.notified(_notification("r1"), at=2.2)
    assert isinstance(late, Lost) and round(late.notify_ms) == 1200
    assert len(table) == 0


def test_what_is_pending_when_the_run_stops_is_lost() -> None:
    table = PendingTable(timeout_seconds=2.5)
    table.accepted(_pending("r1", 1.0))
    table.accepted(_pending("r2", 1.5))
    lost = table.stop(now=2.0)
    assert [(item.pending.request_id, round(item.notify_ms)) for item in lost] == [
        ("r1", 1000), ("r2", 500)]
    assert len(table) == 0
