"""What `crudops load` (tools/load.py) and the scenario (users.py) agree on, kept free
of Locust so that the CLI can import it without Locust's gevent patching."""

from __future__ import annotations

from typing import Final

# The request type the scenario reports 202 → notification times under.
NOTIFY: Final = "NOTIFY"
# The failure of a notification that did not come in time (an exception class name).
LOST: Final = "NotificationLost"
# A 202 slower than this fails the request; the CLI waits this long plus the notify
# timeout for the last users before Locust stops.
HTTP_TIMEOUT_SECONDS: Final = 30
