"""The local stack: the whole system on one machine, from the synthesized template.

An emulation of the AWS services the template needs, beside the embedded moto server
that stores their data; it imports nothing from `tools/` (the CLI drives it). One
folder per AWS service, as an emulator's should be:

- `run` the lifecycle of one local run (`LocalStack`: start, endpoints, stop);
  `state` the state file's contract (its schema, write and read) and every path
  under `.crudops/`; `errors` the
  configuration it refuses; `telemetry` its X-Ray daemon, metrics and alarm loops.
- `aws/` where AWS is: the one endpoint type the parts call AWS through, the target
  choice (embedded, another emulator, a real account), the embedded moto server and
  its patches.
- `cloudformation/` reading and resolving the template, provisioning its resources
  with one provider per type (`providers/`), the ledger and teardown of what a run
  created on an endpoint it does not own.
- `apigateway/` the REST and WebSocket APIs (`rest/`, `websocket/`) behind one ASGI app;
  `exceptions` one class per gateway response type.
- `lambda_/` the functions' specs read from the template, their runtime (worker
  processes) and the event source mappings (`event_source_mapping/`: specs, poller,
  filtering).
- `cloudwatch/` the metric sink, the alarm evaluator, alarm actions, percentiles;
  `xray/` the X-Ray daemon and its requestId index (`index`, which the CLI reads).

See docs/adr/0008-local-stack-from-the-template.md and
docs/adr/0017-layout-of-the-cli-and-its-contracts.md.
"""
