"""X-Ray: the daemon the functions' SDK sends segments to and the Lambda service's
part in tracing (`daemon`), and the index of trace ids by requestId it keeps for
`crudops trace --local` (`index`: its record format, writer and reader)."""
