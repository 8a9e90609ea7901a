"""One verification run: send the workload, wait for it to settle, gather the facts.

Everything goes through the API a client uses (REST commands, WebSocket
subscriptions); the facts afterwards come from the stack's own tables and DLQs, read
with the operator's credentials. Commands are paced at `rate` per second from
`concurrency` threads, so shared items see truly concurrent updates.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import httpx
from boto3.dynamodb.types import TypeDeserializer
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.sync.client import ClientConnection, connect

from functions.contracts.exact_json import dumps
from functions.contracts.tables import ITEMS_KEY, OUTCOMES_KEY, OWNER_ATTRIBUTE
from tools.errors import UserError
from tools.verify.conservation import Accepted
from tools.verify.duplicates import SentCommand
from tools.verify.workload import Kind, Step, Workload

BATCH_GET_KEYS = 100
SETTLE_MARGIN_SECONDS = 10.0
SUBSCRIBER_CONNECTIONS = 4
# A subscribe neither acknowledged nor answered with its notification once every
# outcome is stored was refused (the gateway's `Too Many Requests` names no requestId)
# or lost with its connection: sent again, as a client would, in batches of this many
# per connection, each waited for up to RESUBSCRIBE_WAIT_SECONDS, in at most
# RESUBSCRIBE_ROUNDS rounds.
RESUBSCRIBE_BATCH_PER_CONNECTION = 25
RESUBSCRIBE_WAIT_SECONDS = 30.0
RESUBSCRIBE_ROUNDS = 3
Progress = Callable[[str, int, int], None]
# Which of these request ids sit in one of the stack's DLQs.
Parked = Callable[[set[str]], set[str]]
# Told of each accepted command and what was sent for it (the duplicates of --faults fis).
OnAccepted = Callable[[Accepted, SentCommand], None]
# How long without a new outcome before the DLQs are looked at (and how often).
PARKED_CHECK_SECONDS = 3.0


@dataclass(frozen=True)
class RunSettings:
    rate: float = 50.0
    concurrency: int = 8
    # No new outcome for this long: what is missing waits in a DLQ or is lost. None:
    # the stack's longest queue visibility timeout + SETTLE_MARGIN_SECONDS (a batch
    # lost with its worker comes back only then).
    settle_seconds: float | None = None
    timeout_seconds: float = 300.0
    # After the outcomes, the least time a notification may still be on its way (the
    # settle time applies when it is longer).
    notify_grace_seconds: float = 15.0


@dataclass
class Facts:
    accepted: list[Accepted] = field(default_factory=list)
    rejected: int = 0
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    item_ids: list[str] = field(default_factory=list)
    resubscribed: int = 0  # subscribes sent again (Notifications.resubscribe_unanswered)
    timeline: Timeline | None = None


@dataclass(frozen=True)
class Timeline:
    """How long the counts took to close, in seconds: what an SRE compares between
    releases (a slower close under the same faults is a regression even when
    nothing is lost). Each figure ends at the last change of its count, not at the
    end of the settle wait that confirms nothing more comes."""

    sending: float  # first command sent to the last one (the creates' wait included)
    outcomes: float  # last command sent to the last outcome stored
    notifications: float  # last outcome stored to the last notification received

    def as_json(self) -> dict[str, float]:
        return {f"{name}_seconds": round(value, 1) for name, value in vars(self).items()}


class Settled(NamedTuple):
    outcomes: dict[str, dict[str, Any]]
    at: float  # time.monotonic() of the last outcome that arrived (or of the start)


class Notifications:
    """A few WebSocket connections, each subscribing to its share of the requestIds
    and reading every frame in a thread of its own."""

    def __init__(self, ws_url: str, connections: int = SUBSCRIBER_CONNECTIONS,
                 token: str | None = None) -> None:
        self.received: dict[str, list[dict[str, Any]]] = {}
        self.acknowledged: set[str] = set()  # requestIds a `subscribed` frame named
        self.resubscribed = 0
        # item id → the newest version a successful notification showed
        self.versions: dict[str, int] = {}
        self._lock = threading.Lock()
        self._opened = contextlib.ExitStack()
        try:
            self._connections: list[ClientConnection] = [
                self._opened.enter_context(connect(
                    ws_url, open_timeout=30,
                    additional_headers={"Authorization": token} if token else None))
                for _ in range(connections)]
        except (OSError, InvalidHandshake, TimeoutError) as exc:
            self._opened.close()
            raise UserError(f"cannot subscribe at {ws_url}: {exc}",
                            hint="is the stack running? `crudops status --local`") from exc
        self._send_locks = [threading.Lock() for _ in self._connections]
        self._next = itertools.count()
        self._readers = [threading.Thread(target=self._read, args=(c,), daemon=True)
                         for c in self._connections]
        for reader in self._readers:
            reader.start()

    def subscribe(self, request_id: str) -> None:
        index = next(self._next) % len(self._connections)
        with self._send_locks[index]:
            self._connections[index].send(json.dumps({"action": "subscribe",
                                                      "requestId": request_id}))

    def _read(self, connection: ClientConnection) -> None:
        try:
            for frame in connection:
                document = json.loads(frame)
                if isinstance(document, dict) and document.get("type") == "subscribed":
                    with self._lock:
                        self.acknowledged.add(str(document.get("requestId")))
                elif isinstance(document, dict) and document.get("type") == "notification":
                    with self._lock:
                        self.received.setdefault(str(document.get("requestId")), []).append(
                            document)
                        self._note_version(document)
        except (ConnectionClosed, OSError, ValueError):
            return

    def _note_version(self, document: dict[str, Any]) -> None:
        result = document.get("result")
        if (document.get("status") == "success" and isinstance(result, dict)
                and "id" in result and "version" in result):
            item_id = str(result["id"])
            self.versions[item_id] = max(self.versions.get(item_id, 1), int(result["version"]))

    def newest_version(self, item_id: str) -> int:
        """The newest version a notification showed for the item (1 if none yet)."""
        with self._lock:
            return self.versions.get(item_id, 1)

    def count(self, request_ids: Iterable[str]) -> int:
        with self._lock:
            return sum(1 for r in request_ids if r in self.received)

    def unanswered(self, request_ids: Iterable[str]) -> list[str]:
        """Those whose subscribe got neither its acknowledgement nor a notification."""
        with self._lock:
            return [r for r in request_ids
                    if r not in self.received and r not in self.acknowledged]

    def resubscribe_unanswered(self, request_ids: Sequence[str],
                               on_progress: Callable[[int, int], None] | None = None
                               ) -> None:
        """Subscribe again to what was never answered (see RESUBSCRIBE_…): a stored
        outcome then reaches the subscriber as a late subscriber's. `on_progress` is
        told how many of those first found unanswered are answered now (batches can
        take RESUBSCRIBE_WAIT_SECONDS each, so a long silence needs a bar)."""
        first = self.unanswered(request_ids)

        def progress() -> None:
            if on_progress is not None and first:
                on_progress(len(first) - len(self.unanswered(first)), len(first))

        batch = RESUBSCRIBE_BATCH_PER_CONNECTION * len(self._connections)
        for _ in range(RESUBSCRIBE_ROUNDS):
            pending = self.unanswered(request_ids)
            if not pending:
                break
            for start in range(0, len(pending), batch):
                chunk = pending[start:start + batch]
                for request_id in chunk:
                    try:
                        self.subscribe(request_id)
                    except (ConnectionClosed, OSError):
                        continue  # that connection is gone: its reader has ended too
                    self.resubscribed += 1
                deadline = time.monotonic() + RESUBSCRIBE_WAIT_SECONDS
                while self.unanswered(chunk) and time.monotonic() < deadline:
                    progress()
                    time.sleep(0.1)
                progress()
        progress()

    def close(self) -> None:
        self._opened.close()
        for reader in self._readers:
            reader.join(5)


class Tables:
    """The stack's outcomes and items tables, read consistently.

    Both are keyed by their owner (functions/contracts/tables.py). Given the `owner`
    every command was sent as (the sub of the run's token), outcomes are read in
    batches by their full key. Without it, each outcome is found by a Query of its
    requestId's partition (one call per request: about 300 a second on the local
    stack's patched moto, against about 1,900 keys a second by batch), and the row
    names its owner. An item is read by (owner, id), with the owner its create's
    outcome row named.
    """

    def __init__(self, dynamodb: Any, outcomes_table: str, items_table: str,
                 owner: str | None = None) -> None:
        self._dynamodb = dynamodb
        self._outcomes = outcomes_table
        self._items = items_table
        self._owner = owner
        self._deserializer = TypeDeserializer()
        # item id → owner, learned from the create outcomes read so far
        self._item_owners: dict[str, str] = {}

    def _batch_get(self, table: str, keys: Sequence[dict[str, Any]]
                   ) -> Iterator[dict[str, Any]]:
        for start in range(0, len(keys), BATCH_GET_KEYS):
            request: dict[str, Any] = {table: {
                "Keys": list(keys[start:start + BATCH_GET_KEYS]), "ConsistentRead": True}}
            while request:
                answer = self._dynamodb.batch_get_item(RequestItems=request)
                yield from answer.get("Responses", {}).get(table, [])
                request = answer.get("UnprocessedKeys") or {}

    def _outcome_rows(self, request_id: str) -> list[dict[str, Any]]:
        return list(self._dynamodb.query(
            TableName=self._outcomes,
            KeyConditionExpression=f"{OUTCOMES_KEY.partition} = :r",
            ExpressionAttributeValues={":r": {"S": request_id}},
            ConsistentRead=True).get("Items", []))

    def _rows(self, request_ids: Sequence[str]) -> Iterator[dict[str, Any]]:
        if self._owner is not None:
            yield from self._batch_get(self._outcomes, [
                OUTCOMES_KEY.of(request_id, self._owner) for request_id in request_ids])
            return
        for request_id in request_ids:
            yield from self._outcome_rows(request_id)

    def outcomes(self, request_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for row in self._rows(request_ids):
            document = json.loads(row["document"]["S"])
            found[row[OUTCOMES_KEY.partition]["S"]] = document
            result = document.get("result")
            if (document.get("operation") == "create" and isinstance(result, dict)
                    and "id" in result):
                self._item_owners[str(result["id"])] = row[OUTCOMES_KEY.sort]["S"]
        return found

    def items(self, item_ids: Sequence[str]) -> dict[str, dict[str, Any] | None]:
        """Each item as the API would answer it (numbers as JSON has them, no owner
        key), or None: absent, or its create's outcome was never read here."""
        keys = [ITEMS_KEY.of(self._item_owners[i], i) for i in item_ids
                if i in self._item_owners]
        found: dict[str, dict[str, Any]] = {}
        for row in self._batch_get(self._items, keys):
            item = {k: self._deserializer.deserialize(v) for k, v in row.items()
                    if k != OWNER_ATTRIBUTE}
            found[row[ITEMS_KEY.sort]["S"]] = json.loads(dumps(item))
        return {item_id: found.get(item_id) for item_id in item_ids}


@dataclass(frozen=True)
class _Request:
    method: str
    path: str
    body: dict[str, Any] | None = None
    item_id: str | None = None
    expected_version: int | None = None


class Driver:
    """Sends the workload's steps and keeps what the API accepted."""

    def __init__(self, rest_url: str, notifications: Notifications, run_id: str,
                 settings: RunSettings, token: str | None = None,
                 on_accepted: OnAccepted | None = None) -> None:
        self._http = httpx.Client(base_url=rest_url.rstrip("/"), timeout=30,
                                  headers={"Authorization": token} if token else None)
        self._notifications = notifications
        self._run_id = run_id
        self._settings = settings
        self._lock = threading.Lock()
        self.facts = Facts()
        self._sequence = itertools.count()
        self._on_accepted = on_accepted

    def close(self) -> None:
        self._http.close()

    def _request(self, step: Step) -> _Request:
        n = next(self._sequence)
        if step.kind is Kind.CREATE:
            return _Request("POST", "/items", {"name": f"verify-{self._run_id}-{step.item}",
                                               "attributes": {"n": step.item or 0}})
        if step.kind is Kind.LIST:
            return _Request("GET", "/items?limit=5")
        assert step.item is not None
        item_id = self.facts.item_ids[step.item]
        if step.kind is Kind.GET:
            return _Request("GET", f"/items/{item_id}", item_id=item_id)
        if step.kind is Kind.DELETE:
            return _Request("DELETE", f"/items/{item_id}", item_id=item_id)
        body: dict[str, Any] = {"description": f"update {n} of run {self._run_id}"}
        expected = None
        if step.kind is Kind.UPDATE_EXPECTED:
            expected = self._notifications.newest_version(item_id)
            body["expectedVersion"] = expected
        return _Request("PUT", f"/items/{item_id}", body, item_id, expected)

    def send(self, step: Step) -> Accepted | None:
        """The command as accepted (subscribed to), or None when not answered 202."""
        request = self._request(step)
        try:
            response = self._http.request(request.method, request.path, json=request.body)
        except httpx.TransportError as exc:
            # Whether it was accepted cannot be known, so neither can conservation:
            # the run stops with one line (the fault plan is removed by the caller).
            raise UserError(
                f"lost the answer to {request.method} {request.path}: "
                f"{type(exc).__name__}: {exc}",
                hint="the run cannot tell whether that command was accepted; run it "
                     "again, and see the stack's log for why the gateway dropped it") from exc
        if response.status_code != 202:
            with self._lock:
                self.facts.rejected += 1
            return None
        accepted = Accepted(str(response.json()["requestId"]), step.kind.operation,
                            request.item_id, request.expected_version)
        self._notifications.subscribe(accepted.request_id)
        with self._lock:
            self.facts.accepted.append(accepted)
        if self._on_accepted is not None:
            self._on_accepted(accepted, SentCommand(request.path, request.body))
        return accepted

    def send_all(self, steps: Sequence[Step], on_sent: Callable[[], None]
                 ) -> list[Accepted | None]:
        """Paced: step i leaves at start + i / rate, from `concurrency` threads; the
        answers in the steps' order."""
        start = time.monotonic()

        def paced(index: int, step: Step) -> Accepted | None:
            delay = start + index / self._settings.rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # pacing the offered load, not waiting on a condition
            accepted = self.send(step)
            on_sent()
            return accepted

        with ThreadPoolExecutor(self._settings.concurrency) as pool:
            futures = [pool.submit(paced, i, s) for i, s in enumerate(steps)]
            return [future.result() for future in futures]


def _until_settled(poll: Callable[[], int], total: int, *, settle: float, timeout: float,
                   interval: float, on_progress: Callable[[int, int], None],
                   stalled: Callable[[], bool] | None = None) -> float:
    """Call `poll` (how many of `total` are done) until all are, or none more were for
    `settle` seconds, or `timeout` passed. `stalled`, asked at most every
    `PARKED_CHECK_SECONDS` once progress has stopped that long, ends the wait early by
    answering True (nothing more can come by itself). Returns the time.monotonic() of
    the last progress."""
    deadline = time.monotonic() + timeout
    last_progress = last_stalled_check = time.monotonic()
    last_done = -1
    while True:
        done = poll()
        on_progress(done, total)
        now = time.monotonic()
        if done != last_done:
            last_progress, last_done = now, done
        if done >= total or now - last_progress > settle or now > deadline:
            return last_progress
        if (stalled is not None and now - last_progress > PARKED_CHECK_SECONDS
                and now - last_stalled_check > PARKED_CHECK_SECONDS):
            last_stalled_check = now
            if stalled():
                return last_progress
        time.sleep(interval)  # a polling interval; the loop ends on its conditions


def _settle_seconds(settings: RunSettings) -> float:
    return settings.settle_seconds if settings.settle_seconds is not None else 30.0


def wait_for_outcomes(tables: Tables, accepted: Sequence[Accepted], settings: RunSettings,
                      on_progress: Callable[[int, int], None],
                      parked: Parked | None = None) -> Settled:
    """Poll until every accepted command has an outcome, or none came for
    `settle_seconds`, or `timeout_seconds` passed: what is missing then is for the
    DLQs (or lost). With `parked` (which of the ids sit in a DLQ), the wait also ends
    as soon as everything missing is parked: no outcome comes for those by itself, so
    waiting out the settle time would only make the run slower."""
    wanted = [a.request_id for a in accepted]
    outcomes: dict[str, dict[str, Any]] = {}

    def missing() -> list[str]:
        return [r for r in wanted if r not in outcomes]

    def poll() -> int:
        if len(outcomes) < len(wanted):
            outcomes.update(tables.outcomes(missing()))
        return len(outcomes)

    def all_parked() -> bool:
        still = set(missing())
        return parked is not None and still <= parked(still)

    at = _until_settled(poll, len(wanted), settle=_settle_seconds(settings),
                        timeout=settings.timeout_seconds, interval=0.5,
                        on_progress=on_progress,
                        stalled=all_parked if parked is not None else None)
    return Settled(outcomes, at)


def wait_for_notifications(notifications: Notifications, request_ids: Sequence[str],
                           settings: RunSettings, on_progress: Callable[[int, int], None]
                           ) -> float:
    """Until every outcome is notified, or none was for the settle time (a Notify batch
    lost with its worker is retried only after the notifications queue's visibility
    timeout), or `timeout_seconds` passed. Returns the time.monotonic() of the last
    notification counted."""
    return _until_settled(lambda: notifications.count(request_ids), len(request_ids),
                          settle=max(_settle_seconds(settings), settings.notify_grace_seconds),
                          timeout=settings.timeout_seconds, interval=0.2,
                          on_progress=on_progress)


def _created_id(outcomes: dict[str, dict[str, Any]], create: Accepted | None) -> str:
    """The id a create made ("" when it was refused or made none)."""
    outcome = outcomes.get(create.request_id) if create is not None else None
    if outcome is None or outcome.get("status") != "success":
        return ""
    return str(outcome["result"]["id"])


def run_workload(workload: Workload, *, rest_url: str, ws_url: str, tables: Tables,
                 run_id: str, settings: RunSettings, on_progress: Progress,
                 after_sending: Callable[[], None] | None = None,
                 token: str | None = None, parked: Parked | None = None,
                 on_accepted: OnAccepted | None = None) -> Facts:
    """`after_sending` runs once every command is sent, before the wait for outcomes
    (where faults are turned off, so that what they parked can settle). `token`: the
    caller's ID token, sent with every call and connection. `parked`: which request ids
    sit in a DLQ (see `wait_for_outcomes`). `on_accepted`: told of each accepted
    command as it is accepted."""
    notifications = Notifications(ws_url, token=token)
    driver = Driver(rest_url, notifications, run_id, settings, token=token,
                    on_accepted=on_accepted)
    try:
        sent = itertools.count(1)
        total = workload.size
        started = time.monotonic()
        creates = driver.send_all(workload.creates,
                                  lambda: on_progress("send", next(sent), total))
        created = wait_for_outcomes(tables, [a for a in creates if a is not None], settings,
                                    lambda d, t: on_progress("creates", d, t), parked).outcomes
        driver.facts.item_ids = [_created_id(created, a) for a in creates]
        usable = [s for s in workload.mixed
                  if s.item is None or (s.item < len(driver.facts.item_ids)
                                        and driver.facts.item_ids[s.item])]
        driver.send_all(usable, lambda: on_progress("send", next(sent), total))
        last_sent = time.monotonic()
        if after_sending is not None:
            after_sending()
        facts = driver.facts
        settled = wait_for_outcomes(tables, facts.accepted, settings,
                                    lambda d, t: on_progress("outcomes", d, t), parked)
        facts.outcomes = settled.outcomes
        notifications.resubscribe_unanswered(
            list(facts.outcomes), lambda d, t: on_progress("resubscribe", d, t))
        facts.resubscribed = notifications.resubscribed
        last_notified = wait_for_notifications(
            notifications, list(facts.outcomes), settings,
            lambda d, t: on_progress("notifications", d, t))
        last_outcome = max(settled.at, last_sent)
        facts.timeline = Timeline(sending=last_sent - started,
                                  outcomes=last_outcome - last_sent,
                                  notifications=max(last_notified - last_outcome, 0.0))
        facts.notifications = {k: list(v) for k, v in notifications.received.items()}
        # Every item a create made, also those whose create settled only later.
        facts.item_ids = [i for i in (_created_id(facts.outcomes, a) for a in creates) if i]
        return facts
    finally:
        driver.close()
        notifications.close()
