"""Where AWS is, and as whom: the one endpoint type, with the clients built from it.

Every part that calls AWS takes an `AwsEndpoint`: the provisioner and teardown (clients),
the gateway's direct integrations (a service's base URL and credentials to sign with),
the runtime (the environment its workers resolve the same endpoint and credentials
from), the ledger (`to_json`/`from_json`, so that `crudops local down` reaches the
endpoint again from another process), and the CLI (`tools/stacks.py`, for `--stack`
and `--local`).

One boto3 session per endpoint, created on first use, and one client per service built
from it and cached: botocore clients are thread-safe, a session's creation is not, so
both are made under a lock. Copies (`dataclasses.replace`) start with empty caches.
boto3 is imported when the first session is made, not with this module: the CLI
imports it at start-up, and most commands never call AWS.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3
    from botocore.credentials import ReadOnlyCredentials

# A local endpoint routes requests by the SigV4 scope but never checks the signature.
PLACEHOLDER_ACCESS_KEY = "local"
PLACEHOLDER_SECRET_KEY = "local"
# A service's client, built and cached by the endpoint (`AwsEndpoint.client`).
ClientFactory = Callable[[str], Any]
# One client per service serves every thread of the stack at once (each mapping's
# pollers hold a long poll open, the telemetry loops, teardown): botocore's default
# pool of 10 connections would be exceeded and connections discarded with a warning.
MAX_POOL_CONNECTIONS = 50
# What a worker needs to resolve the caller's credential chain itself (and refresh what
# expires), passed on from the stack's environment when it signs as the caller.
CREDENTIAL_ENVIRONMENT = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
    "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CA_BUNDLE", "AWS_EC2_METADATA_DISABLED",
)


@dataclass(frozen=True)
class AwsEndpoint:
    """An AWS endpoint and the identity that signs for it.

    `url=None` means AWS's own regional endpoints: an `AWS_ENDPOINT_URL` or a
    profile's `endpoint_url` left over from emulator work must not quietly send the
    calls elsewhere, unless `configured_urls` says the caller's configuration decides
    (the CLI's `--stack`, as the AWS CLI would). `placeholder_credentials=False` signs
    with the default boto3 credential chain (environment, profile, SSO), resolved
    again as temporary credentials expire.
    """

    url: str | None
    region: str
    placeholder_credentials: bool = True
    # service (boto3's name) → its own endpoint (`--service-endpoint`), overriding `url`
    service_urls: Mapping[str, str] = field(default_factory=dict)
    configured_urls: bool = False
    # A botocore `Config` merged into each client's (retries, a larger pool, ...).
    client_config: Any = field(default=None, compare=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False,
                                  compare=False, repr=False)
    _sessions: list[boto3.Session] = field(default_factory=list, init=False,
                                           compare=False, repr=False)
    _clients: dict[str, Any] = field(default_factory=dict, init=False,
                                     compare=False, repr=False)

    # --- where -----------------------------------------------------------------
    def url_for(self, service: str) -> str | None:
        """The URL `service`'s clients are given (None: AWS's, or the configured one)."""
        return self.service_urls.get(service, self.url)

    def service_url(self, service: str) -> str:
        """Base URL of `service`: its own endpoint, the emulator's, or AWS's regional one
        (what the gateway's direct integrations send their signed requests to)."""
        url = self.url_for(service)
        if url:
            return url.rstrip("/")
        return f"https://{service}.{self.region}.amazonaws.com"

    # --- as whom ---------------------------------------------------------------
    @property
    def session(self) -> boto3.Session:
        with self._lock:
            if not self._sessions:
                self._sessions.append(self._new_session())
            return self._sessions[0]

    def _new_session(self) -> boto3.Session:
        import boto3

        if not self.placeholder_credentials:
            return boto3.Session(region_name=self.region)
        return boto3.Session(aws_access_key_id=PLACEHOLDER_ACCESS_KEY,
                             aws_secret_access_key=PLACEHOLDER_SECRET_KEY,
                             region_name=self.region)

    def credentials(self) -> ReadOnlyCredentials:
        """Frozen credentials to sign one request with (refreshed by botocore as needed).

        Blocking on first use (the provider chain may query a metadata service): call
        it off the event loop. An emulator gets placeholder keys when the chain has none.
        """
        from botocore.credentials import ReadOnlyCredentials

        credentials: Any = self.session.get_credentials()
        if credentials is None:
            if self.url:
                return ReadOnlyCredentials(PLACEHOLDER_ACCESS_KEY, PLACEHOLDER_SECRET_KEY, None)
            raise RuntimeError("no AWS credentials found for the gateway's integrations")
        frozen: ReadOnlyCredentials = credentials.get_frozen_credentials()
        return frozen

    # --- clients ---------------------------------------------------------------
    def client(self, service: str) -> Any:
        """The endpoint's client for `service`, built once and shared (thread-safe)."""
        from botocore.config import Config

        session = self.session
        with self._lock:
            if service not in self._clients:
                url = self.url_for(service)
                config = Config(
                    max_pool_connections=MAX_POOL_CONNECTIONS,
                    ignore_configured_endpoint_urls=url is None and not self.configured_urls)
                if self.client_config is not None:
                    config = config.merge(self.client_config)
                self._clients[service] = session.client(service, endpoint_url=url,
                                                        config=config)
            return self._clients[service]

    # --- for a worker process ----------------------------------------------------
    def environment(self, inherited: Mapping[str, str]) -> dict[str, str]:
        """The variables that make a process's own boto3 reach this endpoint as this
        endpoint signs: region, endpoint URLs, and the placeholder keys or the
        credential chain's variables taken from `inherited` (the stack's environment)."""
        environment: dict[str, str]
        if self.placeholder_credentials:
            environment = {"AWS_ACCESS_KEY_ID": PLACEHOLDER_ACCESS_KEY,
                           "AWS_SECRET_ACCESS_KEY": PLACEHOLDER_SECRET_KEY}
        else:
            environment = {k: inherited[k] for k in CREDENTIAL_ENVIRONMENT if k in inherited}
        environment["AWS_REGION"] = self.region
        environment["AWS_DEFAULT_REGION"] = self.region
        if self.url:
            environment["AWS_ENDPOINT_URL"] = self.url
        elif not self.configured_urls:  # AWS itself, whatever endpoint a profile names
            environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        for service, url in self.service_urls.items():
            environment[f"AWS_ENDPOINT_URL_{service.upper()}"] = url
        return environment

    # --- its serialized form (the ledger) ------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "region": self.region,
                "placeholder_credentials": self.placeholder_credentials,
                "service_urls": dict(self.service_urls),
                "configured_urls": self.configured_urls}

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> AwsEndpoint:
        """Raises KeyError or TypeError when `document` is not one; keys it does not
        know are ignored (a ledger keeps its run's account and name beside them)."""
        url = document["url"]
        return cls(url=None if url is None else str(url), region=str(document["region"]),
                   placeholder_credentials=bool(document.get("placeholder_credentials",
                                                             False)),
                   service_urls={str(k): str(v)
                                 for k, v in dict(document.get("service_urls", {})).items()},
                   configured_urls=bool(document.get("configured_urls", False)))
