from __future__ import annotations

import pytest

from functions.contracts.command import Command
from functions.domain.commands import Attempt, may_retry_missing_item
from functions.settings import EnvVar, FunctionSettings


def test_settings_come_from_the_environment_with_defaults() -> None:
    settings = FunctionSettings.from_env(
        {EnvVar.ITEMS_TABLE.value: "items", EnvVar.MAX_RECEIVE_COUNT.value: "7"}
    )
    assert settings.items_table == "items"
    assert settings.max_receive_count == 7
    assert settings.list_max_limit == 100


def test_a_non_integer_setting_fails_with_its_name() -> None:
    with pytest.raises(RuntimeError, match="MAX_RECEIVE_COUNT"):
        FunctionSettings.from_env({EnvVar.MAX_RECEIVE_COUNT.value: "five"})


def test_require_names_the_missing_variables() -> None:
    with pytest.raises(RuntimeError, match="OUTCOMES_TABLE_NAME"):
        FunctionSettings.from_env({"ITEMS_TABLE_NAME": "t"}).require(
            "items_table", "outcomes_table"
        )


def _command(submitted_at_ms: int) -> Command:
    return Command(request_id="r", operation="update", owner="o", item_id="i",
                   submitted_at_ms=submitted_at_ms, payload={"name": "x"}, limit="",
                   cursor="", if_match="", idempotency_key="")


SETTINGS = FunctionSettings(missing_item_retry_window_seconds=60, max_receive_count=5)


@pytest.mark.parametrize(
    ("age_seconds", "receive_count", "retry"),
    [(0, 1, True), (59, 3, True), (61, 1, False), (0, 4, False), (0, 5, False)],
)
def test_missing_item_is_retried_only_within_window_and_spare_receives(
    age_seconds: int, receive_count: int, retry: bool
) -> None:
    now_ms = 10_000_000
    attempt = Attempt(receive_count=receive_count, now_ms=now_ms)
    assert may_retry_missing_item(_command(now_ms - age_seconds * 1000), attempt, SETTINGS) is retry
