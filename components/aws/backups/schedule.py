"""The daily schedule: EventBridge Scheduler (UTC) -> ECS RunTask of the backup task on Fargate.

Private subnets, no public IP, 2 retries, a dead-letter queue; the schedule is encrypted with the backups
key, and its role may only run the backup family on this cluster, pass its two roles and decrypt it.

A second schedule, the heartbeat, puts ``BackupSucceeded = 0`` every hour (a Scheduler universal target
calling CloudWatch ``PutMetricData``), so that "no dump for N hours" counts hours that really passed since
the deploy: docs/decisions/backup-missing-alarm.md.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import pulumi
import pulumi_aws as aws

from ...common import Deployment, assume_role_policy, child, policy_json
from .naming import METRIC_SUCCEEDED, namespace

SCHEDULE_TIMEZONE = "UTC"
RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_SECONDS = 3600
DLQ_RETENTION_SECONDS = 14 * 24 * 3600
HEARTBEAT_EXPRESSION = "rate(1 hour)"
# EventBridge Scheduler universal target: an AWS API action (`arn:aws:scheduler:::aws-sdk:<service>:<action>`)
# called with the schedule's role and the target's Input as the request (EventBridge Scheduler User Guide,
# "Using universal targets": https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-universal.html).
HEARTBEAT_TARGET = "arn:aws:scheduler:::aws-sdk:cloudwatch:putMetricData"


def heartbeat_name(d: Deployment) -> str:
    return f"{d.prefix}-backup-heartbeat"


def heartbeat_input(d: Deployment) -> str:
    """The PutMetricData request: one zero of the success metric (a success hour sums to 1 or more)."""
    return json.dumps(
        {
            "Namespace": namespace(d),
            "MetricData": [{"MetricName": METRIC_SUCCEEDED, "Value": 0, "Unit": "Count"}],
        },
        sort_keys=True,
    )


def dlq_name(d: Deployment) -> str:
    return f"{d.prefix}-backup-dlq"


def drill_schedule_name(d: Deployment) -> str:
    return f"{d.prefix}-restore-drill"


def scheduler_policy(d: Deployment, family_arn: str, cluster_arn: str) -> str:
    """Run the backup and drill families on this cluster, pass their roles, dead-letter into its queue."""
    role_arn = f"arn:{d.partition}:iam::{d.account_id}"
    drill_family_arn = family_arn.rsplit("/", 1)[0] + f"/{d.prefix}-drill"
    return policy_json(
        {
            "Sid": "RunBackupTask",
            "Effect": "Allow",
            "Action": "ecs:RunTask",
            "Resource": [f"{family_arn}:*", f"{drill_family_arn}:*"],
            "Condition": {"ArnEquals": {"ecs:cluster": cluster_arn}},
        },
        {
            "Sid": "PassBackupRoles",
            "Effect": "Allow",
            "Action": "iam:PassRole",
            "Resource": [
                f"{role_arn}:role/{d.prefix}-backup-execution",
                f"{role_arn}:role/{d.prefix}-backup-task",
                f"{role_arn}:role/{d.prefix}-restore-task",
                f"{role_arn}:role/{d.prefix}-drill-task",
            ],
            "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
        },
        {
            # The heartbeat schedule: zeros of the success metric, in the backups namespace only.
            "Sid": "Heartbeat",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": namespace(d)}},
        },
        {
            # The schedule's dead-letter queue: an invocation that still fails after the retries.
            "Sid": "DeadLetter",
            "Effect": "Allow",
            "Action": "sqs:SendMessage",
            "Resource": f"arn:{d.partition}:sqs:{d.region}:{d.account_id}:{dlq_name(d)}",
        },
    )


def schedule_kms_policy(key_arn: str, schedule_arns: list[str]) -> str:
    """Scheduler decrypts a schedule with the role when it fires (encryption context: its ARN)."""
    return policy_json(
        {
            "Sid": "DecryptSchedule",
            "Effect": "Allow",
            "Action": "kms:Decrypt",
            "Resource": key_arn,
            "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:scheduler:schedule:arn": schedule_arns}},
        }
    )


class BackupSchedule:
    """The schedule, its role and its dead-letter queue (``dlq``)."""

    def __init__(
        self,
        parent: pulumi.Resource,
        d: Deployment,
        name: str,
        *,
        schedule_name: str,
        expression: str,
        description: str,
        key: aws.kms.Key,
        cluster_arn: pulumi.Input[str],
        cluster_name: str,
        family_arn: str,
        task_definition: aws.ecs.TaskDefinition,
        drill: tuple[str, aws.ecs.TaskDefinition],
        subnet_ids: Sequence[pulumi.Input[str]],
        security_group_id: pulumi.Input[str],
    ) -> None:
        self.dlq = aws.sqs.Queue(
            f"{name}-schedule-dlq",
            name=dlq_name(d),
            message_retention_seconds=DLQ_RETENTION_SECONDS,
            sqs_managed_sse_enabled=True,
            tags=d.tags(),
            opts=child(parent),
        )
        rights = self._role(parent, d, name, schedule_name, key, cluster_name, family_arn)
        aws.scheduler.Schedule(
            f"{name}-schedule",
            name=schedule_name,
            kms_key_arn=key.arn,
            description=description,
            schedule_expression=expression,
            schedule_expression_timezone=SCHEDULE_TIMEZONE,
            flexible_time_window={"mode": "OFF"},
            state="ENABLED",
            target=self._run_task(cluster_arn, task_definition, subnet_ids, security_group_id),
            opts=child(parent, depends_on=rights),
        )
        self._heartbeat(parent, d, name, key, rights)
        drill_expression, drill_task = drill
        aws.scheduler.Schedule(
            f"{name}-drill-schedule",
            name=drill_schedule_name(d),
            kms_key_arn=key.arn,
            description="Restore drill: the newest dump into a scratch database, checked with its manifest",
            schedule_expression=drill_expression,
            schedule_expression_timezone=SCHEDULE_TIMEZONE,
            flexible_time_window={"mode": "OFF"},
            state="ENABLED",
            target=self._run_task(cluster_arn, drill_task, subnet_ids, security_group_id),
            opts=child(parent, depends_on=rights),
        )

    def _run_task(
        self,
        cluster_arn: pulumi.Input[str],
        task_definition: aws.ecs.TaskDefinition,
        subnet_ids: Sequence[pulumi.Input[str]],
        security_group_id: pulumi.Input[str],
    ) -> aws.scheduler.ScheduleTargetArgsDict:
        """ECS RunTask on Fargate in the private subnets, no public IP, retries, the dead-letter queue."""
        return {
            "arn": cluster_arn,
            "role_arn": self.role.arn,
            "ecs_parameters": {
                "task_definition_arn": task_definition.arn,
                "launch_type": "FARGATE",
                "task_count": 1,
                "network_configuration": {
                    "subnets": list(subnet_ids),
                    "security_groups": [security_group_id],
                    "assign_public_ip": False,
                },
            },
            "retry_policy": {
                "maximum_retry_attempts": RETRY_ATTEMPTS,
                "maximum_event_age_in_seconds": MAX_EVENT_AGE_SECONDS,
            },
            "dead_letter_config": {"arn": self.dlq.arn},
        }

    def _heartbeat(
        self,
        parent: pulumi.Resource,
        d: Deployment,
        name: str,
        key: aws.kms.Key,
        rights: list[aws.iam.RolePolicy],
    ) -> None:
        aws.scheduler.Schedule(
            f"{name}-heartbeat-schedule",
            name=heartbeat_name(d),
            kms_key_arn=key.arn,
            description=f"Hourly BackupSucceeded=0 in {namespace(d)}: the missing-dump alarm counts hours",
            schedule_expression=HEARTBEAT_EXPRESSION,
            schedule_expression_timezone=SCHEDULE_TIMEZONE,
            flexible_time_window={"mode": "OFF"},
            state="ENABLED",
            target={
                "arn": HEARTBEAT_TARGET,
                "role_arn": self.role.arn,
                "input": heartbeat_input(d),
                "retry_policy": {
                    "maximum_retry_attempts": RETRY_ATTEMPTS,
                    "maximum_event_age_in_seconds": MAX_EVENT_AGE_SECONDS,
                },
                "dead_letter_config": {"arn": self.dlq.arn},
            },
            opts=child(parent, depends_on=rights),
        )

    def _role(
        self,
        parent: pulumi.Resource,
        d: Deployment,
        name: str,
        schedule_name: str,
        key: aws.kms.Key,
        cluster_name: str,
        family_arn: str,
    ) -> list[aws.iam.RolePolicy]:
        self.role = aws.iam.Role(
            f"{name}-scheduler-role",
            name=f"{d.prefix}-backup-scheduler",
            description=f"EventBridge Scheduler role of {schedule_name}: the backup task and its heartbeat",
            assume_role_policy=assume_role_policy(
                "scheduler.amazonaws.com", StringEquals={"aws:SourceAccount": d.account_id}
            ),
            tags=d.tags(),
            opts=child(parent),
        )
        cluster_arn = f"arn:{d.partition}:ecs:{d.region}:{d.account_id}:cluster/{cluster_name}"
        schedule_arns = [
            f"arn:{d.partition}:scheduler:{d.region}:{d.account_id}:schedule/default/{schedule}"
            for schedule in (schedule_name, heartbeat_name(d), drill_schedule_name(d))
        ]
        return [
            aws.iam.RolePolicy(
                f"{name}-scheduler-policy",
                name="run-backup-task",
                role=self.role.id,
                policy=scheduler_policy(d, family_arn, cluster_arn),
                opts=child(parent),
            ),
            # The key policy delegates to IAM (AccountAdmin).
            aws.iam.RolePolicy(
                f"{name}-scheduler-kms-policy",
                name="decrypt-schedule",
                role=self.role.id,
                policy=key.arn.apply(lambda arn: schedule_kms_policy(arn, schedule_arns)),
                opts=child(parent),
            ),
        ]
