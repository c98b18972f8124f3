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
from pipeline.reports import GITLAB_FILES, GitlabScan, merged_findings, write_reports
from tests.contract.test_ship_slice import FIXTURES, _image_findings, gate, run_source_scanners
from tests.images import BuiltImage

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


def test_ship_reports_carry_the_four_gitlab_reports_of_the_bad_fixture(
    tmp_path: Path, vulnerable_app_image: BuiltImage
) -> None:
    """As `ship` renders them: the bad fixture's source runs and an image scan (the vulnerable app, real trivy,
    fixture DB), through `write_reports` with a GitlabScan; each report validates and holds its findings."""
    cfg = config.load(None)
    source_runs = run_source_scanners(tmp_path / "src", FIXTURES / "bad-project", cfg)
    image_run, _ = _image_findings(tmp_path / "image", vulnerable_app_image)
    runs = (*source_runs, image_run)
    findings = merged_findings(runs)
    verdict, _ = gate(findings, cfg)
    scan = GitlabScan(START, START + datetime.timedelta(minutes=2), "0.1.0", image="localhost/bad/app:latest",
                      operating_system="debian:12", commit_sha="1234567")  # fmt: skip
    files = write_reports(runs, findings, verdict, gitlab_scan=scan)
    assert files == write_reports(runs, tuple(reversed(findings)), verdict, gitlab_scan=scan)  # deterministic
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    docs = {k: json.loads(files[k.file_name]) for k in gitlab.ReportType}  # all four are there
    for kind, doc in docs.items():
        errors = [e.message for e in validator.iter_errors(doc)]
        assert not errors, (kind, errors)
        assert doc["scan"]["start_time"] == "2026-11-27T10:00:00"
    assert sum(len(d["vulnerabilities"]) for d in docs.values()) == len(findings)
    cs = docs[gitlab.ReportType.CONTAINER_SCANNING]["vulnerabilities"]
    assert {("CVE-2099-0001", "libc6")} <= {
        (v["identifiers"][0]["value"], v["location"]["dependency"]["package"]["name"]) for v in cs
    }
    assert {v["location"]["image"] for v in cs} == {"localhost/bad/app:latest"}
    versions = docs[gitlab.ReportType.SECRET_DETECTION]["scan"]["scanner"]["version"]
    # the tools' versions as their runs report them (gitleaks': the pinned image's, its SARIF names none)
    assert "gitleaks 8." in versions and "semgrep 1." in versions and "trivy 0." in versions
    for secret in ("AKIAQYLPMN5HHHFPZAM2", "ghp_"):
        for name in GITLAB_FILES:
            assert secret.encode() not in files[name], (secret, name)
    # a source scan alone covers no image: no container_scanning report (it would say "nothing found")
    alone = write_reports(source_runs, merged_findings(source_runs), verdict, gitlab_scan=scan)
    assert "gl-container-scanning-report.json" not in alone
    assert {"gl-sast-report.json", "gl-dependency-scanning-report.json", "gl-secret-detection-report.json"} <= set(
        alone
    )
