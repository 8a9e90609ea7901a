"""The verdict of `crudops verify` on facts made by hand: each rule catches its case."""

from __future__ import annotations

from typing import Any

from tools.verify.conservation import Accepted, check


def _outcome(request_id: str, operation: str, result: Any = None, *, status: str = "success",
             code: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {"requestId": request_id, "operation": operation,
                                "status": status, "result": result, "type": "notification"}
    if code is not None:
        document["error"] = {"code": code, "message": code}
    return document


def _item(version: int, description: str = "") -> dict[str, Any]:
    return {"id": "i1", "name": "n", "description": description, "attributes": {},
            "version": version, "createdAt": "t", "updatedAt": "t"}


def _history() -> tuple[list[Accepted], dict[str, dict[str, Any]]]:
    """A create and two updates of one item (versions 1, 2, 3), and a conflict."""
    accepted = [Accepted("c", "create"), Accepted("u1", "update", "i1"),
                Accepted("u2", "update", "i1", expected_version=2),
                Accepted("u3", "update", "i1", expected_version=1)]
    outcomes = {"c": _outcome("c", "create", _item(1)),
                "u1": _outcome("u1", "update", _item(2, "a")),
                "u2": _outcome("u2", "update", _item(3, "b")),
                "u3": _outcome("u3", "update", status="error", code="conflict")}
    return accepted, outcomes


def _notified(outcomes: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    return {r: [o] for r, o in outcomes.items()}


def test_a_clean_history_is_ok_and_conflicts_are_counted_apart() -> None:
    accepted, outcomes = _history()
    report = check(accepted, outcomes, set(), _notified(outcomes), {"i1": _item(3, "b")})
    assert report.ok, report.problems
    assert (report.accepted, report.outcomes, report.conflicts) == (4, 4, 1)
    assert report.items_checked == 1
    assert report.by_operation["update"].conflicts == 1


def test_a_command_without_outcome_is_lost_unless_it_waits_in_a_dlq() -> None:
    accepted, outcomes = _history()
    del outcomes["u3"]
    lost = check(accepted, outcomes, set(), _notified(outcomes), {"i1": _item(3, "b")})
    parked = check(accepted, outcomes, {"u3"}, _notified(outcomes), {"i1": _item(3, "b")})
    assert (lost.lost, lost.ok) == (1, False)
    assert (parked.lost, parked.in_dlq, parked.ok) == (0, 1, True)


def test_two_outcomes_claiming_one_version_are_a_lost_update() -> None:
    accepted, outcomes = _history()
    accepted.append(Accepted("u4", "update", "i1"))
    outcomes["u4"] = _outcome("u4", "update", _item(3, "c"))
    report = check(accepted, outcomes, set(), _notified(outcomes), {"i1": _item(3, "b")})
    assert report.lost_updates == 1 and not report.ok


def test_a_version_without_outcome_is_a_write_applied_twice() -> None:
    accepted, outcomes = _history()
    outcomes["u2"] = _outcome("u2", "update", _item(4, "b"))  # version 3 has no outcome
    accepted[2] = Accepted("u2", "update", "i1")
    report = check(accepted, outcomes, set(), _notified(outcomes), {"i1": _item(4, "b")})
    assert report.double_applied == 1 and not report.ok


def test_a_conditional_update_must_land_on_expected_plus_one() -> None:
    accepted, outcomes = _history()
    accepted[2] = Accepted("u2", "update", "i1", expected_version=1)
    report = check(accepted, outcomes, set(), _notified(outcomes), {"i1": _item(3, "b")})
    assert report.double_applied == 1


def test_the_stored_item_must_be_its_last_outcome() -> None:
    accepted, outcomes = _history()
    older = check(accepted, outcomes, set(), _notified(outcomes), {"i1": _item(2, "a")})
    changed = check(accepted, outcomes, set(), _notified(outcomes), {"i1": _item(3, "x")})
    newer = check(accepted, outcomes, set(), _notified(outcomes), {"i1": _item(5, "b")})
    gone = check(accepted, outcomes, set(), _notified(outcomes), {"i1": None})
    assert older.lost_updates == 1
    assert changed.double_applied == 1
    assert newer.double_applied == 2
    assert gone.lost == 1
    assert not any(r.ok for r in (older, changed, newer, gone))


def test_a_delete_removes_the_last_version() -> None:
    accepted, outcomes = _history()
    accepted.append(Accepted("d", "delete", "i1"))
    outcomes["d"] = _outcome("d", "delete", {"id": "i1", "deleted": True, "version": 3})
    assert check(accepted, outcomes, set(), _notified(outcomes), {"i1": None}).ok
    still_there = check(accepted, outcomes, set(), _notified(outcomes), {"i1": _item(3, "b")})
    assert still_there.double_applied == 1


def test_notifications_lost_duplicated_or_different() -> None:
    accepted, outcomes = _history()
    notifications = _notified(outcomes)
    del notifications["u1"]
    notifications["u2"] = [outcomes["u2"], outcomes["u2"]]
    notifications["c"] = [{**outcomes["c"], "status": "error"}]
    report = check(accepted, outcomes, set(), notifications, {"i1": _item(3, "b")})
    assert report.notifications_lost == 1
    assert report.duplicate_notifications == 1
    assert report.notification_mismatches == 1
    assert not report.ok


def test_the_json_names_the_counts_a_script_reads() -> None:
    accepted, outcomes = _history()
    document = check(accepted, outcomes, set(), _notified(outcomes),
                     {"i1": _item(3, "b")}).as_json()
    assert {"ok", "accepted", "outcomes", "in_dlq", "lost", "double_applied"} <= set(document)
    assert document["by_operation"]["create"]["accepted"] == 1
