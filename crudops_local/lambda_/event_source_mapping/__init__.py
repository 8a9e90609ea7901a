"""SQS event source mappings: their specs read from the template (`specs`), the
poller threads that run one (`poller`), and the filter criteria they apply
(`filtering`)."""
