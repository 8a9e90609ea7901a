"""`local up --aws-endpoint` at an endpoint that does not answer: a user error naming
the endpoint, and nothing left running."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from crudops_local.run import LocalStackOptions
from tools.errors import UserError
from tools.local.up import start_local_stack


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: connections are refused


def test_an_endpoint_that_refuses_connections_is_a_user_error(
        synthesized: object, tmp_path: Path) -> None:
    from tools.synth import SynthResult

    assert isinstance(synthesized, SynthResult)
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    options = LocalStackOptions(template=synthesized.template, aws_endpoint=endpoint,
                                log_dir=tmp_path / "logs", state_file=tmp_path / "state.json")
    with pytest.raises(UserError, match="AWS endpoint failed") as raised:
        start_local_stack(options)
    assert endpoint in str(raised.value)
    assert not (tmp_path / "state.json").exists()
