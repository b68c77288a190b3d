"""Application load balancer in front of the API, reachable only from Cloudflare.

Port 443/80 only from Cloudflare's published ranges; HTTPS answers 403 unless the request carries the edge's
origin secret header (a request that bypasses Cloudflare never reaches the app); HTTP only redirects.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from ..common import Deployment, child, require

TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
ACCESS_LOG_PREFIX = "alb"
ACCESS_LOG_DAYS = 90
FORWARD_RULE_PRIORITY = 10


def aws_name(base: str, limit: int = 32) -> str:
    """A physical name within ``limit`` characters (ALB and target group names are at most 32): the name
    itself when it fits, else a truncated name with a short hash of the full one."""
    if len(base) <= limit:
        return base
    digest = hashlib.sha256(base.encode()).hexdigest()[:6]
    return f"{base[: limit - 7].rstrip('-')}-{digest}"


def _rule_suffix(cidr: str) -> str:
    return cidr.replace("/", "-").replace(":", "-").replace(".", "-").strip("-").replace("--", "-")


@dataclass(frozen=True)
class LoadBalancerArgs:
    deployment: Deployment
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    app_security_group_id: pulumi.Input[str]
    # Edge origin (components/aws/edge/): the validated certificate, Cloudflare's ranges, the origin header.
    certificate_arn: pulumi.Input[str]
    cloudflare_ipv4: Sequence[str]
    cloudflare_ipv6: Sequence[str]
    origin_header_name: str
    origin_secret: pulumi.Input[str]
    container_port: int = 3801
    health_check_path: str = "/health"
    access_log_days: int = ACCESS_LOG_DAYS


class LoadBalancer(pulumi.ComponentResource):
    """Outputs: ``arn``, ``arn_suffix``, ``dns_name``, ``zone_id``, ``security_group_id``,
    ``target_group_arn``, ``target_group_arn_suffix``, ``https_listener_arn``. Plain: ``name``,
    ``log_bucket_name``. Resources: ``alb``, ``security_group``, ``target_group``,
    ``https_listener``, ``http_listener``, ``forward_rule``, ``log_bucket``.
    """

    def __init__(self, name: str, args: LoadBalancerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("saas:app:LoadBalancer", name, None, opts)
        _validate(args)
        d = args.deployment
        self.name = aws_name(d.prefix)
        self.log_bucket_name = f"{d.prefix}-alb-logs-{d.account_id}"
        self._security_groups(name, args)
        self._log_bucket(name, args)
        self._alb(name, args)
        self._target_group(name, args)
        self._listeners(name, args)
        self.register_outputs(
            {
                "arn": self.arn,
                "dnsName": self.dns_name,
                "securityGroupId": self.security_group_id,
                "targetGroupArn": self.target_group_arn,
                "httpsListenerArn": self.https_listener_arn,
                "logBucket": self.log_bucket_name,
            }
        )

    def _security_groups(self, name: str, args: LoadBalancerArgs) -> None:
        """ALB SG: 443/80 from each Cloudflare range, egress to the app tasks; the app SG admits the ALB."""
        d = args.deployment
        self.security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            # A generated suffix: a replacement (new description) must not collide with the old group's name.
            name_prefix=f"{d.prefix}-alb-",
            description="ALB: HTTPS/HTTP from Cloudflare only; to the API tasks only",
            vpc_id=args.vpc_id,
            tags=d.tags(Name=f"{d.prefix}-alb"),
            opts=child(self),
        )
        self.security_group_id = self.security_group.id
        self.ingress_rules: list[aws.vpc.SecurityGroupIngressRule] = []
        for port in (443, 80):
            for cidr in [*args.cloudflare_ipv4, *args.cloudflare_ipv6]:
                family = {"cidr_ipv6": cidr} if ":" in cidr else {"cidr_ipv4": cidr}
                self.ingress_rules.append(
                    aws.vpc.SecurityGroupIngressRule(
                        f"{name}-in-{port}-{_rule_suffix(cidr)}",
                        security_group_id=self.security_group.id,
                        description=f"Cloudflare {cidr} to {port}",
                        ip_protocol="tcp",
                        from_port=port,
                        to_port=port,
                        tags=d.tags(),
                        opts=child(self),
                        **family,
                    )
                )
        self.egress_rule = aws.vpc.SecurityGroupEgressRule(
            f"{name}-out-app",
            security_group_id=self.security_group.id,
            description=f"to the API tasks on {args.container_port}",
            ip_protocol="tcp",
            from_port=args.container_port,
            to_port=args.container_port,
            referenced_security_group_id=args.app_security_group_id,
            tags=d.tags(),
            opts=child(self),
        )
        self.app_ingress_rule = aws.vpc.SecurityGroupIngressRule(
            f"{name}-app-in",
            security_group_id=args.app_security_group_id,
            description=f"from the ALB on {args.container_port}",
            ip_protocol="tcp",
            from_port=args.container_port,
            to_port=args.container_port,
            referenced_security_group_id=self.security_group.id,
            tags=d.tags(),
            opts=child(self),
        )

    def _alb(self, name: str, args: LoadBalancerArgs) -> None:
        d = args.deployment
        self.alb = aws.lb.LoadBalancer(
            f"{name}-alb",
            name=self.name,
            load_balancer_type="application",
            internal=False,
            security_groups=[self.security_group.id],
            subnets=list(args.public_subnet_ids),
            drop_invalid_header_fields=True,
            enable_deletion_protection=d.is_production,
            desync_mitigation_mode="defensive",
            idle_timeout=60,
            access_logs={"bucket": self.log_bucket_name, "prefix": ACCESS_LOG_PREFIX, "enabled": True},
            tags=d.tags(),
            # A replacement (internal, type) deletes first: the fixed name cannot exist twice. In production
            # the deletion protection refuses that delete, so such a change stops before anything changes.
            opts=child(
                self,
                depends_on=[self.log_bucket_policy, self.log_bucket_ownership],
                delete_before_replace=True,
            ),
        )
        self.arn = self.alb.arn
        self.arn_suffix = self.alb.arn_suffix
        self.dns_name = self.alb.dns_name
        self.zone_id = self.alb.zone_id

    def _target_group(self, name: str, args: LoadBalancerArgs) -> None:
        self.target_group = aws.lb.TargetGroup(
            f"{name}-api-tg",
            # AWS allows at most 6 characters here; the generated suffix keeps a replacement (port, protocol,
            # VPC) from colliding with the old group's name while the listener still points at it.
            name_prefix="api-",
            port=args.container_port,
            protocol="HTTP",
            target_type="ip",
            vpc_id=args.vpc_id,
            deregistration_delay=30,
            health_check={
                "enabled": True,
                "path": args.health_check_path,
                "protocol": "HTTP",
                "port": "traffic-port",
                "matcher": "200",
                "interval": 15,
                "timeout": 5,
                "healthy_threshold": 2,
                "unhealthy_threshold": 3,
            },
            tags=args.deployment.tags(role="api"),
            opts=child(self),
        )
        self.target_group_arn = self.target_group.arn
        self.target_group_arn_suffix = self.target_group.arn_suffix

    def _listeners(self, name: str, args: LoadBalancerArgs) -> None:
        """HTTPS answers 403 unless the origin secret header is present (then forwards); HTTP redirects."""
        d = args.deployment
        self.https_listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.alb.arn,
            port=443,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=args.certificate_arn,
            default_actions=[
                {
                    "type": "fixed-response",
                    "fixed_response": {
                        "content_type": "text/plain",
                        "message_body": "Forbidden",
                        "status_code": "403",
                    },
                }
            ],
            tags=d.tags(),
            opts=child(self),
        )
        self.https_listener_arn = self.https_listener.arn
        self.forward_rule = aws.lb.ListenerRule(
            f"{name}-origin-forward",
            listener_arn=self.https_listener.arn,
            priority=FORWARD_RULE_PRIORITY,
            conditions=[
                {
                    "http_header": {
                        "http_header_name": args.origin_header_name,
                        "values": [pulumi.Output.secret(args.origin_secret)],
                    }
                }
            ],
            actions=[{"type": "forward", "target_group_arn": self.target_group.arn}],
            tags=d.tags(role="api"),
            opts=child(self),
        )
        self.http_listener = aws.lb.Listener(
            f"{name}-http",
            load_balancer_arn=self.alb.arn,
            port=80,
            protocol="HTTP",
            default_actions=[
                {
                    "type": "redirect",
                    "redirect": {"protocol": "HTTPS", "port": "443", "status_code": "HTTP_301"},
                }
            ],
            tags=d.tags(),
            opts=child(self),
        )

    def _log_bucket(self, name: str, args: LoadBalancerArgs) -> None:
        d = args.deployment
        self.log_bucket = aws.s3.Bucket(
            f"{name}-logs",
            bucket=self.log_bucket_name,
            force_destroy=not d.is_production,
            tags=d.tags(purpose="alb-logs"),
            opts=child(self),
        )
        self.log_bucket_public_access = aws.s3.BucketPublicAccessBlock(
            f"{name}-logs-pab",
            bucket=self.log_bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self),
        )
        self.log_bucket_ownership = aws.s3.BucketOwnershipControls(
            f"{name}-logs-ownership",
            bucket=self.log_bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child(self),
        )
        # ALB access log delivery supports SSE-S3 (AES256) only.
        self.log_bucket_encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-logs-sse",
            bucket=self.log_bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}],
            opts=child(self),
        )
        self.log_bucket_versioning = aws.s3.BucketVersioning(
            f"{name}-logs-versioning",
            bucket=self.log_bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child(self),
        )
        self.log_bucket_lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-logs-lifecycle",
            bucket=self.log_bucket.id,
            rules=[
                {
                    "id": "expire-access-logs",
                    "status": "Enabled",
                    "filter": {"prefix": ""},
                    "expiration": {"days": args.access_log_days},
                    "noncurrent_version_expiration": {"noncurrent_days": 7},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
                }
            ],
            opts=child(self, depends_on=[self.log_bucket_versioning]),
        )
        self._log_bucket_policy(name, args)

    def _log_bucket_policy(self, name: str, args: LoadBalancerArgs) -> None:
        """The regional ELB account may write the access logs; nobody may use the bucket without TLS."""
        d = args.deployment
        bucket_arn = f"arn:{d.partition}:s3:::{self.log_bucket_name}"
        # The regional ELB account delivers the logs (regions opened before August 2022; us-west-2 is one).
        elb = aws.elb.get_service_account(region=d.region)
        self.log_bucket_policy_document = json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "AlbAccessLogDelivery",
                        "Effect": "Allow",
                        "Principal": {"AWS": elb.arn},
                        "Action": "s3:PutObject",
                        "Resource": f"{bucket_arn}/{ACCESS_LOG_PREFIX}/AWSLogs/{d.account_id}/*",
                    },
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket_arn, f"{bucket_arn}/*"],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            },
            sort_keys=True,
        )
        self.log_bucket_policy = aws.s3.BucketPolicy(
            f"{name}-logs-policy",
            bucket=self.log_bucket.id,
            policy=self.log_bucket_policy_document,
            # The public access block must exist first (a policy put before it could be judged public).
            opts=child(self, depends_on=[self.log_bucket_public_access]),
        )


def _validate(args: LoadBalancerArgs) -> None:
    require(
        len(args.public_subnet_ids) >= 2,
        "LoadBalancer",
        "public_subnet_ids",
        len(args.public_subnet_ids),
        "an ALB needs subnets in at least 2 AZs",
    )
    require(
        bool(args.cloudflare_ipv4),
        "LoadBalancer",
        "cloudflare_ipv4",
        list(args.cloudflare_ipv4),
        "give Cloudflare's IPv4 ranges (getIpRanges)",
    )
    for cidr in [*args.cloudflare_ipv4, *args.cloudflare_ipv6]:
        require(
            isinstance(cidr, str) and "/" in cidr and not cidr.endswith("/0"),
            "LoadBalancer",
            "cloudflare ranges",
            cidr,
            "must be literal CIDRs narrower than /0",
        )
    require(
        bool(args.origin_header_name) and " " not in args.origin_header_name,
        "LoadBalancer",
        "origin_header_name",
        args.origin_header_name,
        "must be an HTTP header name",
    )
    require(
        1 <= args.container_port <= 65535,
        "LoadBalancer",
        "container_port",
        args.container_port,
        "must be a TCP port",
    )
    require(
        args.health_check_path.startswith("/"),
        "LoadBalancer",
        "health_check_path",
        args.health_check_path,
        "must be an absolute path such as /health",
    )
