"""Infra tests: assertions on the synthesized CloudFormation template.

Importing `infra` first configures the Node.js runtime jsii uses; it must happen
before any test module (or conftest) imports `aws_cdk`.
"""

import infra  # noqa: F401
