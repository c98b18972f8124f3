"""`scan` tells the truth (engine-free): its gate input is ship's without the image, the real Rego gate
(regorus) fails a project with CRITICAL/HIGH findings, and the reports say "failed", not "passed"."""

from __future__ import annotations

import datetime
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from pipeline import api
from pipeline.config import Config
from pipeline.main import Seaworthy, _scan_result  # pyright: ignore[reportPrivateUsage]
from pipeline.model import Category, Coverage, Severity, ToolRun, merge_findings
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.verdict import read_verdict
from pipeline.stages import report as report_stage
from pipeline.stages.scan_gate import source_gate_input
from tests.factories import finding

ROOT = Path(__file__).resolve().parents[2]
TODAY = datetime.date(2026, 6, 1)


def runs() -> tuple[ToolRun, ...]:
    sast = finding(Category.SAST, "seaworthy.python.shell-injection", Severity.CRITICAL, path="app.py", line=9)
    secret = finding(Category.SECRET, "aws-access-token", Severity.CRITICAL, tool="gitleaks", path="config.py")
    cov = Coverage(files=2, languages=(("python", 2),), rules=(("python", 6),), rules_total=6)
    return (
        ToolRun("semgrep", "1.185.0", (sast,), exit_code=1, coverage=cov),
        ToolRun("gitleaks", "8.30.1", (secret,), exit_code=3),
    )


def gate(
    rs: tuple[ToolRun, ...], dockerfile: str | None = "FROM python:3.12\nUSER 1000\n"
) -> tuple[Any, dict[str, Any]]:
    findings = merge_findings(f for r in rs for f in r.findings)
    doc = source_gate_input(findings, rs, Config(), exceptions=(), today=TODAY, dockerfile_text=dockerfile)
    return read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)), doc


def test_source_gate_input_has_findings_coverage_and_no_image() -> None:
    _, doc = gate(runs())
    assert doc["images"] == [] and doc["sbom"] is None and doc["build"] is None
    assert {f["rule_id"] for f in doc["findings"]} == {"seaworthy.python.shell-injection", "aws-access-token"}
    assert doc["coverage"]["semgrep"]["languages"] == {"python": 2}
    assert doc["dev_dependencies"]["installed"] is False
    assert gate(runs(), None)[1]["dev_dependencies"]["installed"] is None


def test_critical_findings_fail_the_scan_and_image_rules_stay_silent() -> None:
    verdict, _ = gate(runs())
    assert not verdict.passed
    assert sorted(r.rule_id for r in verdict.denials) == ["threshold.sast", "threshold.secret"]
    assert not any(r.rule_id.startswith(("image.", "sbom.", "build.")) for r in verdict.reasons)
    clean, _ = gate((ToolRun("semgrep", "1.185.0", ()),))
    assert clean.passed and clean.reasons == ()


def test_scan_reports_say_failed_with_the_reasons() -> None:
    rs = runs()
    verdict, doc = gate(rs)
    files = report_stage.render(rs, merge_findings(f for r in rs for f in r.findings), verdict=verdict)
    summary = files["summary.md"].decode()
    assert "failed" in summary and "✅ passed" not in summary
    assert "threshold.sast" in summary
    junit = ET.fromstring(files["junit.xml"])
    failures = sum(int(s.get("failures", "0")) for s in junit.iter("testsuite")) or int(junit.get("failures", "0"))
    assert failures >= 1
    scanned = api.scanned(rs, verdict, {"gate-input.json": json.dumps(doc)})
    assert not scanned.passed and "gate-input.json" in scanned.files
    result = _scan_result(scanned)
    assert "threshold.secret" in result.summary
    assert result.count == 2
    assert not result.passed and json.loads(result.verdict)["passed"] is False


def test_scan_takes_strict_and_today_like_ship() -> None:
    fn = Seaworthy.__dagger_object_type__.functions["scan"]  # pyright: ignore[reportAttributeAccessIssue]
    params = fn.parameters  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    assert params["strict"].default_value == "true"  # pyright: ignore[reportUnknownMemberType]
    assert "today" in params


def test_scan_is_never_reused_from_another_session() -> None:
    # the verdict depends on the day (exception expiry): a 7-day cached result could pass an expired waiver
    fn = Seaworthy.__dagger_object_type__.functions["scan"]  # pyright: ignore[reportAttributeAccessIssue]
    assert fn.cache_policy == "session"  # pyright: ignore[reportUnknownMemberType]
