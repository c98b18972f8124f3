"""Helpers shared by the report renderers (SARIF, JUnit, Markdown, JSON, GitLab). Pure, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pipeline.model import Finding, Package, Severity, ToolRun, location_key, sort_key

SEVERITIES_DESC: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))
"""CRITICAL first, UNKNOWN last: the order every report lists severities in."""

IMAGE_PREFIX = "image:"

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_SURROGATES = re.compile("[\ud800-\udfff]")


def _package_key(p: Package | None) -> tuple[str, ...]:
    if p is None:
        return ()
    return (p.ecosystem, p.name, p.version, p.purl, p.fixed_version)


def finding_order(f: Finding) -> tuple[object, ...]:
    """A total order on findings: `pipeline.model.sort_key` first (most severe first), then every field.

    Two findings that compare equal here render identically, so sorting by it makes every report
    independent of the input order.
    """
    return (
        *sort_key(f),
        f.tools,
        tuple(location_key(loc) for loc in f.locations),
        _package_key(f.package),
        f.message,
        f.title,
        f.help_uri,
        f.tags,
    )


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """`findings` sorted by `finding_order`.

    Fast path (every report renders 100k findings in big images): `sort_key` ends with the fingerprint, so
    when no two findings share a `sort_key` (always the case for merged findings) sorting by it gives
    exactly the `finding_order` order, without building the longer keys.
    """
    decorated: list[tuple[tuple[object, ...], Finding]] = sorted(((sort_key(f), f) for f in findings), key=_first)
    if any(decorated[i][0] == decorated[i + 1][0] for i in range(len(decorated) - 1)):
        return sorted((f for _, f in decorated), key=finding_order)
    return [f for _, f in decorated]


def _first(pair: tuple[tuple[object, ...], Finding]) -> tuple[object, ...]:
    return pair[0]


def run_order(run: ToolRun) -> tuple[object, ...]:
    return (run.tool, run.version, run.exit_code, run.notes, len(run.findings))


def sort_runs(runs: Iterable[ToolRun]) -> list[ToolRun]:
    return sorted(runs, key=run_order)


def severity_counts(findings: Iterable[Finding]) -> dict[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for f in findings:
        counts[f.severity] += 1
    return counts


def breakdown(counts: Mapping[Severity, int]) -> str:
    """'3 HIGH, 1 LOW': non-zero counts, most severe first."""
    return ", ".join(f"{counts[s]} {s.name}" for s in SEVERITIES_DESC if counts.get(s, 0))


def clean_text(text: str) -> str:
    """Text safe in any of our outputs: no lone surrogates (not encodable as UTF-8)."""
    return _SURROGATES.sub("\ufffd", text)


def xml_text(text: str) -> str:
    """Text that XML 1.0 can carry: control characters and non-characters replaced by U+FFFD."""
    return _INVALID_XML.sub("\ufffd", text)


def is_image_path(path: str) -> bool:
    return path.startswith(IMAGE_PREFIX)


def image_path(path: str) -> str:
    """The in-image part of an ``image:`` location path."""
    return path[len(IMAGE_PREFIX) :]


def where(f: Finding) -> str:
    """Where a finding is, in one short string: its first location, else its package, else ''."""
    if f.locations:
        return f.locations[0].render()
    if f.package is not None:
        return f"{f.package.name} {f.package.version}".strip()
    return ""
