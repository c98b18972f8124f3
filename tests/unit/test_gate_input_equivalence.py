"""`build_input`'s findings entries, built with caches for the parts findings share, are exactly what the
plain per-finding version gave (issue 8: 100k findings on the way to the gate).

The plain version is kept below as the reference. Generated findings draw their packages, location tuples
and tool tuples from small pools, so one object is shared by several findings (the caches' case) and equal
objects are not always the same object (the caches must key on nothing but identity); categories, empty
locations, absent packages, lines and unsorted tool tuples vary. The gate-input.json text must be the same,
byte for byte.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.model import Category, Finding, Location, Package, Severity, sort_key
from pipeline.model_gate import package_key
from pipeline.policy.config import GateConfig
from pipeline.policy.input import build_input, gate_input_text

_SEVERITY = {s: (s.name, int(s)) for s in Severity}


def _reference_where(f: Finding) -> str:
    if f.package is not None and f.category.is_vulnerability:
        return f"{f.package.name} {f.package.version}".strip()
    if f.locations:
        return f.locations[0].render()
    return f.package.name if f.package else ""


def _reference_findings(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for f in sorted(findings, key=sort_key):
        pkg = f.package
        out.append(
            {
                "category": f.category.value,
                "rule_id": f.rule_id,
                "severity": _SEVERITY[f.severity][0],
                "rank": _SEVERITY[f.severity][1],
                "fixable": pkg is not None and bool(pkg.fixed_version),
                "package": None
                if pkg is None
                else {
                    "name": pkg.name,
                    "key": package_key(pkg.name, pkg.ecosystem),
                    "version": pkg.version,
                    "ecosystem": pkg.ecosystem,
                    "purl": pkg.purl,
                    "fixed_version": pkg.fixed_version,
                },
                "locations": [{"path": loc.path, "line": loc.start_line} for loc in f.locations],
                "where": _reference_where(f),
                "tools": sorted(f.tools),
                "fingerprint": f.fingerprint,
                "dev": f.dev,
            }
        )
    return out


PACKAGES = [
    Package("Jinja2", "1.0", "pypi", "pkg:pypi/jinja2@1.0", "3.1"),
    Package("Jinja2", "1.0", "pypi", "pkg:pypi/jinja2@1.0", "3.1"),  # equal to the first, not the same object
    Package("openssl", "", "deb"),
    Package("", " 2.0 ", "npm"),
]
LOCATIONS = [
    (),
    (Location("src/app.py", 3, 5),),
    (Location("image:usr/lib/x"), Location("src/b.py", 1)),
    (Location("image:usr/lib/x"), Location("src/b.py", 1)),
    (Location("", 0),),
]
TOOLS = [("trivy",), ("grype", "trivy"), ("trivy", "grype"), ("trivy",)]


@st.composite
def findings(draw: st.DrawFn, index: int) -> Finding:
    return Finding(
        category=draw(st.sampled_from(list(Category))),
        rule_id=draw(st.sampled_from(["CVE-2024-1", "CVE-2024-2", "py.rule"])),
        severity=draw(st.sampled_from(list(Severity))),
        message=f"message {index}",
        tools=draw(st.sampled_from(TOOLS)),
        locations=draw(st.sampled_from(LOCATIONS)),
        package=draw(st.none() | st.sampled_from(PACKAGES)),
        identity=f"id{index}",
        dev=draw(st.booleans()),
    )


@st.composite
def finding_lists(draw: st.DrawFn) -> list[Finding]:
    return [draw(findings(i)) for i in range(draw(st.integers(0, 20)))]


def _doc(items: list[Finding]) -> dict[str, Any]:
    return build_input(
        items,
        sbom=None,
        facts=(),
        build=None,
        config=GateConfig(),
        exceptions=(),
        today=datetime.date(2026, 11, 27),
    )


@settings(max_examples=300, deadline=None)
@given(finding_lists())
def test_the_findings_entries_are_what_the_plain_version_gave(items: list[Finding]) -> None:
    doc = _doc(items)
    assert doc["findings"] == _reference_findings(items)
    assert gate_input_text(doc) == gate_input_text({**doc, "findings": _reference_findings(items)})


def test_a_shared_package_gives_each_category_its_own_where() -> None:
    """One Package object under a vulnerability and a licence finding: the vulnerability's `where` is the
    package, the licence's its first location (the cache holds the package's text, not the finding's)."""
    pkg = PACKAGES[0]
    loc = (Location("requirements.txt", 4),)
    vuln = Finding(Category.DEPENDENCY, "CVE-1", Severity.HIGH, "m", ("trivy",), loc, pkg)
    lic = Finding(Category.LICENSE, "GPL-3.0", Severity.HIGH, "m", ("trivy",), loc, pkg)
    bare = Finding(Category.LICENSE, "MIT", Severity.LOW, "m", ("trivy",), (), pkg)
    wheres = {e["rule_id"]: e["where"] for e in _doc([vuln, lic, bare])["findings"]}
    assert wheres == {"CVE-1": "Jinja2 1.0", "GPL-3.0": "requirements.txt:4", "MIT": "Jinja2"}
