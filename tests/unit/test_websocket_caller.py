"""Whose a WebSocket event is: the sub the `$connect` authorizer put in its context."""

from __future__ import annotations

from typing import Any

import pytest

from functions.websocket import caller_sub
from tests.support.events import load_event


@pytest.mark.parametrize("name", ["ws_connect", "ws_default", "ws_disconnect"])
def test_the_sub_comes_from_the_authorizer_context_of_every_route(name: str) -> None:
    assert caller_sub(load_event(name)) == "8f2b6c1e-4a7d-4e0b-9c3f-1d5e7a9b2c4d"


@pytest.mark.parametrize("authorizer", [None, {}, {"sub": ""}, {"sub": 7}, "sub",
                                        {"principalId": "someone"}])
def test_no_usable_sub_is_no_caller(authorizer: Any) -> None:
    event = load_event("ws_default")
    if authorizer is None:
        del event["requestContext"]["authorizer"]
    else:
        event["requestContext"]["authorizer"] = authorizer
    assert caller_sub(event) is None
