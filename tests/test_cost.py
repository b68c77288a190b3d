"""Cost model: every billed type has a price rule, prices follow the resource's region, and the charges an
estimate easily leaves out (Container Insights, alarm metrics, requests, transfer) are on a line."""

from __future__ import annotations

import pulumi_aws as aws
import pytest

from preflight import cost
from preflight.engine import Evaluation, run_program

HOURS = 730


def _lines(estimate: cost.CostEstimate, type_: str) -> list[cost.CostLine]:
    return [line for line in estimate.lines if line.resource.type == type_]


def test_every_recorded_type_of_the_stacks_has_a_price_rule(stack: Evaluation) -> None:
    """A type AWS bills that the model does not know would be UNKNOWN ("type not in the price model"): the
    committed stacks have none, and no other line is unknown either."""
    estimate = cost.estimate(stack.resources, plan="free", region="us-west-2")
    assert [(line.resource.name, line.missing) for line in estimate.unknown] == []
    assert estimate.warnings == []


def test_an_unpriced_region_is_unknown_with_a_warning_never_another_regions_prices(
    staging: Evaluation,
) -> None:
    estimate = cost.estimate(staging.resources, plan="free", region="eu-central-1")
    aws_lines = [line for line in estimate.lines if line.resource.type.startswith("aws:")]
    billed = [line for line in aws_lines if line.monthly_usd != 0.0]
    assert billed and all(line.monthly_usd is None for line in billed)
    assert {tuple(line.missing) for line in billed} == {("prices for region eu-central-1",)}
    assert len(estimate.warnings) == 1 and "eu-central-1 has no price table" in estimate.warnings[0]
    assert "WARNING: region eu-central-1" in "\n".join(cost.cost_lines(estimate))


def test_resources_on_an_explicit_provider_use_that_regions_prices(production: Evaluation) -> None:
    estimate = cost.estimate(production.resources, plan="pro", region="us-west-2")
    by_name = {line.resource.name: line for line in estimate.lines}
    assert by_name["backups-replica"].region == "us-east-2"
    assert by_name["backups-replica-kms"].region == "us-east-2"
    assert by_name["backups-bucket"].region == "us-west-2"
    assert by_name["backups-replica"].monthly_usd is not None


def test_container_insights_is_priced_as_custom_metrics_and_off_in_the_stacks(stack: Evaluation) -> None:
    """Amazon CloudWatch User Guide, Container Insights: "Metrics collected by Container Insights are charged
    as custom metrics" (https://aws.amazon.com/cloudwatch/pricing/)."""

    def program(mode: str) -> None:
        td = aws.ecs.TaskDefinition("t", family="f", cpu="256", memory="512", container_definitions="[]")
        aws.ecs.Cluster("c", settings=[{"name": "containerInsights", "value": mode}])
        aws.ecs.Service("s", cluster="c", desired_count=1, task_definition=td.arn)

    book = cost.load_prices()
    per = book.assumptions["container_insights_metrics"]["per_level"]
    on = cost.estimate(run_program(lambda: program("enabled"), preview=True).resources)
    [cluster] = _lines(on, "aws:ecs/cluster:Cluster")
    metrics = per["cluster"] + per["service"] + per["task_family"]
    assert cluster.monthly_usd == pytest.approx(metrics * 0.30)
    off = cost.estimate(run_program(lambda: program("disabled"), preview=True).resources)
    assert _lines(off, "aws:ecs/cluster:Cluster")[0].monthly_usd == 0.0
    [stack_cluster] = _lines(cost.estimate(stack.resources, region="us-west-2"), "aws:ecs/cluster:Cluster")
    assert stack_cluster.monthly_usd == 0.0


def test_alarms_bill_per_metric_they_read() -> None:
    """Amazon CloudWatch pricing: alarms are billed per metric; a metric-math alarm on three metrics is three
    alarm metrics (https://aws.amazon.com/cloudwatch/pricing/)."""

    def program() -> None:
        aws.cloudwatch.MetricAlarm(
            "one", comparison_operator="GreaterThanThreshold", evaluation_periods=1, threshold=1,
            namespace="AWS/ECS", metric_name="CPUUtilization", statistic="Average", period=60,
        )  # fmt: skip

        def metric(query_id: str, name: str) -> aws.cloudwatch.MetricAlarmMetricQueryArgs:
            return aws.cloudwatch.MetricAlarmMetricQueryArgs(
                id=query_id,
                metric=aws.cloudwatch.MetricAlarmMetricQueryMetricArgs(
                    namespace="AWS/ApplicationELB", metric_name=name, stat="Sum", period=300
                ),
            )

        aws.cloudwatch.MetricAlarm(
            "rate",
            comparison_operator="GreaterThanThreshold",
            evaluation_periods=1,
            threshold=5,
            metric_queries=[
                metric("a", "HTTPCode_ELB_5XX_Count"),
                metric("b", "HTTPCode_Target_5XX_Count"),
                metric("c", "RequestCount"),
                aws.cloudwatch.MetricAlarmMetricQueryArgs(
                    id="r", expression="100 * (a + b) / c", return_data=True
                ),
            ],
        )

    estimate = cost.estimate(run_program(program, preview=True).resources)
    by_name = {line.resource.name: line.monthly_usd for line in estimate.lines}
    assert by_name["one"] == pytest.approx(0.10)
    assert by_name["rate"] == pytest.approx(0.30)


def test_requests_and_transfer_are_counted(production: Evaluation) -> None:
    book = cost.load_prices()
    a = book.assume
    estimate = cost.estimate(production.resources, plan="pro", region="us-west-2")
    by_name = {line.resource.name: line for line in estimate.lines}
    transfer = by_name["data-transfer"]
    assert transfer.monthly_usd == pytest.approx(
        2 * a("inter_az_gb_per_month") * 0.01 + a("internet_egress_gb_per_month") * 0.09
    )
    bucket = by_name["backups-bucket"]
    requests = a("s3_requests_per_bucket") / 1000
    assert bucket.monthly_usd == pytest.approx(5 * 0.023 + requests * (0.005 + 0.0004))
    key = by_name["app-secrets-kms"]
    assert key.monthly_usd == pytest.approx(1 + a("kms_requests_per_key") / 10000 * 0.03)
    copy = [line for line in estimate.lines if line.resource.type.endswith("BucketReplicationConfig")]
    assert copy and copy[0].monthly_usd == pytest.approx(a("replicated_gb_per_month") * 0.02)
    gateways = _lines(estimate, "aws:ec2/natGateway:NatGateway")
    processed = a("nat_processed_gb_per_month") / len(gateways)
    assert gateways[0].monthly_usd == pytest.approx(HOURS * 0.045 + processed * 0.045)


def test_dev_costs_nothing(dev: Evaluation) -> None:
    estimate = cost.estimate(dev.resources)
    assert estimate.total == 0.0 and estimate.unknown == [] and estimate.warnings == []


def test_the_report_prices_each_stack_in_its_own_region(staging: Evaluation) -> None:
    from preflight import report

    assert report.aws_region("staging") == "us-west-2"
    assert report.aws_region("dev") is None
    text = "\n".join(cost.cost_lines(cost.estimate(staging.resources, region="us-west-2")))
    assert "prices for us-west-2" in text and "[us-west-2] fargate.arm.vcpu_hour" in text
