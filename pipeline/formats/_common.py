"""Helpers shared by the report renderers (SARIF, JUnit, Markdown, JSON, GitLab). Pure, no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, cast

from pipeline.model import Finding, Package, Severity, ToolRun, location_key, sort_key

SEVERITIES_DESC: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))
"""CRITICAL first, UNKNOWN last: the order every report lists severities in."""

IMAGE_PREFIX = "image:"

NOT_GATED = "not gated: no policy was evaluated"
"""What every report says when it carries no verdict (a single scanner, an image scan): never a pass."""

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


# --------------------------------------------------------------------------------------------- tool JSON

BOM = "\ufeff"
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")
_NESTING_HINT = "nested deeper than any real report is (a corrupt or hostile file)"


def strip_bom(text: str) -> str:
    """Text without the UTF-8 byte order mark .NET tools (and PowerShell) write at its start."""
    return text[1:] if text.startswith(BOM) else text


def without_lone_surrogates(value: Any) -> Any:
    """`value` (parsed JSON) with every lone surrogate (from a ``\\udXXX`` escape) replaced by U+FFFD.

    A lone surrogate cannot be encoded as UTF-8, so it would break every report and the gate later; it
    only ever comes from a file name that was not valid UTF-8. Iterative: no recursion limit to hit.
    """
    if isinstance(value, str):
        return clean_text(value)
    if not isinstance(value, dict | list):
        return value
    stack: list[Any] = [cast(Any, value)]
    while stack:
        node: Any = stack.pop()
        if isinstance(node, dict):
            d = cast(dict[str, Any], node)
            for key in [k for k in d if _SURROGATES.search(k)]:
                d[clean_text(key)] = d.pop(key)
            item: Any
            for key, item in d.items():
                if isinstance(item, str):
                    if _SURROGATES.search(item):
                        d[key] = clean_text(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
        elif isinstance(node, list):
            lst = cast(list[Any], node)
            for i, item in enumerate(lst):
                if isinstance(item, str):
                    if _SURROGATES.search(item):
                        lst[i] = clean_text(item)
                elif isinstance(item, dict | list):
                    stack.append(item)
    return cast(Any, value)


def loads_tool_json(text: str) -> object:
    """`json.loads` for a tool's output: a leading BOM is skipped, lone surrogates are replaced.

    Raises `json.JSONDecodeError` as json does, and `ValueError` (with a one-line reason) for a document
    nested too deep to read (Python's parser gives up with RecursionError).
    """
    import json

    text = strip_bom(text)
    try:
        data = json.loads(text)
    except RecursionError:
        raise ValueError(_NESTING_HINT) from None
    if _ESCAPED_SURROGATE.search(text):
        data = without_lone_surrogates(data)
    return data
