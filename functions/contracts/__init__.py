"""The wire contracts of crudops: API bodies, the Command and the Outcome.

API Gateway validates request bodies against `schemas` (JSON Schema draft-04, the
only draft it supports); the functions validate the same schemas again, because a
command can also arrive from a redrive or another publisher.
"""
