"""The machine-readable report, ``seaworthy.report/v1`` (documented in docs/report-schema.md).

`render_report` writes it (sorted keys and arrays, 2-space indent, UTF-8, trailing newline, no
timestamps); `parse_report` reads it back into model types, refusing anything that is not v1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, cast

import attrs

from pipeline.errors import InputError
from pipeline.formats._common import SEVERITIES_DESC, severity_counts, sort_findings, sort_runs
from pipeline.formats.coverage import coverage_json
from pipeline.model import (
    BasePin,
    Category,
    Component,
    Decision,
    Finding,
    ImageFacts,
    Location,
    Package,
    Reason,
    SbomSummary,
    Severity,
    ToolRun,
    Verdict,
)

SCHEMA = "seaworthy.report/v1"
_OLD_SCAN_ONLY_POLICY = "none"
"""The policy name of the stand-in verdict (passed, no gate) that ungated reports carried before ``gated``."""


@attrs.frozen
class RunSummary:
    """A tool run as the report keeps it: its counts, not its (unmerged) findings."""

    tool: str
    version: str
    exit_code: int
    findings: int
    by_severity: tuple[tuple[Severity, int], ...]
    """Non-zero counts, most severe first."""
    notes: tuple[str, ...] = ()


@attrs.frozen
class Report:
    verdict: Verdict | None
    """None when no gate was evaluated (``"gated": false``)."""
    runs: tuple[RunSummary, ...]
    findings: tuple[Finding, ...]
    image: ImageFacts | None = None
    sboms: tuple[SbomSummary, ...] = ()
    notes: tuple[str, ...] = ()


def _counts(findings: Sequence[Finding]) -> dict[str, int]:
    counts = severity_counts(findings)
    return {s.name: counts[s] for s in SEVERITIES_DESC}


def _location(loc: Location) -> dict[str, Any]:
    return {
        "path": loc.path,
        "start_line": loc.start_line,
        "end_line": loc.end_line,
        "start_column": loc.start_column,
        "end_column": loc.end_column,
    }


def _package(p: Package | None) -> dict[str, Any] | None:
    if p is None:
        return None
    return {
        "name": p.name,
        "version": p.version,
        "ecosystem": p.ecosystem,
        "purl": p.purl,
        "fixed_version": p.fixed_version,
    }


def finding_to_json(f: Finding) -> dict[str, Any]:
    return {
        "fingerprint": f.fingerprint,
        "category": f.category.value,
        "rule_id": f.rule_id,
        "severity": f.severity.name,
        "message": f.message,
        "title": f.title,
        "help_uri": f.help_uri,
        "tools": list(f.tools),
        "locations": [_location(loc) for loc in f.locations],
        "package": _package(f.package),
        "tags": list(f.tags),
        "dev": f.dev,
    }


def reason_to_json(r: Reason) -> dict[str, Any]:
    return {
        "rule_id": r.rule_id,
        "decision": r.decision.value,
        "message": r.message,
        "remedy": r.remedy,
        "findings": sorted(r.findings),
    }


def image_to_json(facts: ImageFacts) -> dict[str, Any]:
    return {
        "config_digest": facts.config_digest,
        "platform": facts.platform,
        "user": facts.user,
        "runs_as_root": facts.runs_as_root,
        "entrypoint": list(facts.entrypoint),
        "cmd": list(facts.cmd),
        "exposed_ports": list(facts.exposed_ports),
        "labels": dict(sorted(facts.labels)),
        "base_image": facts.base_image,
        "base_pin": facts.base_pin.value,
        "size": facts.size,
        "layers": facts.layers,
    }


def _sbom(s: SbomSummary) -> dict[str, Any]:
    components = sorted(s.components)
    return {
        "format": s.format,
        "spec_version": s.spec_version,
        "tool": s.tool,
        "component_count": len(components),
        "licenses": list(s.licenses),
        "components": [
            {
                "name": c.name,
                "version": c.version,
                "purl": c.purl,
                "type": c.type,
                "licenses": sorted(c.licenses),
            }
            for c in components
        ],
    }


def verdict_to_json(verdict: Verdict) -> dict[str, Any]:
    return {
        "passed": verdict.passed,
        "policy": verdict.policy,
        "denials": [reason_to_json(r) for r in sorted(verdict.denials)],
        "warnings": [reason_to_json(r) for r in sorted(verdict.warnings)],
        "notes": list(verdict.notes),
    }


def render_report(
    runs: Sequence[ToolRun],
    findings: Sequence[Finding],
    verdict: Verdict | None,
    *,
    image: ImageFacts | None = None,
    sboms: Sequence[SbomSummary] = (),
    notes: Sequence[str] = (),
) -> bytes:
    """The v1 report of merged `findings`, the tools' runs, the verdict and what is known of the image.

    `verdict` None: no gate was evaluated; ``gated`` is false and ``verdict`` null (never a passing verdict)."""
    ordered = sort_findings(findings)
    by_category = {c.value: sum(1 for f in ordered if f.category is c) for c in Category}
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "gated": verdict is not None,
        "verdict": verdict_to_json(verdict) if verdict is not None else None,
        "summary": {
            "findings": len(ordered),
            "by_severity": _counts(ordered),
            "by_category": by_category,
            "fixable": sum(1 for f in ordered if f.fixable),
        },
        "runs": [
            {
                "tool": r.tool,
                "version": r.version,
                "exit_code": r.exit_code,
                "findings": len(r.findings),
                "by_severity": _counts(r.findings),
                "notes": list(r.notes),
                "coverage": coverage_json(r.coverage) if r.coverage is not None else None,
            }
            for r in sort_runs(runs)
        ],
        "findings": [finding_to_json(f) for f in ordered],
        "image": image_to_json(image) if image is not None else None,
        "sboms": [_sbom(s) for s in sorted(sboms, key=lambda s: (s.format, s.spec_version, s.tool))],
        "notes": list(notes),
    }
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8", errors="replace")


def _bad(problem: str) -> InputError:
    return InputError(
        f"not a {SCHEMA} report: {problem}; pass the report.json that Seaworthy wrote, unmodified, "
        "or regenerate it with the same Seaworthy version"
    )


def _get(obj: Any, key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict):
        raise _bad(f"{where} is not an object")
    value = cast(dict[str, Any], obj).get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise _bad(f"{where}.{key} is missing or not {kind}")
    return value


def _opt_int(obj: dict[str, Any], key: str, where: str) -> int | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise _bad(f"{where}.{key} is not an integer or null")
    return value


def _strs(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in cast(list[Any], value)):
        raise _bad(f"{where} is not a list of strings")
    return tuple(cast(list[str], value))


def _parse_finding(obj: Any, where: str) -> Finding:
    try:
        locations = tuple(
            Location(
                _get(loc, "path", str, f"{where}.locations"),
                _opt_int(loc, "start_line", where),
                _opt_int(loc, "end_line", where),
                _opt_int(loc, "start_column", where),
                _opt_int(loc, "end_column", where),
            )
            for loc in _get(obj, "locations", list, where)
        )
        pkg = obj.get("package")
        package = None
        if pkg is not None:
            package = Package(
                *(_get(pkg, k, str, f"{where}.package") for k in ("name", "version", "ecosystem", "purl")),
                fixed_version=_get(pkg, "fixed_version", str, f"{where}.package"),
            )
        return Finding(
            category=Category.parse(_get(obj, "category", str, where)),
            rule_id=_get(obj, "rule_id", str, where),
            severity=Severity.parse(_get(obj, "severity", str, where)),
            message=_get(obj, "message", str, where),
            tools=_strs(_get(obj, "tools", list, where), f"{where}.tools"),
            locations=locations,
            package=package,
            title=_get(obj, "title", str, where),
            help_uri=_get(obj, "help_uri", str, where),
            tags=_strs(_get(obj, "tags", list, where), f"{where}.tags"),
            dev=obj.get("dev") is True,
            fingerprint=_get(obj, "fingerprint", str, where),
        )
    except ValueError as e:
        raise _bad(f"{where}: {e}") from None


def _parse_reason(obj: Any, where: str) -> Reason:
    try:
        decision = Decision(_get(obj, "decision", str, where))
    except ValueError:
        raise _bad(f"{where}.decision is not deny or warn") from None
    return Reason(
        rule_id=_get(obj, "rule_id", str, where),
        decision=decision,
        message=_get(obj, "message", str, where),
        remedy=_get(obj, "remedy", str, where),
        findings=_strs(_get(obj, "findings", list, where), f"{where}.findings"),
    )


def _parse_image(obj: Any) -> ImageFacts:
    w = "image"
    labels = _get(obj, "labels", dict, w)
    if not all(isinstance(v, str) for v in cast(dict[str, Any], labels).values()):
        raise _bad("image.labels has a value that is not a string")
    try:
        pin = BasePin(_get(obj, "base_pin", str, w))
    except ValueError:
        raise _bad("image.base_pin is not digest, tag, none or scratch") from None
    return ImageFacts(
        config_digest=_get(obj, "config_digest", str, w),
        platform=_get(obj, "platform", str, w),
        user=_get(obj, "user", str, w),
        entrypoint=_strs(_get(obj, "entrypoint", list, w), "image.entrypoint"),
        cmd=_strs(_get(obj, "cmd", list, w), "image.cmd"),
        exposed_ports=_strs(_get(obj, "exposed_ports", list, w), "image.exposed_ports"),
        labels=tuple(sorted(cast(dict[str, str], labels).items())),
        base_image=_get(obj, "base_image", str, w),
        base_pin=pin,
        size=_get(obj, "size", int, w),
        layers=_get(obj, "layers", int, w),
    )


def _parse_sbom(obj: Any, where: str) -> SbomSummary:
    components = tuple(
        Component(
            name=_get(c, "name", str, f"{where}.components"),
            version=_get(c, "version", str, f"{where}.components"),
            purl=_get(c, "purl", str, f"{where}.components"),
            type=_get(c, "type", str, f"{where}.components"),
            licenses=_strs(_get(c, "licenses", list, f"{where}.components"), f"{where}.components.licenses"),
        )
        for c in _get(obj, "components", list, where)
    )
    return SbomSummary(
        format=_get(obj, "format", str, where),
        spec_version=_get(obj, "spec_version", str, where),
        components=components,
        tool=_get(obj, "tool", str, where),
    )


def _parse_run(obj: Any, where: str) -> RunSummary:
    counts = _get(obj, "by_severity", dict, where)
    by_severity: list[tuple[Severity, int]] = []
    for s in SEVERITIES_DESC:
        n = _get(counts, s.name, int, f"{where}.by_severity")
        if n:
            by_severity.append((s, n))
    return RunSummary(
        tool=_get(obj, "tool", str, where),
        version=_get(obj, "version", str, where),
        exit_code=_get(obj, "exit_code", int, where),
        findings=_get(obj, "findings", int, where),
        by_severity=tuple(by_severity),
        notes=_strs(_get(obj, "notes", list, where), f"{where}.notes"),
    )


def parse_report(text: str | bytes) -> Report:
    """Read a report written by `render_report`. Raises InputError naming what is wrong."""
    try:
        doc = json.loads(text)
    except RecursionError:
        raise _bad("nested too deeply to be a Seaworthy report") from None
    except ValueError as e:
        raise _bad(f"not JSON ({e})") from None
    if not isinstance(doc, dict):
        raise _bad("the top level is not an object")
    doc = cast(dict[str, Any], doc)
    if doc.get("schema") != SCHEMA:
        raise _bad(f"schema is {doc.get('schema')!r}")
    gated = doc.get("gated", True)  # reports written before `gated` existed always carried a verdict
    if not isinstance(gated, bool):
        raise _bad("report.gated is not true or false")
    verdict: Verdict | None = None
    if gated:
        v = _get(doc, "verdict", dict, "report")
        verdict = Verdict(
            passed=_get(v, "passed", bool, "verdict"),
            denials=tuple(_parse_reason(r, "verdict.denials") for r in _get(v, "denials", list, "verdict")),
            warnings=tuple(_parse_reason(r, "verdict.warnings") for r in _get(v, "warnings", list, "verdict")),
            notes=_strs(_get(v, "notes", list, "verdict"), "verdict.notes"),
            policy=_get(v, "policy", str, "verdict"),
        )
        if "gated" not in doc and verdict.policy == _OLD_SCAN_ONLY_POLICY:
            verdict = None  # an ungated report of an older version: its "passed" decided nothing
    elif doc.get("verdict") is not None:
        raise _bad("report.gated is false but report.verdict is not null")
    image = doc.get("image")
    return Report(
        verdict=verdict,
        runs=tuple(_parse_run(r, f"runs[{i}]") for i, r in enumerate(_get(doc, "runs", list, "report"))),
        findings=tuple(
            _parse_finding(f, f"findings[{i}]") for i, f in enumerate(_get(doc, "findings", list, "report"))
        ),
        image=_parse_image(image) if image is not None else None,
        sboms=tuple(_parse_sbom(s, f"sboms[{i}]") for i, s in enumerate(_get(doc, "sboms", list, "report"))),
        notes=_strs(_get(doc, "notes", list, "report"), "notes"),
    )
