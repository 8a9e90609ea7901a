"""What the provisioner created in an endpoint the stack does not own, and removing it.

The embedded moto server dies with the stack and takes its resources along. Another
endpoint (LocalStack, a real account) keeps them: tables, queues and keys left behind
cost money in an account and make the next run's names collide in an emulator. So
every resource the provisioner creates there is written to a ledger file as soon as it
exists (a stack killed mid-way can still be cleaned up), the stack removes them in
reverse order when it stops, and `crudops local down` removes what a stack that died
left behind. See docs/adr/0010-local-stack-on-an-endpoint-it-does-not-own.md.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError, ReadTimeoutError
from botocore.exceptions import ConnectionError as BotoConnectionError

from crudops_local.aws.endpoint import AwsEndpoint, ClientFactory
from crudops_local.cloudformation.providers import provider_for

log = logging.getLogger("crudops.local.teardown")


@dataclass(frozen=True)
class CreatedResource:
    logical_id: str
    type: str
    ref: str


class ResourceLedger:
    """The resources one stack created, in creation order, saved after every change.

    `endpoint` is where they are, `account_id` and `stack_name` whose they are (the
    run's own name): enough to reach and check them again from another process
    (`crudops local down`). `path=None` keeps it in memory only (tests running stacks
    side by side).
    """

    def __init__(self, endpoint: AwsEndpoint, account_id: str, stack_name: str,
                 path: Path | None, created: Iterable[CreatedResource] = (),
                 pid: int | None = None) -> None:
        self.endpoint = endpoint
        self.account_id = account_id
        self.stack_name = stack_name
        self.path = path
        self.pid = os.getpid() if pid is None else pid
        self._created = list(created)

    @property
    def created(self) -> list[CreatedResource]:
        return list(self._created)

    def record(self, resource: CreatedResource) -> None:
        self._created.append(resource)
        self.save()

    def forget(self, logical_ids: set[str]) -> None:
        self._created = [r for r in self._created if r.logical_id not in logical_ids]
        self.save()

    def save(self) -> None:
        if self.path is None:
            return
        if not self._created:
            self.path.unlink(missing_ok=True)
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        document = {"endpoint": self.endpoint.to_json(), "account_id": self.account_id,
                    "stack_name": self.stack_name, "pid": self.pid,
                    "created": [asdict(r) for r in self._created]}
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(document, indent=2))
        temporary.replace(self.path)

    @classmethod
    def load(cls, path: Path) -> ResourceLedger:
        """Raises ValueError when the file is not a ledger."""
        try:
            document = json.loads(path.read_text())
            endpoint = AwsEndpoint.from_json(document["endpoint"])
            # Ledgers written before the endpoint had its own form kept these in it.
            run = document if "stack_name" in document else document["endpoint"]
            created = [CreatedResource(**entry) for entry in document["created"]]
            return cls(endpoint, str(run["account_id"]), str(run["stack_name"]), path,
                       created, pid=int(document["pid"]))
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path} is not a resource ledger: {exc!r}") from exc


@dataclass
class TeardownReport:
    removed: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    # logical id → the error that kept it (it stays in the ledger)
    failed: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_json(self) -> dict[str, Any]:
        return {"removed": self.removed, "already_gone": self.already_gone,
                "failed": self.failed}


def teardown(ledger: ResourceLedger, client: ClientFactory,
             on_progress: Callable[[CreatedResource], None] | None = None) -> TeardownReport:
    """Remove what the ledger lists, newest first (subscriptions before their topics).

    One failure does not stop the rest; what could not be removed stays in the ledger
    for `crudops local down` to try again.
    """
    report = TeardownReport()
    unreachable: str | None = None
    for resource in reversed(ledger.created):
        try:
            if unreachable is not None:
                # Each call would retry for seconds first: do not wait minutes to fail.
                report.failed[resource.logical_id] = unreachable
            else:
                provider_for(resource.type).delete(client, resource.ref)
                report.removed.append(resource.logical_id)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", ""))
            if code in provider_for(resource.type).gone_codes:
                report.already_gone.append(resource.logical_id)
            else:
                report.failed[resource.logical_id] = str(exc)
        except (BotoConnectionError, ReadTimeoutError) as exc:  # refused, timed out, proxy
            unreachable = f"endpoint unreachable: {exc}"
            report.failed[resource.logical_id] = unreachable
        except Exception as exc:  # expired credentials, a bug, ...
            report.failed[resource.logical_id] = f"{type(exc).__name__}: {exc}"
        if on_progress is not None:
            on_progress(resource)
    ledger.forget(set(report.removed) | set(report.already_gone))
    for logical_id, error in report.failed.items():
        log.warning("%s was not removed: %s", logical_id, error)
    return report
