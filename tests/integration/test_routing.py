"""SNS filter policies route each operation to exactly one consumer queue."""

from __future__ import annotations

import pytest

from tests.integration.conftest import Aws

ROUTES = {"create": "create", "get": "read", "list": "read", "update": "write", "delete": "write"}


@pytest.mark.parametrize(("operation", "queue"), sorted(ROUTES.items()))
def test_each_operation_reaches_only_its_consumer_queue(
    aws: Aws, operation: str, queue: str
) -> None:
    aws.publish_command(operation)

    depths = {name: aws.depth(aws.queue(name)) for name in ("create", "read", "write")}

    assert depths == {name: int(name == queue) for name in depths}


def test_a_command_without_a_known_operation_reaches_no_queue(aws: Aws) -> None:
    aws.publish_command("explode")

    assert all(aws.depth(aws.queue(name)) == 0 for name in ("create", "read", "write"))
