"""`crudops verify`: drive a workload through the real API and WebSocket, then check
that nothing was lost and nothing applied twice (see docs/adr/0020-… `verify`)."""
