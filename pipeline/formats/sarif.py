"""SARIF 2.1.0 output, shaped for GitHub code scanning. Pure: findings in, bytes out.

Layout (documented in docs/report-schema.md, "SARIF"):

- One run per tool name, sorted by name; a tool that ran and found nothing still gets an empty run, so
  GitHub closes the alerts it had opened before. Several `ToolRun`s with the same tool name (e.g. trivy on
  the source and on the image) share one run, with one invocation each.
- A merged finding reported by several tools appears **once**, in the run of its first tool
  (`Finding.tool`, the alphabetically first), with every reporting tool in ``properties.tools``. GitHub
  keys alerts by tool, so listing it in each tool's run would open one alert per tool for one problem.
- ``partialFingerprints["seaworthy/v1"]`` is `Finding.fingerprint`: GitHub tracks the alert across
  commits by it, and the upload action then does not compute its own line hash.
- Every result has a location (GitHub rejects results without one): its locations in the scanned tree;
  for a finding that only has places inside the image (``image:…``) or no place at all, the Dockerfile
  (``dockerfile`` argument), with the in-image paths in the message and in ``properties.imagePaths``.
- Levels: every result has its own ``level`` (CRITICAL/HIGH → error, MEDIUM/UNKNOWN → warning, LOW/INFO →
  note) and its own ``properties.security-severity`` (CRITICAL 9.5, HIGH 8.0, MEDIUM 5.5, LOW 2.0; none for
  INFO/UNKNOWN). A rule carries the tag ``security`` and, when all its results share one severity, that
  ``security-severity`` (GitHub then files them as security alerts with it). A rule whose results differ
  carries none: GitHub would show the rule's value on every result (the worst one, for all of them), so
  each result is shown at its own level instead.
- Paths: a location in the scanned tree is relative to ``%SRCROOT%``; one outside it (absolute ``/…``,
  ``C:/…``) is an absolute ``file://`` URI without ``uriBaseId`` (never written as if it were in the
  repository), listed in ``properties.outsideScannedTree`` and in the message. A URI of another scheme
  (``https://…``) is not a location at all (GitHub rejects an upload whose absolute URIs do not use the
  checkout's ``file`` scheme): it is listed the same way and the result points at the Dockerfile.
- GitHub's limits (`GITHUB_LIMITS`): at most 20 runs, 25,000 results per run, 10 MB gzipped. Over a
  limit, the least severe results go first (runs: the run whose results are least severe); everything
  left out is counted per tool and severity in `SarifOutput.omitted` and said in `SarifOutput.notes`.
  Locations beyond 100 per result and tags beyond 10 per rule are left out too (GitHub keeps no more).
- Deterministic: sorted keys and arrays, no timestamps, UTF-8 (``ensure_ascii=False``), compact
  separators, one trailing newline.
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import attrs

from pipeline.formats._common import (
    IMAGE_PREFIX,
    SEVERITIES_DESC,
    breakdown,
    clean_text,
    is_image_path,
    severity_counts,
    sort_findings,
    sort_runs,
)
from pipeline.formats.coverage import coverage_json
from pipeline.model import Category, Finding, Location, Severity, ToolRun, bulk

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
FINGERPRINT_KEY = "seaworthy/v1"
SRCROOT = "%SRCROOT%"

LEVELS: dict[Severity, str] = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.UNKNOWN: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}

SECURITY_SEVERITY: dict[Severity, str] = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
}
"""GitHub reads >= 9.0 as critical, 7.0-8.9 high, 4.0-6.9 medium, 0.1-3.9 low."""

TOOL_URIS: dict[str, str] = {
    "gitleaks": "https://github.com/gitleaks/gitleaks",
    "hadolint": "https://github.com/hadolint/hadolint",
    "semgrep": "https://semgrep.dev",
    "syft": "https://github.com/anchore/syft",
    "grype": "https://github.com/anchore/grype",
    "trivy": "https://trivy.dev",
    "checkov": "https://www.checkov.io",
    "bandit": "https://bandit.readthedocs.io",
}


@attrs.frozen
class SarifLimits:
    """Upload limits of the SARIF consumer. `GITHUB_LIMITS` are GitHub code scanning's."""

    max_runs: int = 20
    max_results_per_run: int = 25_000
    max_gzip_bytes: int = 10_000_000
    """Checked against ``gzip -6`` of the output, as the upload action compresses it."""
    max_locations_per_result: int = 100
    """GitHub rejects more than 1,000 and keeps only 100."""
    max_tags_per_rule: int = 10
    """GitHub rejects more than 20 and keeps only 10."""


GITHUB_LIMITS = SarifLimits()

_CATEGORY = {c: c.value for c in Category}
_IMAGE_PREFIX_LEN = len(IMAGE_PREFIX)
_SEVERITY = {s: s.name for s in Severity}


class Reason:
    RUNS = "runs"
    RESULTS = "results-per-run"
    SIZE = "size"


@attrs.frozen(order=True)
class Omission:
    """Results of one tool and severity left out of the SARIF file, and why (a `Reason` value)."""

    tool: str
    reason: str
    severity: Severity
    count: int


@attrs.frozen
class SarifOutput:
    data: bytes
    """The SARIF document, UTF-8, ending in a newline."""
    results: int
    """How many results it holds."""
    omitted: tuple[Omission, ...] = ()
    notes: tuple[str, ...] = ()
    """One line per tool and reason saying exactly what was left out. Empty when nothing was."""

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")

    @property
    def omitted_count(self) -> int:
        return sum(o.count for o in self.omitted)


def render_sarif(
    runs: Sequence[ToolRun],
    findings: Sequence[Finding],
    *,
    limits: SarifLimits = GITHUB_LIMITS,
    dockerfile: str = "Dockerfile",
) -> SarifOutput:
    """Render merged `findings` (one run per tool of `runs`) as SARIF 2.1.0 within `limits`.

    `dockerfile` is the path (relative to the scanned root) that results without a place in the tree
    point at: the image findings' origin.
    """
    tool_runs: dict[str, list[ToolRun]] = {}
    for run in sort_runs(runs):
        tool_runs.setdefault(run.tool, []).append(run)
    by_tool: dict[str, list[Finding]] = {tool: [] for tool in tool_runs}
    for f in sort_findings(findings):
        by_tool.setdefault(f.tool, []).append(f)

    omitted: dict[tuple[str, str], dict[Severity, int]] = {}

    def omit(tool: str, reason: str, dropped: Iterable[Finding]) -> None:
        counts = omitted.setdefault((tool, reason), dict.fromkeys(Severity, 0))
        for f in dropped:
            counts[f.severity] += 1

    # 1. runs per file: keep the runs with the most severe results.
    tools = sorted(by_tool)
    if len(tools) > limits.max_runs:
        ranked = sorted(tools, key=lambda t: (_severity_profile(by_tool[t]), t))
        for tool in ranked[limits.max_runs :]:
            omit(tool, Reason.RUNS, by_tool.pop(tool))
            tool_runs.pop(tool, None)

    # 2. results per run: the list is sorted most severe first, so keep the head.
    for tool, items in by_tool.items():
        if len(items) > limits.max_results_per_run:
            omit(tool, Reason.RESULTS, items[limits.max_results_per_run :])
            del items[limits.max_results_per_run :]

    # 3. size: drop the globally least severe results until the gzipped file fits.
    # bulk(): no cyclic GC passes over the many small objects built here (see pipeline.model.bulk)
    with bulk():
        results = {tool: [_result(f, limits, dockerfile) for f in items] for tool, items in by_tool.items()}
        data = _serialize(_document(tool_runs, by_tool, results, limits))
        if not _surely_fits(data, limits.max_gzip_bytes):
            data = _shrink(tool_runs, by_tool, results, limits, data, omit)
        del results  # freed here, by reference counting: the collector's first pass then has nothing of it to walk

    truncated_locations = {
        tool: n
        for tool, items in by_tool.items()
        if (
            n := sum(
                1
                for f in items
                if len(f.locations) > limits.max_locations_per_result
                and len(_tree_locations(f)) > limits.max_locations_per_result
            )
        )
    }
    notes = _notes(omitted, truncated_locations, limits)
    omissions = tuple(
        sorted(
            (
                Omission(tool, reason, sev, n)
                for (tool, reason), counts in omitted.items()
                for sev, n in counts.items()
                if n
            ),
            key=lambda o: (o.tool, o.reason, -int(o.severity)),
        )
    )
    kept = sum(len(items) for items in by_tool.values())
    return SarifOutput(data=data, results=kept, omitted=omissions, notes=notes)


def _severity_profile(items: Sequence[Finding]) -> tuple[int, ...]:
    """Sorts the run with the most severe results first (then the most results of that severity)."""
    counts = severity_counts(items)
    return tuple(-counts[s] for s in SEVERITIES_DESC)


def _surely_fits(data: bytes, limit: int) -> bool:
    """True when even incompressible data this long would fit: deflate adds at most ~0.1 % plus a header."""
    return len(data) + len(data) // 1000 + 64 <= limit


_CHUNK = 256 * 1024
_CHUNKS = 16


def _estimate_gzip(data: bytes) -> float:
    """The gzipped size of `data`: exact when small, else from 16 evenly spread 256 KiB chunks.

    Deflate's window is 32 KiB, so a chunk compresses about as well as the same bytes inside the whole
    document (a little worse: the estimate errs on the safe side). Compressing a 100 MB document to
    learn its size would cost seconds on each try.
    """
    if len(data) <= _CHUNK * _CHUNKS:
        return len(_gzip(data))
    step = (len(data) - _CHUNK) // (_CHUNKS - 1)
    chunks = [data[i * step : i * step + _CHUNK] for i in range(_CHUNKS)]
    return sum(len(_gzip(c)) for c in chunks) / (_CHUNK * _CHUNKS) * len(data)


def _gzip(data: bytes) -> bytes:
    return gzip.compress(data, compresslevel=6, mtime=0)


def _shrink(
    tool_runs: dict[str, list[ToolRun]],
    by_tool: dict[str, list[Finding]],
    results: dict[str, list[dict[str, Any]]],
    limits: SarifLimits,
    data: bytes,
    omit: Callable[[str, str, Iterable[Finding]], None],
) -> bytes:
    """Drop the least severe results (across runs) until the gzipped document fits the limit."""
    # Every result, least severe last; ties broken by the report order within a run, then tool name.
    order = sorted(
        ((tool, i) for tool, items in by_tool.items() for i in range(len(items))),
        key=lambda ti: (-int(by_tool[ti[0]][ti[1]].severity), ti[1], ti[0]),
    )
    sizes: dict[tuple[str, int], int] = {}

    def result_sizes() -> dict[tuple[str, int], int]:
        """Bytes each result adds; computed only once a result must go (serializing each one costs seconds)."""
        if not sizes:
            sizes.update({ti: len(_serialize(results[ti[0]][ti[1]])) for ti in order})
            # A rule goes when the last result using it goes: count its size with that result (its first user).
            for tool, items in by_tool.items():
                rule_size = {r["id"]: len(_serialize(r)) for r in _rules(items, limits)}
                for i, f in enumerate(items):
                    if f.rule_id in rule_size:
                        sizes[(tool, i)] += rule_size.pop(f.rule_id)
        return sizes

    keep = len(order)
    estimate = _estimate_gzip(data)
    while True:
        if estimate <= limits.max_gzip_bytes:
            estimate = len(_gzip(data))  # an estimate that says "fits" is checked on the whole document
            if estimate <= limits.max_gzip_bytes:
                break
        if keep == 0:
            break
        ratio = estimate / len(data)
        excess = len(data) - int(limits.max_gzip_bytes * 0.98 / ratio)
        removed = 0
        result_size = result_sizes()
        while keep > 0 and (removed < excess or removed == 0):
            keep -= 1
            removed += result_size[order[keep]]
        kept_by_tool: dict[str, int] = {}
        for tool, i in order[:keep]:
            kept_by_tool[tool] = max(kept_by_tool.get(tool, 0), i + 1)
        data = _serialize(
            _document(
                tool_runs,
                {t: items[: kept_by_tool.get(t, 0)] for t, items in by_tool.items()},
                {t: items[: kept_by_tool.get(t, 0)] for t, items in results.items()},
                limits,
            )
        )
        estimate = _estimate_gzip(data)
    # Results within a run are kept as a prefix, since the global order is severity then run order.
    kept_by_tool = {}
    for tool, i in order[:keep]:
        kept_by_tool[tool] = max(kept_by_tool.get(tool, 0), i + 1)
    for tool, items in by_tool.items():
        n = kept_by_tool.get(tool, 0)
        omit(tool, Reason.SIZE, items[n:])
        del items[n:]
        del results[tool][n:]
    return data


def _serialize(doc: object) -> bytes:
    # check_circular=False: the document is a tree built here (no cycles); the check costs ~10 % of the time
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":"), check_circular=False)
    return (text + "\n").encode("utf-8", errors="replace")


def _document(
    tool_runs: dict[str, list[ToolRun]],
    by_tool: dict[str, list[Finding]],
    results: dict[str, list[dict[str, Any]]],
    limits: SarifLimits,
) -> dict[str, Any]:
    return {
        "$schema": SARIF_SCHEMA_URI,
        "version": SARIF_VERSION,
        "runs": [_run(tool, tool_runs.get(tool, []), by_tool[tool], results[tool], limits) for tool in sorted(by_tool)],
    }


def _run(
    tool: str,
    tool_runs: list[ToolRun],
    items: list[Finding],
    results: list[dict[str, Any]],
    limits: SarifLimits,
) -> dict[str, Any]:
    rules = _rules(items, limits)
    index = {rule_id: i for i, rule_id in enumerate(sorted({f.rule_id for f in items}))}  # raw ids, as results
    driver: dict[str, Any] = {"name": tool, "rules": rules}
    versions = sorted({r.version for r in tool_runs if r.version})
    if versions:
        driver["version"] = ", ".join(versions)
    if tool in TOOL_URIS:
        driver["informationUri"] = TOOL_URIS[tool]
    for f, r in zip(items, results, strict=True):
        r["ruleIndex"] = index[f.rule_id]  # rules depend on which results are kept: set on each render
    run: dict[str, Any] = {"tool": {"driver": driver}, "results": results}
    if tool_runs:
        run["invocations"] = [_invocation(r) for r in tool_runs]
    covered = [r.coverage for r in tool_runs if r.coverage is not None]
    if covered:  # what the tool looked at: languages, files, rules (the first run's, where several)
        run["properties"] = {"coverage": coverage_json(covered[0])}
    return run


def _rules(items: list[Finding], limits: SarifLimits) -> list[dict[str, Any]]:
    """The rules the results use, sorted by id, each described by its first (most severe) finding.

    One pass over the results (hot: 25,000 per run): per rule id its worst severity, whether its results'
    severities differ, its first title, its first absolute help URI and the union of categories and tags.
    """
    seen: dict[str, list[Any]] = {}  # rule id -> [worst, mixed, title, help URI, tags]
    for f in items:
        severity = f.severity
        info = seen.get(f.rule_id)
        if info is None:
            uri = f.help_uri if f.help_uri and _is_absolute_uri(f.help_uri) else ""
            seen[f.rule_id] = [severity, False, f.title, uri, {_CATEGORY[f.category], *f.tags}]
            continue
        if severity != info[0]:
            info[1] = True
            info[0] = max(info[0], severity)
        if not info[2] and f.title:
            info[2] = f.title
        if not info[3] and f.help_uri and _is_absolute_uri(f.help_uri):
            info[3] = f.help_uri
        tags: set[str] = info[4]
        tags.add(_CATEGORY[f.category])
        if f.tags:
            tags.update(f.tags)
    rules: list[dict[str, Any]] = []
    for rule_id in sorted(seen):
        worst, mixed, title, uri, tags = seen[rule_id]
        rules.append(_rule(rule_id, worst, mixed, title, uri, tags, limits))
    return rules


def _invocation(run: ToolRun) -> dict[str, Any]:
    inv: dict[str, Any] = {"executionSuccessful": True, "exitCode": run.exit_code}
    if run.notes:
        inv["toolExecutionNotifications"] = [
            {"level": "note", "message": {"text": clean_text(n) or "(empty note)"}} for n in run.notes
        ]
    return inv


def _rule(
    rule_id: str, worst: Severity, mixed: bool, title_text: str, uri: str, tags: set[str], limits: SarifLimits
) -> dict[str, Any]:
    title = clean_text(title_text or rule_id)
    properties: dict[str, Any] = {
        "tags": ["security", *sorted(tags - {"security"})][: limits.max_tags_per_rule],
    }
    # GitHub shows a rule's security-severity for every result of the rule: set it only when all of them
    # share it; otherwise each result is shown at its own `level` (and says its own security-severity)
    if worst in SECURITY_SEVERITY and not mixed:
        properties["security-severity"] = SECURITY_SEVERITY[worst]
    rule: dict[str, Any] = {
        "id": clean_text(rule_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": title},
        "defaultConfiguration": {"level": LEVELS[worst]},
        "properties": properties,
    }
    if uri:
        rule["helpUri"] = uri
        rule["help"] = {"text": f"{title}\n{uri}"}
    else:
        rule["help"] = {"text": title}
    return rule


# Plainly absolute http(s) URIs (what scanners write), recognised without urlsplit (hot: one per rule).
_PLAIN_HTTP_URI = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[!-~]*)?")


def _is_absolute_uri(value: str) -> bool:
    if _PLAIN_HTTP_URI.fullmatch(value):
        return True
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    printable = value.isprintable() and " " not in value
    return parts.scheme in ("http", "https") and bool(parts.netloc) and printable


@functools.lru_cache(maxsize=4096)
def _uri(path: str) -> str:
    return quote(path, safe="/", errors="replace")


def _region(loc: Location) -> dict[str, int] | None:
    start = loc.start_line
    if start is None or start < 1:
        return None
    region = {"startLine": start}
    end = loc.end_line if loc.end_line is not None and loc.end_line >= start else None
    if end is not None:
        region["endLine"] = end
    if loc.start_column is not None and loc.start_column >= 1:
        region["startColumn"] = loc.start_column
    if loc.end_column is not None and loc.end_column >= 1:
        same_line = end is None or end == start
        if not same_line or loc.end_column >= region.get("startColumn", 1):
            region["endColumn"] = loc.end_column
    return region


_DRIVE = re.compile(r"^[A-Za-z]:/")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def _is_absolute_path(path: str) -> bool:
    """A path outside the scanned tree as the parsers keep it: ``/home/…``, ``C:/…`` or ``scheme://…``."""
    return path.startswith("/") or bool(_DRIVE.match(path)) or bool(_SCHEME.match(path))


def _artifact(path: str) -> dict[str, str]:
    """The artifactLocation of a path: relative to %SRCROOT% when in the tree, else an absolute URI.

    SARIF (3.4.4) allows ``uriBaseId`` only on a relative reference, and GitHub resolves a relative one
    against the repository root; an absolute path outside the tree written as relative would name a file
    that does not exist (``C%3A/…``). So it is written as an absolute ``file://`` URI without a base: the
    upload action makes it relative when it lies under the checkout, and it stays unambiguous otherwise.
    """
    if path.startswith("/"):
        return {"uri": "file://" + _uri(path)}
    if _DRIVE.match(path):
        return {"uri": "file:///" + path[:2] + _uri(path[2:])}
    return {"uri": _uri(path), "uriBaseId": SRCROOT}


def _physical(path: str, loc: Location | None) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact(path)}
    region = _region(loc) if loc is not None else None
    if region:
        physical["region"] = region
    return {"physicalLocation": physical}


def _placeable(path: str) -> bool:
    """A file path (in the tree, or an absolute one written as a file:// URI). Not an in-image path, and
    not a URI of another scheme: GitHub rejects the whole upload when an absolute URI's scheme is not the
    checkout's (``file``)."""
    return bool(path) and not is_image_path(path) and not (":" in path and _SCHEME.match(path))


def _tree_locations(f: Finding) -> list[Location]:
    return [loc for loc in f.locations if _placeable(loc.path)]


def _result(f: Finding, limits: SarifLimits, dockerfile: str) -> dict[str, Any]:
    """One result; text is cleaned of lone surrogates when serialized (`_serialize`).

    Hot (one per finding, 100k in a large image): one pass over the locations sorts them into places in the
    tree (`_placeable`), in-image paths and URIs of other schemes, as `_tree_locations` and the filters did.
    """
    tree: list[Location] = []
    in_image: list[str] = []
    elsewhere: list[str] = []
    for loc in f.locations:
        path = loc.path
        other_scheme = ":" in path and _SCHEME.match(path) is not None
        if path.startswith(IMAGE_PREFIX):
            in_image.append(path[_IMAGE_PREFIX_LEN:])
        elif path and not other_scheme:
            tree.append(loc)
        if other_scheme:
            elsewhere.append(path)
    if tree:
        del tree[limits.max_locations_per_result :]
        locations = [_physical(loc.path, loc) for loc in tree]
    else:
        locations = [_physical(dockerfile, None)]

    text = f.message or f.title or f.rule_id
    p = f.package
    if p is not None:
        fix = f"fixed in {p.fixed_version}" if p.fixed_version else "no fixed version known"
        eco = f" ({p.ecosystem})" if p.ecosystem else ""
        text += f"\nPackage: {p.name} {p.version}{eco}; {fix}."
    if in_image:
        shown = in_image[:10]
        more = f" and {len(in_image) - len(shown)} more" if len(in_image) > len(shown) else ""
        text += "\nIn the image: " + ", ".join(shown) + more + "."
    severity = f.severity
    properties: dict[str, Any] = {
        "category": _CATEGORY[f.category],
        "severity": _SEVERITY[severity],
        "tools": list(f.tools),
    }
    security = SECURITY_SEVERITY.get(severity)
    if security is not None:
        properties["security-severity"] = security
    outside = [loc.path for loc in tree if _is_absolute_path(loc.path)] + elsewhere
    if outside:
        properties["outsideScannedTree"] = outside
        text += "\nOutside the scanned tree: " + ", ".join(outside[:10]) + "."
    if p is not None:
        properties["package"] = {
            "ecosystem": p.ecosystem,
            "fixedVersion": p.fixed_version,
            "name": p.name,
            "purl": p.purl,
            "version": p.version,
        }
    if in_image:
        properties["imagePaths"] = in_image
    return {
        "ruleId": f.rule_id,
        "level": LEVELS[severity],
        "message": {"text": text},
        "locations": locations,
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
        "properties": properties,
    }


_REASON_TEXT = {
    Reason.RUNS: "GitHub accepts at most {max_runs} runs per file; this run's results were the least severe",
    Reason.RESULTS: "GitHub accepts at most {max_results} results per run; the most severe were kept",
    Reason.SIZE: "to keep the file under {max_bytes} bytes gzipped (GitHub's upload limit); "
    "the least severe were left out first",
}


def _notes(
    omitted: dict[tuple[str, str], dict[Severity, int]],
    truncated_locations: dict[str, int],
    limits: SarifLimits,
) -> tuple[str, ...]:
    notes: list[str] = []
    fmt = {
        "max_runs": limits.max_runs,
        "max_results": limits.max_results_per_run,
        "max_bytes": limits.max_gzip_bytes,
    }
    for (tool, reason), counts in sorted(omitted.items()):
        n = sum(counts.values())
        why = _REASON_TEXT[reason].format(**fmt)
        if reason == Reason.RUNS:
            what = f"the run of {tool}" + (f" ({_results(n)}: {breakdown(counts)})" if n else " (no results)")
            notes.append(f"SARIF: left out {what}: {why}.")
        elif n:
            notes.append(f"SARIF: left out {_results(n)} of {tool} ({breakdown(counts)}): {why}.")
    for tool, n in sorted(truncated_locations.items()):
        notes.append(
            f"SARIF: {_results(n)} of {tool} list only their first {limits.max_locations_per_result} "
            "locations (GitHub keeps no more)."
        )
    return tuple(notes)


def _results(n: int) -> str:
    return f"{n} result" if n == 1 else f"{n} results"
