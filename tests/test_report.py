"""Report sections: topology diagram, cost estimate, fresh-deploy critical path, markdown, CLI flags."""

from __future__ import annotations

import json
from pathlib import Path

import pulumi_aws as aws
import pytest

import preflight.__main__ as cli
from components.aws.edge import cloudflare_sdk as cloudflare
from preflight import cost, diagram, report
from preflight.__main__ import main
from preflight.engine import Evaluation, run_program

HOURS = 730


def _topology() -> None:
    """A miniature of the real stack: edge -> ALB -> API service -> Postgres; a scheduled backup to S3."""
    app_sg, db_sg, lb, tg = _front()
    backup_td, api_td = _tasks()
    _services_and_data(app_sg, db_sg, lb, tg, backup_td, api_td)


def _front() -> tuple[aws.ec2.SecurityGroup, aws.ec2.SecurityGroup, aws.lb.LoadBalancer, aws.lb.TargetGroup]:
    lb_sg = aws.ec2.SecurityGroup("lb-sg", vpc_id="vpc-1")
    app_sg = aws.ec2.SecurityGroup("app-sg", vpc_id="vpc-1")
    db_sg = aws.ec2.SecurityGroup("db-sg", vpc_id="vpc-1")
    aws.vpc.SecurityGroupIngressRule(
        "app-from-lb", security_group_id=app_sg.id, referenced_security_group_id=lb_sg.id, ip_protocol="tcp"
    )
    aws.vpc.SecurityGroupIngressRule(
        "db-from-app", security_group_id=db_sg.id, referenced_security_group_id=app_sg.id, ip_protocol="tcp"
    )
    lb = aws.lb.LoadBalancer(
        "alb",
        internal=False,
        load_balancer_type="application",
        security_groups=[lb_sg.id],
        subnets=["a", "b"],
    )
    tg = aws.lb.TargetGroup("api-tg", port=3801, protocol="HTTP", target_type="ip", vpc_id="vpc-1")
    aws.lb.Listener(
        "https",
        load_balancer_arn=lb.arn,
        port=443,
        protocol="HTTPS",
        default_actions=[{"type": "forward", "target_group_arn": tg.arn}],
    )
    return app_sg, db_sg, lb, tg


def _tasks() -> tuple[aws.ecs.TaskDefinition, aws.ecs.TaskDefinition]:
    bucket = aws.s3.Bucket("backups", bucket="acme-backups", tags={"purpose": "backups"})
    role = aws.iam.Role("backup-task", assume_role_policy="{}")
    aws.iam.RolePolicy(
        "backup-s3", role=role.id, policy=bucket.arn.apply(lambda arn: json.dumps({"Resource": arn}))
    )
    backup_td = aws.ecs.TaskDefinition(
        "backup-td",
        family="backup",
        cpu="256",
        memory="512",
        container_definitions="[]",
        task_role_arn=role.arn,
        runtime_platform={"cpu_architecture": "ARM64", "operating_system_family": "LINUX"},
        tags={"role": "backup"},
    )
    api_td = aws.ecs.TaskDefinition(
        "api-td",
        family="api",
        cpu="512",
        memory="1024",
        container_definitions="[]",
        runtime_platform={"cpu_architecture": "ARM64", "operating_system_family": "LINUX"},
        tags={"role": "api"},
    )
    return backup_td, api_td


def _services_and_data(
    app_sg: aws.ec2.SecurityGroup,
    db_sg: aws.ec2.SecurityGroup,
    lb: aws.lb.LoadBalancer,
    tg: aws.lb.TargetGroup,
    backup_td: aws.ecs.TaskDefinition,
    api_td: aws.ecs.TaskDefinition,
) -> None:
    aws.ecs.Service(
        "api",
        cluster="c",
        desired_count=2,
        task_definition=api_td.arn,
        load_balancers=[{"target_group_arn": tg.arn, "container_name": "api", "container_port": 3801}],
        network_configuration={"subnets": ["s"], "security_groups": [app_sg.id]},
        tags={"role": "api"},
    )
    aws.scheduler.Schedule(
        "backup-daily",
        schedule_expression="cron(0 1 * * ? *)",
        flexible_time_window={"mode": "OFF"},
        target={
            "arn": "arn:aws:ecs:us-west-2:1:cluster/c",
            "role_arn": "arn:aws:iam::1:role/r",
            "ecs_parameters": {
                "task_definition_arn": backup_td.arn,
                "network_configuration": {"subnets": ["s"], "security_groups": [app_sg.id]},
            },
        },
    )
    aws.rds.Instance(
        "pg",
        engine="postgres",
        engine_version="15",
        instance_class="db.t4g.small",
        allocated_storage=20,
        storage_type="gp3",
        multi_az=True,
        vpc_security_group_ids=[db_sg.id],
    )
    cloudflare.DnsRecord(
        "api-record",
        zone_id="z1",
        name="api.example.com",
        type="CNAME",
        content=lb.dns_name,
        proxied=True,
        ttl=1,
    )


@pytest.fixture(scope="module")
def topology() -> Evaluation:
    evaluation = run_program(_topology, preview=True)
    assert evaluation.error is None, evaluation.error
    return evaluation


# --- diagram -----------------------------------------------------------------------------------------------


def test_diagram_connects_edge_alb_service_data_and_backups(topology: Evaluation) -> None:
    d = diagram.build(topology.resources)
    assert d.has_edge("client", "DNS api.example.com")
    assert d.has_edge("DNS api.example.com", "ALB alb")
    assert d.has_edge("ALB alb", "service api x2")
    assert d.has_edge("service api", "RDS postgres 15 db.t4g.small multi-AZ")
    assert d.has_edge("task backup", "RDS postgres")
    assert d.has_edge("task backup", "S3 backups (backups)")
    # no invented wiring: the API has no S3 grant, the ALB reaches no data store
    assert not d.has_edge("service api", "S3 backups")
    assert not d.has_edge("ALB alb", "RDS")
    assert not d.has_edge("ALB alb", "task backup")


def test_diagram_renders_mermaid_with_tiers(topology: Evaluation) -> None:
    text = diagram.mermaid(topology.resources)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    assert '  subgraph tier_data["data stores"]' in lines
    assert '    r_pg[("RDS postgres 15 db.t4g.small multi-AZ")]' in lines
    assert "  r_alb --> r_api" in lines


def test_diagram_without_wiring_has_no_edges() -> None:
    def program() -> None:
        aws.rds.Instance("lonely", engine="postgres", instance_class="db.t4g.micro", allocated_storage=20)
        aws.s3.Bucket("bucket")

    d = diagram.build(run_program(program, preview=True).resources)
    assert [n.label for n in d.nodes] == ["RDS postgres  db.t4g.micro".replace("  ", " "), "S3 bucket"]
    assert d.edges == []


# --- cost --------------------------------------------------------------------------------------------------


def _line(estimate: cost.CostEstimate, name: str) -> cost.CostLine:
    found = [line for line in estimate.lines if line.resource.name == name]
    assert len(found) == 1, [line.resource.name for line in estimate.lines]
    return found[0]


def test_cost_per_resource_follows_the_price_file(topology: Evaluation) -> None:
    book = cost.load_prices()
    p = book.get
    estimate = cost.estimate(topology.resources, plan="pro")
    api = _line(estimate, "api")
    assert api.monthly_usd == pytest.approx(
        2 * HOURS * (0.5 * (p("fargate.arm.vcpu_hour") or 0) + 1 * (p("fargate.arm.gb_hour") or 0))
    )
    pg = _line(estimate, "pg")
    assert pg.monthly_usd == pytest.approx(
        2 * HOURS * (p("rds.postgres.db.t4g.small") or 0) + 2 * 20 * (p("rds.gp3.gb_month") or 0)
    )
    alb = _line(estimate, "alb")
    lcu = book.assume("alb_average_lcu")
    assert alb.monthly_usd == pytest.approx(HOURS * (0.0225 + 0.008 * lcu + 2 * 0.005))
    assert _line(estimate, "pro").monthly_usd == 25
    backup = _line(estimate, "backup-daily")  # 30.4 daily runs x 10 min of 0.25 vCPU / 0.5 GB ARM
    runs = HOURS / 24
    assert backup.monthly_usd == pytest.approx(runs * 10 / 60 * (0.25 * 0.03238 + 0.5 * 0.00356))
    assert _line(estimate, "lb-sg").monthly_usd == 0.0
    assert estimate.total == pytest.approx(sum(line.monthly_usd or 0 for line in estimate.lines))
    assert estimate.unknown == []


def test_cost_spot_and_unknown_prices_are_explicit() -> None:
    def program() -> None:
        td = aws.ecs.TaskDefinition("w", family="w", cpu="256", memory="512", container_definitions="[]")
        aws.ecs.Service(
            "worker",
            cluster="c",
            desired_count=2,
            task_definition=td.arn,
            capacity_provider_strategies=[{"capacity_provider": "FARGATE_SPOT", "weight": 1}],
        )
        aws.rds.Instance("big", engine="postgres", instance_class="db.r7g.16xlarge", allocated_storage=20)
        aws.dynamodb.Table("q", hash_key="id", attributes=[{"name": "id", "type": "S"}])

    estimate = cost.estimate(run_program(program, preview=True).resources)
    worker = _line(estimate, "worker")
    # Fargate Spot at 70 % off on-demand (0.04048 / 0.004445 per vCPU- / GB-hour, Linux/x86).
    assert worker.monthly_usd == pytest.approx(2 * HOURS * 0.3 * (0.25 * 0.04048 + 0.5 * 0.004445))
    assert "Fargate Spot" in worker.detail
    unknown = {line.resource.name: line.missing for line in estimate.unknown}
    assert unknown == {"big": ["rds.postgres.db.r7g.16xlarge"], "q": ["type aws:dynamodb/table:Table"]}
    text = "\n".join(cost.cost_lines(estimate))
    assert "UNKNOWN (2 resources, not included in the total)" in text
    assert "big [aws:rds/instance:Instance]: missing rds.postgres.db.r7g.16xlarge" in text


def test_every_price_names_region_source_date_and_confidence() -> None:
    book = cost.load_prices()
    assert book.region == "us-west-2"
    tables = {**{r: t for r, t in book.regions.items()}, "global": book.global_prices}
    assert {"us-west-2", "us-east-2"} <= set(tables)  # the stacks' region and the backup copy region
    for region, table in tables.items():
        for price in table.values():
            assert price.region == region and price.retrieved, price.key
            if price.usd is None:
                assert price.confidence == "unknown", price.key
            else:
                assert price.source and price.source_region and price.unit, price.key
                assert price.confidence in ("high", "medium", "low"), price.key


@pytest.mark.parametrize(
    ("expression", "runs"),
    [
        ("cron(0 1 * * ? *)", 730 / 24),
        ("rate(1 hour)", 730),
        ("rate(2 days)", 730 / 48),
        ("cron(0 1 ? * MON *)", 730 / 24 / 7),  # weekly: one day in seven
        ("cron(0 1 ? * MON,THU *)", 730 / 24 * 2 / 7),
        ("cron(0 1 1 * ? *)", None),  # monthly (day-of-month): not understood
    ],
)
def test_schedule_runs_per_month(expression: str, runs: float | None) -> None:
    result = cost._runs_per_month(expression, 730)
    assert result == (pytest.approx(runs) if runs is not None else None)


# --- markdown and CLI --------------------------------------------------------------------------------------


def test_markdown_report_carries_every_section(topology: Evaluation) -> None:
    policy = report.Section("Policy verdicts", ["0 mandatory violations"])
    text = report.markdown(topology, "staging", "preview", policy=policy)
    titles = [line for line in text.splitlines() if line.startswith("## ")]
    assert titles == [
        "## Policy verdicts",
        "## Edge rules (as Cloudflare enforces them)",
        "## Topology",
        "## Estimated monthly cost",
        "## Estimated fresh-deploy time",
    ]
    folded = [line for line in text.splitlines() if line.startswith("<details><summary>")]
    assert [line.split(" (")[0] for line in folded if "more lines" not in line] == [
        "<details><summary>Resources",
        "<details><summary>Outputs</summary>",
    ]
    assert "```mermaid\nflowchart LR" in text
    assert "- 0 mandatory violations" in text


def test_cloudflare_plan_comes_from_the_stack_file() -> None:
    assert report.cloudflare_plan("staging") == "free"
    assert report.cloudflare_plan("production") == "pro"
    assert report.cloudflare_plan("nope") is None


def test_cli_markdown_and_tfplan_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, staging: Evaluation
) -> None:
    """The CLI's flags over the session's staging evaluation (the CLI evaluates the stack as evaluate does;
    the subprocess tests in test_preflight.py run it end to end); the pack is the CLI's own process."""

    def session_staging(stack: str, *, preview: bool) -> Evaluation:
        assert (stack, preview) == ("staging", True)
        return staging

    monkeypatch.setattr(cli, "evaluate", session_staging)
    plan = tmp_path / "staging.tfplan.json"
    assert main(["staging", "--format", "markdown", "--export-tfplan", str(plan)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# preflight `staging` (preview)")
    assert "## Estimated monthly cost" in out
    document = json.loads(plan.read_text())
    assert document["format_version"] == "1.2"
    assert isinstance(document["planned_values"]["root_module"]["resources"], list)


def test_cli_markdown_without_the_pack_is_the_report_itself(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, staging: Evaluation
) -> None:
    """What the CLI prints is report.markdown, byte for byte (tests/test_report_output.py compares
    report.markdown across processes)."""
    monkeypatch.setattr(cli, "evaluate", lambda stack, *, preview: staging)
    assert main(["staging", "--no-policy", "--format", "markdown"]) == 0
    assert capsys.readouterr().out == report.markdown(staging, "staging", "preview")


def test_cli_runs_several_stacks_in_one_process_each_as_it_would_alone(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    staging: Evaluation,
    production: Evaluation,
) -> None:
    evaluations = {"staging": staging, "production": production}
    monkeypatch.setattr(cli, "evaluate", lambda stack, *, preview: evaluations[stack])
    flags = ["--no-policy", "--format", "markdown", "--export-tfplan", str(tmp_path / "{stack}.tfplan.json")]
    assert main(["staging", "production", *flags]) == 0
    assert capsys.readouterr().out == report.markdown(staging, "staging", "preview") + report.markdown(
        production, "production", "preview"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["production.tfplan.json", "staging.tfplan.json"]


def test_cli_with_several_stacks_runs_the_good_ones_and_exits_with_the_first_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, staging: Evaluation
) -> None:
    monkeypatch.setattr(cli, "evaluate", lambda stack, *, preview: staging)
    assert main(["nope", "staging", "--no-policy"]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("preflight: nope: no stack file Pulumi.nope.yaml")
    assert captured.out.startswith("# preflight staging (preview)")


def test_cli_with_several_stacks_needs_the_stack_in_the_plan_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staging", "production", "--export-tfplan", "plan.json"]) == 2
    assert "--export-tfplan PATH must contain {stack}" in capsys.readouterr().err
