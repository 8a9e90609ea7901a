"""Finding a stack (tools/stacks.py): the state file's reader, the one-of rule of
--stack / --local, the gateways of a stack and function short names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from crudops_local.state import StateFileError
from tools import stacks
from tools.errors import UserError
from tools.stacks import read_local_stack, stack_urls


def test_missing_local_stack_hints_at_local_up(tmp_path: Path) -> None:
    with pytest.raises(StateFileError) as caught:
        read_local_stack(tmp_path / "local-stack.json")
    assert "crudops local up" in caught.value.hint


def test_a_garbled_local_stack_file_is_a_user_error(tmp_path: Path) -> None:
    path = tmp_path / "local-stack.json"
    path.write_text('{"region": "us-east-1"}')
    with pytest.raises(StateFileError, match="not a local stack description"):
        read_local_stack(path)


def test_state_file_is_where_local_up_writes_it() -> None:
    from crudops_local.run import STATE_FILE

    assert stacks.STATE_FILE == STATE_FILE


def test_a_function_not_built_the_stacks_way_keeps_its_logical_id() -> None:
    assert stacks.function_short_name("WorkersCreateHandlerFunctionBF4B914A") == "create"
    assert stacks.function_short_name("SomethingElse") == "SomethingElse"


def test_the_local_stack_urls_come_from_its_state_file(tmp_path: Path) -> None:
    state = tmp_path / "local-stack.json"
    with pytest.raises(StateFileError, match="no running local stack"):
        stack_urls(stack=None, local=True, region=None, local_state_file=state)
    described = {"stack": "Crudops", "region": "us-east-1",
                 "aws_endpoint": "http://127.0.0.1:8", "resources": {}}
    state.write_text(json.dumps(described))
    with pytest.raises(UserError, match="names no gateway URLs"):
        stack_urls(stack=None, local=True, region=None, local_state_file=state)
    state.write_text(json.dumps({**described, "rest_url": "http://127.0.0.1:9/v1",
                                 "ws_url": "ws://127.0.0.1:9/live"}))
    assert stack_urls(stack=None, local=True, region=None, local_state_file=state) == (
        "http://127.0.0.1:9/v1", "ws://127.0.0.1:9/live")
    with pytest.raises(UserError, match="exactly one of"):
        stack_urls(stack="Crudops", local=True, region=None, local_state_file=state)


@pytest.mark.parametrize("stack, local", [(None, False), ("Crudops", True)])
def test_exactly_one_of_stack_and_local_with_the_commands_hint(stack: str | None,
                                                                local: bool) -> None:
    with pytest.raises(UserError) as caught:
        stacks.require_one_stack(stack=stack, local=local, command="dlq")
    assert str(caught.value) == "give exactly one of --stack NAME or --local"
    assert caught.value.hint == "crudops dlq --local, or crudops dlq --stack Crudops"


def test_one_stack_is_enough_and_a_third_way_is_named() -> None:
    stacks.require_one_stack(stack="Crudops", local=False, command="status")
    stacks.require_one_stack(stack=None, local=True, command="status")
    with pytest.raises(UserError, match="--local, or --rest-url with --ws-url"):
        stacks.require_one_stack(stack=None, local=False, command="load",
                                 or_else="--rest-url with --ws-url")


def test_gateway_urls_given_replace_the_stack_and_come_in_pairs() -> None:
    assert stacks.gateway_urls(rest_url="http://h/v1", ws_url="ws://h/live", stack=None,
                               local=False, region=None, both_hint="h") == (
        "http://h/v1", "ws://h/live")
    with pytest.raises(UserError, match="give both --rest-url and --ws-url") as caught:
        stacks.gateway_urls(rest_url="http://h/v1", ws_url=None, stack=None, local=False,
                            region=None, both_hint="the hint")
    assert caught.value.hint == "the hint"
    with pytest.raises(UserError, match="give one way"):
        stacks.gateway_urls(rest_url="http://h/v1", ws_url="ws://h/live", stack="Crudops",
                            local=False, region=None, both_hint="h")


def test_gateway_urls_of_nothing_are_none_only_where_allowed(tmp_path: Path) -> None:
    assert stacks.gateway_urls(rest_url=None, ws_url=None, stack=None, local=False,
                               region=None, both_hint="h", neither_allowed=True) is None
    with pytest.raises(UserError, match="exactly one of --stack NAME, --local, or --rest-url"):
        stacks.gateway_urls(rest_url=None, ws_url=None, stack=None, local=False,
                            region=None, both_hint="h")
    with pytest.raises(StateFileError, match="no running local stack"):
        stacks.gateway_urls(rest_url=None, ws_url=None, stack=None, local=True, region=None,
                            both_hint="h", local_state_file=tmp_path / "none.json")


def test_a_deployed_stack_is_read_as_the_callers_configuration_says(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from tools.stacks import deployed_stack_clients

    # an endpoint URL the caller configured is honoured for --stack, as the AWS CLI does
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    sqs = deployed_stack_clients("eu-west-1")("sqs")
    assert sqs.meta.endpoint_url == "http://127.0.0.1:4566"
    assert sqs.meta.region_name == "eu-west-1"
    assert sqs._request_signer._credentials.access_key == "testing"  # the caller's chain
    # no --region and none configured: one line, before any call
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    empty = tmp_path / "config"
    empty.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(empty))
    with pytest.raises(UserError, match="no AWS region for --stack"):
        deployed_stack_clients(None)
