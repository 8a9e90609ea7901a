"""CloudWatch beyond what moto stores: metrics from EMF log lines and the runtime
(`metrics`), the template's alarms evaluated (`alarms`) and their SNS actions
(`alarm_actions`), percentiles the emulator cannot compute (`percentiles`)."""
