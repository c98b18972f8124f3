"""Every report file of a run, as bytes by file name, for the Dagger layer to write into a Directory.

Pure: no I/O. Every value a tool run marked for scrubbing (`pipeline.model.ToolRun.scrub`) is removed from
every text field before rendering and, as a last line of defence, from the rendered bytes
(`pipeline.formats.redact`); bidi overrides and control characters are neutralised in every text the same
way. The SARIF file is rendered first, so that what its caps left out is said in the summary
and in the JSON report.
"""

from __future__ import annotations

from collections.abc import Sequence

from pipeline.formats.json_report import render_report
from pipeline.formats.junit import render_junit
from pipeline.formats.markdown import render_markdown
from pipeline.formats.redact import Scrubber
from pipeline.formats.sarif import GITHUB_LIMITS, SarifLimits, render_sarif
from pipeline.model import Finding, ImageFacts, SbomSummary, ToolRun, Verdict, merge_findings

SARIF = "seaworthy.sarif"
JUNIT = "junit.xml"
SUMMARY = "summary.md"
REPORT = "report.json"
_KINDS = {SARIF: "json", JUNIT: "xml", SUMMARY: "text", REPORT: "json"}


def merged_findings(runs: Sequence[ToolRun]) -> tuple[Finding, ...]:
    """The findings of `runs`, merged (`pipeline.model.merge_findings`), with every value any run marked
    for scrubbing removed and bidi/control characters neutralised: what the gate input, the verdict and
    every rendering of findings are built from (a value one tool matched is scrubbed from another's too)."""
    return Scrubber.of(runs).findings(merge_findings(f for r in runs for f in r.findings))


def write_reports(
    runs: Sequence[ToolRun],
    findings: Sequence[Finding],
    verdict: Verdict,
    *,
    image: ImageFacts | None = None,
    sboms: Sequence[SbomSummary] = (),
    notes: Sequence[str] = (),
    top: int = 20,
    sarif_limits: SarifLimits = GITHUB_LIMITS,
    dockerfile: str = "Dockerfile",
) -> dict[str, bytes]:
    """Render ``seaworthy.sarif``, ``junit.xml``, ``summary.md`` and ``report.json``.

    `findings` are the merged ones (`pipeline.model.merge_findings`); `notes` are anything else the user
    should read (they go to the summary and the JSON report, after the SARIF caps' notes).
    """
    scrubber = Scrubber.of(runs)  # secret values out, bidi/control characters neutralised, everywhere
    runs = [scrubber.run(r) for r in runs]
    findings = scrubber.findings(findings)
    verdict = scrubber.verdict(verdict)
    notes = scrubber.texts(notes)
    sarif = render_sarif(runs, findings, limits=sarif_limits, dockerfile=dockerfile)
    all_notes = [*notes, *sarif.notes]
    if sarif.notes:
        all_notes.append(f"Every finding, including those left out of {SARIF}, is in {REPORT}.")
    files = {
        SARIF: sarif.data,
        JUNIT: render_junit(runs, findings, verdict),
        SUMMARY: render_markdown(runs, findings, verdict, notes=all_notes, top=top).encode("utf-8", "replace"),
        REPORT: render_report(runs, findings, verdict, image=image, sboms=sboms, notes=all_notes),
    }
    return {name: scrubber.data(data, _KINDS[name]) for name, data in files.items()}
