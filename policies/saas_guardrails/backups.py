"""The restore drill pages when it has not succeeded for longer than its period plus a day.

A stack with a drill task (a pg-backup container with ``MODE=drill``) must have all three parts of that
alarm: the backup container's ``DRILL_MAX_AGE_SECONDS`` (pg-backup then reports ``pg_drill_stale`` after
each dump), a metric filter on that event, and an alarm with actions on the filter's metric. A metric alarm
alone cannot hold the limit: "Period multiplied by EvaluationPeriods can't be more than 604,800 seconds"
(CloudWatch PutMetricAlarm API reference, Period,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html), and a weekly drill
plus a day is 691,200 seconds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pulumi_policy import EnforcementLevel, Severity, StackValidationArgs, StackValidationPolicy

from ._util import Report, as_map
from ._util import known as _get

TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
METRIC_FILTER = "aws:cloudwatch/logMetricFilter:LogMetricFilter"
METRIC_ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
STALE_EVENT = "pg_drill_stale"


def _environments(props: Any) -> list[dict[str, str]]:
    """The literal environment of each container of a task definition (none when not readable)."""
    raw = _get(props, "containerDefinitions")
    try:
        containers = json.loads(raw) if isinstance(raw, str) else []
    except ValueError:
        return []
    return [
        {str(e.get("name")): str(e.get("value")) for e in c.get("environment", []) if isinstance(e, Mapping)}
        for c in containers
        if isinstance(c, Mapping)
    ]


def _non_empty(value: Any) -> bool:
    """A non-empty list; its elements (topic ARNs, unknown at preview) are not read."""
    return isinstance(value, Sequence) and not isinstance(value, str) and len(value) > 0


def _check_drill_alarm(args: StackValidationArgs, report: Report) -> None:
    modes: dict[str, list[tuple[str, dict[str, str]]]] = {}
    for task in (r for r in args.resources if r.resource_type == TASK_DEFINITION):
        for env in _environments(task.props):
            modes.setdefault(env.get("MODE") or "", []).append((task.name, env))
    drills = modes.get("drill", [])
    if not drills:
        return
    drill = drills[0][0]
    for name, env in modes.get("backup", []):
        value = env.get("DRILL_MAX_AGE_SECONDS", "")
        if not value.isdigit() or int(value) < 1:
            report(
                f"task definition '{name}' (MODE=backup) has no DRILL_MAX_AGE_SECONDS (found "
                f"{value or 'none'}); with the drill '{drill}' the backup must check the drill's age (its "
                "period plus a day)."
            )
    metrics = {
        (t.get("namespace"), t.get("name"))
        for f in args.resources
        if f.resource_type == METRIC_FILTER
        and STALE_EVENT in str(_get(f.props, "pattern") or "")
        and (t := as_map(_get(f.props, "metricTransformation"))) is not None
    }
    alarmed = {
        (_get(a.props, "namespace"), _get(a.props, "metricName"))
        for a in args.resources
        if a.resource_type == METRIC_ALARM and _non_empty(_get(a.props, "alarmActions"))
    }
    if not metrics:
        report(f"the drill '{drill}' has no log metric filter on the backup's '{STALE_EVENT}' event.")
    elif not metrics & alarmed:
        shown = ", ".join(f"{ns}/{name}" for ns, name in sorted(metrics, key=str))
        report(f"the drill '{drill}' has no alarm with actions on its staleness metric ({shown}).")


backup_drill_stale_alarm = StackValidationPolicy(
    name="backup-drill-stale-alarm",
    description=(
        "A stack with a restore drill alarms when the drill has not succeeded for its period plus a day: "
        "the backup checks the age (DRILL_MAX_AGE_SECONDS), a metric filter counts pg_drill_stale, an alarm "
        "with actions watches it."
    ),
    validate=_check_drill_alarm,
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
)

POLICIES = [backup_drill_stale_alarm]
