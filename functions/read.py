"""Lambda entry point of the Read function: consumes its command queue."""

from functions.contracts.routing import OPERATIONS_BY_CONSUMER, Consumer
from functions.worker import build_handler

handler = build_handler(OPERATIONS_BY_CONSUMER[Consumer.READ])
