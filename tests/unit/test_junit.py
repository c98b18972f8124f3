"""JUnit XML: parses, has the structure test-report viewers read, failures == what blocks the release."""

from __future__ import annotations

import random
import xml.etree.ElementTree as ET

from pipeline.formats.junit import GATE_SUITE, render_junit
from pipeline.model import Decision, Reason, Severity, ToolRun, Verdict
from tests.unit.report_factories import finding, realistic


def parse(data: bytes) -> ET.Element:
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    assert data.endswith(b"</testsuites>\n")
    return ET.fromstring(data)


def check_structure(root: ET.Element) -> None:
    """The shape of the common JUnit schema (Jenkins junit-10.xsd, GitLab's reader); consistent counts."""
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        assert suite.tag == "testsuite"
        assert suite.get("name")
        cases = suite.findall("testcase")
        assert {child.tag for child in suite} <= {"testcase", "system-out"}
        assert int(suite.get("tests", "-1")) == len(cases)
        assert int(suite.get("failures", "-1")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("skipped", "-1")) == sum(1 for c in cases if c.find("skipped") is not None)
        assert suite.get("errors") == "0"
        for case in cases:
            assert case.get("name") and case.get("classname")
            assert {child.tag for child in case} <= {"failure", "skipped", "system-out"}
            outcomes = [child.tag for child in case if child.tag in ("failure", "skipped")]
            assert len(outcomes) <= 1
            for failure in case.findall("failure"):
                assert failure.get("message") and failure.get("type")
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
    assert {k: int(root.get(k, "-1")) for k in totals} == totals


def test_realistic_report_structure_and_outcomes() -> None:
    runs, findings, verdict = realistic()
    root = parse(render_junit(runs, findings, verdict))
    check_structure(root)
    names = [s.get("name") for s in root]
    assert names == [GATE_SUITE, "gitleaks", "hadolint", "semgrep", "trivy"]

    gate = root[0]
    failures = {c.get("name"): c.find("failure") for c in gate if c.find("failure") is not None}
    assert set(failures) == {"secrets", "vulnerabilities.critical"}
    secrets = failures["secrets"]
    assert secrets is not None and secrets.get("message") == "2 secrets in the source tree"
    assert "Remedy: Remove the secrets and rotate them." in (secrets.text or "")
    assert "Findings: 2" in (secrets.text or "")
    skipped = [c for c in gate if c.find("skipped") is not None]
    assert [c.get("name") for c in skipped] == ["base-image.pinned"]
    assert gate.findtext("system-out") == "exception EX-1 (CVE-2000-0001) matched nothing"

    # failures in the tool suites are exactly the findings the denials name
    denied = {fp for r in verdict.denials for fp in r.findings}
    failed_cases = [c for s in root[1:] for c in s if c.find("failure") is not None]
    assert len(failed_cases) == len(denied) == 3
    assert all(any(fp in (c.findtext("failure") or "") for fp in denied) for c in failed_cases)
    total_cases = sum(len(s.findall("testcase")) for s in root[1:])
    assert total_cases == len(findings)

    trivy = root[4]
    assert "trivy 0.76.0 exited 0" in (trivy.findtext("system-out") or "")
    assert "skipped 2 files larger than 10 MB" in (trivy.findtext("system-out") or "")


def test_passing_gate_and_idle_tool() -> None:
    root = parse(render_junit([ToolRun("hadolint", "2.15.1", ())], [], Verdict(passed=True)))
    check_structure(root)
    gate, hadolint = root
    assert [c.get("name") for c in gate.findall("testcase")] == ["verdict"]
    assert gate.find("testcase/failure") is None
    assert gate.findtext("testcase/system-out") == "passed (policy: rego)"
    assert [c.get("name") for c in hadolint.findall("testcase")] == ["no findings"]
    assert root.get("failures") == "0"


def test_failed_verdict_without_denial_still_fails() -> None:
    root = parse(render_junit([], [], Verdict(passed=False)))
    check_structure(root)
    assert root.get("failures") == "1"


def test_everything_is_escaped_and_xml_safe() -> None:
    nasty = "a < b && c > \"d\" 'e' ]]> \x00\x01\x1b ü 🚢 \ud800"
    # a lone surrogate cannot be in a rule id (the fingerprint hashes it as UTF-8), only in free text
    ident = nasty.replace("\ud800", "")
    f = finding(rule_id=ident, message=nasty, tools=(ident,))
    verdict = Verdict(
        passed=False,
        denials=(Reason(nasty, Decision.DENY, nasty, nasty, (f.fingerprint,)),),
        notes=(nasty,),
    )
    data = render_junit([ToolRun(nasty, nasty, (), notes=(nasty,))], [f], verdict)
    data.decode("utf-8")
    root = parse(data)
    check_structure(root)
    expected = "a < b && c > \"d\" 'e' ]]> \ufffd\ufffd\ufffd ü 🚢 \ufffd"
    suite = root[1]
    assert suite.get("name") == expected[:-1]
    (case,) = suite.findall("testcase")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == f"HIGH {expected[:-1]}: {expected}"
    assert root[0][0].get("name") == expected


def test_passing_findings_beyond_the_limit_are_counted_not_listed() -> None:
    findings = [finding(rule_id=f"r{i:03}", severity=Severity.LOW) for i in range(30)]
    blocking = finding(rule_id="zzz", severity=Severity.LOW)
    verdict = Verdict(passed=False, denials=(Reason("x", Decision.DENY, "m", "", (blocking.fingerprint,)),))
    root = parse(render_junit([], [*findings, blocking], verdict, max_passing_per_suite=10))
    check_structure(root)
    suite = root[1]
    cases = suite.findall("testcase")
    assert len(cases) == 11, "10 passing and the blocking one, which is never left out"
    assert any(c.find("failure") is not None and "zzz" in (c.get("name") or "") for c in cases)
    assert "20 more non-blocking findings are not listed here" in (suite.findtext("system-out") or "")


def test_deterministic_across_renders_and_orders() -> None:
    runs, findings, verdict = realistic()
    first = render_junit(runs, findings, verdict)
    assert render_junit(runs, findings, verdict) == first
    rng = random.Random(3)
    shuffled_runs, shuffled = list(runs), list(findings)
    rng.shuffle(shuffled_runs)
    rng.shuffle(shuffled)
    reversed_verdict = Verdict(
        passed=verdict.passed,
        denials=tuple(reversed(verdict.denials)),
        warnings=verdict.warnings,
        notes=verdict.notes,
    )
    assert render_junit(shuffled_runs, shuffled, reversed_verdict) == first
