"""Faults the local stack injects when a fault plan asks for them, never otherwise.

`crudops verify --faults …` writes a plan (JSON, `FaultPlan`) to the stack's fault
file and removes it when it ends; the stack and its function workers look at the
file's modification time before each decision, so a plan takes effect within one
invocation and a removed one stops at once. Each fault plays a failure AWS has:

- `kill`: a function worker SIGKILLed while it runs an invocation (the execution
  environment lost mid-batch: the whole batch is retried);
- `errors`: the handler raises before it starts (an invocation error);
- `throttle`: a DynamoDB call answered `ProvisionedThroughputExceededException`;
- `conflicts`: a `TransactWriteItems` cancelled with `TransactionConflict`;
- `management`: a WebSocket management API post answered 500 (Notify retries);
- `duplicates`: a copy of a received message sent back into its queue (SQS's
  at-least-once delivery);
- `pause`: a poller that holds a batch past its visibility timeout before invoking
  (another poller receives it meanwhile: the same message processed twice at once).

The AWS-side faults (`throttle`, `conflicts`, `management`) are answered in the
function's own process by a botocore `before-call` handler, so the function sees them
exactly as it would see AWS's answer — as a `ClientError` after its retries.
What the plan does not model is in docs/adr/0023-verify-and-input-hardening.md.
"""

from __future__ import annotations

import json
import os
import random
import threading
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Final

FAULTS: Final = ("kill", "errors", "throttle", "conflicts", "management", "duplicates",
                 "pause")
# `--faults all`: each at a rate the system must absorb without loss in a short run.
DEFAULT_RATES: Final = {"kill": 0.03, "errors": 0.05, "throttle": 0.03, "conflicts": 0.03,
                        "management": 0.05, "duplicates": 0.05, "pause": 0.02}


@dataclass(frozen=True)
class FaultPlan:
    """Each fault's probability per decision (0: off)."""

    kill: float = 0.0
    errors: float = 0.0
    throttle: float = 0.0
    conflicts: float = 0.0
    management: float = 0.0
    duplicates: float = 0.0
    pause: float = 0.0

    def __post_init__(self) -> None:
        for item in fields(self):
            rate = getattr(self, item.name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"fault {item.name}: rate {rate} is not between 0 and 1")

    @property
    def active(self) -> list[str]:
        return [name for name in FAULTS if getattr(self, name) > 0]

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> FaultPlan:
        document = json.loads(text)
        return cls(**{k: float(v) for k, v in document.items() if k in FAULTS})

    @classmethod
    def parse(cls, text: str) -> FaultPlan:
        """`all`, or `kill,errors=0.1,…` (a name alone takes its default rate)."""
        if text.strip() == "all":
            return cls(**DEFAULT_RATES)
        rates: dict[str, float] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            name, _, rate = part.partition("=")
            if name not in FAULTS:
                raise ValueError(f"unknown fault {name!r}: one of {', '.join(FAULTS)} or all")
            try:
                rates[name] = float(rate) if rate else DEFAULT_RATES[name]
            except ValueError:
                raise ValueError(f"fault {name}: {rate!r} is not a rate") from None
        return cls(**rates)


def write_plan(path: Path, plan: FaultPlan) -> None:
    """Atomically, so a reader never sees half a plan."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(plan.to_json())
    os.replace(temporary, path)


class FaultSource:
    """The plan at `path` as it is now (no file: no faults), and the dice.

    Thread-safe; re-reads the file only when its modification time changes.
    """

    def __init__(self, path: Path | None, seed: int | None = None) -> None:
        self._path = path
        self._plan = FaultPlan()
        self._stamp: float | None = None
        self._lock = threading.Lock()
        self._random = random.Random(seed)

    @property
    def path(self) -> Path | None:
        return self._path

    def plan(self) -> FaultPlan:
        if self._path is None:
            return self._plan
        try:
            stamp = self._path.stat().st_mtime_ns
        except OSError:
            self._plan, self._stamp = FaultPlan(), None
            return self._plan
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._plan = FaultPlan.from_json(self._path.read_text())
                except (OSError, ValueError, TypeError):
                    self._plan = FaultPlan()  # a plan being replaced: none this once
                self._stamp = stamp
            return self._plan

    def strikes(self, fault: str) -> bool:
        """Whether `fault` happens this time."""
        rate = float(getattr(self.plan(), fault))
        if rate <= 0:
            return False
        with self._lock:
            return self._random.random() < rate

    def uniform(self, low: float, high: float) -> float:
        with self._lock:
            return self._random.uniform(low, high)


def _error(code: str, message: str, status: int, **extra: Any) -> tuple[Any, dict[str, Any]]:
    from botocore.awsrequest import AWSResponse

    response = AWSResponse("https://fault.local", status, {}, None)
    return response, {"Error": {"Code": code, "Message": message},
                      "ResponseMetadata": {"HTTPStatusCode": status}, **extra}


def install_aws_faults(source: FaultSource) -> None:
    """Answer the function's AWS calls with AWS's own errors, as the plan says.

    On boto3's default session, which the functions' clients are made from; a
    `before-call` handler that returns a response short-circuits the request.
    """
    import boto3

    def before_call(model: Any, **kwargs: Any) -> tuple[Any, dict[str, Any]] | None:
        service = model.service_model.service_name
        if service == "dynamodb":
            if model.name == "TransactWriteItems" and source.strikes("conflicts"):
                return _error("TransactionCanceledException",
                              "Transaction cancelled (injected: TransactionConflict)", 400,
                              CancellationReasons=[{"Code": "TransactionConflict"},
                                                   {"Code": "None"}])
            if source.strikes("throttle"):
                return _error("ProvisionedThroughputExceededException",
                              "Rate of requests exceeds the allowed throughput (injected)", 400)
        if (service == "apigatewaymanagementapi" and model.name == "PostToConnection"
                and source.strikes("management")):
            return _error("InternalServerErrorException", "Internal server error (injected)",
                          500)
        return None

    if boto3.DEFAULT_SESSION is None:
        boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    boto3.DEFAULT_SESSION.events.register("before-call", before_call)
