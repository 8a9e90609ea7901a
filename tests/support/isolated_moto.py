"""In-process moto that leaves the rest of the test process's moto state alone, and
the local stack's patches of moto applied to it for one test.

`mock_aws()` resets every moto backend of the process when it starts and when it
stops, and a threaded moto server started by a session fixture in the same process
(tests/integration/local/conftest.py) keeps its state in those backends: a test
that runs between two users of that server would wipe what the first created.
"""

from __future__ import annotations

import inspect
import os
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pytest
from moto import mock_aws

from crudops_local.aws import moto_patches

T = TypeVar("T")


@contextmanager
def isolated_mock_aws() -> Iterator[str]:
    """moto in process, in an account of its own (MOTO_ACCOUNT_ID), started without a
    reset and stopped without removing data; yields the account id."""
    account = f"{secrets.randbelow(10**11) + 10**11:012d}"
    previous = os.environ.get("MOTO_ACCOUNT_ID")
    os.environ["MOTO_ACCOUNT_ID"] = account
    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield account
    finally:
        mock.stop(remove_data=False)
        if previous is None:
            os.environ.pop("MOTO_ACCOUNT_ID", None)
        else:
            os.environ["MOTO_ACCOUNT_ID"] = previous


@contextmanager
def moto_patched() -> Iterator[None]:
    """The embedded server's patches of moto (crudops_local/aws/moto_patches.py) in
    this process, reverted on leaving, so that the next test meets moto as it is."""
    moto_patches.apply()
    try:
        yield
    finally:
        moto_patches.revert()


@pytest.fixture
def patched() -> Iterator[None]:
    """`moto_patched()` for one test. A module uses it by importing it and naming it in
    its `__all__` (that marks the import as used)."""
    with moto_patched():
        yield


def clock_reads_counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """From now on, every read of an SQS message's clock (moto's `Message.visible` and
    `Message.delayed`) is noted, by name, in the list returned: what a receive or a send
    costs, counted rather than timed."""
    from moto.sqs.models import Message

    reads: list[str] = []

    def counted(name: str) -> property:
        original: property = inspect.getattr_static(Message, name)

        def read(message: Any) -> bool:
            reads.append(name)
            return bool(original.fget(message))  # type: ignore[misc]

        return property(read)

    monkeypatch.setattr(Message, "visible", counted("visible"))
    monkeypatch.setattr(Message, "delayed", counted("delayed"))
    return reads


def long_poll_waiting(monkeypatch: pytest.MonkeyPatch,
                      receive: Callable[[], T]) -> Callable[[], tuple[T, float]]:
    """Start `receive` (a long poll) on a thread and return once it waits in moto's
    `Queue.wait_for_messages`, so that what the test does next happens during the wait.
    The function returned joins the thread and gives `receive`'s answer with the
    `time.monotonic()` at which it came."""
    from moto.sqs.models import Queue

    waiting = threading.Event()
    real_wait = Queue.wait_for_messages

    def noticed_wait(queue: Any, timeout: int) -> None:
        waiting.set()
        real_wait(queue, timeout)

    monkeypatch.setattr(Queue, "wait_for_messages", noticed_wait)
    answers: list[tuple[T, float]] = []
    poller = threading.Thread(target=lambda: answers.append((receive(), time.monotonic())))
    poller.start()
    assert waiting.wait(10), "the receive never waited"

    def answer() -> tuple[T, float]:
        poller.join(15)
        return answers[0]

    return answer
