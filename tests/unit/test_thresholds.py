from __future__ import annotations

from pipeline.config import DEFAULT_THRESHOLDS
from pipeline.model import Category, Package, Severity
from pipeline.policy.thresholds import evaluate
from tests.factories import finding, vuln


def test_clean_findings_pass() -> None:
    verdict = evaluate([finding(severity=Severity.MEDIUM), vuln(severity=Severity.LOW)], DEFAULT_THRESHOLDS)
    assert verdict.passed
    assert verdict.denials == ()


def test_one_reason_per_breaking_category_with_its_findings() -> None:
    items = [
        finding(Category.SAST, "shell", Severity.HIGH),
        finding(Category.SAST, "pickle", Severity.CRITICAL, line=9),
        finding(Category.SECRET, "aws", Severity.LOW, tool="gitleaks", path="config.py"),
        vuln(severity=Severity.CRITICAL),
        finding(Category.MISCONFIGURATION, "DL3007", Severity.MEDIUM, tool="hadolint", path="Dockerfile"),
    ]
    verdict = evaluate(items, DEFAULT_THRESHOLDS)
    assert not verdict.passed
    assert [r.rule_id for r in verdict.denials] == ["threshold.sast", "threshold.secret", "threshold.dependency"]
    sast = verdict.denials[0]
    assert sast.message == "2 sast finding(s) at HIGH or above (1 CRITICAL, 1 HIGH)"
    assert sast.findings == tuple(sorted(f.fingerprint for f in items[:2]))
    assert verdict.denials[1].message == "1 secret finding(s) at any severity (1 LOW)"


def test_off_threshold_never_fails_and_fixable_only_skips_unfixable() -> None:
    thresholds: dict[Category, Severity | None] = dict(DEFAULT_THRESHOLDS)
    thresholds[Category.SAST] = None
    unfixable = vuln(fixed="", severity=Severity.CRITICAL)
    assert evaluate([finding(severity=Severity.CRITICAL)], thresholds).passed
    assert not evaluate([unfixable], thresholds).passed
    assert evaluate([unfixable], thresholds, fixable_only=True).passed
    fixable = vuln(severity=Severity.CRITICAL)
    assert isinstance(fixable.package, Package) and fixable.fixable
    assert not evaluate([fixable], thresholds, fixable_only=True).passed
