"""Realistic seed documents the fuzz tests mutate: shaped like the real tools' outputs Seaworthy reads."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

TRIVY_VULN = {
    "VulnerabilityID": "CVE-2019-10906",
    "PkgName": "jinja2",
    "PkgIdentifier": {"PURL": "pkg:pypi/jinja2@2.10", "UID": "a1"},
    "InstalledVersion": "2.10",
    "FixedVersion": "2.10.1",
    "Status": "fixed",
    "PkgPath": "usr/lib/python3/dist-packages/Jinja2-2.10.dist-info/METADATA",
    "PrimaryURL": "https://avd.aquasec.com/nvd/cve-2019-10906",
    "Title": "python-jinja2: str.format_map allows sandbox escape",
    "Description": "In Pallets Jinja before 2.10.1, str.format_map allows a sandbox escape.",
    "Severity": "HIGH",
    "CweIDs": ["CWE-693"],
    "References": ["https://example.invalid/1"],
}

TRIVY_REPORT: dict[str, Any] = {
    "SchemaVersion": 2,
    "ArtifactName": "/in/image.tar",
    "ArtifactType": "container_image",
    "Metadata": {
        "ImageID": "sha256:" + "b" * 64,
        "DiffIDs": ["sha256:" + "c" * 64],
        "ImageConfig": {"architecture": "amd64", "os": "linux", "config": {"User": "app"}},
    },
    "Results": [
        {"Target": "app/requirements.txt", "Class": "lang-pkgs", "Type": "pip", "Vulnerabilities": [TRIVY_VULN]},
        {
            "Target": "Dockerfile",
            "Class": "config",
            "Type": "dockerfile",
            "MisconfSummary": {"Successes": 20, "Failures": 1},
            "Misconfigurations": [
                {
                    "Type": "Dockerfile Security Check",
                    "ID": "DS002",
                    "AVDID": "AVD-DS-0002",
                    "Title": "Image user should not be 'root'",
                    "Message": "Specify at least 1 USER command in Dockerfile with non-root user as argument",
                    "Resolution": "Add 'USER <non root user name>' line to the Dockerfile",
                    "Severity": "HIGH",
                    "PrimaryURL": "https://avd.aquasec.com/misconfig/ds002",
                    "Status": "FAIL",
                    "CauseMetadata": {"StartLine": 1, "EndLine": 1, "Code": {"Lines": None}},
                }
            ],
        },
        {
            "Target": "config.py",
            "Class": "secret",
            "Secrets": [
                {
                    "RuleID": "aws-access-key-id",
                    "Category": "AWS",
                    "Severity": "CRITICAL",
                    "Title": "AWS Access Key ID",
                    "StartLine": 3,
                    "EndLine": 3,
                    "Match": "AWS_KEY = ****************",
                }
            ],
        },
        {
            "Target": "OS Packages",
            "Class": "license",
            "Licenses": [
                {
                    "Severity": "HIGH",
                    "Category": "restricted",
                    "PkgName": "libc6",
                    "FilePath": "",
                    "Name": "GPL-3.0-only",
                    "Confidence": 1,
                    "Link": "",
                }
            ],
        },
    ],
}


def sarif(tool: str, rule: str, level: str = "error", *, secret: bool = False) -> dict[str, Any]:
    rule_obj: dict[str, Any] = {
        "id": rule,
        "name": rule,
        "shortDescription": {"text": f"{rule} found"},
        "fullDescription": {"text": "description"},
        "helpUri": "https://example.invalid/rule",
        "defaultConfiguration": {"level": level},
        "properties": {"tags": ["security", "secret"] if secret else ["security"], "security-severity": "8.1"},
    }
    return {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": tool, "semanticVersion": "1.2.3", "rules": [rule_obj]}},
                "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": []}],
                "originalUriBaseIds": {"SRCROOT": {"uri": "file:///src/"}},
                "results": [
                    {
                        "ruleId": rule,
                        "ruleIndex": 0,
                        "level": level,
                        "message": {"text": "a message"},
                        "locations": [
                            {
                                "physicalLocation": {
                                    "artifactLocation": {"uri": "app.py", "uriBaseId": "SRCROOT"},
                                    "region": {"startLine": 3, "startColumn": 1, "endLine": 3, "endColumn": 20},
                                }
                            }
                        ],
                        "partialFingerprints": {"primaryLocationLineHash": "abc:1"},
                    }
                ],
            }
        ],
    }


GITLEAKS_SARIF = sarif("gitleaks", "aws-access-token", "error", secret=True)
SEMGREP_SARIF = sarif("Semgrep OSS", "python.lang.security.audit.eval-detected", "warning")

HADOLINT: list[dict[str, Any]] = [
    {
        "code": "DL3007",
        "column": 1,
        "file": "/src/Dockerfile",
        "level": "warning",
        "line": 1,
        "message": "Using latest",
    },
    {"code": "SC2086", "column": 1, "file": "/src/Dockerfile", "level": "info", "line": 4, "message": "Double quote"},
]

CYCLONEDX = json.loads((FIXTURES / "attestations" / "sbom.cdx.json").read_text())
SPDX = json.loads((FIXTURES / "attestations" / "sbom.spdx.json").read_text())
COSIGN_VULN_STATEMENT = json.loads((FIXTURES / "attestations" / "trivy-cosign-vuln.json").read_text())

DIGEST = "sha256:" + "a" * 64
OCI_CONFIG: dict[str, Any] = {
    "architecture": "amd64",
    "os": "linux",
    "config": {
        "User": "app",
        "Labels": {"org.opencontainers.image.source": "https://example.invalid/repo"},
        "Env": ["PATH=/usr/bin"],
    },
    "rootfs": {"type": "layers", "diff_ids": [DIGEST]},
    "history": [{"created_by": "FROM x"}],
}
OCI_MANIFEST: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": DIGEST, "size": 100},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": DIGEST, "size": 10}],
}
OCI_INDEX: dict[str, Any] = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.oci.image.index.v1+json",
    "manifests": [
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": DIGEST,
            "size": 500,
            "platform": {"architecture": "amd64", "os": "linux"},
            "annotations": {"org.opencontainers.image.ref.name": "latest"},
        },
        {
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": "sha256:" + "d" * 64,
            "size": 500,
            "platform": {"architecture": "unknown", "os": "unknown"},
            "annotations": {"vnd.docker.reference.type": "attestation-manifest"},
        },
    ],
}
DOCKER_ARCHIVE_MANIFEST: list[dict[str, Any]] = [
    {"Config": "blobs/sha256/" + "a" * 64, "RepoTags": ["app:latest"], "Layers": ["blobs/sha256/" + "c" * 64]}
]

CONFIG: dict[str, Any] = {
    "scan": {
        "scanners": ["semgrep", "gitleaks", "trivy", "hadolint"],
        "skip_paths": ["tests/fixtures/**"],
        "semgrep": {"rules": ["ci/semgrep"], "packs": [], "bundled_rules": True},
        "trivy": {
            "scanners": ["vuln", "misconfig", "secret"],
            "severities": [],
            "ignore_unfixed": False,
            "db_repositories": [],
            "java_db_repositories": [],
            "offline": False,
            "max_db_age_hours": 72,
            "insecure_registry": False,
        },
    },
    "build": {"dockerfile": "Dockerfile", "target": "", "platforms": ["linux/amd64"], "build_args": {"V": "1.2"}},
    "sbom": {"generator": "trivy"},
    "gate": {
        "thresholds": {"sast": "HIGH", "secret": "any", "image-vulnerability": "CRITICAL"},
        "fixable_only": False,
        "required_labels": ["org.opencontainers.image.source"],
        "license_deny": ["AGPL-3.0-only"],
        "license_warn": ["GPL-3.0-only"],
        "policy_dirs": [],
        "exceptions_file": "",
    },
    "exceptions": [
        {
            "target": ["CVE-2019-10906"],
            "package": "jinja2",
            "version": "2.10",
            "path": "app/**",
            "owner": "sec@example.com",
            "reason": "not reachable",
            "expires": datetime.date(2026, 12, 31),
        }
    ],
}
EXCEPTIONS_FILE: dict[str, Any] = {
    "exceptions": [
        *CONFIG["exceptions"],
        {"target": "image.root-user", "owner": "o", "reason": "r", "expires": datetime.date(2027, 1, 1)},
    ]
}

GATE_RESULT: dict[str, Any] = {
    "schema": "seaworthy.gate-result/v1",
    "deny": [
        {"id": "threshold.secret", "msg": "1 secret finding(s)", "remedy": "Rotate it.", "findings": ["ab12"]},
    ],
    "warn": [{"id": "license.copyleft", "msg": "1 component", "remedy": "Check.", "findings": []}],
    "notes": ["e1 matched nothing"],
    "exceptions_applied": [
        {
            "exception": "exceptions[0]",
            "targets": ["CVE-2019-10906"],
            "owner": "o",
            "expires": "2026-12-31",
            "findings": ["cd34"],
            "rules": [],
        }
    ],
    "malformed": [],
}
OPA_OUTPUT: dict[str, Any] = {
    "result": [{"expressions": [{"value": GATE_RESULT, "text": "data.seaworthy.gate", "location": {"row": 1}}]}]
}

STATEMENT: dict[str, Any] = {
    "_type": "https://in-toto.io/Statement/v1",
    "subject": [{"name": "registry.example/app", "digest": {"sha256": "a" * 64}}],
    "predicateType": "https://slsa.dev/provenance/v1",
    "predicate": {"buildDefinition": {"buildType": "x"}, "runDetails": {"builder": {"id": "y"}}},
}


def envelope(statement: Any) -> dict[str, Any]:
    return {
        "payloadType": "application/vnd.in-toto+json",
        "payload": base64.b64encode(json.dumps(statement).encode()).decode(),
        "signatures": [{"keyid": "", "sig": base64.b64encode(b"sig").decode()}],
    }


COSIGN_VERIFY: list[dict[str, Any]] = [
    {
        "critical": {
            "identity": {"docker-reference": "registry.example/app"},
            "image": {"docker-manifest-digest": DIGEST},
            "type": "cosign container image signature",
        },
        "optional": {"Issuer": "https://token.actions.githubusercontent.com", "Subject": "repo:x"},
    }
]

TRIVY_DB_METADATA: dict[str, Any] = {
    "Version": 2,
    "NextUpdate": "2026-11-28T00:00:00Z",
    "UpdatedAt": "2026-11-27T00:00:00Z",
    "DownloadedAt": "2026-11-27T01:00:00Z",
}

DOCKERFILE_LINES = (
    "FROM python:3.12-slim AS build",
    "FROM python@sha256:" + "a" * 64,
    "ARG BASE=debian:12",
    "ARG D=sha256:" + "a" * 64,
    "FROM ${BASE}",
    "FROM python@${D}",
    "FROM --platform=$BUILDPLATFORM golang:1.22 AS go",
    "FROM build",
    "FROM scratch",
    "RUN echo hi \\",
    "  && echo there",
    "# syntax=docker/dockerfile:1",
    "# escape=`",
    "USER app",
    "COPY --from=build /a /b",
    "ARG",
    "FROM",
    "FROM ${UNSET:-alpine:3}",
    "FROM $",
    "FROM ${",
)

LICENSE_TOKENS = (
    "MIT",
    "Apache-2.0",
    "GPL-2.0-only",
    "GPL-3.0-or-later",
    "AND",
    "OR",
    "WITH",
    "(",
    ")",
    "Classpath-exception-2.0",
    "and",
    "or",
    "LicenseRef-x",
    "NOASSERTION",
    "",
)
