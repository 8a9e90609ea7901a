"""`crudops local token` / `crudops token --stack NAME`: an ID token of the stack's user
pool, for a client of its API (curl, Postman, a script).

Both go one way: find the pool and its app client (the local stack's state file names
the `AWS::Cognito::UserPool` and `AWS::Cognito::UserPoolClient` it created; a deployed
stack's outputs `UserPoolId` and `UserPoolClientId`), make sure the user exists
(`AdminCreateUser`, no invitation sent), give it a fresh random permanent password
(nobody needs to know it: the token is what a client keeps), and sign in with
`ADMIN_USER_PASSWORD_AUTH`. The password changes on every call, so a password that
leaked from an old run is worth nothing. The ID token is what the REST API's Cognito
authorizer takes (no OAuth scopes on its methods) and what the WebSocket `$connect`
authorizer takes in `Authorization` or `?token=`; it expires after the app client's
ID token validity (an hour by default).

`demo`, `load` and `verify` get their tokens here too (`token_source_for`): the API
refuses anonymous callers.
"""

from __future__ import annotations

import contextlib
import datetime
import json
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from crudops_local.state import LocalStackState
from tools.aws_errors import aws_errors_as_user_errors
from tools.errors import UserError
from tools.stacks import (
    STATE_FILE,
    ClientFactory,
    deployed_stack_clients,
    deployed_stack_outputs,
    read_local_stack,
    require_one_stack,
)

# The user `crudops local token` signs in as when no `--user` is given.
DEFAULT_USER: Final = "crudops-dev"
# What a client command given bare URLs (`--rest-url`/`--ws-url`) sends as its token:
# `export CRUDOPS_TOKEN=$(crudops local token)`.
TOKEN_VARIABLE: Final = "CRUDOPS_TOKEN"
# The second user of the tools that check isolation under load (`crudops load`).
SECOND_USER: Final = "crudops-dev-b"
POOL_TYPE: Final = "AWS::Cognito::UserPool"
CLIENT_TYPE: Final = "AWS::Cognito::UserPoolClient"
POOL_ID_OUTPUT: Final = "UserPoolId"
CLIENT_ID_OUTPUT: Final = "UserPoolClientId"
# One of each class Cognito's default password policy asks for, then randomness.
_PASSWORD_RANDOM_BYTES: Final = 24


@dataclass(frozen=True)
class IssuedToken:
    user: str
    token: str
    # ISO 8601, UTC: the token's `exp`
    expires_at: str

    def as_json(self) -> dict[str, str]:
        return {"user": self.user, "token": self.token, "expiresAt": self.expires_at}


@dataclass(frozen=True)
class UserPoolClient:
    """Where tokens come from: a pool, its app client, and a cognito-idp client."""

    pool_id: str
    client_id: str
    cognito: Any

    def issue(self, user: str) -> IssuedToken:
        """An ID token for `user`, created in the pool if it is not there yet."""
        return issue_id_token(self.cognito, self.pool_id, self.client_id, user)


def fresh_password() -> str:
    """A random password that meets Cognito's strictest default policy."""
    return (secrets.token_urlsafe(_PASSWORD_RANDOM_BYTES) + secrets.choice(string.ascii_uppercase)
            + secrets.choice(string.ascii_lowercase) + secrets.choice(string.digits) + "!")


def _claims(token: str) -> dict[str, Any]:
    """A token's claims, unverified: only for tokens this process was just issued."""
    import jwt

    return dict(jwt.decode(token, options={"verify_signature": False}))


def token_sub(token: str) -> str:
    """The `sub` a token of ours speaks for (what its items and outcomes are keyed by)."""
    return str(_claims(token)["sub"])


def _expiry(token: str) -> str:
    claims = _claims(token)
    moment = datetime.datetime.fromtimestamp(int(claims["exp"]), tz=datetime.UTC)
    return moment.isoformat().replace("+00:00", "Z")


def issue_id_token(cognito: Any, pool_id: str, client_id: str, user: str) -> IssuedToken:
    if not user.strip():
        raise UserError("--user must not be empty", hint=f"e.g. --user {DEFAULT_USER}")
    password = fresh_password()
    with contextlib.suppress(cognito.exceptions.UsernameExistsException):
        cognito.admin_create_user(UserPoolId=pool_id, Username=user, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=user, Password=password,
                                    Permanent=True)
    answer = cognito.admin_initiate_auth(
        UserPoolId=pool_id, ClientId=client_id, AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": password})
    result = answer.get("AuthenticationResult")
    if not result or "IdToken" not in result:
        raise UserError(f"the pool asked for a challenge ({answer.get('ChallengeName')}) "
                        f"instead of signing {user} in",
                        hint="the app client must allow ADMIN_USER_PASSWORD_AUTH without MFA")
    token = str(result["IdToken"])
    return IssuedToken(user, token, _expiry(token))


def local_user_pool(local_state_file: Path = STATE_FILE,
                    clients: ClientFactory | None = None) -> UserPoolClient:
    """The pool and app client the running local stack created."""
    described = read_local_stack(local_state_file)
    return user_pool_of(described, clients or described.clients(), str(local_state_file))


def user_pool_of(state: LocalStackState, clients: ClientFactory,
                 where: str = "its state") -> UserPoolClient:
    """The pool and app client a local stack created (from its description)."""
    pools = [r.ref for r in state.physical.values() if r.type == POOL_TYPE]
    app_clients = [r.ref for r in state.physical.values() if r.type == CLIENT_TYPE]
    if len(pools) != 1 or len(app_clients) != 1:
        raise UserError(f"the local stack ({where}) has {len(pools)} user pools "
                        f"and {len(app_clients)} app clients, not one of each",
                        hint="restart it with `crudops local up` from the current template")
    return UserPoolClient(pools[0], app_clients[0], clients("cognito-idp"))


def deployed_user_pool(stack: str, region: str | None = None,
                       clients: ClientFactory | None = None) -> UserPoolClient:
    """The pool and app client a deployed stack names in its outputs."""
    factory = clients or deployed_stack_clients(region)
    outputs = deployed_stack_outputs(stack, region, factory)
    if POOL_ID_OUTPUT not in outputs or CLIENT_ID_OUTPUT not in outputs:
        raise UserError(f"stack {stack} has no {POOL_ID_OUTPUT} / {CLIENT_ID_OUTPUT} outputs",
                        hint="deploy the current version (it creates or names a user pool)")
    return UserPoolClient(outputs[POOL_ID_OUTPUT], outputs[CLIENT_ID_OUTPUT],
                          factory("cognito-idp"))


def do_token(*, user: str = DEFAULT_USER, stack: str | None = None, local: bool = False,
             region: str | None = None, local_state_file: Path = STATE_FILE,
             clients: ClientFactory | None = None) -> IssuedToken:
    """One ID token of `user`, from the local stack's pool or a deployed stack's."""
    require_one_stack(stack=stack, local=local, command="token")
    pool = (local_user_pool(local_state_file, clients) if local
            else deployed_user_pool(str(stack), region, clients))
    from botocore.exceptions import ClientError

    try:
        with aws_errors_as_user_errors(local=local):
            return pool.issue(user)
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise UserError(f"cognito-idp refused: {error.get('Code')}: {error.get('Message')}",
                        hint="check that the pool and its app client exist and that "
                             "your credentials may administer them") from exc


def api_tokens(*, stack: str | None, local: bool, region: str | None = None,
               local_state_file: Path = STATE_FILE,
               users: tuple[str, ...] = (DEFAULT_USER,)) -> list[str]:
    """ID tokens of `users` for a client command (`demo`, `load`, `verify`) on
    `--stack NAME` or `--local`."""
    require_one_stack(stack=stack, local=local, command="token")
    pool = (local_user_pool(local_state_file) if local
            else deployed_user_pool(str(stack), region))
    with aws_errors_as_user_errors(local=local):
        return [pool.issue(user).token for user in users]


def given_token(environ: Mapping[str, str]) -> str | None:
    """The token a client command given bare URLs sends (`CRUDOPS_TOKEN`), if any."""
    value = environ.get(TOKEN_VARIABLE, "").strip()
    return value or None


def print_token(issued: IssuedToken, as_json: bool) -> None:
    """The token alone (for `$(...)`), or one line {user, token, expiresAt}."""
    import typer

    typer.echo(json.dumps(issued.as_json()) if as_json else issued.token)
