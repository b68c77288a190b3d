"""The Cloudflare edge: EdgeOrigin (certificate, ranges, origin secret) and Edge (DNS, settings, rulesets)."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.common import Deployment
from components.edge import ORIGIN_HEADER_NAME, EdgeOrigin, EdgeOriginArgs
from preflight import mocks
from preflight.engine import Evaluation, run_program
from preflight.model import UNKNOWN

CERT = "aws:acm/certificate:Certificate"
CERT_VALIDATION = "aws:acm/certificateValidation:CertificateValidation"
RECORD = "cloudflare:index/dnsRecord:DnsRecord"
PASSWORD = "random:index/randomPassword:RandomPassword"
ORIGIN = "saas:edge:Origin"

HOSTNAMES = {"staging": "api-staging.escalating-reminders.com", "production": "api.escalating-reminders.com"}
DEPLOYMENT = Deployment("escalating-reminders", "staging", "us-west-2", mocks.ACCOUNT_ID)
ZONE_ID = "0123456789abcdef0123456789abcdef"


def _origin_program(holder: dict[str, Any], **overrides: Any):
    def program() -> None:
        args = {
            "deployment": DEPLOYMENT,
            "domain": "example.com",
            "hostname": "api.example.com",
            **overrides,
        }
        origin = EdgeOrigin("edge-origin", EdgeOriginArgs(**args))
        holder["origin"] = origin
        pulumi.export("zoneId", origin.zone_id)
        pulumi.export("certificateArn", origin.certificate_arn)
        pulumi.export("originSecret", origin.origin_secret)

    return program


def _validation_records(ev: Evaluation) -> list[Any]:
    return [r for r in ev.of_type(RECORD) if r.name.startswith("edge-origin-cert-validation")]


# ---------------------------------------------------------------------------------------------------------
# EdgeOrigin in isolation


def test_origin_attributes_in_isolation() -> None:
    holder: dict[str, Any] = {}
    ev = run_program(_origin_program(holder), preview=False)
    assert ev.error is None
    origin = holder["origin"]
    assert origin.cloudflare_ipv4 == mocks.CLOUDFLARE_IPV4
    assert origin.cloudflare_ipv6 == mocks.CLOUDFLARE_IPV6
    assert isinstance(origin.cloudflare_ipv4, list) and isinstance(origin.cloudflare_ipv6, list)
    assert origin.origin_header_name == ORIGIN_HEADER_NAME == "X-Origin-Verify"
    # Zone looked up by name (mock answers a hash of the name), certificate ARN from the validation.
    assert ev.outputs["zoneId"] == mocks._h("zone", "example.com", n=32)
    validation = ev.one(CERT_VALIDATION)
    cert = ev.one(CERT)
    assert ev.outputs["certificateArn"] == cert.outputs["arn"] == validation.inputs["certificateArn"]
    assert "originSecret" in ev.secret_outputs
    assert len(ev.outputs["originSecret"]) == 48


def test_origin_uses_the_configured_zone_id_without_lookup() -> None:
    ev = run_program(_origin_program({}, zone_id=ZONE_ID), preview=True)
    assert ev.error is None
    assert ev.outputs["zoneId"] == ZONE_ID
    assert all(r.inputs["zoneId"] == ZONE_ID for r in _validation_records(ev))


def test_origin_certificate_is_dns_validated_through_unproxied_cloudflare_records() -> None:
    ev = run_program(_origin_program({}), preview=False)
    cert = ev.one(CERT)
    assert cert.inputs["domainName"] == "api.example.com"
    assert cert.inputs["validationMethod"] == "DNS"
    assert cert.inputs["tags"] == DEPLOYMENT.tags(Name="api.example.com")
    (record,) = _validation_records(ev)
    assert record.inputs["proxied"] is False and record.inputs["type"] == "CNAME"
    assert record.inputs["ttl"] == 60
    # Name and content come from the certificate's validation option for the hostname (no trailing dot).
    option = cert.outputs["domainValidationOptions"][0]
    assert record.inputs["name"] == option["resourceRecordName"].rstrip(".")
    assert record.inputs["content"] == option["resourceRecordValue"].rstrip(".")
    assert record.property_dependencies["name"] == [cert.urn]
    validation = ev.one(CERT_VALIDATION)
    assert validation.inputs["validationRecordFqdns"] == [record.inputs["name"]]
    assert validation.property_dependencies["validationRecordFqdns"] == [record.urn]
    assert validation.property_dependencies["certificateArn"] == [cert.urn]


def test_origin_secret_is_alphanumeric_48() -> None:
    ev = run_program(_origin_program({}), preview=True)
    password = ev.one(PASSWORD)
    assert password.inputs["length"] == 48
    assert password.inputs["special"] is False
    assert all(password.inputs[k] is True for k in ("upper", "lower", "numeric"))


@pytest.mark.parametrize(
    ("field", "overrides", "message"),
    [
        ("domain", {"domain": "Example"}, "EdgeOrigin: domain is 'Example'; must be a DNS domain"),
        ("hostname", {"hostname": "api.other.com"}, "must be a hostname inside example.com"),
        ("zone_id", {"zone_id": "zone"}, "EdgeOrigin: zone_id is 'zone'; must be a Cloudflare zone id"),
    ],
)
def test_origin_rejects_bad_inputs(field: str, overrides: dict[str, Any], message: str) -> None:
    ev = run_program(_origin_program({}, **overrides), preview=True)
    assert ev.error is not None and message in ev.error and field in ev.error
    assert ev.of_type(CERT) == []


# ---------------------------------------------------------------------------------------------------------
# Both committed stacks


def test_stack_origin_certificate_for_the_api_hostname(stack: Evaluation) -> None:
    origin = stack.one(ORIGIN, "edge-origin")
    cert = stack.one(CERT)
    assert cert.parent == origin.urn
    assert cert.inputs["domainName"] == HOSTNAMES[stack.stack]
    (record,) = _validation_records(stack)
    assert record.parent == origin.urn
    assert record.inputs["proxied"] is False and record.inputs["type"] == "CNAME"
    assert record.inputs["name"] == UNKNOWN  # computed by ACM: known after apply
    validation = stack.one(CERT_VALIDATION)
    assert validation.property_dependencies["validationRecordFqdns"] == [record.urn]


def test_stack_up_validation_record_names_the_hostname(staging_up: Evaluation) -> None:
    (record,) = _validation_records(staging_up)
    assert record.inputs["name"].startswith("_")
    assert record.inputs["name"].endswith("." + HOSTNAMES["staging"])
