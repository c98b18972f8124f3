"""JUnit XML: the gate's verdict and each tool's findings as test results, for CI test-report viewers.

Layout (documented in docs/report-schema.md, "JUnit"):

- ``<testsuites name="seaworthy">`` holds the suite ``policy gate`` first, then one suite per tool
  (sorted by name; several `ToolRun`s of one tool share a suite).
- ``policy gate``: one testcase per denial (``<failure>``: message, remedy, findings count) and per
  warning (``<skipped>`` with the message: GitLab and the GitHub JUnit reporters show skipped tests
  apart from passes, without failing the job). With no denial, a ``verdict`` testcase says the gate
  passed (it fails if the verdict says "failed" without a denial). With no verdict (an ungated run: a single
  scanner, an image scan), its one testcase ``not gated`` is ``<skipped>`` ("not gated: no policy was
  evaluated"), never a pass: nothing was decided.
- tool suites: one testcase per merged finding, in the suite of its first tool (as in the SARIF file).
  A finding that caused a denial is a ``<failure>``; one that only caused a warning is ``<skipped>``;
  any other finding passes, its details in ``<system-out>``. So the failures in the test report are
  exactly what blocks the release. A tool that found nothing has one passing ``no findings`` testcase.
  Passing findings beyond `max_passing_per_suite` are counted in the suite's ``<system-out>`` instead.
- Deterministic: no timestamps, no durations; everything escaped, characters XML 1.0 cannot carry
  replaced by U+FFFD.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence

from pipeline.formats._common import NOT_GATED, sort_findings, sort_runs, where, xml_text
from pipeline.model import Decision, Finding, Reason, ToolRun, Verdict

GATE_SUITE = "policy gate"


def render_junit(
    runs: Sequence[ToolRun],
    findings: Sequence[Finding],
    verdict: Verdict | None,
    *,
    max_passing_per_suite: int = 500,
) -> bytes:
    """Render the verdict and merged `findings` as JUnit XML (UTF-8, trailing newline).

    `verdict` None: no gate was evaluated; the gate suite says so in a skipped case, never a passing one."""
    denied = {fp for r in verdict.denials for fp in r.findings} if verdict is not None else set[str]()
    warned = {fp for r in verdict.warnings for fp in r.findings} if verdict is not None else set[str]()

    root = ET.Element("testsuites", {"name": "seaworthy"})
    suites = [_gate_suite(verdict) if verdict is not None else _ungated_suite()]
    tools: dict[str, list[ToolRun]] = {}
    for run in sort_runs(runs):
        tools.setdefault(run.tool, []).append(run)
    by_tool: dict[str, list[Finding]] = {tool: [] for tool in tools}
    for f in sort_findings(findings):
        by_tool.setdefault(f.tool, []).append(f)
    for tool in sorted(by_tool):
        suites.append(_tool_suite(tool, tools.get(tool, []), by_tool[tool], denied, warned, max_passing_per_suite))

    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in suites:
        for key in totals:
            totals[key] += int(suite.get(key, "0"))
        root.append(suite)
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode", short_empty_elements=True)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n").encode("utf-8", errors="replace")


def _suite(name: str) -> ET.Element:
    return ET.Element("testsuite", {"name": xml_text(name)})


def _finish(suite: ET.Element, cases: list[ET.Element], out: list[str]) -> ET.Element:
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", "0")
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.extend(cases)
    if out:
        ET.SubElement(suite, "system-out").text = xml_text("\n".join(out))
    return suite


def _case(name: str, classname: str) -> ET.Element:
    return ET.Element("testcase", {"name": xml_text(name), "classname": xml_text(classname)})


def _reason_text(r: Reason) -> str:
    lines = [r.message]
    if r.remedy:
        lines.append(f"Remedy: {r.remedy}")
    if r.findings:
        lines.append(f"Findings: {len(r.findings)}")
        lines.extend(f"  {fp}" for fp in r.findings)
    return "\n".join(lines)


def _gate_suite(verdict: Verdict) -> ET.Element:
    suite = _suite(GATE_SUITE)
    classname = f"seaworthy.gate.{verdict.policy}"
    cases: list[ET.Element] = []
    for r in sorted(verdict.denials):
        case = _case(r.rule_id, classname)
        failure = ET.SubElement(case, "failure", {"message": xml_text(r.message), "type": Decision.DENY.value})
        failure.text = xml_text(_reason_text(r))
        cases.append(case)
    for r in sorted(verdict.warnings):
        case = _case(r.rule_id, classname)
        ET.SubElement(case, "skipped", {"message": xml_text(f"warning: {r.message}")})
        ET.SubElement(case, "system-out").text = xml_text(_reason_text(r))
        cases.append(case)
    if not verdict.denials:
        case = _case("verdict", classname)
        if verdict.passed:
            ET.SubElement(case, "system-out").text = f"passed (policy: {xml_text(verdict.policy)})"
        else:
            ET.SubElement(case, "failure", {"message": "the gate failed without naming a reason", "type": "deny"})
        cases.insert(0, case)
    return _finish(suite, cases, list(verdict.notes))


def _ungated_suite() -> ET.Element:
    case = _case("not gated", "seaworthy.gate")
    ET.SubElement(case, "skipped", {"message": NOT_GATED})
    return _finish(_suite(GATE_SUITE), [case], ["No gate was evaluated: the findings are listed, not judged."])


def _finding_text(f: Finding) -> str:
    lines = [
        f"{f.severity.name} {f.category.value} {f.rule_id}",
        f.message or f.title or f.rule_id,
    ]
    lines.extend(f"at {loc.render()}" for loc in f.locations)
    if f.package is not None:
        p = f.package
        fix = f"fixed in {p.fixed_version}" if p.fixed_version else "no fixed version known"
        lines.append(f"package {p.name} {p.version} ({p.ecosystem or 'unknown'}); {fix}")
    if f.help_uri:
        lines.append(f.help_uri)
    lines.append(f"tools: {', '.join(f.tools)}; fingerprint {f.fingerprint}")
    return "\n".join(lines)


def _tool_suite(
    tool: str,
    runs: list[ToolRun],
    items: list[Finding],
    denied: set[str],
    warned: set[str],
    max_passing: int,
) -> ET.Element:
    suite = _suite(tool)
    out = [f"{tool} {r.version} exited {r.exit_code}" for r in runs]
    out.extend(note for r in runs for note in r.notes)
    cases: list[ET.Element] = []
    passing = 0
    left_out = 0
    for f in items:
        blocking = f.fingerprint in denied
        warning = not blocking and f.fingerprint in warned
        if not blocking and not warning:
            passing += 1
            if passing > max_passing:
                left_out += 1
                continue
        name = f"[{f.severity.name}] {f.rule_id}" + (f" at {where(f)}" if where(f) else "")
        case = _case(name, f"seaworthy.{tool}.{f.category.value}")
        text = xml_text(_finding_text(f))
        if blocking:
            message = f"{f.severity.name} {f.rule_id}: {f.message or f.title or f.rule_id}"
            ET.SubElement(case, "failure", {"message": xml_text(message), "type": f.severity.name}).text = text
        elif warning:
            ET.SubElement(case, "skipped", {"message": xml_text(f"warning: {f.rule_id}")})
            ET.SubElement(case, "system-out").text = text
        else:
            ET.SubElement(case, "system-out").text = text
        cases.append(case)
    if left_out:
        out.append(f"{left_out} more non-blocking findings are not listed here (see report.json).")
    if not items:
        cases.append(_case("no findings", f"seaworthy.{tool}"))
    return _finish(suite, cases, out)
