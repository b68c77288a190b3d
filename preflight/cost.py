"""Estimated monthly cost per resource and in total, from the recorded resources and a price file.

Prices live in ``preflight/data/prices.yaml``, one table per AWS region, each with its source and retrieval
date; a resource is priced from its own region (its explicit provider's, else the stack's ``aws:region``), and
a region without a table makes every AWS line UNKNOWN with a warning. Usage the program does not state (ALB
LCUs, NAT and cross-AZ traffic, log volume, S3 bytes and requests, KMS requests, Container Insights metrics)
comes from the same file's ``assumptions`` and is printed next to the lines it drives. A resource whose
price is not in the file is listed as UNKNOWN with the missing price key, never guessed; resources that
AWS/Cloudflare do not bill (VPCs, subnets, security groups, IAM, ...) cost 0 by rule (``FREE_TYPES``). Any
other type is UNKNOWN.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .model import UNKNOWN, RecordedResource

DATA_FILE = Path(__file__).resolve().parent / "data" / "prices.yaml"
# "By default, Amazon ECS tasks that are hosted on Fargate ... receive a minimum of 20 GiB of ephemeral
# storage" (Amazon ECS Developer Guide, "Fargate task ephemeral storage"); only what is configured beyond it
# is billed (https://aws.amazon.com/fargate/pricing/: "storage resources consumed").
FARGATE_FREE_STORAGE_GIB = 20

# Types that carry no charge of their own (their cost, if any, is billed on another resource's line).
FREE_TYPES = frozenset(
    {
        "aws:ec2/vpc:Vpc",
        "aws:ec2/subnet:Subnet",
        "aws:ec2/internetGateway:InternetGateway",
        "aws:ec2/routeTable:RouteTable",
        "aws:ec2/route:Route",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:ec2/securityGroup:SecurityGroup",
        "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
        "aws:ec2/flowLog:FlowLog",  # billed as log ingestion on its log group
        "aws:ec2/defaultNetworkAcl:DefaultNetworkAcl",
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:iam/policy:Policy",
        "aws:kms/alias:Alias",
        "aws:secretsmanager/secretVersion:SecretVersion",  # billed per secret
        "aws:rds/subnetGroup:SubnetGroup",
        "aws:rds/parameterGroup:ParameterGroup",
        "aws:elasticache/subnetGroup:SubnetGroup",
        "aws:elasticache/parameterGroup:ParameterGroup",
        "aws:lb/targetGroup:TargetGroup",
        "aws:lb/listener:Listener",
        "aws:lb/listenerRule:ListenerRule",
        "aws:acm/certificate:Certificate",  # public ACM certificates are free
        "aws:acm/certificateValidation:CertificateValidation",
        "aws:ecs/clusterCapacityProviders:ClusterCapacityProviders",
        "aws:ecs/taskDefinition:TaskDefinition",  # billed as Fargate time on its service / schedule
        "aws:appautoscaling/target:Target",
        "aws:appautoscaling/policy:Policy",
        "aws:cloudwatch/eventRule:EventRule",
        "aws:cloudwatch/eventTarget:EventTarget",
        "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
        "aws:cloudwatch/logMetricFilter:LogMetricFilter",  # the metric it emits is not an extra alarm
        "aws:sqs/queue:Queue",  # billed per request; a dead-letter queue stays within the free requests
        "aws:sqs/queuePolicy:QueuePolicy",
        "aws:sns/topic:Topic",
        "aws:sns/topicPolicy:TopicPolicy",
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketVersioningV2:BucketVersioningV2",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketLogging:BucketLogging",
        "aws:s3/bucketLoggingV2:BucketLoggingV2",
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "cloudflare:index/dnsRecord:DnsRecord",
        "cloudflare:index/ruleset:Ruleset",  # included in the zone's plan
        "cloudflare:index/zoneSetting:ZoneSetting",
        "random:index/randomPassword:RandomPassword",
        "random:index/randomBytes:RandomBytes",
        "random:index/randomId:RandomId",
        "random:index/randomString:RandomString",
        "docker:index/image:Image",  # build only; storage is billed on the registry
        "aws:ec2/launchTemplate:LaunchTemplate",  # billed as the instances its group runs
        "aws:iam/instanceProfile:InstanceProfile",
        "aws:ec2/networkInterface:NetworkInterface",  # a public IPv4 is billed on the instance line
        "aws:ec2/eipAssociation:EipAssociation",
        "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig",
    }
)


@dataclass(frozen=True)
class Price:
    key: str
    usd: float | None
    unit: str
    source: str | None
    source_region: str | None
    confidence: str
    region: str = ""  # the table it belongs to (an AWS region, or "global")
    retrieved: str = ""


@dataclass(frozen=True)
class PriceBook:
    hours: float
    regions: Mapping[str, Mapping[str, Price]]  # AWS region -> price key -> price
    global_prices: Mapping[str, Price]  # region-free (Cloudflare)
    assumptions: Mapping[str, Mapping[str, Any]]
    default_region: str = "us-west-2"  # only for programs evaluated without a stack file

    @property
    def region(self) -> str:
        return self.default_region

    def price(self, key: str, region: str | None = None) -> Price | None:
        if key in self.global_prices:
            return self.global_prices[key]
        return self.regions.get(region or self.default_region, {}).get(key)

    def get(self, key: str, region: str | None = None) -> float | None:
        price = self.price(key, region)
        return None if price is None else price.usd

    @property
    def prices(self) -> Mapping[str, Price]:
        """The default region's table plus the global prices."""
        return {**self.regions.get(self.default_region, {}), **self.global_prices}

    def assume(self, key: str) -> float:
        return float(self.assumptions[key]["value"])


def _price_table(entries: Mapping[str, Any], region: str) -> dict[str, Price]:
    return {
        key: Price(
            key,
            None if entry.get("usd") is None else float(entry["usd"]),
            str(entry.get("unit", "")),
            entry.get("source"),
            entry.get("source_region"),
            str(entry.get("confidence", "unknown")),
            region,
            str(entry.get("retrieved", "")),
        )
        for key, entry in entries.items()
    }


@cache
def load_prices(path: Path = DATA_FILE) -> PriceBook:
    raw = yaml.safe_load(path.read_text())
    regions = {name: _price_table(table["prices"], name) for name, table in raw["regions"].items()}
    return PriceBook(
        float(raw["hours_per_month"]),
        regions,
        _price_table(raw["global"]["prices"], "global"),
        raw["assumptions"],
    )


@dataclass
class CostLine:
    resource: RecordedResource
    monthly_usd: float | None  # None: unknown
    detail: str
    missing: list[str] = field(default_factory=list)  # price keys not in the price file
    price_keys: list[str] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    region: str = ""  # the price table the line was read from


@dataclass
class CostEstimate:
    lines: list[CostLine]
    book: PriceBook
    region: str = ""  # the stack's region
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> float:
        return sum(line.monthly_usd or 0.0 for line in self.lines)

    @property
    def unknown(self) -> list[CostLine]:
        return [line for line in self.lines if line.monthly_usd is None]

    @property
    def priced(self) -> list[CostLine]:
        return [line for line in self.lines if line.monthly_usd]

    def used_assumptions(self) -> list[str]:
        return sorted({a for line in self.lines for a in line.assumptions})

    def used_prices(self) -> list[Price]:
        used = sorted({(line.region, k) for line in self.lines for k in line.price_keys})
        found = [self.book.price(key, region) for region, key in used]
        unique = {(p.region, p.key): p for p in found if p is not None}
        return [unique[k] for k in sorted(unique)]


def _known(value: Any) -> bool:
    return value is not None and value != UNKNOWN


def _number(value: Any) -> float | None:
    if not _known(value):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class _Pricer:
    def __init__(
        self, resources: list[RecordedResource], book: PriceBook, plan: str | None, region: str
    ) -> None:
        self.resources = resources
        self.by_urn = {r.urn: r for r in resources}
        self.book = book
        self.plan = plan
        self.region = region
        # Explicit providers (e.g. the backup copy's second region): provider URN -> its region.
        self.provider_regions = {
            p.urn: str(p.inputs["region"])
            for p in resources
            if p.type == "pulumi:providers:aws" and isinstance(p.inputs.get("region"), str)
        }

    # --- helpers -------------------------------------------------------------------------------------------

    def region_of(self, r: RecordedResource) -> str:
        provider_urn = r.provider.rsplit("::", 1)[0] if r.provider else ""
        return self.provider_regions.get(provider_urn, self.region)

    def _line(self, r: RecordedResource, parts: list[tuple[str, float, str]], detail: str) -> CostLine:
        """parts: (price key, quantity per month, assumption key or "")."""
        region = self.region_of(r)
        keys = [key for key, _, _ in parts]
        assumptions = [a for _, _, a in parts if a]
        if region not in self.book.regions and any(k not in self.book.global_prices for k in keys):
            return CostLine(r, None, detail, [f"prices for region {region}"], keys, assumptions, region)
        missing = [key for key in keys if self.book.get(key, region) is None]
        if missing:
            return CostLine(r, None, detail, missing, keys, assumptions, region)
        total = sum((self.book.get(key, region) or 0.0) * qty for key, qty, _ in parts)
        return CostLine(r, total, detail, [], keys, assumptions, region)

    def _deps(self, r: RecordedResource, type_: str) -> list[RecordedResource]:
        urns = set(r.dependencies) | {u for us in r.property_dependencies.values() for u in us}
        return [self.by_urn[u] for u in sorted(urns) if u in self.by_urn and self.by_urn[u].type == type_]

    def _task_definition(self, r: RecordedResource) -> RecordedResource | None:
        found = self._deps(r, "aws:ecs/taskDefinition:TaskDefinition")
        return found[0] if found else None

    def _fargate_parts(
        self, task: RecordedResource, spot: bool, hours: float
    ) -> list[tuple[str, float, str]]:
        cpu = _number(task.inputs.get("cpu"))
        memory = _number(task.inputs.get("memory"))
        platform = task.inputs.get("runtimePlatform")
        arch = platform.get("cpuArchitecture") if isinstance(platform, dict) else None
        family = "arm" if arch == "ARM64" else "x86"
        kind = "fargate_spot" if spot else "fargate"
        if cpu is None or memory is None:
            return [(f"{kind}.{family}.task_size_unknown", 0.0, "")]
        parts = [
            (f"{kind}.{family}.vcpu_hour", cpu / 1024 * hours, ""),
            (f"{kind}.{family}.gb_hour", memory / 1024 * hours, ""),
        ]
        # Ephemeral storage beyond the 20 GiB every task gets is billed per GB-hour.
        storage = task.inputs.get("ephemeralStorage")
        size = _number(storage.get("sizeInGib")) if isinstance(storage, dict) else None
        if size is not None and size > FARGATE_FREE_STORAGE_GIB:
            parts.append(("fargate.ephemeral_storage.gb_hour", (size - FARGATE_FREE_STORAGE_GIB) * hours, ""))
        return parts

    # --- per type ------------------------------------------------------------------------------------------

    def ecs_service(self, r: RecordedResource) -> CostLine:
        task = self._task_definition(r)
        count = _number(r.inputs.get("desiredCount"))
        count = 1.0 if count is None else count
        name = r.inputs.get("name")
        for target in (x for x in self.resources if x.type == "aws:appautoscaling/target:Target"):
            resource_id = target.inputs.get("resourceId")
            if isinstance(name, str) and isinstance(resource_id, str) and resource_id.endswith(f"/{name}"):
                count = max(count, _number(target.inputs.get("minCapacity")) or 0.0)
        strategies = r.inputs.get("capacityProviderStrategies")
        providers = (
            {s.get("capacityProvider") for s in strategies if isinstance(s, dict)}
            if isinstance(strategies, list)
            else set()
        )
        spot = providers == {"FARGATE_SPOT"}
        if task is None:
            return CostLine(r, None, "task definition not found", ["fargate.task_definition"])
        parts = self._fargate_parts(task, spot, count * self.book.hours)
        cpu, memory = task.inputs.get("cpu"), task.inputs.get("memory")
        detail = (
            f"{count:g} task(s) x {cpu} CPU units / {memory} MiB, {'Fargate Spot' if spot else 'Fargate'}"
        )
        if "FARGATE_SPOT" in providers and not spot:
            detail += " (mixed on-demand/Spot strategy priced as on-demand)"
        network = r.inputs.get("networkConfiguration")
        if isinstance(network, dict) and network.get("assignPublicIp") is True:
            parts.append(("public_ipv4.hour", count * self.book.hours, ""))
            detail += ", public IPv4 per task"
        return self._line(r, parts, detail)

    def schedule(self, r: RecordedResource) -> CostLine | None:
        task = self._task_definition(r)
        if task is None:
            return None
        runs = _runs_per_month(r.inputs.get("scheduleExpression"), self.book.hours)
        minutes = self.book.assume("scheduled_task_minutes_per_run")
        hours = runs * minutes / 60 if runs is not None else None
        if hours is None:
            return CostLine(r, None, "schedule expression not understood", ["schedule.runs_per_month"])
        parts = [
            (k, q, "scheduled_task_minutes_per_run") for k, q, _ in self._fargate_parts(task, False, hours)
        ]
        detail = f"{runs:.0f} run(s)/month x {minutes:g} min of {task.inputs.get('cpu')} CPU units Fargate"
        return self._line(r, parts, detail)

    def rds(self, r: RecordedResource) -> CostLine:
        klass = r.inputs.get("instanceClass")
        engine = r.inputs.get("engine", "postgres")
        multi = r.inputs.get("multiAz") is True
        factor = (self.book.get("rds.multi_az_factor") or 2.0) if multi else 1.0
        storage = _number(r.inputs.get("allocatedStorage")) or 0.0
        storage_type = r.inputs.get("storageType", "gp2")
        storage_type = storage_type if _known(storage_type) else "gp3"
        parts = [
            (f"rds.{engine}.{klass}", factor * self.book.hours, ""),
            (f"rds.{storage_type}.gb_month", factor * storage, ""),
        ]
        keys = ["rds.multi_az_factor"] if multi else []
        line = self._line(
            r, parts, f"{klass} {'Multi-AZ' if multi else 'single-AZ'}, {storage:g} GB {storage_type}"
        )
        line.price_keys += keys
        return line

    def elasticache(self, r: RecordedResource) -> CostLine:
        node = r.inputs.get("nodeType")
        nodes = _number(r.inputs.get("numCacheClusters"))
        if nodes is None:
            groups = _number(r.inputs.get("numNodeGroups")) or 1.0
            replicas = _number(r.inputs.get("replicasPerNodeGroup")) or 0.0
            nodes = groups * (replicas + 1)
        return self._line(r, [(f"elasticache.{node}", nodes * self.book.hours, "")], f"{nodes:g} x {node}")

    def nat(self, r: RecordedResource) -> CostLine:
        if r.inputs.get("connectivityType") == "private":
            return self._line(r, [("nat.hour", self.book.hours, "")], "private NAT gateway")
        gateways = sum(
            1
            for x in self.resources
            if x.type == "aws:ec2/natGateway:NatGateway" and x.inputs.get("connectivityType") != "private"
        )
        gb = self.book.assume("nat_processed_gb_per_month") / max(gateways, 1)
        parts = [("nat.hour", self.book.hours, ""), ("nat.gb", gb, "nat_processed_gb_per_month")]
        return self._line(r, parts, f"NAT gateway + {gb:.3g} GB processed (public IPv4 on its EIP)")

    def eip(self, r: RecordedResource) -> CostLine:
        return self._line(r, [("public_ipv4.hour", self.book.hours, "")], "public IPv4 address")

    def lb(self, r: RecordedResource) -> CostLine:
        lcu = self.book.assume("alb_average_lcu")
        parts = [
            ("alb.hour", self.book.hours, ""),
            ("alb.lcu_hour", lcu * self.book.hours, "alb_average_lcu"),
        ]
        detail = f"ALB + {lcu:g} LCU"
        if r.inputs.get("internal") is not True:
            subnets = r.inputs.get("subnets")
            mappings = r.inputs.get("subnetMappings")
            azs = (
                len(subnets)
                if isinstance(subnets, list)
                else len(mappings)
                if isinstance(mappings, list)
                else 0
            )
            if azs == 0:
                azs = len(r.property_dependencies.get("subnets", [])) or 2
            parts.append(("public_ipv4.hour", azs * self.book.hours, ""))
            detail += f" + {azs} public IPv4 (one per AZ)"
        if r.inputs.get("loadBalancerType") not in (None, UNKNOWN, "application"):
            return CostLine(r, None, detail, [f"lb.{r.inputs.get('loadBalancerType')}"])
        return self._line(r, parts, detail)

    def vpc_endpoint(self, r: RecordedResource) -> CostLine:
        if r.inputs.get("vpcEndpointType", "Gateway") != "Interface":
            return CostLine(r, 0.0, "gateway endpoint (free)")
        subnets = r.inputs.get("subnetIds")
        azs = len(subnets) if isinstance(subnets, list) else 1
        parts = [("vpc_endpoint.interface.hour", azs * self.book.hours, "")]
        return self._line(r, parts, f"interface endpoint in {azs} AZ(s)")

    def log_group(self, r: RecordedResource) -> CostLine:
        gb = self.book.assume("log_ingest_gb_per_group")
        days = _number(r.inputs.get("retentionInDays"))
        stored = gb * min(days / 30, 120) if days else gb * 120  # never-expire: ~10 years of a month's logs
        parts = [
            ("cloudwatch.logs_ingest_gb", gb, "log_ingest_gb_per_group"),
            ("cloudwatch.logs_storage_gb_month", stored, "log_ingest_gb_per_group"),
        ]
        return self._line(
            r,
            parts,
            f"{gb:g} GB/month ingested, ~{stored:.2g} GB kept ({f'{days:g} d' if days else 'no expiry'})",
        )

    def alarm(self, r: RecordedResource) -> CostLine:
        period = _number(r.inputs.get("period"))
        if period is not None and period < 60:
            return CostLine(r, None, "high-resolution alarm", ["cloudwatch.alarm_month.high_resolution"])
        queries = r.inputs.get("metricQueries")
        metrics = (
            sum(1 for q in queries if isinstance(q, dict) and q.get("metric"))
            if isinstance(queries, list)
            else 1
        )
        return self._line(
            r,
            [("cloudwatch.alarm_metric_month", metrics, "")],
            f"standard-resolution alarm on {metrics} metric(s)",
        )

    def bucket(self, r: RecordedResource) -> CostLine:
        tags = r.inputs.get("tags") if isinstance(r.inputs.get("tags"), dict) else {}
        purpose = (tags or {}).get("purpose", "")
        by_purpose = self.book.assumptions["s3_stored_gb"].get("by_purpose", {})
        gb = float(by_purpose.get(purpose, self.book.assume("s3_stored_gb")))
        requests = self.book.assume("s3_requests_per_bucket") / 1000
        parts = [
            ("s3.standard.gb_month", gb, "s3_stored_gb"),
            ("s3.put_request_1000", requests, "s3_requests_per_bucket"),
            ("s3.get_request_1000", requests, "s3_requests_per_bucket"),
        ]
        return self._line(r, parts, f"{gb:g} GB Standard + requests ({purpose or 'untagged'})")

    def replication(self, r: RecordedResource) -> CostLine:
        gb = self.book.assume("replicated_gb_per_month")
        parts = [("transfer.inter_region.gb", gb, "replicated_gb_per_month")]
        return self._line(r, parts, f"{gb:g} GB/month copied to another region")

    def cluster(self, r: RecordedResource) -> CostLine:
        settings = r.inputs.get("settings")
        mode = next(
            (
                s.get("value")
                for s in (settings if isinstance(settings, list) else [])
                if isinstance(s, dict) and s.get("name") == "containerInsights"
            ),
            "disabled",
        )
        if mode == "disabled":
            return CostLine(r, 0.0, "Container Insights off (AWS/ECS service metrics are free)")
        if mode != "enabled":
            return CostLine(r, None, f"Container Insights {mode}", [f"cloudwatch.container_insights.{mode}"])
        per = self.book.assumptions["container_insights_metrics"]["per_level"]
        services = sum(1 for x in self.resources if x.type == "aws:ecs/service:Service")
        families = len(
            {
                str(x.inputs.get("family"))
                for x in self.resources
                if x.type == "aws:ecs/taskDefinition:TaskDefinition"
            }
        )
        metrics = per["cluster"] + services * per["service"] + families * per["task_family"]
        parts = [("cloudwatch.custom_metric_month", metrics, "container_insights_metrics")]
        detail = (
            f"Container Insights: {metrics} custom metrics "
            f"(1 cluster, {services} services, {families} task families)"
        )
        return self._line(r, parts, detail)

    def instance_parts(
        self, instance_type: Any, count: float, public_ip: bool, root_gb: float | None = None
    ) -> list[tuple[str, float, str]]:
        """Instance-hours, the gp3 root volume (its size, else the AMI's assumed size), a public IPv4."""
        volume = ("ebs.gp3.gb_month", count * (root_gb or 0.0), "")
        if root_gb is None:
            volume = (
                "ebs.gp3.gb_month",
                count * self.book.assume("nat_instance_root_gb"),
                "nat_instance_root_gb",
            )
        parts = [(f"ec2.{instance_type}.hour", count * self.book.hours, ""), volume]
        if public_ip:
            parts.append(("public_ipv4.hour", count * self.book.hours, ""))
        return parts

    def autoscaling_group(self, r: RecordedResource) -> CostLine:
        templates = self._deps(r, "aws:ec2/launchTemplate:LaunchTemplate")
        if not templates:
            return CostLine(r, None, "launch template not found", ["ec2.launch_template"])
        template = templates[0]
        count = _number(r.inputs.get("desiredCapacity")) or _number(r.inputs.get("minSize")) or 0.0
        interfaces = template.inputs.get("networkInterfaces")
        public_ip = isinstance(interfaces, list) and any(
            isinstance(i, dict) and i.get("associatePublicIpAddress") in (True, "true") for i in interfaces
        )
        kind = template.inputs.get("instanceType")
        parts = self.instance_parts(kind, count, public_ip)
        detail = f"{count:g} x {kind} + root volume" + (" + public IPv4" if public_ip else "")
        return self._line(r, parts, detail)

    def instance(self, r: RecordedResource) -> CostLine:
        kind = r.inputs.get("instanceType")
        public_ip = r.inputs.get("associatePublicIpAddress") is True
        root = r.inputs.get("rootBlockDevice")
        gb = _number(root.get("volumeSize")) if isinstance(root, dict) else None
        parts = self.instance_parts(kind, 1, public_ip, gb)
        return self._line(r, parts, f"1 x {kind} + root volume" + (" + public IPv4" if public_ip else ""))

    def data_transfer(self, r: RecordedResource) -> CostLine:
        inter_az = self.book.assume("inter_az_gb_per_month")
        egress = self.book.assume("internet_egress_gb_per_month")
        parts = [
            (
                "transfer.inter_az.gb",
                2 * inter_az,
                "inter_az_gb_per_month",
            ),  # billed out of one AZ, into the other
            ("transfer.internet_out.gb", egress, "internet_egress_gb_per_month"),
        ]
        return self._line(
            r, parts, f"{inter_az:g} GB across AZs (both directions) + {egress:g} GB to the internet"
        )

    def simple(self, r: RecordedResource, key: str, detail: str) -> CostLine:
        return self._line(r, [(key, 1, "")], detail)

    def price(self, r: RecordedResource) -> CostLine | None:
        t = r.type
        if t in FREE_TYPES:
            return CostLine(r, 0.0, "no charge of its own")
        if t.startswith("pulumi:providers:"):
            return None
        if t.startswith(("docker:", "docker-build:")):
            return CostLine(r, 0.0, "local Docker resource (no cloud charge)")
        handlers = {
            "aws:ecs/service:Service": self.ecs_service,
            "aws:rds/instance:Instance": self.rds,
            "aws:elasticache/replicationGroup:ReplicationGroup": self.elasticache,
            "aws:ec2/natGateway:NatGateway": self.nat,
            "aws:ec2/eip:Eip": self.eip,
            "aws:lb/loadBalancer:LoadBalancer": self.lb,
            "aws:ec2/vpcEndpoint:VpcEndpoint": self.vpc_endpoint,
            "aws:cloudwatch/logGroup:LogGroup": self.log_group,
            "aws:cloudwatch/metricAlarm:MetricAlarm": self.alarm,
            "aws:s3/bucket:Bucket": self.bucket,
            "aws:s3/bucketV2:BucketV2": self.bucket,
            "aws:s3/bucketReplicationConfig:BucketReplicationConfig": self.replication,
            "aws:ecs/cluster:Cluster": self.cluster,
            "aws:autoscaling/group:Group": self.autoscaling_group,
            "aws:ec2/instance:Instance": self.instance,
            "aws:data-transfer": self.data_transfer,
        }
        if t in handlers:
            return handlers[t](r)
        if t == "aws:scheduler/schedule:Schedule":
            return self.schedule(r) or CostLine(r, 0.0, "no ECS task target")
        if t in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
            requests = self.book.assume("kms_requests_per_key") / 10000
            parts = [("kms.key_month", 1, ""), ("kms.request_10000", requests, "kms_requests_per_key")]
            return self._line(r, parts, "customer managed KMS key + requests")
        if t == "aws:secretsmanager/secret:Secret":
            calls = self.book.assume("secrets_api_calls_per_secret") / 10000
            parts = [
                ("secretsmanager.secret_month", 1, ""),
                ("secretsmanager.api_10000", calls, "secrets_api_calls_per_secret"),
            ]
            return self._line(r, parts, "secret + API calls")
        if t == "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared":
            return self.simple(r, "cloudflare.tunnel", "Cloudflare Tunnel")
        if t == "aws:ecr/repository:Repository":
            gb = self.book.assume("ecr_stored_gb")
            return self._line(r, [("ecr.gb_month", gb, "ecr_stored_gb")], f"{gb:g} GB of images")
        return CostLine(r, None, "type not in the price model", [f"type {t}"])


_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")


def _runs_per_month(expression: Any, hours: float) -> float | None:
    """Runs per month of an EventBridge schedule expression (rate/cron with daily-or-finer patterns)."""
    if not isinstance(expression, str):
        return None
    days = hours / 24
    rate = _RATE.match(expression.strip())
    if rate:
        n, unit = int(rate.group(1)), rate.group(2).rstrip("s")
        per_day = {"minute": 1440 / n, "hour": 24 / n, "day": 1 / n}[unit]
        return per_day * days
    cron = _CRON.match(expression.strip())
    if cron:
        fields = cron.group(1).split()
        if len(fields) != 6:
            return None
        minute, hour, dom, _month, dow, _year = fields
        weekdays = 7
        if dom in ("*", "?") and re.fullmatch(r"[A-Za-z0-9]+(,[A-Za-z0-9]+)*", dow):
            weekdays = len(dow.split(","))  # e.g. SUN or MON,THU: that share of the days
        elif dom not in ("*", "?") or dow not in ("*", "?"):
            return None
        counts = []
        for value, span in ((minute, 60), (hour, 24)):
            if value == "*":
                counts.append(span)
            elif re.fullmatch(r"\d+(,\d+)*", value):
                counts.append(len(value.split(",")))
            else:
                return None
        return counts[0] * counts[1] * days * weekdays / 7
    return None


def estimate(
    resources: Iterable[RecordedResource],
    *,
    plan: str | None = None,
    book: PriceBook | None = None,
    region: str | None = None,
) -> CostEstimate:
    """Cost lines for every custom resource, the stack's data transfer, and the Cloudflare zone plan when
    ``plan`` is given. ``region`` is the stack's ``aws:region`` (programs without a stack file: the book's
    default region)."""
    book = book or load_prices()
    region = region or book.default_region
    items = [r for r in resources if r.custom]
    pricer = _Pricer(items, book, plan, region)
    lines = [line for r in items if (line := pricer.price(r)) is not None]
    if any(r.type.startswith("aws:") for r in items):
        lines.append(
            pricer.price(_synthetic("aws:data-transfer", "data-transfer"))
            or CostLine(_synthetic("aws:data-transfer", "data-transfer"), None, "", ["data transfer"])
        )
    if plan and any(r.type.startswith("cloudflare:") for r in items):
        zone = _synthetic("cloudflare:zone-plan", plan)
        lines.append(pricer.simple(zone, f"cloudflare.plan.{plan}", f"Cloudflare {plan} plan (one zone)"))
    warnings = []
    if any(r.type.startswith("aws:") for r in items) and region not in book.regions:
        warnings.append(
            f"region {region} has no price table in preflight/data/prices.yaml (priced: "
            f"{', '.join(sorted(book.regions))}): its AWS lines are UNKNOWN, not another region's prices"
        )
    return CostEstimate(lines, book, region, warnings)


def _synthetic(type_: str, name: str) -> RecordedResource:
    """A line that belongs to no one resource (the stack's data transfer, the Cloudflare zone plan)."""
    return RecordedResource(urn=f"{type_}:{name}", type=type_, name=name, custom=True, parent=None, inputs={})


def _usd(value: float) -> str:
    return f"${value:,.2f}"


def cost_lines(result: CostEstimate) -> list[str]:
    """Plain-text report: priced lines (largest first), total, unknowns, assumptions and price sources."""
    priced = sorted(result.priced, key=lambda line: -(line.monthly_usd or 0.0))
    width = max((len(line.resource.name) for line in priced), default=10)
    out = [
        f"{_usd(line.monthly_usd or 0.0):>10}  {line.resource.name.ljust(width)}  {line.detail}"
        for line in priced
    ]
    free = sum(1 for line in result.lines if line.monthly_usd == 0.0)
    out.append(f"{_usd(result.total):>10}  total per month ({len(priced)} priced, {free} without charge)")
    out += [f"WARNING: {w}" for w in result.warnings]
    if result.unknown:
        out.append(f"UNKNOWN ({len(result.unknown)} resources, not included in the total):")
        out += [
            f"  {line.resource.name} [{line.resource.type}]: missing {', '.join(line.missing)}"
            for line in result.unknown
        ]
    used = result.used_assumptions()
    if used:
        out.append("usage assumptions:")
        for key in used:
            a = result.book.assumptions[key]
            out.append(f"  {key} = {a['value']} {a['unit']} ({a['why']})")
    out.append(f"prices for {result.region} (preflight/data/prices.yaml; table, key, rate, source, date):")
    for p in result.used_prices():
        quoted = "" if p.source_region in (p.region, "all", "global") else f", quoted for {p.source_region}"
        flag = "" if p.confidence == "high" else f", {p.confidence} confidence"
        out.append(f"  [{p.region}] {p.key} = {p.usd} per {p.unit} [{p.retrieved}{quoted}{flag}] {p.source}")
    return out
