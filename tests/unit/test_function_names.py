"""The short-name rule of infra/function_names.py on logical ids, without a synth
(tests/infra/test_function_names.py checks it on the synthesized template)."""

from __future__ import annotations

import pytest

from infra.function_names import short_name, short_name_of_logical_id


@pytest.mark.parametrize(("logical_id", "name"), [
    ("WorkersCreateHandlerFunctionBF4B914A", "create"),
    ("WorkersUpdateDeleteHandlerFunction2B2BC078", "update-delete"),
    ("WebSocketWsDisconnectFunctionFEC62040", "ws-disconnect"),
    # Not functions built the stack's way: a CDK helper, a log group, no holder.
    ("AWS679f53fac002430cb0da5b7982bd22872D164C4C", None),
    ("WorkersCreateHandlerLogsA16B6971", None),
    ("OtherThingFunctionA8EC5B2B", None),
])
def test_short_name_of_logical_id(logical_id: str, name: str | None) -> None:
    assert short_name_of_logical_id(logical_id) == name


def test_short_name_is_the_kebab_form_of_a_construct_id() -> None:
    assert [short_name(i) for i in ("Create", "UpdateDelete", "WsConnect")] == [
        "create", "update-delete", "ws-connect"]
