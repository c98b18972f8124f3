"""The Markdown summary: for a GitHub job summary ($GITHUB_STEP_SUMMARY) and a GitLab merge-request note.

Order: the verdict first (each denial with rule id, message, remedy and how many findings caused it, then
warnings; with no verdict, "not gated": nothing was decided), a table of findings per category and
severity, the top N findings with place, package and fixed version, the tools that ran, then notes (results
left out of a capped report, exceptions that matched nothing, tool notes). Tool text is escaped so that it
can neither break a table nor render as Markdown/HTML nor mention anyone; identifiers are shown as code
spans. No secret value is ever printed: findings carry the rule and the place of a secret, never its value,
and nothing here adds one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pipeline.formats._common import NOT_GATED, SEVERITIES_DESC, sort_findings, sort_runs
from pipeline.formats.coverage import coverage_lines
from pipeline.model import Category, Finding, Reason, Severity, ToolRun, Verdict

_SPECIAL = re.compile(r"([\\`*_{}\[\]<>#|~@&$])")
"""Inline-significant characters. Line-start markers (-, +, 1.) need no escape: text never starts a line."""
_SPACE = re.compile(r"[\s\x00-\x1f\x7f]+")


def md_text(text: str, limit: int = 300) -> str:
    """Tool text as inline Markdown: one line, every Markdown/HTML-significant character escaped."""
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return _SPECIAL.sub(r"\\\1", flat)


def md_code(text: str, limit: int = 120) -> str:
    """An identifier as a code span (safe from Markdown and mentions); pipes escaped for tables."""
    flat = _SPACE.sub(" ", text).strip()
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    if not flat:
        return ""
    longest = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat.replace('|', chr(92) + '|')}{pad}{fence}"


def render_markdown(
    runs: Sequence[ToolRun],
    findings: Sequence[Finding],
    verdict: Verdict | None,
    *,
    notes: Sequence[str] = (),
    top: int = 20,
    title: str = "Seaworthy",
) -> str:
    """Render the summary. `notes` are added to the verdict's and the tools' notes (e.g. SARIF caps).

    `verdict` None: no gate was evaluated; the first line says "not gated", never "passed"."""
    ordered = sort_findings(findings)
    lines: list[str] = []
    lines += _verdict(verdict, title)
    lines += _table(ordered)
    lines += _top(ordered, top)
    lines += _runs(runs)
    lines += coverage_lines(sort_runs(runs))
    lines += _notes(verdict, runs, notes)
    return "\n".join(lines).rstrip("\n") + "\n"


def _reason(r: Reason) -> list[str]:
    count = len(r.findings)
    counted = f" ({count} finding{'s' if count != 1 else ''})" if count else ""
    out = [f"- {md_code(r.rule_id)}{counted}: {md_text(r.message)}"]
    if r.remedy:
        out.append(f"  - Remedy: {md_text(r.remedy)}")
    return out


def _verdict(verdict: Verdict | None, title: str) -> list[str]:
    if verdict is None:  # a single scanner's or an image scan's report: nothing was decided
        return [
            f"## {md_text(title)}: not gated",
            "",
            f"{NOT_GATED.capitalize()}: these are findings, not a pass. Run `scan` or `ship` for a verdict.",
            "",
        ]
    state = "✅ passed" if verdict.passed else "❌ failed"
    lines = [f"## {md_text(title)}: {state}", ""]
    n_deny, n_warn = len(verdict.denials), len(verdict.warnings)
    lines.append(
        f"Policy {md_code(verdict.policy)}: {n_deny} denial{'s' if n_deny != 1 else ''}, "
        f"{n_warn} warning{'s' if n_warn != 1 else ''}."
    )
    lines.append("")
    if verdict.denials:
        lines += ["### Denied", ""]
        for r in sorted(verdict.denials):
            lines += _reason(r)
        lines.append("")
    if verdict.warnings:
        lines += ["### Warnings", ""]
        for r in sorted(verdict.warnings):
            lines += _reason(r)
        lines.append("")
    return lines


def _table(findings: list[Finding]) -> list[str]:
    lines = ["### Findings", ""]
    if not findings:
        return [*lines, "No findings.", ""]
    counts: dict[tuple[Category, Severity], int] = {}
    for f in findings:
        counts[(f.category, f.severity)] = counts.get((f.category, f.severity), 0) + 1
    severities = [s for s in SEVERITIES_DESC if any(sev is s for _, sev in counts)]
    lines.append("| Category | " + " | ".join(s.name for s in severities) + " | Total |")
    lines.append("|---|" + "---:|" * (len(severities) + 1))
    for cat in Category:
        row = [counts.get((cat, s), 0) for s in severities]
        if sum(row):
            lines.append(f"| {cat.value} | " + " | ".join(str(n) for n in row) + f" | {sum(row)} |")
    totals = [sum(n for (_, sev), n in counts.items() if sev is s) for s in severities]
    lines.append("| **total** | " + " | ".join(str(n) for n in totals) + f" | {len(findings)} |")
    return [*lines, ""]


def _top(findings: list[Finding], top: int) -> list[str]:
    if not findings or top <= 0:
        return []
    shown = findings[:top]
    lines = [
        f"### Top {len(shown)} finding{'s' if len(shown) != 1 else ''}",
        "",
        "| Severity | Category | Rule | Where | Package | Fixed in | Tools |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in shown:
        pkg = f"{f.package.name} {f.package.version}" if f.package else ""
        fixed = f.package.fixed_version if f.package else ""
        place = f.locations[0].render() if f.locations else ""
        more = f" (+{len(f.locations) - 1})" if len(f.locations) > 1 else ""
        place_md = md_code(place) + more
        cells = [
            f.severity.name,
            f.category.value,
            md_code(f.rule_id) + (f"<br>{md_text(f.title, 120)}" if f.title else ""),
            place_md,
            md_code(pkg),
            md_code(fixed) if fixed else ("no fix" if f.package else ""),
            md_text(", ".join(f.tools)),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    if len(findings) > len(shown):
        rest = len(findings) - len(shown)
        lines += ["", f"… and {rest} more (all of them are in report.json and the SARIF file)."]
    return [*lines, ""]


def _runs(runs: Sequence[ToolRun]) -> list[str]:
    if not runs:
        return []
    lines = ["### Tools", "", "| Tool | Version | Exit code | Findings |", "|---|---|---:|---:|"]
    for r in sort_runs(runs):
        lines.append(f"| {md_code(r.tool)} | {md_code(r.version)} | {r.exit_code} | {len(r.findings)} |")
    return [*lines, ""]


def _notes(verdict: Verdict | None, runs: Sequence[ToolRun], extra: Sequence[str]) -> list[str]:
    notes = [*(verdict.notes if verdict is not None else ()), *extra]
    notes += [f"{r.tool}: {n}" for r in sort_runs(runs) for n in r.notes]
    if not notes:
        return []
    return ["### Notes", "", *(f"- {md_text(n, 1000)}" for n in notes), ""]
