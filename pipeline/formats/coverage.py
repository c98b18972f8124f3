"""What each scanner looked at (`pipeline.model.Coverage`), as the reports show it. Pure, no I/O."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipeline.model import Coverage, ToolRun


def coverage_json(c: Coverage) -> dict[str, Any]:
    """report.json's ``runs[].coverage`` and the SARIF run's ``properties.coverage``."""
    return {
        "kind": c.kind,
        "files": c.files,
        "languages": dict(c.languages),
        "rules": dict(c.rules),
        "rules_total": c.rules_total,
        "rules_known": c.rules_known,
    }


def _langs(c: Coverage) -> str:
    rules = dict(c.rules)
    parts: list[str] = []
    for lang, files in c.languages:
        n = rules.get(lang, 0)
        if n:
            parts.append(f"{lang}: {files} file(s), {n} rule(s)")
        else:
            parts.append(f"{lang}: {files} file(s), {'rules not counted' if not c.rules_known else 'NO rules'}")
    return "; ".join(parts) or "no source files of a known language"


def coverage_lines(runs: Iterable[ToolRun]) -> list[str]:
    """summary.md's "Coverage" section: one line per scanner that says what it looked at."""
    lines: list[str] = []
    for r in runs:
        c = r.coverage
        if c is None:
            continue
        total = f"{c.rules_total} rule(s)" + ("" if c.rules_known else " counted, plus rules of unknown languages")
        lines.append(f"- `{r.tool}`: {c.files} file(s) scanned, {total} — {_langs(c)}")
    if not lines:
        return []
    return ["### Coverage", "", *lines, ""]
