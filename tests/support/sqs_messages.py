"""A stand-in for moto's SQS `Message` in unit tests of the queue indexes
(crudops_local/aws/sqs_*_index.py): only what an index reads, on a clock the test
moves by hand, so that visibility and delay change exactly when the test says."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(eq=False)
class FakeMessage:
    """The part of moto's `Message` the index reads, on a clock the test moves
    (`clock[0]`, in milliseconds). A standard queue's index ignores the FIFO fields."""

    body: str
    clock: list[float]
    group_id: str | None = None
    deduplication_id: str | None = None
    sent_timestamp: float = 0.0
    visible_at: float = 0.0
    delayed_until: float = 0.0
    handles: list[str] = field(default_factory=list)

    @property
    def visible(self) -> bool:
        return self.clock[0] > self.visible_at

    @property
    def delayed(self) -> bool:
        return self.clock[0] < self.delayed_until

    @property
    def all_receipt_handles(self) -> list[str]:
        return self.handles
