"""crudops' CloudWatch dashboard and alarms, built with cdk-monitoring-constructs.

`dashboards.monitoring.CrudopsMonitoring` is the facade the stack chains
(`monitor_rest_api(...).monitor_commands_topic(...)...`); `dashboards.alarms` names
every alarm and the runbook page that answers it. `dashboards/rendered/` holds the
dashboard body as JSON for review, written by `crudops render-dashboard`.

Importing this package configures the Node.js runtime jsii uses, as `infra` does,
because cdk-monitoring-constructs loads `aws_cdk`.
"""

from infra.node_runtime import configure_node

configure_node()
