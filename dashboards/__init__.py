"""crudops' CloudWatch dashboard and alarms, built with cdk-monitoring-constructs.

`dashboards.monitoring.CrudopsMonitoring` is the facade the stack chains
(`monitor_rest_api(...).monitor_commands_topic(...)...`); `dashboards.alarms` names
every alarm and the runbook page that answers it; `dashboards.thresholds` holds what
both are built from. `dashboards/rendered/` holds the dashboard body as JSON for
review, written by `crudops render-dashboard`.

Nothing here imports `infra`: the stack (infra/observability.py) hands over the
resources and `MonitoringSettings`. `dashboards.monitoring` loads `aws_cdk`, so it is
imported after `infra` has pointed jsii at the pinned Node.js (infra/node_runtime.py).
"""
