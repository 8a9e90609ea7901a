"""Locust's entry point: `locust -f loadtests/locustfile.py --host REST_URL --ws-url WS_URL
OpenLoopUser` (or `crudops load`, which finds the URLs, runs it and reports on it).

`OpenLoopUser` is the open loop (commands at `--rate`), `CrudUser` the closed loop
(each user waits for its notification); the scenario's options are in
loadtests/options.py, what it reports in loadtests/reporting.py.
"""

from loadtests import options as _options  # noqa: F401  (registers the options)
from loadtests import reporting as _reporting  # noqa: F401  (writes the summary)
from loadtests.open_loop import OpenLoopUser
from loadtests.users import CrudUser

__all__ = ["CrudUser", "OpenLoopUser"]
