"""Mock answers for the offline engine: realistic computed outputs per resource type, and invokes.

In *up* mode a resource answers with its inputs plus the properties the provider would compute (ARNs,
ids, endpoints, DNS names, URLs). In *preview* mode it answers with its inputs only, so computed
properties are unknown to the program, exactly as during ``pulumi preview`` of a new stack.

An invoke without an answer here is an error naming its token (never a silent ``{}``): add one below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import pulumi

ACCOUNT_ID = "123456789012"
DEFAULT_REGION = "us-west-2"

# Cloudflare's published ranges (https://www.cloudflare.com/ips/), as the getIpRanges invoke returns them.
CLOUDFLARE_IPV4 = [
    "173.245.48.0/20",
    "103.21.244.0/22",
    "103.22.200.0/22",
    "103.31.4.0/22",
    "141.101.64.0/18",
    "108.162.192.0/18",
    "190.93.240.0/20",
    "188.114.96.0/20",
    "197.234.240.0/22",
    "198.41.128.0/17",
    "162.158.0.0/15",
    "104.16.0.0/13",
    "104.24.0.0/14",
    "172.64.0.0/13",
    "131.0.72.0/22",
]
CLOUDFLARE_IPV6 = [
    "2400:cb00::/32",
    "2606:4700::/32",
    "2803:f800::/32",
    "2405:b500::/32",
    "2405:8100::/32",
    "2a06:98c0::/29",
    "2c0f:f248::/32",
]
# ELB account ids that write ALB access logs, per region (AWS docs, "Enable access logs").
ELB_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "eu-west-1": "156460612806",
    "eu-central-1": "054676820928",
}


def _h(*parts: str, n: int = 8) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:n]


def _physical_name(name: str, inputs: dict[str, Any], key: str = "name") -> str:
    value = inputs.get(key)
    if isinstance(value, str) and value:
        return value
    prefix = inputs.get(f"{key}Prefix")
    if isinstance(prefix, str) and prefix:
        return prefix + _h(name, n=12)
    return f"{name}-{_h(name, n=7)}"


class SaasMocks(pulumi.runtime.Mocks):
    """Realistic provider answers. ``preview=True`` leaves computed properties unknown."""

    def __init__(self, preview: bool, region: str = DEFAULT_REGION) -> None:
        self.preview = preview
        self.region = region

    # -- resources ------------------------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        inputs = dict(args.inputs)
        if self.preview:
            # A new resource's id and computed outputs are not known during preview.
            return "", inputs
        computed = self.computed(args.typ, args.name, inputs)
        resource_id = computed.pop("id", None) or f"{args.name}-{_h(args.typ, args.name)}"
        return resource_id, {**computed, **inputs}

    def computed(self, typ: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
        region = inputs.get("region") if isinstance(inputs.get("region"), str) else self.region
        if typ.startswith("aws:"):
            return _aws_outputs(typ, name, inputs, str(region))
        fn = _OTHER_OUTPUTS.get(typ)
        return fn(name, inputs) if fn else {}

    # -- invokes --------------------------------------------------------------------------------------
    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]]]:
        answer = INVOKES.get(args.token)
        if answer is None:
            raise PreflightInvokeError(
                f"preflight has no mock answer for invoke {args.token}; add one to preflight/mocks.py INVOKES"
            )
        return answer(self, dict(args.args)), []


class PreflightInvokeError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------------
# AWS computed outputs


def _aws_outputs(typ: str, name: str, inputs: dict[str, Any], region: str) -> dict[str, Any]:
    module, _, kind = typ.removeprefix("aws:").partition(":")
    service = module.split("/")[0]
    phys = _physical_name(name, inputs)
    out: dict[str, Any] = {
        "arn": f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{kind.lower()}/{phys}",
        "tagsAll": inputs.get("tags") or {},
    }
    special = _AWS_SPECIAL.get(typ)
    if special:
        out.update(special(name, inputs, region, phys))
    return out


def _vpc(name: str, i: dict, region: str, phys: str) -> dict:
    vid = f"vpc-{_h(name, n=17)}"
    return {
        "id": vid,
        "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:vpc/{vid}",
        "defaultSecurityGroupId": f"sg-{_h(name, 'default', n=17)}",
        "mainRouteTableId": f"rtb-{_h(name, 'main', n=17)}",
        "ownerId": ACCOUNT_ID,
    }


def _ec2_id(prefix: str, kind: str) -> Callable[[str, dict, str, str], dict]:
    def make(name: str, i: dict, region: str, phys: str) -> dict:
        rid = f"{prefix}-{_h(name, n=17)}"
        return {"id": rid, "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:{kind}/{rid}", "ownerId": ACCOUNT_ID}

    return make


def _eip(name: str, i: dict, region: str, phys: str) -> dict:
    n = int(_h(name, n=4), 16)
    return {"id": f"eipalloc-{_h(name, n=17)}", "publicIp": f"52.{n % 256}.{(n >> 8) % 256}.10"}


def _ec2_instance(name: str, i: dict, region: str, phys: str) -> dict:
    iid = f"i-{_h(name, n=17)}"
    n = int(_h(name, n=4), 16)
    return {
        "id": iid,
        "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:instance/{iid}",
        "primaryNetworkInterfaceId": f"eni-{_h(name, 'eni', n=17)}",
        "privateIp": f"10.{n % 256}.{(n >> 8) % 32 + 224}.10",
        "instanceState": "running",
    }


def _rds(name: str, i: dict, region: str, phys: str) -> dict:
    ident = i.get("identifier") or phys
    address = f"{ident}.c{_h(name, n=11)}.{region}.rds.amazonaws.com"
    return {
        "id": f"db-{_h(name, n=26).upper()}",
        "identifier": ident,
        "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:db:{ident}",
        "address": address,
        "endpoint": f"{address}:5432",
        "port": 5432,
        "resourceId": f"db-{_h(name, 'rid', n=26).upper()}",
        "hostedZoneId": "Z1PVIF0B656C1W",
    }


def _rds_named(kind: str) -> Callable[[str, dict, str, str], dict]:
    def make(name: str, i: dict, region: str, phys: str) -> dict:
        return {"id": phys, "name": phys, "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:{kind}:{phys}"}

    return make


def _redis(name: str, i: dict, region: str, phys: str) -> dict:
    rg = i.get("replicationGroupId") or phys
    base = f"{rg}.{_h(name, n=6)}.usw2.cache.amazonaws.com"
    return {
        "id": rg,
        "arn": f"arn:aws:elasticache:{region}:{ACCOUNT_ID}:replicationgroup:{rg}",
        "primaryEndpointAddress": f"master.{base}",
        "readerEndpointAddress": f"replica.{base}",
        "memberClusters": [f"{rg}-00{n + 1}" for n in range(int(i.get("numCacheClusters") or 1))],
    }


def _elasticache_named(kind: str) -> Callable[[str, dict, str, str], dict]:
    def make(name: str, i: dict, region: str, phys: str) -> dict:
        return {"id": phys, "name": phys, "arn": f"arn:aws:elasticache:{region}:{ACCOUNT_ID}:{kind}:{phys}"}

    return make


def _lb(name: str, i: dict, region: str, phys: str) -> dict:
    suffix = f"app/{phys}/{_h(name, n=16)}"
    return {
        "id": f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:loadbalancer/{suffix}",
        "arn": f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:loadbalancer/{suffix}",
        "arnSuffix": suffix,
        "dnsName": f"{phys}-{int(_h(name, n=8), 16) % 10**10}.{region}.elb.amazonaws.com",
        "zoneId": "Z1H1FL5HABSF5",
    }


def _tg(name: str, i: dict, region: str, phys: str) -> dict:
    suffix = f"targetgroup/{phys[:32]}/{_h(name, n=16)}"
    arn = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:{suffix}"
    return {"id": arn, "arn": arn, "arnSuffix": suffix, "name": phys}


def _listener(name: str, i: dict, region: str, phys: str) -> dict:
    arn = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:listener/app/{_h(name, n=16)}"
    return {"id": arn, "arn": arn}


def _ecr(name: str, i: dict, region: str, phys: str) -> dict:
    return {
        "id": phys,
        "name": phys,
        "arn": f"arn:aws:ecr:{region}:{ACCOUNT_ID}:repository/{phys}",
        "repositoryUrl": f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{phys}",
        "registryId": ACCOUNT_ID,
    }


def _ecs_cluster(name: str, i: dict, region: str, phys: str) -> dict:
    arn = f"arn:aws:ecs:{region}:{ACCOUNT_ID}:cluster/{phys}"
    return {"id": arn, "arn": arn, "name": phys}


def _ecs_service(name: str, i: dict, region: str, phys: str) -> dict:
    arn = f"arn:aws:ecs:{region}:{ACCOUNT_ID}:service/{phys}"
    return {"id": arn, "name": phys}


def _task_def(name: str, i: dict, region: str, phys: str) -> dict:
    family = i.get("family") or phys
    arn = f"arn:aws:ecs:{region}:{ACCOUNT_ID}:task-definition/{family}"
    return {"id": family, "arn": f"{arn}:1", "arnWithoutRevision": arn, "revision": 1, "family": family}


def _iam_role(name: str, i: dict, region: str, phys: str) -> dict:
    path = i.get("path") or "/"
    return {
        "id": phys,
        "name": phys,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:role{path}{phys}",
        "uniqueId": f"AROA{_h(name, n=17).upper()}",
    }


def _iam_policy(name: str, i: dict, region: str, phys: str) -> dict:
    arn = f"arn:aws:iam::{ACCOUNT_ID}:policy/{phys}"
    return {"id": arn, "arn": arn, "name": phys, "policyId": f"ANPA{_h(name, n=17).upper()}"}


def _kms(name: str, i: dict, region: str, phys: str) -> dict:
    key_id = "-".join(_h(name, p, n=n) for p, n in (("a", 8), ("b", 4), ("c", 4), ("d", 4), ("e", 12)))
    return {"id": key_id, "keyId": key_id, "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}"}


def _kms_alias(name: str, i: dict, region: str, phys: str) -> dict:
    return {
        "id": phys,
        "arn": f"arn:aws:kms:{region}:{ACCOUNT_ID}:{phys}",
        "targetKeyArn": i.get("targetKeyId"),
    }


def _secret(name: str, i: dict, region: str, phys: str) -> dict:
    arn = f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{phys}-{_h(name, n=6)}"
    return {"id": arn, "arn": arn, "name": phys}


def _secret_version(name: str, i: dict, region: str, phys: str) -> dict:
    return {
        "id": f"{i.get('secretId')}|{_h(name, n=32)}",
        "versionId": _h(name, n=32),
        "arn": i.get("secretId"),
    }


def _bucket(name: str, i: dict, region: str, phys: str) -> dict:
    bucket = _physical_name(name, i, "bucket")
    return {
        "id": bucket,
        "bucket": bucket,
        "arn": f"arn:aws:s3:::{bucket}",
        "bucketDomainName": f"{bucket}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{bucket}.s3.{region}.amazonaws.com",
        "region": region,
        "hostedZoneId": "Z3BJ6K6RIION7M",
    }


def _log_group(name: str, i: dict, region: str, phys: str) -> dict:
    return {"id": phys, "name": phys, "arn": f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{phys}"}


def _sns(name: str, i: dict, region: str, phys: str) -> dict:
    arn = f"arn:aws:sns:{region}:{ACCOUNT_ID}:{phys}"
    return {"id": arn, "arn": arn, "name": phys}


def _acm(name: str, i: dict, region: str, phys: str) -> dict:
    domain = str(i.get("domainName") or "example.com")
    names = [domain, *list(i.get("subjectAlternativeNames") or [])]
    arn = f"arn:aws:acm:{region}:{ACCOUNT_ID}:certificate/{_h(name, n=8)}-{_h(name, 'c', n=4)}"
    return {
        "id": arn,
        "arn": arn,
        "status": "ISSUED",
        "domainValidationOptions": [
            {
                "domainName": d,
                "resourceRecordName": f"_{_h(d, n=32)}.{d}.",
                "resourceRecordType": "CNAME",
                "resourceRecordValue": f"_{_h(d, 'v', n=32)}.zfyfvmchrl.acm-validations.aws.",
            }
            for d in names
        ],
    }


def _alarm(name: str, i: dict, region: str, phys: str) -> dict:
    return {"id": phys, "arn": f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{phys}"}


def _schedule(name: str, i: dict, region: str, phys: str) -> dict:
    group = i.get("groupName") or "default"
    return {
        "id": f"{group}/{phys}",
        "arn": f"arn:aws:scheduler:{region}:{ACCOUNT_ID}:schedule/{group}/{phys}",
    }


def _sqs(name: str, i: dict, region: str, phys: str) -> dict:
    url = f"https://sqs.{region}.amazonaws.com/{ACCOUNT_ID}/{phys}"
    return {"id": url, "url": url, "name": phys, "arn": f"arn:aws:sqs:{region}:{ACCOUNT_ID}:{phys}"}


def _event_rule(name: str, i: dict, region: str, phys: str) -> dict:
    return {"id": phys, "name": phys, "arn": f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{phys}"}


def _flow_log(name: str, i: dict, region: str, phys: str) -> dict:
    fid = f"fl-{_h(name, n=17)}"
    return {"id": fid, "arn": f"arn:aws:ec2:{region}:{ACCOUNT_ID}:vpc-flow-log/{fid}"}


_AWS_SPECIAL: dict[str, Callable[[str, dict, str, str], dict]] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _ec2_id("subnet", "subnet"),
    "aws:ec2/internetGateway:InternetGateway": _ec2_id("igw", "internet-gateway"),
    "aws:ec2/natGateway:NatGateway": _ec2_id("nat", "natgateway"),
    "aws:ec2/eip:Eip": _eip,
    "aws:ec2/instance:Instance": _ec2_instance,
    "aws:ec2/routeTable:RouteTable": _ec2_id("rtb", "route-table"),
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _ec2_id("rtbassoc", "route-table-association"),
    "aws:ec2/route:Route": _ec2_id("r-rtb", "route"),
    "aws:ec2/securityGroup:SecurityGroup": _ec2_id("sg", "security-group"),
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup": _ec2_id("sg", "security-group"),
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _ec2_id("sgr", "security-group-rule"),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _ec2_id("sgr", "security-group-rule"),
    "aws:ec2/securityGroupRule:SecurityGroupRule": _ec2_id("sgrule", "security-group-rule"),
    "aws:ec2/flowLog:FlowLog": _flow_log,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _ec2_id("vpce", "vpc-endpoint"),
    "aws:rds/instance:Instance": _rds,
    "aws:rds/subnetGroup:SubnetGroup": _rds_named("subgrp"),
    "aws:rds/parameterGroup:ParameterGroup": _rds_named("pg"),
    "aws:elasticache/replicationGroup:ReplicationGroup": _redis,
    "aws:elasticache/subnetGroup:SubnetGroup": _elasticache_named("subnetgroup"),
    "aws:elasticache/parameterGroup:ParameterGroup": _elasticache_named("parametergroup"),
    "aws:lb/loadBalancer:LoadBalancer": _lb,
    "aws:lb/targetGroup:TargetGroup": _tg,
    "aws:lb/listener:Listener": _listener,
    "aws:lb/listenerRule:ListenerRule": _listener,
    "aws:ecr/repository:Repository": _ecr,
    "aws:ecs/cluster:Cluster": _ecs_cluster,
    "aws:ecs/service:Service": _ecs_service,
    "aws:ecs/taskDefinition:TaskDefinition": _task_def,
    "aws:iam/role:Role": _iam_role,
    "aws:iam/policy:Policy": _iam_policy,
    "aws:kms/key:Key": _kms,
    "aws:kms/alias:Alias": _kms_alias,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:secretsmanager/secretVersion:SecretVersion": _secret_version,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/eventRule:EventRule": _event_rule,
    "aws:sns/topic:Topic": _sns,
    "aws:acm/certificate:Certificate": _acm,
    "aws:scheduler/schedule:Schedule": _schedule,
    "aws:sqs/queue:Queue": _sqs,
}


# ---------------------------------------------------------------------------------------------------------
# Other providers


def _random_password(name: str, i: dict) -> dict:
    length = int(i.get("length") or 32)
    return {"result": ("p" + _h(name, n=64) * 4)[:length], "bcryptHash": "$2a$10$" + _h(name, "b", n=53)}


def _random_bytes(name: str, i: dict) -> dict:
    length = int(i.get("length") or 32)
    raw = (_h(name, n=64) * 8)[: length * 2]
    import base64

    return {"hex": raw, "base64": base64.b64encode(bytes.fromhex(raw)).decode()}


def _random_id(name: str, i: dict) -> dict:
    length = int(i.get("byteLength") or 8)
    raw = (_h(name, n=64) * 8)[: length * 2]
    return {"hex": raw, "dec": str(int(raw, 16)), "b64Url": raw, "b64Std": raw, "id": raw}


def _docker_image(name: str, i: dict) -> dict:
    image = str(i.get("imageName") or name)
    repo = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return {"repoDigest": f"{repo}@sha256:{_h(name, n=64)}", "baseImageName": image, "imageName": image}


def _docker_remote_image(name: str, i: dict) -> dict:
    # A pulled image answers its registry digest; a local build (never pushed) has none.
    ref = str(i.get("name") or name)
    repo = ref.rsplit(":", 1)[0] if ":" in ref.rsplit("/", 1)[-1] else ref
    image_id = f"sha256:{_h(name, 'image', n=64)}"
    digest = "" if i.get("build") else f"{repo}@sha256:{_h(name, 'digest', n=64)}"
    return {"id": f"{image_id}{ref}", "imageId": image_id, "repoDigest": digest}


def _docker_container(name: str, i: dict) -> dict:
    cid = _h(name, "container", n=64)
    networks = [n.get("name") for n in i.get("networksAdvanced") or [] if isinstance(n, dict)]
    out: dict[str, Any] = {
        "id": cid,
        "hostname": cid[:12],
        "networkDatas": [
            {
                "networkName": net,
                "ipAddress": f"172.18.0.{2 + int(_h(name, str(net), n=2), 16) % 250}",
                "ipPrefixLength": 16,
                "gateway": "172.18.0.1",
            }
            for net in networks
        ],
    }
    if i.get("attach") and i.get("mustRun") is False:  # a one-shot container that ran to completion
        out |= {"exitCode": 0, "containerLogs": ""}
    return out


def _docker_volume(name: str, i: dict) -> dict:
    volume = _physical_name(name, i)
    return {
        "id": volume,
        "name": volume,
        "driver": "local",
        "mountpoint": f"/var/lib/docker/volumes/{volume}/_data",
    }


def _docker_network(name: str, i: dict) -> dict:
    return {"id": _h(name, "network", n=64), "driver": i.get("driver") or "bridge", "scope": "local"}


def _cf_id(name: str, i: dict) -> dict:
    return {"id": _h(name, n=32)}


def _uuid(*parts: str) -> str:
    h = _h(*parts, n=32)
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


def _cf_tunnel(name: str, i: dict) -> dict:
    # pulumi-cloudflare v6 ZeroTrustTunnelCloudflared: the API's id (a UUID), account tag, status, type.
    return {
        "id": _uuid("tunnel", name),
        "accountTag": i.get("accountId"),
        "status": "inactive",  # no connector has connected yet
        "tunType": "cfd_tunnel",
        "remoteConfig": i.get("configSrc") == "cloudflare",
        "createdAt": "2026-01-01T00:00:00Z",
        "connections": [],
    }


def _cf_tunnel_config(name: str, i: dict) -> dict:
    # The configuration's id is its tunnel's; version counts the pushes.
    return {
        "id": i.get("tunnelId"),
        "version": 1,
        "source": "cloudflare",
        "createdAt": "2026-01-01T00:00:00Z",
    }


_OTHER_OUTPUTS: dict[str, Callable[[str, dict], dict]] = {
    "random:index/randomPassword:RandomPassword": _random_password,
    "random:index/randomBytes:RandomBytes": _random_bytes,
    "random:index/randomId:RandomId": _random_id,
    "docker:index/image:Image": _docker_image,
    "docker:index/remoteImage:RemoteImage": _docker_remote_image,
    "docker:index/container:Container": _docker_container,
    "docker:index/volume:Volume": _docker_volume,
    "docker:index/network:Network": _docker_network,
    "cloudflare:index/dnsRecord:DnsRecord": _cf_id,
    "cloudflare:index/ruleset:Ruleset": _cf_id,
    "cloudflare:index/zeroTrustTunnelCloudflared:ZeroTrustTunnelCloudflared": _cf_tunnel,
    "cloudflare:index/zeroTrustTunnelCloudflaredConfig:ZeroTrustTunnelCloudflaredConfig": _cf_tunnel_config,
}


# ---------------------------------------------------------------------------------------------------------
# Invokes: token -> answer(mocks, args)


def _azs(m: SaasMocks, args: dict) -> dict:
    letters = "abcd"
    return {
        "id": m.region,
        "names": [f"{m.region}{c}" for c in letters],
        "zoneIds": [f"usw2-az{n + 1}" for n in range(len(letters))],
        "groupNames": [m.region],
        "state": "available",
    }


def _ami(m: SaasMocks, args: dict) -> dict:
    """The newest image matching the filters, as DescribeImages answers: the owner asked for, the
    architecture and name the filters name (a name pattern's ``*`` filled with a version)."""
    filters = {f.get("name"): f.get("values") or [] for f in args.get("filters") or []}
    pattern = (filters.get("name") or ["preflight-image-*"])[0]
    architecture = (filters.get("architecture") or ["x86_64"])[0]
    owner = (args.get("owners") or [ACCOUNT_ID])[0]
    name = pattern.replace("*", f"1.0.0-20260101-{architecture}-ebs", 1).replace("*", "")
    image_id = f"ami-{_h(m.region, owner, name, n=17)}"
    return {
        "id": image_id,
        "imageId": image_id,
        "name": name,
        "ownerId": owner,
        "architecture": architecture,
        "rootDeviceType": "ebs",
        "rootDeviceName": "/dev/xvda",
        "virtualizationType": "hvm",
        "state": "available",
        "public": True,
        "arn": f"arn:aws:ec2:{m.region}::image/{image_id}",
        "mostRecent": bool(args.get("mostRecent")),
        "owners": args.get("owners") or [],
        "filters": args.get("filters") or [],
    }


def _caller(m: SaasMocks, args: dict) -> dict:
    return {
        "accountId": ACCOUNT_ID,
        "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/preflight",
        "userId": "AIDAPREFLIGHT",
        "id": ACCOUNT_ID,
    }


def _region(m: SaasMocks, args: dict) -> dict:
    region = args.get("region") or args.get("name") or m.region
    return {"id": region, "name": region, "region": region, "endpoint": f"ec2.{region}.amazonaws.com"}


def _partition(m: SaasMocks, args: dict) -> dict:
    return {
        "id": "aws",
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
        "reverseDnsPrefix": "com.amazonaws",
    }


def _elb_account(m: SaasMocks, args: dict) -> dict:
    region = args.get("region") or m.region
    account = ELB_ACCOUNTS.get(region, ELB_ACCOUNTS[DEFAULT_REGION])
    return {"id": account, "arn": f"arn:aws:iam::{account}:root", "region": region}


def _ecr_token(m: SaasMocks, args: dict) -> dict:
    return {
        "id": m.region,
        "authorizationToken": "QVdTOnByZWZsaWdodA==",
        "userName": "AWS",
        "password": "preflight-ecr-password",
        "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{m.region}.amazonaws.com",
        "expiresAt": "2030-01-01T00:00:00Z",
    }


def _cf_ip_ranges(m: SaasMocks, args: dict) -> dict:
    # pulumi-cloudflare v6 output names (GetIpRangesResult): etag, ipv4Cidrs, ipv6Cidrs, jdcloudCidrs.
    return {
        "etag": "preflight-ip-ranges",
        "ipv4Cidrs": CLOUDFLARE_IPV4,
        "ipv6Cidrs": CLOUDFLARE_IPV6,
        "jdcloudCidrs": [],
        "networks": args.get("networks"),
    }


# The preflight account's Cloudflare zones (name -> plan legacy id, status): the committed stacks' zones on
# the plans their stack files declare (a test keeps the two in step). Any other name is an active free zone.
ZONES: dict[str, tuple[str, str]] = {
    "escalating-reminders.dev": ("free", "active"),
    "escalating-reminders.com": ("pro", "active"),
}
# Zone ids answered by id lookups (configured edge.zoneId); a zone's id is otherwise a hash of its name.
ZONE_IDS: dict[str, str] = {"0123456789abcdef0123456789abcdef": "example.com"}
PLAN_NAMES = {"free": "Free Website", "pro": "Pro Website", "business": "Business Website"}


def zone_answer(name: str, zone_id: str, plan: str = "free", status: str = "active") -> dict:
    """A getZone answer in pulumi-cloudflare v6 output names (GetZoneResult, GetZonePlanResult)."""
    return {
        "id": zone_id,
        "zoneId": zone_id,
        "name": name,
        "status": status,
        "paused": False,
        "type": "full",
        "nameServers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "account": {"id": _h("account", n=32), "name": "preflight"},
        "plan": {"legacyId": plan, "name": PLAN_NAMES.get(plan, "Enterprise Website")},
    }


def _cf_zone(m: SaasMocks, args: dict) -> dict:
    zone_id = args.get("zoneId")
    name = ZONE_IDS.get(zone_id, "") if zone_id else (args.get("filter") or {}).get("name", "")
    plan, status = ZONES.get(name, ("free", "active"))
    return zone_answer(name, zone_id or _h("zone", name, n=32), plan, status)


def _cf_tunnel_token(m: SaasMocks, args: dict) -> dict:
    """The token cloudflared runs a tunnel with: base64 of JSON account tag (a), tunnel id (t), secret (s)."""
    import base64
    import json

    account, tunnel = str(args.get("accountId")), str(args.get("tunnelId"))
    secret = base64.b64encode(bytes.fromhex(_h("tunnel-secret", tunnel, n=64))).decode()
    token = base64.b64encode(json.dumps({"a": account, "t": tunnel, "s": secret}).encode()).decode()
    return {"accountId": account, "tunnelId": tunnel, "token": token}


INVOKES: dict[str, Callable[[SaasMocks, dict], dict]] = {
    "aws:index/getAvailabilityZones:getAvailabilityZones": _azs,
    "aws:index/getCallerIdentity:getCallerIdentity": _caller,
    "aws:ec2/getAmi:getAmi": _ami,
    "aws:index/getRegion:getRegion": _region,
    "aws:index/getPartition:getPartition": _partition,
    "aws:elb/getServiceAccount:getServiceAccount": _elb_account,
    "aws:ecr/getAuthorizationToken:getAuthorizationToken": _ecr_token,
    "cloudflare:index/getIpRanges:getIpRanges": _cf_ip_ranges,
    "cloudflare:index/getZone:getZone": _cf_zone,
    "cloudflare:index/getZeroTrustTunnelCloudflaredToken:"
    "getZeroTrustTunnelCloudflaredToken": _cf_tunnel_token,
}
