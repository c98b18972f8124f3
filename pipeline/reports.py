"""Every report file of a run, as bytes by file name, for the Dagger layer to write into a Directory.

Pure: no I/O. Every value a tool run marked for scrubbing (`pipeline.model.ToolRun.scrub`) is removed from
every text field before rendering and, as a last line of defence, from the rendered bytes
(`pipeline.formats.redact`); bidi overrides and control characters are neutralised in every text the same
way. The SARIF file is rendered first, so that what its caps left out is said in the summary
and in the JSON report.

GitLab's security reports (`pipeline.formats.gitlab`) are written for the report types this run covered
(`gitlab_types`): a type no tool of the run reports into is left out rather than written empty, because an
empty report tells GitLab "nothing found" and resolves the vulnerabilities a previous pipeline recorded.
Their scan start and end times are the only values that differ between two runs on the same input.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence

import attrs

from pipeline.formats import gitlab
from pipeline.formats._common import NOT_GATED
from pipeline.formats.json_report import render_report
from pipeline.formats.junit import render_junit
from pipeline.formats.markdown import render_markdown
from pipeline.formats.redact import Scrubber
from pipeline.formats.sarif import GITHUB_LIMITS, SarifLimits, render_sarif
from pipeline.model import Finding, ImageFacts, SbomSummary, ToolRun, Verdict, merge_findings
from pipeline.policy.exceptions import RELAXATION_RULE_ID

SARIF = "seaworthy.sarif"
JUNIT = "junit.xml"
SUMMARY = "summary.md"
REPORT = "report.json"
_KINDS = {SARIF: "json", JUNIT: "xml", SUMMARY: "text", REPORT: "json"}
GITLAB_FILES = tuple(kind.file_name for kind in gitlab.ReportType)
"""gl-sast-report.json, gl-dependency-scanning-report.json, gl-container-scanning-report.json,
gl-secret-detection-report.json: the names GitLab's own analyzers use (and CI templates point at)."""


@attrs.frozen
class GitlabScan:
    """What GitLab's reports say about the scan beyond its findings; measured by the stage, passed in."""

    start_time: datetime.datetime
    end_time: datetime.datetime
    analyzer_version: str = "0.0.0"
    image: str = ""
    """The scanned image (name:tag); "" when the run scanned no image."""
    operating_system: str = gitlab.UNKNOWN_OS
    """The image's distribution, e.g. ``debian:13`` (`gitlab.operating_system_of` its CycloneDX SBOM)."""
    commit_sha: str = gitlab.NO_COMMIT
    """The commit the source was scanned at (GitLab's secret_detection requires one)."""


_SOURCE_TOOLS: Mapping[str, frozenset[gitlab.ReportType]] = {
    "semgrep": frozenset({gitlab.ReportType.SAST}),
    "hadolint": frozenset({gitlab.ReportType.SAST}),
    "bandit": frozenset({gitlab.ReportType.SAST}),
    "njsscan": frozenset({gitlab.ReportType.SAST}),
    "gitleaks": frozenset({gitlab.ReportType.SECRET_DETECTION}),
    # trivy fs: vulnerabilities and licences of dependencies, misconfigurations, secrets
    "trivy": frozenset(
        {gitlab.ReportType.DEPENDENCY_SCANNING, gitlab.ReportType.SAST, gitlab.ReportType.SECRET_DETECTION}
    ),
}


def _is_image_run(run: ToolRun) -> bool:
    """An image scan names the image config it scanned (`ToolRun.subject`); a source scan names nothing."""
    return bool(run.subject) or any(gitlab.report_type(f) is gitlab.ReportType.CONTAINER_SCANNING for f in run.findings)


def gitlab_types(runs: Sequence[ToolRun], findings: Iterable[Finding]) -> tuple[gitlab.ReportType, ...]:
    """The GitLab report types the run covered: those its tools report into, and those of every finding
    (so no finding is ever left out of the GitLab reports), in `gitlab.ReportType` order."""
    kinds = {gitlab.report_type(f) for f in findings}
    for run in runs:
        if _is_image_run(run):
            kinds.add(gitlab.ReportType.CONTAINER_SCANNING)
        else:
            kinds |= _SOURCE_TOOLS.get(run.tool, frozenset())
    return tuple(k for k in gitlab.ReportType if k in kinds)


def gitlab_reports(
    runs: Sequence[ToolRun],
    findings: Sequence[Finding],
    verdict: Verdict | None,
    scan: GitlabScan,
    *,
    notes: Sequence[str] = (),
) -> dict[str, bytes]:
    """GitLab's security reports of the report types the run covered (`gitlab_types`), by file name."""
    image = scan.image or next((r.subject for r in runs if r.subject), "") or "unknown"
    ctx = gitlab.ScanContext(
        start_time=scan.start_time,
        end_time=max(scan.end_time, scan.start_time),
        tools={r.tool: r.version for r in runs},
        analyzer_version=scan.analyzer_version,
        image=image,
        operating_system=scan.operating_system or gitlab.UNKNOWN_OS,
        commit_sha=scan.commit_sha or gitlab.NO_COMMIT,
        messages=(*verdict_messages(verdict), *notes, *(n for r in runs for n in r.notes)),
    )
    return {kind.file_name: gitlab.render_gitlab(kind, findings, ctx) for kind in gitlab_types(runs, findings)}


def verdict_messages(verdict: Verdict | None) -> tuple[str, ...]:
    """What GitLab's reports say of the verdict: that none was evaluated, or what relaxed it and its notes."""
    if verdict is None:
        return (NOT_GATED,)
    return (
        # what made this scan see less than the defaults (scanners left out, skip_paths, …) stays visible
        *(f"{w.rule_id}: {w.message}" for w in sorted(verdict.warnings) if w.rule_id == RELAXATION_RULE_ID),
        *verdict.notes,
    )


def merged_findings(runs: Sequence[ToolRun]) -> tuple[Finding, ...]:
    """The findings of `runs`, merged (`pipeline.model.merge_findings`), with every value any run marked
    for scrubbing removed and bidi/control characters neutralised: what the gate input, the verdict and
    every rendering of findings are built from (a value one tool matched is scrubbed from another's too)."""
    return Scrubber.of(runs).findings(merge_findings(f for r in runs for f in r.findings))


def write_reports(
    runs: Sequence[ToolRun],
    findings: Sequence[Finding],
    verdict: Verdict | None,
    *,
    image: ImageFacts | None = None,
    sboms: Sequence[SbomSummary] = (),
    notes: Sequence[str] = (),
    top: int = 20,
    sarif_limits: SarifLimits = GITHUB_LIMITS,
    dockerfile: str = "Dockerfile",
    gitlab_scan: GitlabScan | None = None,
) -> dict[str, bytes]:
    """Render ``seaworthy.sarif``, ``junit.xml``, ``summary.md`` and ``report.json``, and with `gitlab_scan`
    GitLab's security reports (`gitlab_reports`).

    `findings` are the merged ones (`pipeline.model.merge_findings`); `notes` are anything else the user
    should read (they go to the summary and the JSON report, after the SARIF caps' notes). `verdict` None:
    no gate was evaluated, and every report says "not gated" where a verdict would be (never a pass).
    """
    scrubber = Scrubber.of(runs)  # secret values out, bidi/control characters neutralised, everywhere
    runs = [scrubber.run(r) for r in runs]
    findings = scrubber.findings(findings)
    verdict = scrubber.verdict(verdict) if verdict is not None else None
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
    if gitlab_scan is not None:
        files.update(gitlab_reports(runs, findings, verdict, gitlab_scan, notes=all_notes))
    return {name: scrubber.data(data, _KINDS.get(name, "json")) for name, data in files.items()}
