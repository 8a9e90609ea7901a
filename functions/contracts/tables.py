"""The key of each DynamoDB table: written once for the stack (infra/storage.py), the
functions that read and write the tables, and the operator tools that read them.

Every item and every outcome belongs to the caller who asked for it: the Cognito
`sub` the REST authorizer put in the Command (`Command.owner`). Why the keys are what
they are is ADR 0024 (data part):
- items: (`owner`, `id`): reading, changing or deleting an item names its owner, so
  another's item is simply absent, and `list` is a Query of one partition;
- outcomes: (`requestId`, `owner`): `GET /requests/{id}` reads the caller's only,
  while a subscriber's check (a Query by requestId) can still see that the request
  exists and is another's;
- subscriptions: (`requestId`, `connectionId`), with the subscriber's `owner` as a
  plain attribute: Notify reads every subscriber of a request and compares. Beside
  them, one counter row per connection (`CONNECTION_COUNTER_PREFIX` + its id, the
  id): how many live subscriptions the connection holds (ADR 0029).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final


@dataclass(frozen=True)
class TableKey:
    partition: str
    sort: str

    def of(self, partition_value: str, sort_value: str) -> dict[str, Any]:
        """The DynamoDB key (attribute-value form) of one row."""
        return {self.partition: {"S": partition_value}, self.sort: {"S": sort_value}}


# The attribute holding the caller's sub, wherever a row belongs to someone.
OWNER_ATTRIBUTE: Final = "owner"

ITEMS_KEY: Final = TableKey(partition=OWNER_ATTRIBUTE, sort="id")
OUTCOMES_KEY: Final = TableKey(partition="requestId", sort=OWNER_ATTRIBUTE)
SUBSCRIPTIONS_KEY: Final = TableKey(partition="requestId", sort="connectionId")

# The partition value of a connection's counter row in the subscriptions table. `#` is
# outside REQUEST_ID_PATTERN, so no requestId can ever name a counter.
CONNECTION_COUNTER_PREFIX: Final = "connection#"
# The counter row's attribute: the connection's live subscriptions.
LIVE_SUBSCRIPTIONS_ATTRIBUTE: Final = "live"
