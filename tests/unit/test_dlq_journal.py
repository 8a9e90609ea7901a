"""The redrive journal read back after a crash (tools/dlq/journal.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.dlq.journal import HELD_MARGIN_SECONDS, Journal, read_journal
from tools.errors import UserError


def test_a_line_cut_short_by_a_kill_is_ignored_and_the_next_part_appends_cleanly(
        tmp_path: Path) -> None:
    journal = Journal.create("run", {"source": "s", "target": "t", "visibility_seconds": 30},
                             tmp_path)
    journal.sending(["m1", "m2"])
    journal.sent(["m1", "m2"])
    journal.deleted(["m1"])
    journal.close()
    with (tmp_path / "run.jsonl").open("a") as handle:
        handle.write('{"deleted":["m2"')  # the kill came mid-line

    resumed, state = Journal.reopen("run", tmp_path)
    assert state.sent == {"m1", "m2"} and state.deleted == {"m1"}
    assert state.in_doubt == set() and not state.ended_cleanly
    assert state.held_until() == state.last_written + 30 + HELD_MARGIN_SECONDS
    resumed.sending(["m3"])
    resumed.note(finished=True)
    resumed.close()
    again = read_journal(tmp_path / "run.jsonl")
    assert again.in_doubt == {"m3"}  # sent, never confirmed: a resume sends it again
    assert again.ended_cleanly and again.held_until() == 0.0


def test_an_unknown_run_names_recent_ones(tmp_path: Path) -> None:
    Journal.create("20261201T120000Z-aaaaaa", {"source": "s"}, tmp_path).close()
    with pytest.raises(UserError, match="no journal of run nope") as raised:
        Journal.reopen("nope", tmp_path)
    assert "20261201T120000Z-aaaaaa" in raised.value.hint
    with pytest.raises(UserError, match="is not a run id"):
        Journal.reopen("../etc/passwd", tmp_path)
