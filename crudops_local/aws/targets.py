"""Which AWS the local stack runs against, and as whom.

- embedded (default): the stack's own moto server, placeholder keys, a fixed account;
- another endpoint URL (`--aws-endpoint http://…`: LocalStack, another moto, …);
- AWS itself (`--aws-endpoint aws`): the regional endpoints of a real account.

For the last two the stack does not own the endpoint, so it asks STS who the caller is
(the account goes into every ARN the template builds), names its resources uniquely
per run and removes them when it stops (crudops_local/cloudformation/teardown.py).
Credentials come from the default boto3 chain and are resolved again as they expire.

One service can be sent elsewhere on its own (`--service-endpoint dynamodb=URL`, or the
SDKs' own `AWS_ENDPOINT_URL_DYNAMODB`), e.g. DynamoDB Local beside the embedded server;
what is created there is removed on stop as well.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import boto3

from crudops_local.aws.endpoint import AwsEndpoint
from crudops_local.errors import ConfigurationError

# `--aws-endpoint aws`: AWS's own endpoints rather than an emulator's URL.
AWS_KEYWORD = "aws"
DEFAULT_REGION = "us-east-1"
_ARN = re.compile(r"^arn:(?P<partition>[^:]+):[^:]*:[^:]*:(?P<account>\d{12}):")
_URL = re.compile(r"^https?://\S+$")
# The services the stack and its functions call, as boto3 names them.
STACK_SERVICES = ("dynamodb", "sqs", "sns", "kms", "logs", "cloudwatch", "xray", "sts")


class TargetKind(Enum):
    EMBEDDED = "embedded"
    EMULATOR = "emulator"
    ACCOUNT = "account"

    @property
    def owned(self) -> bool:
        """Whether the endpoint ends with the stack (nothing to remove on stop)."""
        return self is TargetKind.EMBEDDED


def target_kind(endpoint: str | None) -> TargetKind:
    if endpoint is None or not endpoint.strip():
        return TargetKind.EMBEDDED
    if endpoint.strip().lower() == AWS_KEYWORD:
        return TargetKind.ACCOUNT
    if not _URL.match(endpoint.strip()):
        raise ConfigurationError(
            f"--aws-endpoint {endpoint!r} is neither a URL nor {AWS_KEYWORD!r}",
            hint="e.g. --aws-endpoint http://localhost:4566, or "
                 f"--aws-endpoint {AWS_KEYWORD} for a real account")
    return TargetKind.EMULATOR


def target_region(kind: TargetKind, region: str | None) -> str:
    """Option > the caller's configured region (AWS_REGION, profile) > us-east-1,
    except that a real account must be told: a guess would create resources there."""
    if region:
        return region
    configured = boto3.session.Session().region_name if kind is not TargetKind.EMBEDDED else None
    if configured:
        return str(configured)
    if kind is TargetKind.ACCOUNT:
        raise ConfigurationError("no AWS region for --aws-endpoint aws",
                                 hint="pass --region or set AWS_REGION")
    return DEFAULT_REGION


def service_endpoints(pairs: Sequence[str], environ: Mapping[str, str]) -> dict[str, str]:
    """Per-service endpoints: `SERVICE=URL` pairs (`--service-endpoint`) over the SDKs'
    own `AWS_ENDPOINT_URL_<SERVICE>` variables, for the services the stack calls."""
    endpoints = {service: environ[f"AWS_ENDPOINT_URL_{service.upper()}"].strip()
                 for service in STACK_SERVICES
                 if environ.get(f"AWS_ENDPOINT_URL_{service.upper()}", "").strip()}
    for pair in pairs:
        service, _, url = (part.strip() for part in pair.partition("="))
        if service.lower() not in STACK_SERVICES or not _URL.match(url):
            raise ConfigurationError(f"--service-endpoint {pair!r} is not SERVICE=URL",
                                     hint=f"e.g. dynamodb=http://localhost:8000; SERVICE is "
                                          f"one of {', '.join(STACK_SERVICES)}")
        endpoints[service.lower()] = url
    return endpoints


def check_service_endpoints(kind: TargetKind, endpoints: Mapping[str, str]) -> None:
    """Refuse the splits that would accept requests and deliver none."""
    if endpoints and kind is TargetKind.ACCOUNT:
        raise ConfigurationError("per-service endpoints cannot be combined with "
                                 "--aws-endpoint aws",
                                 hint="unset AWS_ENDPOINT_URL_<SERVICE> / drop --service-endpoint")
    if endpoints.get("sqs") != endpoints.get("sns"):
        raise ConfigurationError("sqs and sns need the same endpoint: SNS delivers the "
                                 "commands into the queues",
                                 hint="override both with one URL, or neither")


def caller_endpoint(url: str | None, region: str,
                    service_urls: Mapping[str, str] | None = None) -> AwsEndpoint:
    """The caller's own credentials (the default chain: environment, profile, SSO),
    as its gateway and functions would use them; an emulator that ignores signatures
    gets placeholder keys when none are configured."""
    services = dict(service_urls or {})
    if boto3.session.Session().get_credentials() is None:
        if url is None:
            raise ConfigurationError("no AWS credentials for --aws-endpoint aws",
                                     hint="configure them (aws configure, AWS_PROFILE, aws sso "
                                          "login) and try again")
        return AwsEndpoint(url, region, service_urls=services)  # placeholder keys
    return AwsEndpoint(url, region, placeholder_credentials=False, service_urls=services)


@dataclass(frozen=True)
class Identity:
    account_id: str
    partition: str
    arn: str


def caller_identity(aws: AwsEndpoint) -> Identity:
    """Who the endpoint says the caller is (STS GetCallerIdentity).

    Raises botocore's errors for an endpoint that is unreachable or refuses the
    credentials: the caller turns them into a user error.
    """
    arn = str(aws.client("sts").get_caller_identity()["Arn"])
    match = _ARN.match(arn)
    if match is None:
        raise ConfigurationError(f"STS answered an ARN this stack cannot read: {arn}")
    return Identity(account_id=match["account"], partition=match["partition"], arn=arn)


def run_stack_name(stack_name: str) -> str:
    """A name no other run (and no deployed stack) uses: resources are named after it."""
    return f"{stack_name}-local-{secrets.token_hex(3)}"
