"""The gate input validator's shortcuts accept exactly what the full checks accept, and fail the same way.

Shortcuts added for speed (issue 8: 100k findings validated on every `ship`): a finding's rank is
compared with the rank its severity pins by one lookup (`_switch` with `_pinned` cases), an array of
non-empty strings (tools, targets) is checked without a call per item, within one validation an object
or array that already passed a member's check (a package dict, locations list or tools list that
build_input shares between findings) is not checked again (`_PASSED`), and a long array of objects (the
findings) is accepted a member at a time over all its objects (`_BULK`: a column of values at once), or
else checked one object at a time. Each only lets through values the full check passes and leaves
everything else to it. Checked here on mutated gate inputs against the same schema compiled without the
shortcuts (and called without the memo), and against the `jsonschema` package.
"""

from __future__ import annotations

import copy
import datetime
import math
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.errors import PolicyError
from pipeline.model import Category, Finding, Location, Package, Severity
from pipeline.policy import schema
from pipeline.policy.config import GateConfig
from pipeline.policy.exceptions import parse_exceptions
from pipeline.policy.input import build_input
from pipeline.policy.schema import validate_gate_input
from tests.fuzz.strategies import keys_of, mutated
from tests.unit.report_factories import gate_input_for, realistic


def _base() -> dict[str, Any]:
    _, findings, _ = realistic()
    tables = [{"target": "image.root-user", "owner": "o", "reason": "r", "expires": datetime.date(2030, 1, 1)}]
    return gate_input_for(findings, parse_exceptions(tables))


BASE = _base()
ROOT = schema.gate_input_schema()
JSONSCHEMA = jsonschema.Draft202012Validator(dict(ROOT))


def _without_shortcuts() -> schema.Check:
    plain_array = schema._array  # pyright: ignore[reportPrivateUsage]

    def array(items: Any, min_items: int, *, typed: bool, fast: Any = None) -> schema.Check:
        return plain_array(items, min_items, typed=typed, bulk=False)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "_pinned", lambda then: None)
        patch.setattr(schema, "_array", array)
        return schema._Compiler(ROOT).compile(ROOT, "#")  # pyright: ignore[reportPrivateUsage]


FULL = _without_shortcuts()
FAST = schema._Compiler(ROOT).compile(ROOT, "#")  # pyright: ignore[reportPrivateUsage]


def _outcome(check: schema.Check, doc: Any) -> tuple[str, str] | None:
    try:
        check(doc, None)
    except schema._Invalid as exc:  # pyright: ignore[reportPrivateUsage]
        return exc.path, exc.problem
    return None


def _outcome_in_bulk(doc: Any) -> tuple[str, str] | None:
    """FAST with every array of objects (of one object or more) tried all at once first."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "_BULK_FROM", 1)
        return _outcome(FAST, doc)


RANK_VALUES = st.sampled_from([0, 1, 2, 3, 4, 5, 6, -1, 4.0, 5.0, True, False, "5", None, [5]])
SEVERITIES = st.sampled_from(["UNKNOWN", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL", "critical", 5, None])
TOOLS = st.lists(st.sampled_from(["trivy", "", 1, None, ["x"], "semgrep"]), max_size=3)


@st.composite
def findings_edits(draw: st.DrawFn) -> dict[str, Any]:
    """The base document with its findings' rank, severity and tools set to valid and invalid values."""
    doc = {**BASE, "findings": [dict(f) for f in BASE["findings"]]}
    for f in doc["findings"]:
        for key, values in (("rank", RANK_VALUES), ("severity", SEVERITIES), ("tools", TOOLS)):
            choice = draw(st.sampled_from(["keep", "keep", "set", "drop"]))
            if choice == "set":
                f[key] = draw(values)
            elif choice == "drop":
                f.pop(key, None)
    return doc


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(findings_edits() | mutated(BASE, keys_of(BASE)))
def test_the_shortcuts_change_no_outcome(doc: Any) -> None:
    fast, full = _outcome(FAST, doc), _outcome(FULL, doc)
    assert fast == full
    assert _outcome_in_bulk(doc) == full
    assert (fast is None) == JSONSCHEMA.is_valid(doc)


def test_the_reference_has_no_shortcuts() -> None:
    """FULL really is compiled without them: a wrong rank makes it raise from the case's own check."""
    doc = {**BASE, "findings": [{**BASE["findings"][0], "rank": 4.0 if BASE["findings"][0]["rank"] != 4 else 3.0}]}
    assert _outcome(FULL, doc) is not None
    assert _outcome(FAST, doc) == _outcome(FULL, doc)
    assert _outcome(FAST, BASE) is None


# --- within one validation, a shared object or array is checked once ---------------------------------------


def _shared_base() -> dict[str, Any]:
    """Findings sharing package dicts, locations lists and tools lists, as build_input makes them from a
    trivy report (deep copies keep the sharing: a mutation of a shared part shows under several findings)."""
    pkgs = [Package("Jinja2", "1.0", "pypi", "pkg:pypi/jinja2@1.0", "3.1"), Package("zlib", "1.2", "deb")]
    locs = [(Location("image:app/requirements.txt"), Location("src/a.py", 3)), (Location("image:opt/venv"),)]
    tools = [("trivy",), ("grype", "trivy")]
    findings = [
        Finding(
            Category.IMAGE_VULNERABILITY if i % 3 else Category.LICENSE,
            f"CVE-2024-{i}",
            Severity(i % 6),
            "m",
            tools[i % 2],
            locs[i % 2 if i % 5 else 0],
            pkgs[i % 2],
            identity=str(i),
        )
        for i in range(8)
    ]
    findings.append(Finding(Category.SECRET, "aws", Severity.CRITICAL, "m", ("gitleaks",), (Location("x", 1),)))
    return gate_input_for(findings)


SHARED = _shared_base()


def _outcome_with_memo(doc: Any) -> tuple[str, str] | None:
    try:
        schema._validate(doc)  # pyright: ignore[reportPrivateUsage]
    except schema._Invalid as exc:  # pyright: ignore[reportPrivateUsage]
        return exc.path, exc.problem
    return None


def _in_one_call(doc: Any) -> list[int]:
    """The ids the memo records in one validation of `doc` (each once: what passed is not checked again)."""
    recorded: list[int] = []

    class Recorder(dict[int, Any]):
        def __setitem__(self, key: int, value: Any) -> None:
            recorded.append(key)
            super().__setitem__(key, value)

    schema._PASSED.checks = Recorder()  # pyright: ignore[reportPrivateUsage]
    try:
        schema._compiled()(doc, None)  # pyright: ignore[reportPrivateUsage]
    finally:
        schema._PASSED.checks = None  # pyright: ignore[reportPrivateUsage]
    return recorded


def test_the_shared_base_shares_and_each_shared_part_is_checked_once() -> None:
    findings = SHARED["findings"]
    assert len(findings) == 9 and len({id(f["package"]) for f in findings if f["package"]}) == 2
    assert len({id(f["locations"]) for f in findings}) == 3 and len({id(f["tools"]) for f in findings}) == 3
    recorded = _in_one_call(SHARED)
    assert len(recorded) == len(set(recorded))
    shared = {id(f[k]) for f in findings for k in ("package", "locations", "tools") if f[k] is not None}
    assert shared <= set(recorded)
    assert _outcome_with_memo(SHARED) is None
    validate_gate_input(SHARED)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(mutated(SHARED, keys_of(SHARED)))
def test_checking_a_shared_part_once_changes_no_outcome(doc: Any) -> None:
    memo = _outcome_with_memo(doc)
    assert memo == _outcome(FAST, doc)  # the compiled checks called directly keep no memo
    assert memo == _outcome(FULL, doc)
    assert _outcome_in_bulk(doc) == memo
    assert (memo is None) == JSONSCHEMA.is_valid(doc)


def _edited(edit: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SHARED)
    edit(doc)
    return doc


def test_a_shared_part_that_fails_is_named_at_its_first_place() -> None:
    doc = _edited(lambda d: d["findings"][-1]["package"].__setitem__("name", 3))  # shared with earlier ones
    first = next(i for i, f in enumerate(doc["findings"]) if f["package"] is doc["findings"][-1]["package"])
    assert first < len(doc["findings"]) - 1
    assert _outcome_with_memo(doc) == (f"findings[{first}].package.name", "is an integer, must be a string")
    assert _outcome_with_memo(doc) == _outcome(FULL, doc)


def test_one_object_under_two_checks_is_checked_by_each() -> None:
    """The tools list of a finding also the locations of a later one: it passed as tools (checked first),
    it still fails as locations."""

    def edit(d: dict[str, Any]) -> None:
        d["findings"][-1]["locations"] = d["findings"][0]["tools"]

    doc = _edited(edit)
    last = len(doc["findings"]) - 1
    assert _outcome_with_memo(doc) == (f"findings[{last}].locations[0]", "is a string, must be an object")
    assert _outcome_with_memo(doc) == _outcome(FULL, doc)


def test_nothing_is_remembered_from_one_validation_to_the_next() -> None:
    doc = copy.deepcopy(SHARED)
    validate_gate_input(doc)
    pkg = next(f["package"] for f in doc["findings"] if f["package"] is not None)
    pkg["version"] = None
    with pytest.raises(PolicyError, match=r"findings\[\d+\]\.package\.version is null, must be a string"):
        validate_gate_input(doc)
    with pytest.raises(PolicyError):  # after a failure too
        validate_gate_input(doc)
    assert schema._PASSED.checks is None  # pyright: ignore[reportPrivateUsage]


# --- a long array of objects accepted a member at a time -------------------------------------------------

FINDING = schema._Compiler(ROOT)  # pyright: ignore[reportPrivateUsage]
FINDING.compile(ROOT, "#")
FINDING_BULK = schema._BULK[FINDING.refs["#/$defs/finding"]]  # pyright: ignore[reportPrivateUsage]


class StrSub(str):
    """Equal to its text and hashed as it: a set test alone would take it for "HIGH" (the checks want a str)."""


ODD_VALUES = [
    None,
    True,
    False,
    0,
    4,
    4.0,
    -1,
    6,
    "",
    "x",
    "HIGH",
    "high",
    [],
    ["trivy"],
    [""],
    {},
    {"path": "a", "line": None},
    2**70,
    float("nan"),
    StrSub("HIGH"),
]


@st.composite
def few_edits(draw: st.DrawFn) -> dict[str, Any]:
    """The shared document with zero to three of its findings' members set, dropped, added or retyped (the
    rest intact: the whole array often still valid, or wrong in one place only)."""
    doc = copy.deepcopy(SHARED)
    findings = doc["findings"]
    for _ in range(draw(st.integers(0, 3))):
        f = findings[draw(st.integers(0, len(findings) - 1))]
        key = draw(st.sampled_from([*f, "extra"]))
        op = draw(st.sampled_from(["set", "set", "drop", "valid-rank", "shared"]))
        if op == "drop":
            f.pop(key, None)
        elif op == "valid-rank":
            f["rank"] = schema._RANKS.get(str(f.get("severity")), 0)  # pyright: ignore[reportPrivateUsage]
        elif op == "shared" and key in ("package", "locations", "tools"):
            f[key] = draw(
                st.sampled_from([g[k] for g in findings for k in ("package", "locations", "tools") if k in g])
            )
        else:
            f[key] = draw(st.sampled_from(ODD_VALUES))
    return doc


@settings(max_examples=500, deadline=None, derandomize=True, database=None)
@given(few_edits())
def test_an_array_accepted_at_once_is_one_each_object_passes(doc: Any) -> None:
    full = _outcome(FULL, doc)
    assert _outcome_in_bulk(doc) == full
    assert _outcome_with_memo(doc) == full
    if not any(type(v) is StrSub for f in doc["findings"] for v in f.values()):  # jsonschema takes it as a str
        assert (full is None) == JSONSCHEMA.is_valid(doc)
    if full is not None and full[0].startswith("findings"):
        assert not FINDING_BULK(doc["findings"])  # a finding fails: the array is not accepted at once


def test_a_valid_array_is_accepted_at_once() -> None:
    """The bulk path is the one taken (its refusals are tested above): the findings of valid documents."""
    assert FINDING_BULK(SHARED["findings"])
    assert FINDING_BULK(BASE["findings"])
    doc = copy.deepcopy(SHARED)
    doc["findings"][2]["rank"] = True  # == 1 and hashes as 1: refused all the same
    assert not FINDING_BULK(doc["findings"])
    assert _outcome_in_bulk(doc) == _outcome(FULL, doc) is not None


def test_a_long_trivy_shaped_array_with_one_defect_is_named_as_before() -> None:
    """1,000 findings sharing 50 packages: each kind of defect, at the end, has the message it had."""
    pkgs = [Package(f"p{i}", "1.0", "pypi", f"pkg:pypi/p{i}@1.0", "1.1" if i % 2 else "") for i in range(50)]
    locs = [(Location("image:opt/venv"),), (Location("image:app/requirements.txt"), Location("image:opt/venv"))]
    findings = [
        Finding(Category.IMAGE_VULNERABILITY, f"CVE-{i}", Severity(i % 6), "m", ("trivy",), locs[i % 2], pkgs[i % 50])
        for i in range(1000)
    ]
    big = build_input(
        findings, sbom=None, facts=(), build=None, config=GateConfig(), exceptions=(), today=datetime.date(2026, 6, 1)
    )
    assert len(big["findings"]) >= schema._BULK_FROM and _outcome_with_memo(big) is None  # pyright: ignore[reportPrivateUsage]
    last = len(big["findings"]) - 1
    for key, value in [
        ("rank", 9),
        ("rank", True),
        ("severity", "high"),
        ("rule_id", ""),
        ("tools", []),
        ("dev", None),
        ("extra", 1),
        ("fixable", 1),
        ("where", None),
    ]:
        doc = {**big, "findings": [*big["findings"][:-1], {**big["findings"][-1], key: value}]}
        outcome = _outcome_with_memo(doc)
        assert outcome is not None and outcome[0].startswith(f"findings[{last}]"), (key, outcome)
        assert outcome == _outcome(FULL, doc)
    doc = copy.deepcopy(big)
    doc["findings"][-1]["package"]["purl"] = None  # a shared package: named where it first appears
    outcome = _outcome_with_memo(doc)
    first = next(i for i, f in enumerate(doc["findings"]) if f["package"] is doc["findings"][-1]["package"])
    assert outcome == (f"findings[{first}].package.purl", "is null, must be a string") == _outcome(FULL, doc)


def test_a_column_passes_only_where_each_value_passes_its_shortcut() -> None:
    """`_column_passes` for each kind of shortcut: the values one by one through the member's check decide."""
    column_passes = schema._column_passes  # pyright: ignore[reportPrivateUsage]

    def refuse(value: Any, path: Any) -> None:
        raise schema._Invalid(path, "refused")  # pyright: ignore[reportPrivateUsage]

    cases: list[tuple[str, Any, list[Any], bool]] = [
        ("types", (bool,), [True, False], True),
        ("types", (bool,), [True, 1], False),
        ("types", (str,), ["a", StrSub("a")], False),
        ("enum", frozenset({"A", "B"}), ["A", "B", "A"], True),
        ("enum", frozenset({"A", "B"}), ["A", "a"], False),
        ("enum", frozenset({"A", "B"}), ["A", StrSub("A")], False),
        ("string", 1, ["a", "bc"], True),
        ("string", 1, ["a", ""], False),
        ("string", 0, ["", ""], True),
        ("string", 1, ["a", 1], False),
        ("int", (0, 5), [0, 5, 3], True),
        ("int", (0, 5), [0, 6], False),
        ("int", (0, 5), [-1, 2], False),
        ("int", (0, 5), [1, True], False),
        ("int", (0, 5), [1, 2.0], False),
        ("int", (0, math.inf), [0, 2**80], True),
    ]
    for how, arg, column, expected in cases:
        assert column_passes(column, refuse, how, arg) is expected, (how, arg, column)
    seen: list[Any] = []
    shared: dict[str, Any] = {"a": 1}
    assert column_passes([shared, shared, None, shared], lambda v, p: seen.append(v), "", None)
    assert seen == [shared, None]  # once per distinct object
    assert not column_passes([shared], refuse, "", None)
