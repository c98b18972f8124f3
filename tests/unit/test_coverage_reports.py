"""What each scanner looked at reaches summary.md, report.json and the SARIF run."""

from __future__ import annotations

import json

import attrs

from pipeline.formats.json_report import parse_report, render_report
from pipeline.model import Coverage, Finding, Severity, ToolRun, Verdict
from pipeline.reports import write_reports
from tests.factories import finding, vuln
from tests.unit.report_factories import realistic

COVERAGE = Coverage(
    files=14, languages=(("go", 3), ("python", 11)), rules=(("javascript", 2), ("python", 6)), rules_total=8
)


def with_coverage() -> tuple[tuple[ToolRun, ...], tuple[Finding, ...], Verdict]:
    runs, findings, verdict = realistic()
    runs = tuple(attrs.evolve(r, coverage=COVERAGE) if r.tool == "semgrep" else r for r in runs)
    return runs, tuple(findings), verdict


def test_summary_lists_files_languages_and_rules_and_names_languages_without_rules() -> None:
    runs, findings, verdict = with_coverage()
    summary = write_reports(runs, findings, verdict)["summary.md"].decode()
    section = summary.split("### Coverage", 1)[1].split("###", 1)[0]
    assert "`semgrep`: 14 file(s) scanned, 8 rule(s)" in section
    assert "python: 11 file(s), 6 rule(s)" in section
    assert "go: 3 file(s), NO rules" in section
    unknown = tuple(attrs.evolve(r, coverage=attrs.evolve(COVERAGE, rules_known=False)) for r in runs[:1])
    text = write_reports(unknown, (), Verdict(passed=True))["summary.md"].decode()
    assert "go: 3 file(s), rules not counted" in text


def test_report_json_and_sarif_carry_the_coverage() -> None:
    runs, findings, verdict = with_coverage()
    files = write_reports(runs, findings, verdict)
    doc = json.loads(files["report.json"])
    (semgrep,) = [r for r in doc["runs"] if r["tool"] == "semgrep"]
    assert semgrep["coverage"] == {
        "kind": "sast",
        "files": 14,
        "languages": {"go": 3, "python": 11},
        "rules": {"javascript": 2, "python": 6},
        "rules_total": 8,
        "rules_known": True,
    }
    sarif = json.loads(files["seaworthy.sarif"])
    (run,) = [r for r in sarif["runs"] if r["tool"]["driver"]["name"] == "semgrep"]
    assert run["properties"]["coverage"]["languages"] == {"go": 3, "python": 11}
    assert all("properties" not in r for r in sarif["runs"] if r["tool"]["driver"]["name"] != "semgrep")


def test_dev_marker_round_trips_through_report_json() -> None:
    dev = attrs.evolve(vuln(), dev=True)
    text = render_report([], [dev, finding()], Verdict(passed=True))
    back = {f.rule_id: f for f in parse_report(text).findings}
    assert back[dev.rule_id].dev is True
    assert back["rule"].dev is False


def test_a_report_no_gate_decided_never_says_passed() -> None:
    summary = write_reports([], [finding(severity=Severity.CRITICAL)], None)["summary.md"].decode()
    assert summary.startswith("## Seaworthy: not gated\n")
    assert "passed" not in summary.splitlines()[0]
