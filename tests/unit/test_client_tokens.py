"""How the API's clients carry their tokens: the load scenario's users take the tokens
in turn (two callers at once), the WebSocket URL gets `?token=`, and `demo`'s
connect-with-requestId URL keeps its query."""

from __future__ import annotations

import urllib.parse
from types import SimpleNamespace

from loadtests import auth
from tools.demo import auth_headers, connect_url
from tools.tokens import TOKEN_VARIABLE, fresh_password, given_token


def test_users_take_the_tokens_in_turn() -> None:
    options = SimpleNamespace(tokens="tok-a, tok-b,")
    taken = [auth.next_identity(options) for _ in range(4)]
    assert [token for _, token in taken].count("tok-a") == 2
    assert [token for _, token in taken].count("tok-b") == 2
    # consecutive users act for different callers
    assert taken[0][1] != taken[1][1] and taken[0][0] != taken[1][0]
    assert auth.next_identity(SimpleNamespace(tokens="")) == (0, None)


def test_the_websocket_url_carries_the_token_in_its_query() -> None:
    token = "eyJ.a+b/c="
    url = auth.with_token("ws://127.0.0.1:3000/live", token)
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query) == {"token": [token]}
    assert auth.with_token("ws://h/live?x=1", token).startswith("ws://h/live?x=1&token=")
    assert auth.with_token("ws://h/live", None) == "ws://h/live"
    assert auth.auth_headers("t") == {"Authorization": "t"} and auth.auth_headers(None) == {}


def test_the_demo_subscribes_on_connect_with_its_token() -> None:
    url = connect_url("ws://h/live", "t.k.n", requestId="r-1")
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(url).query) == {
        "requestId": ["r-1"], "token": ["t.k.n"]}
    assert connect_url("ws://h/live", None, requestId="r-1") == "ws://h/live?requestId=r-1"
    assert auth_headers(None) == {}


def test_bare_urls_take_the_token_from_the_environment() -> None:
    assert given_token({TOKEN_VARIABLE: " t.k.n "}) == "t.k.n"
    assert given_token({TOKEN_VARIABLE: ""}) is None and given_token({}) is None


def test_passwords_are_fresh_and_meet_the_default_policy() -> None:
    passwords = {fresh_password() for _ in range(20)}
    assert len(passwords) == 20
    for password in passwords:
        assert len(password) >= 12
        assert any(c.isupper() for c in password) and any(c.islower() for c in password)
        assert any(c.isdigit() for c in password) and not password.isalnum()
