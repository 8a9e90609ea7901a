"""Lambda: the functions of the template run in worker processes (`runtime`), and
the event source mappings that poll their queues (`event_source_mapping`)."""
