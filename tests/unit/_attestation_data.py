"""Realistic pipeline data for the attestation tests: one built image, its findings, verdict and SBOMs.

The SBOMs and the Trivy vuln predicate under tests/fixtures/attestations/ are real tool output (see the
README there); the model objects below look like what the scanners and the gate produce for that project.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipeline.formats import intoto
from pipeline.model import (
    BasePin,
    Category,
    Decision,
    Finding,
    ImageFacts,
    Location,
    Package,
    Reason,
    Severity,
    Verdict,
)

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "attestations"

REPO = "127.0.0.1:5000/seaworthy/bad-project"
MANIFEST = "sha256:" + "3f1c9b2e7d4a5f60" * 4
CONFIG = "sha256:" + "9a8b7c6d5e4f3a2b" * 4
OTHER = "sha256:" + "0123456789abcdef" * 4
REF = f"{REPO}@{MANIFEST}"
COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
BASE_DIGEST = "sha256:" + "e1d2c3b4a5968778" * 4

STARTED = datetime(2026, 11, 27, 9, 58, 12, tzinfo=UTC)
FINISHED = datetime(2026, 11, 27, 10, 3, 40, tzinfo=UTC)
SCAN_START = datetime(2026, 11, 27, 10, 4, 1, tzinfo=UTC)
SCAN_END = datetime(2026, 11, 27, 10, 4, 29, tzinfo=UTC)

FACTS = ImageFacts(
    config_digest=CONFIG,
    platform="linux/amd64",
    user="",
    entrypoint=("python", "app.py"),
    exposed_ports=("8080/tcp",),
    labels=(("org.opencontainers.image.source", "https://github.com/example/bad-project"),),
    base_image="python:3.12-slim-bookworm",
    base_pin=BasePin.TAG,
    size=52_431_872,
    layers=6,
)

TOOL_IMAGES = (
    ("trivy", "aquasec/trivy:0.76.0"),
    ("syft", "anchore/syft:v1.18.1@sha256:" + "5b0e" * 16),
    ("cosign", "ghcr.io/sigstore/cosign/cosign:v3.1.2"),
)

BUILD = intoto.BuildRecord(
    source_repository="https://github.com/example/bad-project",
    source_revision=COMMIT,
    source_ref="refs/heads/main",
    builder_id="https://github.com/example/bad-project/.github/workflows/ship.yml@refs/heads/main",
    invocation_id="https://github.com/example/bad-project/actions/runs/1234567890/attempts/1",
    started_on=STARTED,
    finished_on=FINISHED,
    dockerfile="Dockerfile",
    target="runtime",
    build_args=(
        ("PYTHON_VERSION", "3.12"),
        ("PIP_INDEX_TOKEN", "s3cr3t-value-never-recorded"),
        ("NPM_RC", "x"),
    ),
    secret_args=("NPM_RC",),
    platforms=("linux/arm64", "linux/amd64"),
    base_image_digest=BASE_DIGEST,
    tool_images=TOOL_IMAGES,
    builder_version=(("seaworthy", "0.1.0"), ("dagger", "0.21.11")),
    internal_parameters=(("cacheBuster", "none"),),
)

SCAN = intoto.ScanRecord(
    scanner="trivy",
    version="0.76.0",
    started_on=SCAN_START,
    finished_on=SCAN_END,
    db_uri="oci://mirror.gcr.io/aquasec/trivy-db:2",
    db_version="2026-11-01T00:00:00Z",
    builder_id=BUILD.builder_id,
)


def _vuln(cve: str, name: str, version: str, fixed: str, sev: Severity, line: int) -> Finding:
    return Finding(
        category=Category.DEPENDENCY,
        rule_id=cve,
        severity=sev,
        message=f"{name} {version} is affected by {cve}",
        tools=("trivy",),
        locations=(Location("requirements.txt", line),),
        package=Package(name.lower(), version, "pypi", f"pkg:pypi/{name.lower()}@{version}", fixed),
    )


FINDINGS = (
    _vuln("CVE-2019-10906", "Jinja2", "2.10", "2.10.1", Severity.HIGH, 2),
    _vuln("CVE-2020-1747", "PyYAML", "5.3", "5.3.1", Severity.CRITICAL, 4),
    _vuln("CVE-2018-18074", "requests", "2.19.0", "2.20.0", Severity.HIGH, 1),
    _vuln("CVE-2019-11324", "urllib3", "1.23", "1.24.2", Severity.HIGH, 3),
    Finding(
        category=Category.SAST,
        rule_id="python.flask.debug-enabled",
        severity=Severity.MEDIUM,
        message="Flask debug mode enabled",
        tools=("semgrep",),
        locations=(Location("app.py", 9),),
    ),
)

PASSED = Verdict(
    passed=True,
    warnings=(
        Reason(
            "image.runs-as-root",
            Decision.WARN,
            "the image runs as root",
            remedy="add USER 10001 to the final stage",
        ),
    ),
    notes=("exception EX-12 matched nothing",),
    policy="rego",
)
FAILED = Verdict(
    passed=False,
    denials=(
        Reason(
            "vuln.critical",
            Decision.DENY,
            "1 critical vulnerability",
            remedy="upgrade pyyaml to 5.3.1",
            findings=(FINDINGS[1].fingerprint,),
        ),
    ),
    policy="rego",
)
POLICY_DIGEST = "sha256:" + "7e" * 32
INPUT_DIGEST = "sha256:" + "c4" * 32


def load(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def all_statements(verdict: Verdict = PASSED, digest: str = MANIFEST) -> list[dict[str, Any]]:
    """One statement of every kind Seaworthy attests, about `digest`."""
    return [
        intoto.provenance_statement(REPO, digest, BUILD, FACTS),
        intoto.vuln_statement(REPO, digest, SCAN, intoto.findings_summary(FINDINGS)),
        intoto.statement(REPO, digest, intoto.COSIGN_VULN_V1, load("trivy-cosign-vuln.json")),
        intoto.verdict_statement(REPO, digest, verdict, policy_digest=POLICY_DIGEST, input_digest=INPUT_DIGEST),
        intoto.sbom_statement(REPO, digest, load("sbom.cdx.json")),
        intoto.sbom_statement(REPO, digest, load("sbom.spdx.json")),
    ]
