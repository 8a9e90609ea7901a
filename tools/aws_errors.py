"""AWS client failures an operator can fix, turned into `UserError`s with a hint.

`status` and `trace` read a deployed stack with the caller's credentials or the
local stack's endpoint; a missing profile or a stopped local stack is the user's to
fix, not a bug, so it gets one line and exit code 2 instead of a traceback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from tools.errors import UserError


@contextmanager
def aws_errors_as_user_errors(*, local: bool) -> Iterator[None]:
    from botocore.exceptions import BotoCoreError, EndpointConnectionError, NoCredentialsError

    try:
        yield
    except NoCredentialsError as exc:
        raise UserError("no AWS credentials found",
                        hint="set AWS_PROFILE or run `aws configure`") from exc
    except EndpointConnectionError as exc:
        raise UserError(f"cannot reach {exc.kwargs.get('endpoint_url', 'AWS')}",
                        hint="is the local stack still running? `crudops local up`"
                        if local else "check AWS_REGION and your network") from exc
    except BotoCoreError as exc:
        raise UserError(f"AWS call failed: {exc}", hint="check your AWS configuration") from exc
