"""The four GitLab security reports for the bad fixture: real scanners' findings (run on the host as `ship`'s
scan stage runs them), merged, rendered, validated against our GitLab 15.0 schema."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jsonschema
import pytest

from pipeline import config
from pipeline.formats import gitlab
from pipeline.model import Category, merge_findings
from tests.contract.test_ship_slice import FIXTURES, run_source_scanners

pytestmark = pytest.mark.contract

SCHEMA = Path(gitlab.__file__).parent / "schemas" / "gitlab-security-report-15.0.json"
START = datetime.datetime(2026, 11, 27, 10, 0, tzinfo=datetime.UTC)


def test_bad_project_gives_four_valid_gitlab_reports(tmp_path: Path) -> None:
    runs = run_source_scanners(tmp_path, FIXTURES / "bad-project", config.load(None))
    findings = merge_findings(f for r in runs for f in r.findings)
    ctx = gitlab.ScanContext(
        start_time=START,
        end_time=START + datetime.timedelta(minutes=2),
        tools={r.tool: r.version for r in runs},
        analyzer_version="0.1.0",
        image="registry.example.com/bad/app@sha256:" + "b" * 64,
        operating_system="debian:12",
        commit_sha="1234567",
    )
    files = gitlab.render_all(findings, ctx)
    assert files == gitlab.render_all(reversed(findings), ctx)  # deterministic
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    docs = {k: json.loads(files[k.file_name]) for k in gitlab.ReportType}
    for kind, doc in docs.items():
        errors = [e.message for e in validator.iter_errors(doc)]
        assert not errors, (kind, errors)
    assert sum(len(d["vulnerabilities"]) for d in docs.values()) == len(findings)

    sast = docs[gitlab.ReportType.SAST]["vulnerabilities"]
    assert any(i["type"] == "semgrep_rule_id" for v in sast for i in v["identifiers"])
    assert any(v["location"].get("file") == "Dockerfile" for v in sast)  # misconfigurations go to sast
    secrets = docs[gitlab.ReportType.SECRET_DETECTION]["vulnerabilities"]
    assert secrets and all(v["location"]["commit"] == {"sha": "1234567"} for v in secrets)
    n_secrets = sum(1 for f in findings if f.category is Category.SECRET)
    assert len(secrets) == n_secrets
    deps = docs[gitlab.ReportType.DEPENDENCY_SCANNING]["vulnerabilities"]
    cves = {v["identifiers"][0]["value"] for v in deps if v["identifiers"][0]["type"] == "cve"}
    assert {"CVE-2018-18074", "CVE-2019-10906", "CVE-2019-11324", "CVE-2020-1747"} <= cves
    assert all(v["location"]["file"] == "requirements.txt" for v in deps if v["identifiers"][0]["type"] == "cve")
    # the fixture has no image findings: an empty container_scanning report that still names the scan
    cs = docs[gitlab.ReportType.CONTAINER_SCANNING]
    assert cs["vulnerabilities"] == [] and cs["scan"]["status"] == "success"
