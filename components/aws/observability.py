"""Alerting: an encrypted SNS topic (+ optional email subscription) and the stack's CloudWatch alarms (load
balancer 5xx rate and unhealthy targets, API CPU, RDS CPU and storage, Redis memory, the singleton scheduler),
each notifying the topic on ALARM and OK.

The topic's key is a customer key: the AWS-managed ``alias/aws/sns`` key's policy cannot admit CloudWatch,
and EventBridge needs its own key statement (docs/decisions/alerts-topic-key.md). The 5xx-rate alarm reads
three metrics (billed as three alarm metrics): without the ALB's own 5xx (502/503/504 when no target
answers) it would miss the outage it exists for.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from ..common import Deployment, child, policy_json, require

ALB_5XX_PERCENT = 5
API_CPU_PERCENT = 85
RDS_CPU_PERCENT = 80
RDS_FREE_STORAGE_BYTES = 2 * 1024**3
REDIS_MEMORY_PERCENT = 80
# Services that publish to the topic: CloudWatch alarms, and EventBridge rules (backup task failures).
CLOUDWATCH = "cloudwatch.amazonaws.com"
EVENTBRIDGE = "events.amazonaws.com"


@dataclass(frozen=True)
class ObservabilityArgs:
    deployment: Deployment
    cluster_name: str
    api_service_name: str
    scheduler_service_name: str
    # The ALB's and its target group's (edge.origin alb); None without an ALB (tunnel): no load balancer
    # alarms then, and an API alarm on running tasks instead.
    alb_arn_suffix: pulumi.Input[str] | None
    target_group_arn_suffix: pulumi.Input[str] | None
    db_instance_identifier: str
    # ElastiCache node (cache cluster) ids of the replication group: <group id>-001, -002, ...
    redis_cache_cluster_ids: Sequence[str]
    alert_email: str | None = None


def _validate(args: ObservabilityArgs) -> None:
    for field_name in (
        "cluster_name",
        "api_service_name",
        "scheduler_service_name",
        "db_instance_identifier",
    ):
        value = getattr(args, field_name)
        require(
            isinstance(value, str) and bool(value),
            "Observability",
            field_name,
            value,
            "must be a literal name (alarm dimensions are read at preview)",
        )
    require(
        bool(args.redis_cache_cluster_ids),
        "Observability",
        "redis_cache_cluster_ids",
        list(args.redis_cache_cluster_ids),
        "give at least one ElastiCache node id",
    )


class Observability(pulumi.ComponentResource):
    """Outputs: ``topic_arn``. Plain: ``topic_name``, ``alarm_names`` (key -> alarm name). Resources:
    ``topic``, ``key``, ``alarms`` (key -> MetricAlarm), ``subscription`` (or None)."""

    def __init__(
        self, name: str, args: ObservabilityArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("saas:app:Observability", name, None, opts)
        _validate(args)
        self._deployment = args.deployment
        self._cluster_name = args.cluster_name
        self._topic(name, args)
        self.alarms: dict[str, aws.cloudwatch.MetricAlarm] = {}
        self.alarm_names: dict[str, str] = {}
        if args.alb_arn_suffix is not None:
            self._load_balancer_alarms(name, args)
        self._service_alarms(name, args)
        self._data_store_alarms(name, args)
        self.register_outputs({"topicArn": self.topic_arn, "alarmNames": self.alarm_names})

    def _topic(self, name: str, args: ObservabilityArgs) -> None:
        """The alerts topic, its customer key and policy, and the optional email subscription."""
        d = args.deployment
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{d.prefix} alerts topic",
            enable_key_rotation=True,
            deletion_window_in_days=30,
            policy=topic_key_policy(d),
            tags=d.tags(),
            opts=child(self, protect=d.is_production),
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/{d.prefix}-alerts",
            target_key_id=self.key.key_id,
            opts=child(self),
        )
        self.topic_name = f"{d.prefix}-alerts"
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=self.topic_name,
            kms_master_key_id=self.key.arn,
            tags=d.tags(),
            opts=child(self),
        )
        self.topic_arn = self.topic.arn
        topic_arn_literal = f"arn:{d.partition}:sns:{d.region}:{d.account_id}:{self.topic_name}"
        aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=topic_policy(d, topic_arn_literal),
            opts=child(self),
        )
        self.subscription = None
        if args.alert_email:
            self.subscription = aws.sns.TopicSubscription(
                f"{name}-email",
                topic=self.topic.arn,
                protocol="email",
                endpoint=args.alert_email,
                opts=child(self),
            )

    def _load_balancer_alarms(self, name: str, args: ObservabilityArgs) -> None:
        """The 5xx rate of the ALB and its targets, and unhealthy API targets."""
        alb = {"LoadBalancer": args.alb_arn_suffix}
        self._alarm(
            name,
            "alb-5xx-rate",
            f"5xx responses (ALB + targets) above {ALB_5XX_PERCENT}% of requests for 5 minutes",
            comparison_operator="GreaterThanThreshold",
            threshold=ALB_5XX_PERCENT,
            evaluation_periods=1,
            treat_missing_data="notBreaching",
            metric_queries=[
                _metric("elb5xx", "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "Sum", 300, alb),
                _metric("target5xx", "AWS/ApplicationELB", "HTTPCode_Target_5XX_Count", "Sum", 300, alb),
                _metric("requests", "AWS/ApplicationELB", "RequestCount", "Sum", 300, alb),
                {
                    "id": "rate",
                    "expression": "100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests",
                    "label": "5xx rate (%)",
                    "return_data": True,
                },
            ],
        )
        self._alarm(
            name,
            "api-unhealthy-targets",
            "the API target group has unhealthy targets for 5 minutes",
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=5,
            treat_missing_data="notBreaching",
            namespace="AWS/ApplicationELB",
            metric_name="UnHealthyHostCount",
            statistic="Maximum",
            period=60,
            dimensions={"LoadBalancer": args.alb_arn_suffix, "TargetGroup": args.target_group_arn_suffix},
        )

    def _service_alarms(self, name: str, args: ObservabilityArgs) -> None:
        """API CPU, the singleton scheduler running, and without an ALB the API running (no task = no
        AWS/ECS data = breaching)."""
        self._alarm(
            name,
            "api-cpu",
            f"API service CPU above {API_CPU_PERCENT}% for 10 minutes",
            comparison_operator="GreaterThanThreshold",
            threshold=API_CPU_PERCENT,
            evaluation_periods=2,
            treat_missing_data="missing",
            namespace="AWS/ECS",
            metric_name="CPUUtilization",
            statistic="Average",
            period=300,
            dimensions={"ClusterName": args.cluster_name, "ServiceName": args.api_service_name},
        )
        # Without Container Insights (off: its ~90 custom metrics cost more than all alarms together) there
        # is no RunningTaskCount. AWS/ECS reports a service's CPUUtilization only while it has RUNNING tasks
        # (docs/decisions/container-insights.md): missing data means "no scheduler" and breaches. Two tasks
        # cannot happen through ECS: the service deploys with maximumPercent 100.
        self._running_alarm(
            name, "scheduler-running-count", "the singleton scheduler", args.scheduler_service_name
        )
        if args.alb_arn_suffix is None:
            # No target group counts unhealthy API tasks: the containers' health checks replace them, and
            # this alarm notices when none runs.
            self._running_alarm(name, "api-running-count", "the API", args.api_service_name)

    def _running_alarm(self, name: str, key: str, who: str, service_name: str) -> None:
        self._alarm(
            name,
            key,
            f"{who} has no RUNNING task for 5 minutes (AWS/ECS reports no metrics then)",
            comparison_operator="LessThanThreshold",
            threshold=1,
            evaluation_periods=5,
            datapoints_to_alarm=5,
            treat_missing_data="breaching",
            namespace="AWS/ECS",
            metric_name="CPUUtilization",
            statistic="SampleCount",
            period=60,
            dimensions={"ClusterName": self._cluster_name, "ServiceName": service_name},
        )

    def _data_store_alarms(self, name: str, args: ObservabilityArgs) -> None:
        """RDS CPU and free storage; Redis memory per node."""
        rds = {"DBInstanceIdentifier": args.db_instance_identifier}
        self._alarm(
            name,
            "rds-cpu",
            f"RDS CPU above {RDS_CPU_PERCENT}% for 15 minutes",
            comparison_operator="GreaterThanThreshold",
            threshold=RDS_CPU_PERCENT,
            evaluation_periods=3,
            treat_missing_data="missing",
            namespace="AWS/RDS",
            metric_name="CPUUtilization",
            statistic="Average",
            period=300,
            dimensions=rds,
        )
        self._alarm(
            name,
            "rds-free-storage",
            "RDS free storage below 2 GiB",
            comparison_operator="LessThanThreshold",
            threshold=RDS_FREE_STORAGE_BYTES,
            evaluation_periods=1,
            treat_missing_data="missing",
            namespace="AWS/RDS",
            metric_name="FreeStorageSpace",
            statistic="Minimum",
            period=300,
            dimensions=rds,
        )
        for node in args.redis_cache_cluster_ids:
            self._alarm(
                name,
                f"redis-memory-{node.rsplit('-', 1)[-1]}",
                f"Redis node {node} memory usage above {REDIS_MEMORY_PERCENT}% for 10 minutes",
                comparison_operator="GreaterThanThreshold",
                threshold=REDIS_MEMORY_PERCENT,
                evaluation_periods=2,
                treat_missing_data="missing",
                namespace="AWS/ElastiCache",
                metric_name="DatabaseMemoryUsagePercentage",
                statistic="Maximum",
                period=300,
                dimensions={"CacheClusterId": node},
            )

    def _alarm(self, name: str, key: str, description: str, **kwargs: Any) -> None:
        alarm_name = f"{self._deployment.prefix}-{key}"
        self.alarm_names[key] = alarm_name
        self.alarms[key] = aws.cloudwatch.MetricAlarm(
            f"{name}-{key}",
            name=alarm_name,
            alarm_description=description,
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            tags=self._deployment.tags(),
            opts=child(self),
            **kwargs,
        )


def _metric(
    query_id: str, namespace: str, metric: str, stat: str, period: int, dimensions: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": query_id,
        "return_data": False,
        "metric": {
            "namespace": namespace,
            "metric_name": metric,
            "stat": stat,
            "period": period,
            "dimensions": dimensions,
        },
    }


# SNS, "Key management", section "Enable compatibility between event sources from AWS services and
# encrypted topics" (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services):
# the publishing service's principal needs kms:GenerateDataKey* and kms:Decrypt on the topic's key, and the
# aws:SourceAccount / aws:SourceArn conditions in the key policy are not supported for EventBridge publishing
# to an encrypted topic (docs/decisions/alerts-topic-key.md).
PUBLISH_KEY_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey*")


def topic_key_policy(d: Deployment) -> str:
    """Key policy of the alerts topic's key: the account administers it; CloudWatch alarms of the account and
    EventBridge may use it. EventBridge's statement carries no ``aws:Source*`` condition (SNS does not support
    it there); what scopes it is that this key encrypts nothing but the alerts topic, whose policy admits only
    this stack's rules (docs/decisions/alerts-topic-key.md)."""
    root = f"arn:{d.partition}:iam::{d.account_id}:root"
    return policy_json(
        {
            "Sid": "AccountAdmin",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": "kms:*",
            "Resource": "*",
        },
        {
            "Sid": "CloudWatchAlarmsUseKey",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDWATCH},
            "Action": list(PUBLISH_KEY_ACTIONS),
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:SourceAccount": d.account_id}},
        },
        {
            "Sid": "EventBridgeUsesKey",
            "Effect": "Allow",
            "Principal": {"Service": EVENTBRIDGE},
            "Action": list(PUBLISH_KEY_ACTIONS),
            "Resource": "*",
        },
    )


def topic_policy(d: Deployment, topic_arn: str) -> str:
    """Topic policy: the account manages the topic; CloudWatch alarms of this account and EventBridge rules of
    this stack (``<prefix>-*``) publish."""
    root = f"arn:{d.partition}:iam::{d.account_id}:root"
    return policy_json(
        {
            "Sid": "AccountManage",
            "Effect": "Allow",
            "Principal": {"AWS": root},
            "Action": [
                "sns:GetTopicAttributes",
                "sns:SetTopicAttributes",
                "sns:AddPermission",
                "sns:RemovePermission",
                "sns:DeleteTopic",
                "sns:Subscribe",
                "sns:ListSubscriptionsByTopic",
                "sns:Publish",
            ],
            "Resource": topic_arn,
        },
        {
            "Sid": "CloudWatchAlarmsPublish",
            "Effect": "Allow",
            "Principal": {"Service": CLOUDWATCH},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"StringEquals": {"aws:SourceAccount": d.account_id}},
        },
        {
            "Sid": "EventBridgeRulesPublish",
            "Effect": "Allow",
            "Principal": {"Service": EVENTBRIDGE},
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {
                "StringEquals": {"aws:SourceAccount": d.account_id},
                "ArnLike": {
                    "aws:SourceArn": f"arn:{d.partition}:events:{d.region}:{d.account_id}:rule/{d.prefix}-*"
                },
            },
        },
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sns:Publish",
            "Resource": topic_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
