"""The exception file rendered as OpenVEX and as Trivy's ignore file."""

from __future__ import annotations

import datetime
import json
from typing import Any

import jsonschema
import pytest

from pipeline.formats.openvex import left_out, render_openvex
from pipeline.formats.trivyignore import render_trivyignore
from pipeline.model import Category, Severity
from tests.policy_helpers import exceptions, finding, vuln

# No registry package ships the OpenVEX JSON schema (PyPI `vexipy` has pydantic models only), so this
# schema is written here from the OpenVEX v0.2.0 specification's required fields and enumerations.
OPENVEX_SPEC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["@context", "@id", "author", "timestamp", "version", "statements"],
    "properties": {
        "@context": {"const": "https://openvex.dev/ns/v0.2.0"},
        "@id": {"type": "string", "minLength": 1},
        "author": {"type": "string", "minLength": 1},
        "role": {"type": "string"},
        "timestamp": {
            "type": "string",
            "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$",
        },
        "version": {"type": "integer", "minimum": 1},
        "tooling": {"type": "string"},
        "statements": {"type": "array", "items": {"$ref": "#/$defs/statement"}},
    },
    "$defs": {
        "statement": {
            "type": "object",
            "required": ["vulnerability", "products", "status"],
            "properties": {
                "vulnerability": {
                    "type": "object",
                    "required": ["name"],
                    "properties": {"name": {"type": "string", "minLength": 1}},
                },
                "products": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "required": ["@id"],
                        "properties": {
                            "@id": {"type": "string"},
                            "subcomponents": {
                                "type": "array",
                                "items": {"type": "object", "required": ["@id"]},
                            },
                        },
                    },
                },
                "status": {"enum": ["not_affected", "affected", "fixed", "under_investigation"]},
                "justification": {
                    "enum": [
                        "component_not_present",
                        "vulnerable_code_not_present",
                        "vulnerable_code_not_in_execute_path",
                        "vulnerable_code_cannot_be_controlled_by_adversary",
                        "inline_mitigations_already_exist",
                    ]
                },
            },
            "allOf": [
                {
                    "if": {"properties": {"status": {"const": "not_affected"}}},
                    "then": {"anyOf": [{"required": ["justification"]}, {"required": ["impact_statement"]}]},
                },
                {
                    "if": {"properties": {"status": {"const": "affected"}}},
                    "then": {"required": ["action_statement"]},
                },
            ],
        }
    },
}

STAMP = datetime.datetime(2026, 6, 1, 12, 0, 0, tzinfo=datetime.UTC)
PRODUCT = "pkg:oci/app@sha256%3A" + "ab" * 32 + "?repository_url=registry.example/app"


def _waivers() -> tuple[Any, ...]:
    return exceptions(
        {
            "target": "CVE-2018-18074",
            "package": "requests",
            "justification": "vulnerable_code_not_in_execute_path",
        },
        {"target": ["CVE-2019-10906"]},
        {"target": "image.root-user"},
        {"target": "CVE-2019-11324", "expires": "2026-01-01"},
    )


def _findings() -> list[Any]:
    return [vuln("CVE-2018-18074"), vuln("CVE-2019-10906", "jinja2", "2.10", "2.10.1"), finding()]


def test_openvex_validates_and_maps_statuses() -> None:
    doc = render_openvex(_waivers(), findings=_findings(), product=PRODUCT, timestamp=STAMP)
    jsonschema.validate(doc, OPENVEX_SPEC_SCHEMA)
    by_vuln = {s["vulnerability"]["name"]: s for s in doc["statements"]}
    assert sorted(by_vuln) == [
        "CVE-2018-18074",
        "CVE-2019-10906",
    ]  # expired and gate-rule exceptions left out
    na = by_vuln["CVE-2018-18074"]
    assert na["status"] == "not_affected" and na["justification"] == "vulnerable_code_not_in_execute_path"
    assert na["products"] == [{"@id": PRODUCT, "subcomponents": [{"@id": "pkg:pypi/requests@2.19.0"}]}]
    aff = by_vuln["CVE-2019-10906"]
    assert aff["status"] == "affected" and "2026-12-31" in aff["action_statement"]
    assert doc["timestamp"] == "2026-06-01T12:00:00Z"


def test_openvex_is_deterministic_and_needs_an_aware_timestamp() -> None:
    one = render_openvex(_waivers(), findings=_findings(), product=PRODUCT, timestamp=STAMP)
    two = render_openvex(
        tuple(reversed(_waivers())), findings=list(reversed(_findings())), product=PRODUCT, timestamp=STAMP
    )
    assert json.dumps(one, sort_keys=True) == json.dumps(two, sort_keys=True)
    later = render_openvex(
        _waivers(), findings=_findings(), product=PRODUCT, timestamp=STAMP + datetime.timedelta(days=1)
    )
    assert later["@id"] != one["@id"]
    with pytest.raises(ValueError, match="timezone-aware"):
        render_openvex(_waivers(), findings=[], product=PRODUCT, timestamp=datetime.datetime(2026, 1, 1))


def test_openvex_says_what_it_leaves_out() -> None:
    notes = left_out(_waivers(), _findings(), today=STAMP.date())
    assert any(n.startswith("exceptions[2]: image.root-user is not a vulnerability") for n in notes)
    assert any(n.startswith("exceptions[3]: expired") for n in notes)
    assert not any(n.startswith(("exceptions[0]", "exceptions[1]")) for n in notes)


def test_trivyignore_sections_expiry_and_scopes() -> None:
    secret = finding(Category.SECRET, "github-pat", Severity.CRITICAL, tool="trivy", path="config.py", line=13)
    mis = finding(Category.MISCONFIGURATION, "DS-0026", Severity.LOW, tool="trivy", path="Dockerfile", line=None)
    semgrep_only = finding(Category.SAST, "python.x", Severity.HIGH)
    waivers = exceptions(
        {"target": "CVE-2018-18074", "package": "requests"},
        {"target": "DS-0026", "path": "Dockerfile"},
        {"target": secret.fingerprint},
        {"target": "python.x"},
        {"target": "CVE-2019-11324", "expires": "2026-01-01"},
        {"target": "CVE-2020-1747", "package": "pyyaml"},  # no finding names its purl: left out, not widened
        {"target": "image.root-user"},
    )
    text = render_trivyignore(
        waivers, findings=[vuln("CVE-2018-18074"), secret, mis, semgrep_only], today=datetime.date(2026, 6, 1)
    )
    assert '  - id: "CVE-2018-18074"\n    purls:\n      - "pkg:pypi/requests"\n    expired_at: 2027-01-01\n' in text
    assert '  - id: "DS-0026"\n    paths:\n      - "Dockerfile"\n' in text
    assert 'secrets:\n  - id: "github-pat"\n    paths:\n      - "config.py"\n' in text
    for absent in ("python.x", "CVE-2019-11324", "CVE-2020-1747", "image.root-user"):
        assert absent not in text
    assert text == render_trivyignore(
        tuple(reversed(waivers)),
        findings=[mis, secret, vuln("CVE-2018-18074")],
        today=datetime.date(2026, 6, 1),
    )
