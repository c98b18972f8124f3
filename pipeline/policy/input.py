"""The gate's input document, schema `seaworthy.gate-input/v2` (documented in docs/policy.md).

`build_input` is deterministic: the same model objects give the same document, byte for byte once
serialized with sorted keys. Everything the rules need is computed here or in Rego from this document only.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
from collections.abc import Sequence
from typing import Any

from pipeline.formats.coverage import coverage_json
from pipeline.formats.dev_install import DevInstall
from pipeline.model import Category, Finding, ImageFacts, Package, SbomSummary, Severity, ToolRun, bulk, sort_key
from pipeline.model_gate import PEP503_ECOSYSTEMS, BuildFacts, Exception_, package_key
from pipeline.policy.config import GateConfig

SCHEMA = "seaworthy.gate-input/v2"

_MAX_ALTERNATIVES = 64
"""Cap on the alternatives one license expression expands to (AND of ORs multiplies them)."""


def gate_input_text(doc: dict[str, Any]) -> str:
    """The gate-input.json text of a document `build_input` made (what `ship` writes and hands to the engine).

    Sorted keys, no indentation (`json.dumps` only uses its C encoder without one: 100k findings in 0.5 s
    instead of 1.9 s), no check for reference cycles (the document is a tree of fresh dicts and lists),
    one trailing newline.
    """
    return json.dumps(doc, sort_keys=True, check_circular=False) + "\n"


def build_input(
    findings: Sequence[Finding],
    *,
    sbom: SbomSummary | None,
    facts: Sequence[ImageFacts],
    build: BuildFacts | None,
    config: GateConfig,
    exceptions: Sequence[Exception_],
    today: datetime.date,
    runs: Sequence[ToolRun] = (),
    dev: DevInstall | None = None,
) -> dict[str, Any]:
    """The gate input. `today` decides which exceptions are expired (the gate compares dates as text).

    `runs` give ``coverage`` (what each scanner looked at, where it says); `dev` says whether the image
    ships development dependencies (``dev_dependencies``; None: unknown, so they count).
    """
    return {
        "schema": SCHEMA,
        "today": today.isoformat(),
        "config": config.to_input(),
        "findings": _findings(findings),
        "sbom": None if sbom is None else _sbom(sbom),
        "images": [_image(f) for f in sorted(facts, key=lambda f: (f.platform, f.config_digest))],
        "build": None if build is None else _build(build),
        "exceptions": [_exception(e) for e in sorted(exceptions, key=lambda e: e.index)],
        "coverage": {r.tool: coverage_json(r.coverage) for r in sorted(runs, key=lambda r: r.tool) if r.coverage},
        "dev_dependencies": {
            "installed": None if dev is None else dev.installed,
            "evidence": "" if dev is None else dev.evidence,
        },
    }


_CATEGORY = {c: c.value for c in Category}
_SEVERITY = {s: (s.name, int(s)) for s in Severity}


def _findings(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """The findings' entries, most severe first. Hot path (100k findings on the way to the gate): parsers
    share Package objects, location tuples and tool tuples between findings, so their JSON parts (and the
    `where` text they decide) are built once each (the document is only serialized, never mutated, so sharing
    them is safe)."""
    packages: dict[int, tuple[dict[str, Any], bool, str]] = {}
    locations: dict[int, tuple[list[dict[str, Any]], str]] = {}
    tools: dict[int, list[str]] = {}
    out: list[dict[str, Any]] = []
    with bulk():  # no cyclic GC passes over the objects built here (linear time; see pipeline.model.bulk)
        _add_findings(findings, packages, locations, tools, out)
    return out


def _add_findings(
    findings: Sequence[Finding],
    packages: dict[int, tuple[dict[str, Any], bool, str]],
    locations: dict[int, tuple[list[dict[str, Any]], str]],
    tools: dict[int, list[str]],
    out: list[dict[str, Any]],
) -> None:
    """One entry per finding; the parts a finding shares with others come from the caches, keyed by the
    identity of the shared object (alive in `findings` throughout). `where` is the
    package's "name version" for a vulnerability with a package, else the first location rendered, else the
    package's name, else "" (tests/unit/test_gate_input_equivalence.py compares with the plain version)."""
    append = out.append
    for f in sorted(findings, key=sort_key):
        f_locations = f.locations
        loc_entry = locations.get(id(f_locations))
        if loc_entry is None:
            loc_entry = locations[id(f_locations)] = (
                [{"path": loc.path, "line": loc.start_line} for loc in f_locations],
                f_locations[0].render() if f_locations else "",
            )
        pkg = f.package
        if pkg is None:
            pkg_json, fixable, where = None, False, loc_entry[1]
        else:
            pkg_entry = packages.get(id(pkg))
            if pkg_entry is None:
                pkg_entry = packages[id(pkg)] = (
                    _package(pkg),
                    bool(pkg.fixed_version),
                    f"{pkg.name} {pkg.version}".strip(),
                )
            pkg_json, fixable, where = pkg_entry
            if f.category not in _VULN_CATEGORIES:
                where = loc_entry[1] if f_locations else pkg.name
        f_tools = f.tools
        tools_json = tools.get(id(f_tools))
        if tools_json is None:
            tools_json = tools[id(f_tools)] = sorted(f_tools)
        severity, rank = _SEVERITY[f.severity]
        append(
            {
                "category": _CATEGORY[f.category],
                "rule_id": f.rule_id,
                "severity": severity,
                "rank": rank,
                "fixable": fixable,
                "package": pkg_json,
                "locations": loc_entry[0],
                "where": where,
                "tools": tools_json,
                "fingerprint": f.fingerprint,
                "dev": f.dev,
            }
        )


_VULN_CATEGORIES = frozenset(c for c in Category if c.is_vulnerability)


def _package(pkg: Package) -> dict[str, Any]:
    return {
        "name": pkg.name,
        "key": package_key(pkg.name, pkg.ecosystem),
        "version": pkg.version,
        "ecosystem": pkg.ecosystem,
        "purl": pkg.purl,
        "fixed_version": pkg.fixed_version,
    }


def _sbom(s: SbomSummary) -> dict[str, Any]:
    components = sorted(s.components)
    return {
        "format": s.format,
        "spec_version": s.spec_version,
        "tool": s.tool,
        "components_count": len(components),
        "components": [
            {
                "name": c.name,
                "version": c.version,
                "purl": c.purl,
                "type": c.type,
                "licenses": sorted(c.licenses),
                "license_alternatives": license_alternatives(c.licenses),
            }
            for c in components
        ],
    }


def _image(f: ImageFacts) -> dict[str, Any]:
    return {
        "config_digest": f.config_digest,
        "platform": f.platform,
        "user": f.user,
        "runs_as_root": f.runs_as_root,
        "base_image": f.base_image,
        "base_pin": f.base_pin.value,
        "labels": dict(sorted(f.labels)),
    }


def _build(b: BuildFacts) -> dict[str, Any]:
    return {
        "config_digests": dict(sorted(b.config_digests)),
        "dockerfile": b.dockerfile,
        "platforms": sorted(b.platforms),
        "image": b.image,
    }


def _exception(e: Exception_) -> dict[str, Any]:
    return {
        "index": e.index,
        "name": e.name,
        "targets": sorted(e.targets),
        "package": e.scope.package,
        "package_keys": _package_keys(e.scope.package),
        "version": e.scope.version,
        "path": e.scope.path,
        "image": e.scope.image,
        "owner": e.owner,
        "reason": e.reason,
        "expires": e.expires.isoformat(),
    }


def _package_keys(package: str) -> dict[str, str]:
    """The exception's package as each ecosystem compares it: `"*"` for all but the PEP 503 ones."""
    if not package:
        return {}
    keys = {eco: package_key(package, eco) for eco in sorted(PEP503_ECOSYSTEMS)}
    keys["*"] = package_key(package)
    return keys


# --- SPDX license expressions -> alternatives ------------------------------------------------------------

_TOKEN = re.compile(r"\s*(\(|\)|[^\s()]+)")


def license_alternatives(licenses: Sequence[str]) -> list[list[str]]:
    """The ways a component may be used, as sorted lists of lower-case license ids (disjunctive normal form).

    Several entries are all required (AND). `MIT OR GPL-2.0-only` gives `[["gpl-2.0-only"], ["mit"]]`;
    `A AND (B OR C)` gives `[["a","b"], ["a","c"]]`. `X WITH exception` counts as X. Text that is not an
    SPDX expression counts as one license named by the whole (lower-cased) text.
    """
    if not licenses:
        return []
    parts = [_dnf(lic) for lic in licenses]
    return _unique(_and_all(parts))


def _unique(alts: list[list[str]]) -> list[list[str]]:
    return [list(a) for a in sorted({tuple(sorted(set(alt))) for alt in alts})]


def _and_all(parts: list[list[list[str]]]) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for part in parts:
        out = [a + b for a, b in itertools.product(out, part)][:_MAX_ALTERNATIVES]
    return out


def _dnf(expression: str) -> list[list[str]]:
    tokens = [m.group(1) for m in _TOKEN.finditer(expression)]
    try:
        result, pos = _or(tokens, 0)
        if pos != len(tokens):
            raise ValueError(expression)
    except (ValueError, IndexError, RecursionError):  # RecursionError: thousands of nested parentheses
        return [[expression.strip().lower()]]
    return result


def _or(tokens: list[str], pos: int) -> tuple[list[list[str]], int]:
    alts, pos = _and(tokens, pos)
    while pos < len(tokens) and tokens[pos].upper() == "OR":
        more, pos = _and(tokens, pos + 1)
        alts = (alts + more)[:_MAX_ALTERNATIVES]
    return alts, pos


def _and(tokens: list[str], pos: int) -> tuple[list[list[str]], int]:
    alts, pos = _atom(tokens, pos)
    while pos < len(tokens) and tokens[pos].upper() == "AND":
        more, pos = _atom(tokens, pos + 1)
        alts = _and_all([alts, more])
    return alts, pos


def _atom(tokens: list[str], pos: int) -> tuple[list[list[str]], int]:
    token = tokens[pos]
    if token == "(":
        alts, pos = _or(tokens, pos + 1)
        if tokens[pos] != ")":
            raise ValueError("unbalanced parenthesis")
        return alts, pos + 1
    if token in (")",) or token.upper() in ("AND", "OR", "WITH"):
        raise ValueError(f"unexpected {token}")
    pos += 1
    if pos < len(tokens) and tokens[pos].upper() == "WITH":
        pos += 2  # the exception id; the license it modifies is what the lists name
        if pos > len(tokens):
            raise ValueError("WITH without an exception id")
    return [[token.lower()]], pos
