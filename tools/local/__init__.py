"""The local stack: the whole system on one machine, from the synthesized template.

Shape (one module per concern, as an emulator should be): `template` reads and
resolves the CloudFormation template, `provision` creates its resources in an AWS
endpoint (an embedded moto server by default), `functions` runs each Lambda function
in worker processes, `event_sources` polls queues like Lambda's event source
mappings, `rest` and `websocket` serve the two API Gateway APIs, and `stack` wires
them together for `crudops local up`.
"""
