from __future__ import annotations

import json

import pytest

from functions.domain import paging
from functions.exceptions import InvalidCommandError


def test_cursor_round_trips() -> None:
    cursor = paging.encode_cursor({"id": "abc-123"})
    assert paging.decode_cursor(cursor) == {"id": "abc-123"}
    assert paging.decode_cursor("") is None


@pytest.mark.parametrize("cursor", ["!!!", "e30", paging.encode_cursor({"id": 5}),
                                    paging.encode_cursor({"id": "a", "x": "b"})])
def test_a_forged_cursor_is_a_validation_error(cursor: str) -> None:
    with pytest.raises(InvalidCommandError):
        paging.decode_cursor(cursor)


@pytest.mark.parametrize(("raw", "expected"), [("", 25), ("1", 1), ("100", 100)])
def test_limit_defaults_and_bounds(raw: str, expected: int) -> None:
    assert paging.parse_limit(raw, default=25, maximum=100) == expected


@pytest.mark.parametrize("raw", ["0", "101", "ten", "-1"])
def test_limit_out_of_bounds_is_a_validation_error(raw: str) -> None:
    with pytest.raises(InvalidCommandError):
        paging.parse_limit(raw, default=25, maximum=100)


def _item(index: int, size: int) -> dict[str, object]:
    return {"id": f"id-{index:03d}", "description": "x" * size}


def test_a_page_of_large_items_is_cut_to_fit_one_notification() -> None:
    # GIVEN 100 items of ~19 KiB, far more than one 120 KiB notification holds
    items = [_item(i, 19_000) for i in range(100)]

    page = paging.cut_to_budget(items, more_after=False, max_bytes=120 * 1024)

    assert 0 < len(page.items) < 100
    assert len(json.dumps(page.to_result())) + paging.ENVELOPE_BYTES <= 120 * 1024
    # THEN the cursor resumes right after the last item kept
    assert page.next_cursor is not None
    assert paging.decode_cursor(page.next_cursor) == {"id": page.items[-1]["id"]}


def test_no_cursor_when_everything_fits_and_the_store_is_exhausted() -> None:
    page = paging.cut_to_budget([_item(1, 10)], more_after=False, max_bytes=120 * 1024)
    assert page.next_cursor is None
    more = paging.cut_to_budget([_item(1, 10)], more_after=True, max_bytes=120 * 1024)
    assert more.next_cursor is not None
