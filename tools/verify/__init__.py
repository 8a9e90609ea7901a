"""`crudops verify`: drive a workload through the real API and WebSocket, then check
that nothing was lost and nothing applied twice (docs/adr/0023-verify-and-input-hardening.md)."""
