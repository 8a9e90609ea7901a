"""The crudops CDK app: one stack, split into constructs by concern.

Importing this package configures the Node.js runtime jsii uses, so every entry point
(the CLI, the tests, `cdk synth`) gets the same pinned Node before `aws_cdk` loads.
"""

from infra.node_runtime import configure_node

configure_node()
