from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError, NoCredentialsError, ReadTimeoutError

from tools.aws_errors import aws_errors_as_user_errors
from tools.errors import UserError


@pytest.mark.parametrize(
    ("error", "local", "hint"),
    [
        (NoCredentialsError(), False, "AWS_PROFILE"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), True, "crudops local up"),
        (EndpointConnectionError(endpoint_url="https://sqs"), False, "AWS_REGION"),
        (ReadTimeoutError(endpoint_url="https://sqs"), False, "AWS configuration"),
    ],
)
def test_fixable_aws_failures_become_user_errors_with_a_hint(
    error: Exception, local: bool, hint: str
) -> None:
    with pytest.raises(UserError) as raised, aws_errors_as_user_errors(local=local):
        raise error
    assert hint in raised.value.hint


def test_anything_else_is_left_as_a_bug() -> None:
    with pytest.raises(KeyError), aws_errors_as_user_errors(local=True):
        raise KeyError("a bug keeps its traceback")
