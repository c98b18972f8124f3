"""report.json (seaworthy.report/v1): every field, deterministic, and read back exactly."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.errors import InputError
from pipeline.formats._common import sort_findings
from pipeline.formats.json_report import SCHEMA, RunSummary, parse_report, render_report
from pipeline.model import Finding, Location, Severity, ToolRun, Verdict
from tests.unit.report_factories import finding, image_facts, realistic, sbom


def test_round_trip_keeps_every_field() -> None:
    runs, findings, verdict = realistic()
    data = render_report(runs, findings, verdict, image=image_facts(), sboms=[sbom()], notes=["n1", "n2"])
    report = parse_report(data)

    assert report.verdict == verdict
    assert set(report.findings) == set(findings)
    assert [f.fingerprint for f in report.findings] == [f.fingerprint for f in sorted_like(report.findings)]
    by_fp = {f.fingerprint: f for f in findings}
    for f in report.findings:
        original = by_fp[f.fingerprint]
        assert f == original
        assert (f.title, f.help_uri, f.tags, f.package, f.locations) == (
            original.title,
            original.help_uri,
            original.tags,
            original.package,
            original.locations,
        )
    assert report.image == image_facts()
    assert report.sboms == (sbom(),)
    assert report.notes == ("n1", "n2")
    trivy = next(r for r in report.runs if r.tool == "trivy")
    assert trivy == RunSummary(
        tool="trivy",
        version="0.76.0",
        exit_code=0,
        findings=7,
        by_severity=(
            (Severity.CRITICAL, 2),
            (Severity.HIGH, 2),
            (Severity.MEDIUM, 1),
            (Severity.INFO, 1),
            (Severity.UNKNOWN, 1),
        ),
        notes=("skipped 2 files larger than 10 MB",),
    )
    # and writing what was read gives the same bytes
    again = render_report(
        [ToolRun(r.tool, r.version, (), r.exit_code, r.notes) for r in report.runs],
        report.findings,
        report.verdict,
        image=report.image,
        sboms=report.sboms,
        notes=report.notes,
    )
    strip = json.loads(again)
    orig = json.loads(data)
    for doc in (strip, orig):
        for run in doc["runs"]:
            run.pop("findings")
            run.pop("by_severity")
    assert strip == orig


def sorted_like(findings: tuple[Finding, ...]) -> list[Finding]:
    return sort_findings(findings)


def test_document_shape() -> None:
    runs, findings, verdict = realistic()
    doc = json.loads(render_report(runs, findings, verdict))
    assert doc["schema"] == SCHEMA == "seaworthy.report/v1"
    assert sorted(doc) == ["findings", "gated", "image", "notes", "runs", "sboms", "schema", "summary", "verdict"]
    assert doc["image"] is None and doc["sboms"] == []
    assert doc["verdict"]["passed"] is False
    assert [d["rule_id"] for d in doc["verdict"]["denials"]] == ["secrets", "vulnerabilities.critical"]
    assert doc["summary"]["findings"] == len(findings)
    assert doc["summary"]["by_severity"] == {
        "CRITICAL": 3,
        "HIGH": 3,
        "MEDIUM": 3,
        "LOW": 2,
        "INFO": 1,
        "UNKNOWN": 1,
    }
    assert doc["summary"]["by_category"]["secret"] == 2
    assert doc["summary"]["fixable"] == 3
    assert [r["tool"] for r in doc["runs"]] == ["gitleaks", "hadolint", "semgrep", "trivy"]
    first = doc["findings"][0]
    assert sorted(first) == [
        "category",
        "dev",
        "fingerprint",
        "help_uri",
        "locations",
        "message",
        "package",
        "rule_id",
        "severity",
        "tags",
        "title",
        "tools",
    ]
    assert first["severity"] == "CRITICAL"
    assert first["dev"] is False
    assert all(r["coverage"] is None for r in doc["runs"])  # these runs say nothing of what they looked at
    shell = next(f for f in doc["findings"] if f["rule_id"].endswith("subprocess-shell-true"))
    assert shell["locations"] == [
        {"path": "app.py", "start_line": 12, "end_line": 12, "start_column": 5, "end_column": 40}
    ]
    assert shell["package"] is None


def test_deterministic_bytes() -> None:
    runs, findings, verdict = realistic()
    first = render_report(runs, findings, verdict, image=image_facts(), sboms=[sbom()])
    rng = random.Random(11)
    shuffled_runs, shuffled = list(runs), list(findings)
    rng.shuffle(shuffled_runs)
    rng.shuffle(shuffled)
    assert render_report(shuffled_runs, shuffled, verdict, image=image_facts(), sboms=[sbom()]) == first
    assert first.endswith(b"}\n")
    assert b"\\u" not in render_report([], [finding(message="ü 🚢")], Verdict(passed=True))


def test_empty_report_round_trips() -> None:
    report = parse_report(render_report([], [], Verdict(passed=True)))
    assert report.verdict == Verdict(passed=True)
    assert report.findings == () and report.runs == () and report.image is None and report.sboms == ()


def test_none_lines_survive() -> None:
    f = finding(locations=(Location("a.py"), Location("b.py", 3, None, None, 7)))
    (back,) = parse_report(render_report([], [f], Verdict(passed=True))).findings
    assert back.locations == f.locations


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (lambda d: d.update(schema="seaworthy.report/v2"), "schema is 'seaworthy.report/v2'"),
        (lambda d: d["findings"][0].update(severity="SEVERE"), "unknown severity 'SEVERE'"),
        (lambda d: d["findings"][0].update(category="bug"), "unknown category 'bug'"),
        (lambda d: d["findings"][0].pop("tools"), "findings[0].tools is missing"),
        (lambda d: d["findings"][0]["locations"][0].update(start_line="3"), "not an integer or null"),
        (lambda d: d["verdict"].update(passed="no"), "verdict.passed is missing"),
        (lambda d: d["verdict"]["denials"][0].update(decision="maybe"), "not deny or warn"),
        (lambda d: d["runs"][0]["by_severity"].pop("HIGH"), "runs[0].by_severity.HIGH"),
    ],
)
def test_parse_refuses_what_is_not_v1(mutate: Callable[[dict[str, Any]], object], problem: str) -> None:
    runs, findings, verdict = realistic()
    doc = json.loads(render_report(runs, findings, verdict))
    mutate(doc)
    with pytest.raises(InputError, match=r"not a seaworthy\.report/v1 report") as e:
        parse_report(json.dumps(doc))
    assert problem in str(e.value)


def test_parse_refuses_non_json() -> None:
    with pytest.raises(InputError, match="not JSON"):
        parse_report("{truncated")
    with pytest.raises(InputError, match="top level is not an object"):
        parse_report("[]")
