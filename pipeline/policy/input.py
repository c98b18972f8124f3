"""The gate's input document, schema `seaworthy.gate-input/v2` (documented in docs/policy.md).

`build_input` is deterministic: the same model objects give the same document, byte for byte once
serialized with sorted keys. Everything the rules need is computed here or in Rego from this document only.
"""

from __future__ import annotations

import datetime
import itertools
import json
import re
from collections.abc import Callable, Sequence
from typing import Any, cast

from pipeline.formats.coverage import coverage_json
from pipeline.formats.dev_install import DevInstall
from pipeline.model import Category, Finding, ImageFacts, Package, SbomSummary, Severity, ToolRun, bulk, sort_key
from pipeline.model_gate import PEP503_ECOSYSTEMS, BuildFacts, Exception_, package_key
from pipeline.policy.config import GateConfig

SCHEMA = "seaworthy.gate-input/v2"

_MAX_ALTERNATIVES = 64
"""Cap on the alternatives one license expression expands to (AND of ORs multiplies them)."""


def gate_input_text(doc: dict[str, Any]) -> str:
    """The gate-input.json text of a document (what `ship` writes and hands to the engine): byte for byte
    `json.dumps(doc, sort_keys=True, check_circular=False) + "\\n"`, whatever the document.

    Sorted keys, no indentation (`json.dumps` only uses its C encoder without one), no check for reference
    cycles (build_input shares parts between findings but nests nothing in itself), one trailing newline.
    Hot path (100k findings): the findings array of a document `build_input` made is written here, from
    pieces (`_finding_texts`); the rest of the document by `json.dumps`. A findings array that is not
    exactly what build_input makes sends the whole document to `json.dumps`
    (tests/unit/test_gate_input_text.py compares the two on hostile documents).
    """
    if type(doc) is dict and all(type(key) is str for key in doc) and "findings" in doc:  # pyright: ignore[reportUnnecessaryComparison]
        # in json.dumps's order (sorted keys): the members before "findings", the findings, the members after,
        # each member at the depth json.dumps reaches it; an error is the one json.dumps raises first
        before = json.dumps({k: v for k, v in doc.items() if k < "findings"}, sort_keys=True, check_circular=False)
        texts = _finding_texts(doc["findings"])
        if texts is not None:
            after = json.dumps({k: v for k, v in doc.items() if k > "findings"}, sort_keys=True, check_circular=False)
            head = "{" + (before[1:-1] + ", " if len(before) > 2 else "") + '"findings": ['
            tail = "]" + (", " + after[1:-1] if len(after) > 2 else "") + "}\n"
            if not texts:
                return head + tail
            texts[0] = head + texts[0]
            texts[-1] += tail
            return ", ".join(texts)  # the 40 MB of 100k findings copied once
    return json.dumps(doc, sort_keys=True, check_circular=False) + "\n"


_string = json.encoder.encode_basestring_ascii
"""The string encoder `json.dumps` uses (ensure_ascii, the default): the C one where there is one."""
_RANK_TEXT = {rank: str(rank) for rank in range(6)}
_BOOL_TEXT = {True: "true", False: "false"}
_MAX_LINE = 10**15
"""The lines the shortcut writes itself (-_MAX_LINE < line < _MAX_LINE); a larger int goes to json.dumps,
whose `str` of it may raise, and must raise where json.dumps does (after an error before "findings")."""


def _finding_texts(findings: Any) -> list[str] | None:
    """The JSON text of each entry of a findings array exactly as build_input makes it, else None (json.dumps
    writes the document).

    Exactly: a list of dicts with build_input's 11 members (str keys), str category, rule_id, severity,
    fingerprint and where, an int rank 0-5, bool fixable and dev, a package dict (6 str members: str
    values) or None, a list of location dicts (str path, int or None line), a list of str tools. Each
    package dict, locations list and tools list is written once, by identity, however many findings share
    it (the document is not changed while this runs, so an id names one object throughout). Every string
    goes through the encoder json.dumps uses, every other value is a constant text; so the text is
    json.dumps's, byte for byte (tests/unit/test_gate_input_text.py checks it on hostile documents).
    """
    if type(findings) is not list:
        return None
    string = _string
    ranks = _RANK_TEXT
    bools = _BOOL_TEXT
    packages: dict[int, str] = {}
    locations: dict[int, str] = {}
    tools: dict[int, str] = {}
    texts: list[str] = []
    append = texts.append
    for entry in cast(list[Any], findings):
        if type(entry) is not dict:
            return None
        f = cast(dict[Any, Any], entry)
        if len(f) != 11:
            return None
        for key in f:
            if type(key) is not str:
                return None
        try:  # 11 str keys, these 11 among them: exactly build_input's members
            category, rule_id, severity, rank, fixable, package, f_locations, where, f_tools, fingerprint, dev = (
                f["category"],
                f["rule_id"],
                f["severity"],
                f["rank"],
                f["fixable"],
                f["package"],
                f["locations"],
                f["where"],
                f["tools"],
                f["fingerprint"],
                f["dev"],
            )
        except KeyError:
            return None
        if not (
            type(category) is str
            and type(rule_id) is str
            and type(severity) is str
            and type(where) is str
            and type(fingerprint) is str
            and type(rank) is int
            and type(fixable) is bool
            and type(dev) is bool
        ):
            return None
        rank_text = ranks.get(rank)
        if rank_text is None:
            return None
        # each part shared between findings is written once (no text is empty, so `or` means "not written yet")
        package_text = (
            "null" if package is None else (packages.get(id(package)) or _memo(packages, package, _package_text))
        )
        locations_text = locations.get(id(f_locations)) or _memo(locations, f_locations, _locations_text)
        tools_text = tools.get(id(f_tools)) or _memo(tools, f_tools, _strings_text)
        if package_text is None or locations_text is None or tools_text is None:
            return None
        append(
            f'{{"category": {string(category)}, "dev": {bools[dev]}, "fingerprint": {string(fingerprint)}, '
            f'"fixable": {bools[fixable]}, "locations": {locations_text}, "package": {package_text}, '
            f'"rank": {rank_text}, "rule_id": {string(rule_id)}, "severity": {string(severity)}, '
            f'"tools": {tools_text}, "where": {string(where)}}}'
        )
    return texts


def _memo(cache: dict[int, str], part: Any, write: Callable[[Any], str | None]) -> str | None:
    """`write(part)`, kept in `cache` by identity when it is a text (None: not shaped as build_input makes it)."""
    text = write(part)
    if text is not None:
        cache[id(part)] = text
    return text


def _package_text(package: Any) -> str | None:
    """A package dict's JSON text if it is one as build_input makes it (6 str members), else None."""
    values = _exact_members(package, _PACKAGE_MEMBERS)
    if values is None or not all(type(v) is str for v in values):
        return None
    ecosystem, fixed_version, key, name, purl, version = values
    string = _string
    return (
        f'{{"ecosystem": {string(ecosystem)}, "fixed_version": {string(fixed_version)}, "key": {string(key)}, '
        f'"name": {string(name)}, "purl": {string(purl)}, "version": {string(version)}}}'
    )


def _locations_text(locations: Any) -> str | None:
    """A locations list's JSON text if it is one as build_input makes it, else None."""
    if type(locations) is not list:
        return None
    texts: list[str] = []
    for entry in cast(list[Any], locations):
        values = _exact_members(entry, _LOCATION_MEMBERS)
        if values is None:
            return None
        path, line = values
        if type(path) is not str:
            return None
        if line is None:
            texts.append(f'{{"line": null, "path": {_string(path)}}}')
        elif type(line) is int and -_MAX_LINE < line < _MAX_LINE:
            texts.append(f'{{"line": {line}, "path": {_string(path)}}}')
        else:
            return None
    return "[" + ", ".join(texts) + "]"


_PACKAGE_MEMBERS = ("ecosystem", "fixed_version", "key", "name", "purl", "version")
_LOCATION_MEMBERS = ("path", "line")


def _exact_members(obj: Any, names: tuple[str, ...]) -> tuple[Any, ...] | None:
    """The values of `names` if `obj` is a plain dict with exactly these members (str keys), else None. (The
    findings' own 11 members are checked inline in `_finding_texts`: a call per finding is its hot path.)"""
    if type(obj) is not dict:
        return None
    members = cast(dict[Any, Any], obj)
    if len(members) != len(names):
        return None
    for key in members:
        if type(key) is not str:
            return None
    try:
        return tuple(members[name] for name in names)
    except KeyError:
        return None


def _strings_text(strings: Any) -> str | None:
    """A list of strings' JSON text (the tools), else None."""
    if type(strings) is not list:
        return None
    items = cast(list[Any], strings)
    for item in items:
        if type(item) is not str:
            return None
    return "[" + ", ".join(map(_string, items)) + "]"


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
