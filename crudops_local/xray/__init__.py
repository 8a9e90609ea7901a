"""X-Ray: the daemon the functions' SDK sends segments to, the Lambda service's part in
tracing, and the index of trace ids by requestId (`daemon`)."""
