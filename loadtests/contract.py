"""What `crudops load` (tools/load/) and the scenario (loadtests/) agree on, kept free
of Locust so that the CLI can import it without Locust's gevent patching."""

from __future__ import annotations

from typing import Final

# Request types of the scenario's own Locust entries (the HTTP calls keep their method):
# from each 202 to its WebSocket notification, and from sending the command to it.
NOTIFY: Final = "NOTIFY"
E2E: Final = "E2E"
# Each (re)connection of a user's WebSocket.
WS: Final = "WS"
# The failure of a notification that did not come in time (an exception class name).
LOST: Final = "NotificationLost"
# An error outcome the command expected (a stale expectedVersion of the conflict mix):
# reported under `<operation> conflict`, a success, apart from the operation's entry.
EXPECTED_SUFFIX: Final = " conflict"
# A 202 slower than this fails the request; the CLI waits this long plus the notify
# timeout for the last users before Locust stops.
HTTP_TIMEOUT_SECONDS: Final = 30
# The key of the scenario's per-second timeline in a worker's report to its master
# (Locust's `report_to_master` / `worker_report` events) and in the summary file.
TIMELINE_KEY: Final = "crudops_timeline"
# Timeline counters: commands sent (open loop: as the arrival schedule falls due), answered 202,
# notified, lost, failed (an HTTP failure or an unexpected error outcome), expected
# conflicts, and arrivals the generator fired late (it, not the stack, was behind).
OFFERED: Final = "offered"
ACCEPTED: Final = "accepted"
NOTIFIED: Final = "notified"
LOST_COUNT: Final = "lost"
ERRORS: Final = "errors"
CONFLICTS: Final = "conflicts"
LATE: Final = "late"
COUNTERS: Final = (OFFERED, ACCEPTED, NOTIFIED, LOST_COUNT, ERRORS, CONFLICTS, LATE)
# `--mode`: commands at an arrival rate whatever the stack does (open), or each user
# waiting for its notification before its next command (closed).
MODES: Final = ("open", "closed")
