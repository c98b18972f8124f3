"""Build a gate input from model objects and evaluate it with the real regorus on the real policy files."""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.model import (
    BasePin,
    Category,
    Component,
    Finding,
    ImageFacts,
    Package,
    SbomSummary,
    Severity,
    Verdict,
)
from pipeline.model_gate import BuildFacts, Exception_
from pipeline.policy.config import GateConfig
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.exceptions import parse_exceptions
from pipeline.policy.input import build_input
from pipeline.policy.verdict import read_verdict
from tests import factories

TODAY = datetime.date(2026, 6, 1)
DIGEST = "sha256:" + "ab" * 32
GOOD_LABELS = (
    ("org.opencontainers.image.revision", "0123abcd"),
    ("org.opencontainers.image.source", "https://git.example/app"),
)


def good_image(**changes: Any) -> ImageFacts:
    base: dict[str, Any] = {
        "config_digest": DIGEST,
        "platform": "linux/amd64",
        "user": "65532:65532",
        "labels": GOOD_LABELS,
        "base_image": "python:3.12-slim@sha256:" + "cd" * 32,
        "base_pin": BasePin.DIGEST,
    }
    base.update(changes)
    return ImageFacts(**base)


def good_build(**changes: Any) -> BuildFacts:
    base: dict[str, Any] = {
        "config_digests": (("linux/amd64", DIGEST),),
        "platforms": ("linux/amd64",),
        "image": "registry.example/app",
    }
    base.update(changes)
    return BuildFacts(**base)


def sbom(*components: Component) -> SbomSummary:
    return SbomSummary("cyclonedx", "1.6", tuple(components), tool="trivy")


def finding(
    category: Category = Category.SAST,
    rule_id: str = "python.lang.security.audit.subprocess-shell-true",
    severity: Severity = Severity.HIGH,
    *,
    tool: str = "semgrep",
    path: str = "app.py",
    line: int | None = 3,
    package: Package | None = None,
) -> Finding:
    """tests.factories.finding with the defaults the policy tests were written against."""
    return factories.finding(category, rule_id, severity, tool=tool, path=path, line=line, package=package)


def vuln(
    cve: str = "CVE-2018-18074",
    name: str = "requests",
    version: str = "2.19.0",
    fixed: str = "2.20.0",
    severity: Severity = Severity.HIGH,
    *,
    category: Category = Category.DEPENDENCY,
    path: str = "requirements.txt",
) -> Finding:
    pkg = Package(name, version, "pypi", f"pkg:pypi/{name.lower()}@{version}", fixed)
    return finding(category, cve, severity, tool="trivy", path=path, line=None, package=pkg)


def exceptions(*tables: Mapping[str, Any]) -> tuple[Exception_, ...]:
    filled = [{"owner": "team-app", "reason": "reviewed", "expires": "2026-12-31", **t} for t in tables]
    return parse_exceptions(filled)


def evaluate(
    findings: Sequence[Finding] = (),
    *,
    sbom_summary: SbomSummary | None = None,
    facts: Sequence[ImageFacts] = (),
    build: BuildFacts | None = None,
    config: GateConfig | None = None,
    waivers: Sequence[Exception_] = (),
    today: datetime.date = TODAY,
    policy_dirs: Sequence[str | Path] = (),
) -> tuple[Verdict, dict[str, Any]]:
    doc = build_input(
        findings,
        sbom=sbom_summary,
        facts=facts,
        build=build,
        config=config or GateConfig(),
        exceptions=waivers,
        today=today,
    )
    result = evaluate_with_regorus([BUNDLED_POLICY_DIR, *policy_dirs], doc)
    return read_verdict(result), result


def ids(reasons: Sequence[Any]) -> list[str]:
    return sorted(r.rule_id for r in reasons)
