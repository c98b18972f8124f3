"""write_reports: every file, consistent with each other, SARIF caps said in the summary and report.json."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from pipeline.formats.json_report import parse_report
from pipeline.formats.sarif import SarifLimits
from pipeline.model import Severity, ToolRun, Verdict
from pipeline.reports import write_reports
from tests.unit.report_factories import finding, image_facts, realistic, sbom


def test_writes_every_report_consistently() -> None:
    runs, findings, verdict = realistic()
    files = write_reports(runs, findings, verdict, image=image_facts(), sboms=[sbom()], notes=["hello"])
    assert sorted(files) == ["junit.xml", "report.json", "seaworthy.sarif", "summary.md"]
    assert all(isinstance(v, bytes) and v.endswith(b"\n") for v in files.values())

    sarif = json.loads(files["seaworthy.sarif"])
    fps = {r["partialFingerprints"]["seaworthy/v1"] for run in sarif["runs"] for r in run["results"]}
    report = parse_report(files["report.json"])
    assert fps == {f.fingerprint for f in report.findings} == {f.fingerprint for f in findings}
    assert report.notes == ("hello",)
    assert report.image == image_facts()

    junit = ET.fromstring(files["junit.xml"])
    assert junit.get("failures") == str(len(verdict.denials) + 3)
    summary = files["summary.md"].decode()
    assert summary.startswith("## Seaworthy: ❌ failed")
    assert "- hello" in summary


def test_sarif_caps_are_said_in_the_summary_and_the_report() -> None:
    findings = [finding(rule_id=f"r{i}", severity=Severity.LOW if i % 2 else Severity.HIGH) for i in range(6)]
    runs = [ToolRun("semgrep", "1.185.0", tuple(findings))]
    files = write_reports(runs, findings, Verdict(passed=True), sarif_limits=SarifLimits(max_results_per_run=2))
    expected = (
        "SARIF: left out 4 results of semgrep (1 HIGH, 3 LOW): GitHub accepts at most 2 results per run; "
        "the most severe were kept."
    )
    report = parse_report(files["report.json"])
    assert report.notes == (
        expected,
        "Every finding, including those left out of seaworthy.sarif, is in report.json.",
    )
    assert len(report.findings) == 6
    summary = files["summary.md"].decode()
    assert "- SARIF: left out 4 results of semgrep (1 HIGH, 3 LOW): GitHub accepts at most 2 results" in summary
    sarif = json.loads(files["seaworthy.sarif"])
    assert len(sarif["runs"][0]["results"]) == 2


def test_same_inputs_same_bytes() -> None:
    runs, findings, verdict = realistic()
    a = write_reports(runs, findings, verdict, image=image_facts(), sboms=[sbom()])
    b = write_reports(list(reversed(runs)), list(reversed(findings)), verdict, image=image_facts(), sboms=[sbom()])
    assert a == b
