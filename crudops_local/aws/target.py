"""Where the gateway's direct AWS integrations send their requests, and as whom.

API Gateway calls SNS and DynamoDB itself, signed with the integration's role. The
local gateway signs with the credentials of a `boto3.Session` instead (the role is
not assumed): against moto any credentials do, against a real account the session's
identity needs the permissions the role would have had.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import boto3
from botocore.credentials import ReadOnlyCredentials

# A local endpoint routes requests by the SigV4 scope but never checks the signature.
LOCAL_CREDENTIALS = ReadOnlyCredentials("local", "local", None)


class EndpointLike(Protocol):
    """The provisioner's `AwsEndpoint`, without importing it."""

    @property
    def url(self) -> str | None: ...
    @property
    def region(self) -> str: ...
    @property
    def access_key_id(self) -> str | None: ...
    @property
    def secret_access_key(self) -> str | None: ...
    @property
    def session_token(self) -> str | None: ...
    @property
    def service_urls(self) -> Mapping[str, str]: ...


@dataclass(frozen=True)
class AwsTarget:
    """An AWS endpoint: `endpoint_url=None` means the real regional endpoints."""

    endpoint_url: str | None
    region: str
    session: boto3.Session = field(default_factory=boto3.Session, compare=False, repr=False)
    # service → its own endpoint (`--service-endpoint`), overriding `endpoint_url`
    service_urls: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def of(cls, endpoint: EndpointLike) -> AwsTarget:
        """No access key: the default credential chain, refreshed as it expires."""
        if endpoint.access_key_id is None:
            session = boto3.Session(region_name=endpoint.region)
        else:
            session = boto3.Session(
                aws_access_key_id=endpoint.access_key_id,
                aws_secret_access_key=endpoint.secret_access_key,
                aws_session_token=endpoint.session_token,
                region_name=endpoint.region,
            )
        return cls(endpoint.url, endpoint.region, session, dict(endpoint.service_urls))

    def service_url(self, service: str) -> str:
        """Base URL of `service`: its own endpoint, the emulator's, or AWS's regional one."""
        url = self.service_urls.get(service) or self.endpoint_url
        if url:
            return url.rstrip("/")
        return f"https://{service}.{self.region}.amazonaws.com"

    def credentials(self) -> ReadOnlyCredentials:
        """Frozen credentials to sign one request with (refreshed by botocore as needed).

        Blocking on first use (the provider chain may query a metadata service): call
        it off the event loop.
        """
        credentials: Any = self.session.get_credentials()
        if credentials is None:
            if self.endpoint_url:
                return LOCAL_CREDENTIALS
            raise RuntimeError("no AWS credentials found for the gateway's integrations")
        frozen: ReadOnlyCredentials = credentials.get_frozen_credentials()
        return frozen
