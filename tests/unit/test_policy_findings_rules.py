"""The gate's rules for development dependencies, licence findings and SAST coverage (real regorus)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs

from pipeline.formats.dev_install import DevInstall
from pipeline.model import Category, Component, Coverage, Finding, Package, SbomSummary, Severity, ToolRun, Verdict
from pipeline.policy.config import GateConfig
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.input import build_input
from pipeline.policy.verdict import read_verdict
from tests.policy_helpers import TODAY, finding, ids, sbom, vuln


def gate(
    findings: Sequence[Finding] = (),
    *,
    dev: DevInstall | None = None,
    runs: Sequence[ToolRun] = (),
    sbom_summary: SbomSummary | None = None,
    config: GateConfig | None = None,
) -> tuple[Verdict, dict[str, Any]]:
    doc = build_input(
        findings,
        sbom=sbom_summary,
        facts=(),
        build=None,
        config=config or GateConfig(),
        exceptions=(),
        today=TODAY,
        runs=runs,
        dev=dev,
    )
    return read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)), doc


# --------------------------------------------------------------------------------- development dependencies

DEV_VULN = attrs.evolve(vuln("CVE-2022-24999", "qs", "6.7.0", "6.7.3", Severity.HIGH), dev=True, fingerprint="")
PROD_VULN = vuln("CVE-2024-29041", "express", "4.17.1", "4.19.2", Severity.HIGH)


def test_dev_dependencies_are_gated_when_the_image_installs_them_and_the_verdict_says_why() -> None:
    verdict, doc = gate([DEV_VULN], dev=DevInstall(True, "Dockerfile:6: npm install"))
    assert doc["findings"][0]["dev"] is True
    assert doc["dev_dependencies"] == {"installed": True, "evidence": "Dockerfile:6: npm install"}
    assert ids(verdict.denials) == ["threshold.dependency"]
    assert ids(verdict.warnings) == ["dependency.dev-shipped"]
    assert "Dockerfile:6: npm install" in verdict.warnings[0].message
    assert verdict.warnings[0].findings == (DEV_VULN.fingerprint,)


def test_dev_dependencies_the_image_does_not_install_warn_and_do_not_deny() -> None:
    verdict, _ = gate(
        [DEV_VULN], dev=DevInstall(False, "Dockerfile's final stage installs no development dependencies")
    )
    assert verdict.passed
    assert ids(verdict.warnings) == ["dependency.dev-not-shipped"]
    assert "1 development-only dependency finding(s) not gated" in verdict.warnings[0].message
    assert "CVE-2022-24999 at qs 6.7.0" in verdict.warnings[0].message
    # a production dependency in the same run is still denied
    verdict, _ = gate([DEV_VULN, PROD_VULN], dev=DevInstall(False, "no install"))
    assert ids(verdict.denials) == ["threshold.dependency"]
    assert verdict.denials[0].findings == (PROD_VULN.fingerprint,)


def test_unknown_install_counts_dev_dependencies() -> None:
    verdict, doc = gate([DEV_VULN])
    assert doc["dev_dependencies"] == {"installed": None, "evidence": ""}
    assert ids(verdict.denials) == ["threshold.dependency"]
    assert ids(verdict.warnings) == ["dependency.dev-shipped"]
    assert "no Dockerfile was read" in verdict.warnings[0].message


def test_dev_rules_are_quiet_below_the_threshold() -> None:
    low = attrs.evolve(DEV_VULN, severity=Severity.LOW, fingerprint="")
    verdict, _ = gate([low], dev=DevInstall(False, "x"))
    assert verdict.passed and verdict.reasons == ()


# ---------------------------------------------------------------------------------------------- licences


def lic(name: str, version: str, licence: str, severity: Severity) -> Finding:
    pkg = Package(name, version, "npm", f"pkg:npm/{name}@{version}")
    return finding(Category.LICENSE, licence, severity, tool="trivy", path="package-lock.json", package=pkg)


def test_listed_licence_findings_follow_the_licence_lists_not_the_threshold() -> None:
    gpl = lic("gpl-lib", "1.0.0", "GPL-3.0-only", Severity.HIGH)  # trivy: restricted -> HIGH
    verdict, _ = gate([gpl])
    assert verdict.passed  # GPL is on the default warn list: a warning, as for an SBOM component
    assert ids(verdict.warnings) == ["license.copyleft"]
    assert "gpl-lib 1.0.0 (GPL-3.0-only)" in verdict.warnings[0].message
    assert verdict.warnings[0].findings == (gpl.fingerprint,)
    denied, _ = gate([gpl], config=GateConfig(license_deny=("GPL-3.0-only",)))
    assert ids(denied.denials) == ["license.denied"]


def test_a_licence_in_the_sbom_and_in_a_finding_is_judged_once() -> None:
    gpl = lic("gpl-lib", "1.0.0", "GPL-3.0-only", Severity.HIGH)
    component = Component("gpl-lib", "1.0.0", "pkg:npm/gpl-lib@1.0.0", "npm", ("GPL-3.0-only",))
    verdict, _ = gate([gpl], sbom_summary=sbom(component), config=GateConfig(license_deny=("GPL-3.0-only",)))
    assert ids(verdict.denials) == ["license.denied"]
    assert verdict.denials[0].message.startswith("1 component(s)")
    # the SBOM says another licence for that package: the finding still counts on its own
    mit = Component("gpl-lib", "1.0.0", "pkg:npm/gpl-lib@1.0.0", "npm", ("MIT",))
    verdict, _ = gate([gpl], sbom_summary=sbom(mit), config=GateConfig(license_deny=("GPL-3.0-only",)))
    assert ids(verdict.denials) == ["license.denied"]


def test_unlisted_licence_findings_use_the_licence_threshold() -> None:
    odd = lic("nc-lib", "1.0.0", "CC-BY-NC-4.0", Severity.CRITICAL)  # trivy: forbidden
    verdict, _ = gate([odd])
    assert ids(verdict.denials) == ["threshold.license"]
    verdict, _ = gate([lic("mit-lib", "2.0.0", "MIT", Severity.LOW)])
    assert verdict.passed and verdict.reasons == ()


# ---------------------------------------------------------------------------------------------- coverage


def run_with(coverage: Coverage) -> ToolRun:
    return ToolRun("semgrep", "1.185.0", (), coverage=coverage)


def test_a_language_with_files_and_no_sast_rule_warns() -> None:
    cov = Coverage(
        files=12, languages=(("go", 4), ("python", 8)), rules=(("javascript", 2), ("python", 6)), rules_total=8
    )
    verdict, doc = gate(runs=[run_with(cov)])
    assert doc["coverage"]["semgrep"]["languages"] == {"go": 4, "python": 8}
    assert verdict.passed
    assert ids(verdict.warnings) == ["sast.no-coverage"]
    assert "go (4 file(s))" in verdict.warnings[0].message
    assert "python" not in verdict.warnings[0].message


def test_no_warning_when_covered_or_when_rule_languages_are_unknown() -> None:
    covered = Coverage(files=8, languages=(("python", 8),), rules=(("python", 6),), rules_total=6)
    assert gate(runs=[run_with(covered)])[0].reasons == ()
    unknown = Coverage(files=4, languages=(("go", 4),), rules=(("python", 6),), rules_total=6, rules_known=False)
    assert gate(runs=[run_with(unknown)])[0].reasons == ()
    other = ToolRun("bandit", "1", (), coverage=Coverage(languages=(("go", 1),), rules=(("go", 3),)))
    cov = Coverage(files=4, languages=(("go", 4),), rules=(("python", 6),), rules_total=6)
    assert gate(runs=[run_with(cov), other])[0].reasons == ()  # another SAST scanner covers go
    assert gate()[0].reasons == ()
