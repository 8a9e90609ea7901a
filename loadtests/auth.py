"""Whose tokens the scenario's users send: `--tokens` (`LOCUST_TOKENS`), ID tokens
separated by commas, handed out to the users of a process in turn, so that with two
tokens (what `crudops load` passes: two users of the stack's pool) half the users
act for one caller and half for the other, at the same time, on the same tables.

A user sends its token in the `Authorization` header of each HTTP call and in the
`?token=` query parameter of its WebSocket URL (what a browser must do: it cannot
set a WebSocket's headers). Items are shared only among the users of one token
(loadtests/mix.py's pools, one per token): another's item is `not_found` by design.
"""

from __future__ import annotations

import itertools
import threading
import urllib.parse
from typing import Any

_next_user = itertools.count()
_lock = threading.Lock()


def tokens_of(options: Any) -> list[str]:
    raw = str(getattr(options, "tokens", "") or "")
    return [token.strip() for token in raw.split(",") if token.strip()]


def next_identity(options: Any) -> tuple[int, str | None]:
    """(which token, the token) of the next user started in this process."""
    tokens = tokens_of(options)
    with _lock:
        index = next(_next_user)
    if not tokens:
        return 0, None
    return index % len(tokens), tokens[index % len(tokens)]


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": token} if token else {}


def with_token(ws_url: str, token: str | None) -> str:
    if not token:
        return ws_url
    separator = "&" if urllib.parse.urlsplit(ws_url).query else "?"
    return f"{ws_url}{separator}{urllib.parse.urlencode({'token': token})}"
