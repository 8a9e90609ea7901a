"""In-process moto that leaves the rest of the test process's moto state alone.

`mock_aws()` resets every moto backend of the process when it starts and when it
stops, and a threaded moto server started by a session fixture in the same process
(tests/integration/local/conftest.py) keeps its state in those backends: a test
that runs between two users of that server would wipe what the first created.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

from moto import mock_aws


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
