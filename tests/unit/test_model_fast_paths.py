"""The model's fast paths for 100k-finding reports (issue 8) build exactly what the plain ones build.

- `finding_from_parts` (trivy's vulnerability loop) gives the `Finding` that `Finding(...)` gives: equal, same
  hash, same repr, same fingerprint, every attribute the very object passed, and frozen all the same;
- the trivy parser's fingerprints (given to `finding_from_parts`, cached per merge key) are `fingerprint_of`;
- `bulk()` hands the objects built inside to the oldest generation without a collection, and leaves a process
  that froze objects of its own as it was.
"""

from __future__ import annotations

import gc
import hashlib
import json
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.model import (
    Category,
    Finding,
    Location,
    Package,
    Severity,
    bulk,
    finding_from_parts,
    fingerprint_key,
    fingerprint_of,
    merge_findings,
    merge_key,
)
from pipeline.tools import trivy
from tests.fuzz import seeds

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=()), max_size=6) | st.sampled_from(
    ["", "\ud800", "a\x1fb", "é", "\u202e"]
)


@st.composite
def parts(draw: st.DrawFn) -> dict[str, Any]:
    line = draw(st.none() | st.integers(0, 5))
    return {
        "category": draw(st.sampled_from(list(Category))),
        "rule_id": draw(TEXT),
        "severity": draw(st.sampled_from(list(Severity))),
        "message": draw(TEXT),
        "tools": draw(st.sampled_from([("trivy",), ("grype", "trivy")])),
        "locations": draw(st.sampled_from([(), (Location("a", line, line),), (Location("b"), Location("a", line))])),
        "package": draw(st.none() | st.builds(Package, TEXT, TEXT, TEXT, TEXT, TEXT)),
        "title": draw(TEXT),
        "help_uri": draw(TEXT),
        "tags": tuple(draw(st.lists(TEXT, max_size=2))),
        "identity": draw(TEXT),
        "dev": draw(st.booleans()),
    }


@settings(max_examples=300, deadline=None)
@given(parts())
def test_finding_from_parts_is_the_finding_the_constructor_builds(fields: dict[str, Any]) -> None:
    plain = Finding(**fields)
    fast = finding_from_parts(**fields, fingerprint=fingerprint_of(plain))
    assert fast == plain
    assert hash(fast) == hash(plain)
    assert repr(fast) == repr(plain)
    assert fast.fingerprint == plain.fingerprint
    for a in attrs.fields(Finding):
        if a.name != "fingerprint":
            assert getattr(fast, a.name) is getattr(plain, a.name)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        fast.message = "changed"  # pyright: ignore[reportAttributeAccessIssue]


def test_fingerprint_key_is_the_hash_of_the_merge_key() -> None:
    f = Finding(Category.SECRET, "r", Severity.HIGH, "m", ("gitleaks",), (Location("a\udcff", 3),))
    assert fingerprint_key(merge_key(f)) == fingerprint_of(f) == f.fingerprint
    assert fingerprint_key(("secret", "a\udcff", "3")) == f.fingerprint
    # SHA-256 of the key's parts joined by U+001F (lone surrogates kept), cut to 32 hex digits: pinned, as
    # exception files name findings by fingerprint
    assert fingerprint_key(("secret", "config.py", "3")) == "ffd9a0e3ff77b97206b2d3b1dc4a2f9c"
    assert f.fingerprint == hashlib.sha256("secret\x1fa\udcff\x1f3".encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _vuln(i: int, **over: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "VulnerabilityID": f"CVE-2024-{i % 7}",
        "PkgName": f"pkg{i % 3}",
        "PkgIdentifier": {"PURL": f"pkg:pypi/pkg{i % 3}@1.0", "UID": f"u{i % 3}"},
        "InstalledVersion": "1.0",
        "FixedVersion": "1.1" if i % 2 else "",
        "Severity": ("LOW", "MEDIUM", "HIGH", "CRITICAL", "UNKNOWN")[i % 5],
        "CweIDs": ["CWE-79", "CWE-1"] if i % 4 == 0 else [],
    }
    entry.update(over)
    return entry


@pytest.mark.parametrize("mode", ["fs", "image"])
def test_the_trivy_parser_gives_each_finding_its_own_fingerprint(mode: trivy.Mode) -> None:
    vulns = [_vuln(i) for i in range(40)]
    vulns += [_vuln(1, PkgName="p\ud800", PkgIdentifier={"PURL": "pkg:npm/x@1"}), _vuln(2, PkgIdentifier=None)]
    report = {
        "SchemaVersion": 2,
        "ArtifactName": "img",
        "ArtifactType": "container_image",
        "Results": [
            {"Target": "requirements.txt", "Type": "pip", "Vulnerabilities": vulns},
            {"Target": "other/package-lock.json", "Type": "npm", "Vulnerabilities": vulns[:10]},
            {"Target": "", "Type": "pip", "Vulnerabilities": vulns[:3]},
        ],
    }
    run = trivy.parse(json.dumps(report), mode=mode)
    assert len(run.findings) == 55
    for f in run.findings:
        assert f.fingerprint == fingerprint_of(attrs.evolve(f, fingerprint=""))
        assert f == Finding(**{a.name: getattr(f, a.name) for a in attrs.fields(Finding)})
    # the same vulnerability of the same package in several files merges into one finding
    merged = merge_findings(run.findings)
    assert len({f.fingerprint for f in run.findings}) == len(merged)


def test_the_trivy_parser_fingerprints_the_fuzzing_seed_report() -> None:
    for mode in ("fs", "image"):
        run = trivy.parse(json.dumps(seeds.TRIVY_REPORT), mode=mode)
        assert run.findings
        for f in run.findings:
            assert f.fingerprint == fingerprint_of(attrs.evolve(f, fingerprint=""))


def test_bulk_moves_what_it_built_to_the_oldest_generation_without_a_collection() -> None:
    assert gc.isenabled()
    with bulk():
        assert not gc.isenabled()
        built = [[i] for i in range(5000)]
    assert gc.isenabled()
    assert gc.get_count()[0] < 100  # nothing pending for the young generation
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    assert id(built) in oldest
    assert all(id(x) in oldest for x in built[::500])


def test_bulk_leaves_objects_frozen_by_the_process_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with bulk():
            _ = [[i] for i in range(100)]
        assert gc.get_freeze_count() == frozen
        assert gc.isenabled()
    finally:
        gc.unfreeze()


def test_bulk_inside_bulk_and_with_the_collector_off_changes_nothing() -> None:
    gc.disable()
    try:
        with bulk():
            with bulk():
                pass
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
