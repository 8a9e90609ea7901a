"""Lambda: the functions of the template (`specs`: what each runs with, read from the
template), their worker processes (`runtime`), and the event source mappings that
poll their queues (`event_source_mapping/`)."""
