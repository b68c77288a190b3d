"""Alarms to the alerts topic: a failed backup task, no verified dump for a while, a failed schedule.

Why an EventBridge rule for failures and a success metric for the rest: docs/decisions/backup-alarms.md.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws

from ...common import Deployment, child
from .naming import METRIC_DRILL_STALE, METRIC_DRILL_SUCCEEDED, METRIC_SUCCEEDED, namespace
from .schedule import RETRY_ATTEMPTS, dlq_name


def failure_event_pattern(cluster_arn: str, task_definition_family_arn: str) -> str:
    """ECS Task State Change: a backup task of this cluster stopped with a non-zero exit or never started."""
    return json.dumps(
        {
            "source": ["aws.ecs"],
            "detail-type": ["ECS Task State Change"],
            "detail": {
                "clusterArn": [cluster_arn],
                "lastStatus": ["STOPPED"],
                "taskDefinitionArn": [{"prefix": f"{task_definition_family_arn}:"}],
                "$or": [
                    {"containers": {"exitCode": [{"anything-but": 0}]}},
                    {"stopCode": ["TaskFailedToStart"]},
                ],
            },
        },
        sort_keys=True,
    )


def task_failed(
    parent: pulumi.Resource,
    d: Deployment,
    name: str,
    *,
    family: str,
    cluster_arn: str,
    family_arn: str,
    log_group: str,
    topic_arn: pulumi.Input[str],
    what: str = "backup",
) -> None:
    """An EventBridge rule on a failed or never-started task of ``family`` -> a one-line message to the
    topic. ``what`` names the rule: ``<name>-failed-rule`` (backup), else ``<name>-<what>-failed-rule``."""
    slug = "" if what == "backup" else f"{what}-"
    rule = aws.cloudwatch.EventRule(
        f"{name}-{slug}failed-rule",
        name=f"{d.prefix}-{what}-failed",
        description=f"A {family} task stopped with a non-zero exit code or failed to start",
        event_pattern=failure_event_pattern(cluster_arn, family_arn),
        tags=d.tags(),
        opts=child(parent),
    )
    aws.cloudwatch.EventTarget(
        f"{name}-{slug}failed-target",
        rule=rule.name,
        arn=topic_arn,
        input_transformer={
            "input_paths": {
                "task": "$.detail.taskArn",
                "stopCode": "$.detail.stopCode",
                "reason": "$.detail.stoppedReason",
                "exitCode": "$.detail.containers[0].exitCode",
            },
            "input_template": json.dumps(
                f"{d.prefix}: {what} task <task> failed (<stopCode>, exit code <exitCode>): <reason>. "
                f"Logs: {log_group}"
            ),
        },
        opts=child(parent),
    )


def _event_count(
    parent: pulumi.Resource,
    d: Deployment,
    logical: str,
    physical: str,
    log_group: tuple[str, aws.cloudwatch.LogGroup],
    event: str,
    metric: str,
) -> None:
    """A metric filter: 1 in ``metric`` for each JSON line of pg-backup with ``"event": event``."""
    group_name, group = log_group
    aws.cloudwatch.LogMetricFilter(
        logical,
        name=physical,
        log_group_name=group_name,
        pattern=f'{{ $.event = "{event}" }}',
        metric_transformation={"name": metric, "namespace": namespace(d), "value": "1"},
        opts=child(parent, depends_on=[group]),
    )


def _sum_alarm(
    parent: pulumi.Resource,
    d: Deployment,
    logical: str,
    physical: str,
    *,
    description: str,
    metric: str,
    topic_arn: pulumi.Input[str],
    **evaluation: Any,
) -> None:
    """An alarm on the sum of a backups metric, to the topic both ways; missing data is not breaching."""
    aws.cloudwatch.MetricAlarm(
        logical,
        name=physical,
        alarm_description=description,
        namespace=namespace(d),
        metric_name=metric,
        statistic="Sum",
        threshold=1,
        treat_missing_data="notBreaching",
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=d.tags(),
        opts=child(parent),
        **evaluation,
    )


def dump_missing(
    parent: pulumi.Resource,
    d: Deployment,
    name: str,
    *,
    hours: int,
    description: str,
    log_group_name: str,
    log_group: aws.cloudwatch.LogGroup,
    topic_arn: pulumi.Input[str],
) -> None:
    """``BackupSucceeded`` from the script's success line, alarmed when it stays below 1 for ``hours``.

    Each hour also carries the heartbeat's 0, so hours after the deploy breach and hours before it are
    missing, not breaching: the first day is quiet, and ``hours`` after the deploy without a dump it fires.
    """
    # pg-backup prints exactly one JSON line with this event after a verified upload.
    logs = (log_group_name, log_group)
    _event_count(
        parent, d, f"{name}-succeeded-filter", f"{d.prefix}-backup-succeeded", logs, "pg_backup_complete",
        METRIC_SUCCEEDED,
    )  # fmt: skip
    _sum_alarm(
        parent, d, f"{name}-missing-alarm", f"{d.prefix}-backup-missing", description=description,
        metric=METRIC_SUCCEEDED, topic_arn=topic_arn, period=3600, evaluation_periods=hours,
        datapoints_to_alarm=hours, comparison_operator="LessThanThreshold",
    )  # fmt: skip


def drill_succeeded(
    parent: pulumi.Resource,
    d: Deployment,
    name: str,
    *,
    log_group_name: str,
    log_group: aws.cloudwatch.LogGroup,
) -> None:
    """``DrillSucceeded`` from the drill's success line (the drill logs into the restore log group)."""
    _event_count(
        parent, d, f"{name}-drill-succeeded-filter", f"{d.prefix}-drill-succeeded",
        (log_group_name, log_group), "pg_drill_complete", METRIC_DRILL_SUCCEEDED,
    )  # fmt: skip


def drill_stale(
    parent: pulumi.Resource,
    d: Deployment,
    name: str,
    *,
    description: str,
    log_group_name: str,
    log_group: aws.cloudwatch.LogGroup,
    topic_arn: pulumi.Input[str],
) -> None:
    """``DrillStale`` from the daily backup's ``pg_drill_stale`` line, alarmed on any in a day.

    The limit (the drill's longest interval plus a day, 8 days for a weekly drill) is longer than a metric
    alarm can look back ("Period multiplied by EvaluationPeriods can't be more than 604,800 seconds",
    PutMetricAlarm API reference), so the backup task measures it (``DRILL_MAX_AGE_SECONDS``) and the alarm
    only counts its verdicts: docs/decisions/drill-stale.md.
    """
    _event_count(
        parent, d, f"{name}-drill-stale-filter", f"{d.prefix}-drill-stale", (log_group_name, log_group),
        "pg_drill_stale", METRIC_DRILL_STALE,
    )  # fmt: skip
    # One day: each daily backup's verdict keeps the alarm in ALARM until a drill succeeds again.
    _sum_alarm(
        parent, d, f"{name}-drill-stale-alarm", f"{d.prefix}-drill-stale", description=description,
        metric=METRIC_DRILL_STALE, topic_arn=topic_arn, period=86400, evaluation_periods=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
    )  # fmt: skip


def schedule_failed(
    parent: pulumi.Resource,
    d: Deployment,
    name: str,
    *,
    family: str,
    dlq: aws.sqs.Queue,
    topic_arn: pulumi.Input[str],
) -> None:
    """A message in the schedule's dead-letter queue: RunTask itself failed after the retries."""
    aws.cloudwatch.MetricAlarm(
        f"{name}-dlq-alarm",
        name=f"{d.prefix}-backup-schedule-failed",
        alarm_description=(
            f"EventBridge Scheduler could not start {family} after {RETRY_ATTEMPTS} "
            f"retries; the failed invocation is in {dlq_name(d)}."
        ),
        namespace="AWS/SQS",
        metric_name="ApproximateNumberOfMessagesVisible",
        dimensions={"QueueName": dlq_name(d)},
        statistic="Maximum",
        period=300,
        evaluation_periods=1,
        threshold=1,
        comparison_operator="GreaterThanOrEqualToThreshold",
        treat_missing_data="notBreaching",
        alarm_actions=[topic_arn],
        ok_actions=[topic_arn],
        tags=d.tags(),
        opts=child(parent, depends_on=[dlq]),
    )
