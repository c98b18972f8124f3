"""gate-input.json as `ship` writes it (`pipeline.policy.input.gate_input_text`).

The text is, by definition, `json.dumps(doc, sort_keys=True, check_circular=False) + "\\n"`. For speed (issue 8:
100k findings) the findings array of a document `build_input` made is written from pieces (`_finding_texts`:
each shared package, locations list and tools list once, strings by json.dumps's own encoder), and
anything else goes to json.dumps. Checked here against the plain definition: on documents build_input made
from hostile findings (lone surrogates, control characters, non-ASCII, empty strings, shared and unshared
parts), where the shortcut must be taken; and on documents it did not make (mutated, retyped, subclassed,
unserializable), where the text, or the error, must be json.dumps's.
"""

from __future__ import annotations

import copy
import datetime
import enum
import json
import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.model import Category, Finding, Location, Package, Severity
from pipeline.policy import input as gate_input
from pipeline.policy.config import GateConfig
from pipeline.policy.exceptions import parse_exceptions
from pipeline.policy.input import build_input, gate_input_text
from tests.fuzz.strategies import STRINGS, keys_of, mutated
from tests.unit.report_factories import image_facts, realistic, sbom


def _plain(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, check_circular=False) + "\n"


def _outcome(write: Any, doc: Any) -> tuple[str, str]:
    """("text", the text) or (exception type, message): what writing `doc` gives."""
    try:
        return "text", write(doc)
    except Exception as exc:  # the error itself is the outcome compared
        return type(exc).__name__, str(exc)


def _doc(findings: list[Finding], *, full: bool = False) -> dict[str, Any]:
    waivers = parse_exceptions(
        [{"target": "CVE-2024-1", "package": "Jinja2", "owner": "o", "reason": "r", "expires": "2030-01-01"}]
    )
    return build_input(
        findings,
        sbom=sbom() if full else None,
        facts=[image_facts()] if full else (),
        build=None,
        config=GateConfig(),
        exceptions=waivers if full else (),
        today=datetime.date(2026, 12, 1),
    )


def test_the_text_is_the_sorted_compact_json_of_the_document_with_one_newline() -> None:
    _, findings, _ = realistic()
    doc = _doc(list(findings), full=True)
    text = gate_input_text(doc)
    assert text == json.dumps(doc, sort_keys=True) + "\n"
    assert json.loads(text) == doc
    assert text.count("\n") == 1
    assert doc["findings"], "the document has findings to write"
    assert gate_input._finding_texts(doc["findings"]) is not None  # pyright: ignore[reportPrivateUsage]


# --- documents build_input made, from hostile findings: the shortcut writes them ---------------------------

LINES = st.none() | st.integers(0, 10**6) | st.sampled_from([0, 1, -1, 10**14])


@st.composite
def packages(draw: st.DrawFn) -> Package:
    return Package(draw(STRINGS), draw(STRINGS), draw(STRINGS), draw(STRINGS), draw(STRINGS))


@st.composite
def location_tuples(draw: st.DrawFn) -> tuple[Location, ...]:
    return tuple(Location(draw(STRINGS), draw(LINES)) for _ in range(draw(st.integers(0, 3))))


@st.composite
def hostile_findings(draw: st.DrawFn) -> list[Finding]:
    """Findings drawing their packages, location tuples and tool tuples from small pools (shared objects,
    as parsers make them), with any text in every string."""
    pkgs = draw(st.lists(packages(), min_size=1, max_size=3))
    locs = draw(st.lists(location_tuples(), min_size=1, max_size=3))
    tools = draw(st.lists(st.lists(STRINGS, min_size=1, max_size=3).map(tuple), min_size=1, max_size=3))
    out: list[Finding] = []
    for i in range(draw(st.integers(0, 12))):
        out.append(
            Finding(
                category=draw(st.sampled_from(list(Category))),
                rule_id=draw(STRINGS),
                severity=draw(st.sampled_from(list(Severity))),
                message=f"m{i}",
                tools=draw(st.sampled_from(tools)),
                locations=draw(st.sampled_from(locs) | location_tuples()),
                package=draw(st.none() | st.sampled_from(pkgs) | packages()),
                identity=f"id{i}",
                dev=draw(st.booleans()),
                fingerprint=draw(STRINGS | st.just("")),
            )
        )
    return out


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(hostile_findings(), st.booleans())
def test_build_input_documents_are_written_by_the_shortcut_exactly_as_json_dumps(
    findings: list[Finding], full: bool
) -> None:
    doc = _doc(findings, full=full)
    assert gate_input._finding_texts(doc["findings"]) is not None  # pyright: ignore[reportPrivateUsage]
    assert gate_input_text(doc) == _plain(doc)


def test_the_odd_strings_are_there_and_written_as_json_dumps_writes_them() -> None:
    """Lone surrogates, control characters, quotes, backslashes, non-ASCII, empty: escaped as json.dumps does."""
    odd = ["\ud800", "a\udcffb", "\x00\x1f\x7f", '"\\/', "ü €\u202e\ufeff", "", " ", "😀"]
    pkg = Package(odd[0], odd[1], odd[2], odd[3], odd[4])
    findings = [
        Finding(
            Category.DEPENDENCY,
            rule,
            Severity.HIGH,
            "m",
            (rule or "t",),
            (Location(rule, None), Location(rule, 7)),
            pkg,
            identity=f"i{i}",
            fingerprint=rule,
        )
        for i, rule in enumerate(odd)
    ]
    doc = _doc(findings, full=True)
    text = gate_input_text(doc)
    assert text == _plain(doc)
    assert "\\ud800" in text and "\\u0000" in text and "\\u00fc" in text and "\\ud83d\\ude00" in text
    assert text.isascii()


def test_empty_and_missing_parts() -> None:
    for doc in (
        _doc([]),
        {"findings": []},
        {"findings": [], "z": 1},
        {"a": 1, "findings": []},
        {"findings": _doc([Finding(Category.SAST, "r", Severity.LOW, "m", ("t",))])["findings"]},
        {},
    ):
        assert gate_input_text(doc) == _plain(doc)


def test_the_comparison_sees_a_wrong_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    """The equivalence tests can fail: an encoder that keeps non-ASCII as it is gives another text."""
    doc = _doc([Finding(Category.SAST, "régle", Severity.LOW, "m", ("t",), (Location("ü.py", 1),))])
    assert gate_input_text(doc) == _plain(doc)
    monkeypatch.setattr(gate_input, "_string", json.encoder.py_encode_basestring)
    assert gate_input_text(doc) != _plain(doc)


# --- documents build_input did not make: json.dumps's text, or json.dumps's error --------------------------


def _shared_base() -> dict[str, Any]:
    """A document whose findings share a package dict, a locations list and a tools list (deep copies keep
    the sharing, so a mutation of a shared part shows under several findings)."""
    pkg = Package("Jinja2", "1.0", "pypi", "pkg:pypi/jinja2@1.0", "3.1")
    locs = (Location("image:app/requirements.txt"), Location("src/a.py", 3))
    tools = ("trivy", "grype")
    findings = [
        Finding(Category.IMAGE_VULNERABILITY, f"CVE-2024-{i}", Severity(i % 6), "m", tools, locs, pkg, identity=str(i))
        for i in range(4)
    ]
    findings.append(Finding(Category.SECRET, "aws", Severity.CRITICAL, "m", ("gitleaks",), (Location("x", 1),)))
    return _doc(findings, full=True)


SHARED = _shared_base()


class Rank(enum.IntEnum):
    HIGH = 4


class Key(str):
    """A str subclass: json.dumps writes its text; the shortcut must not guess."""


class Liar(str):
    """Equal to "category" whatever its text (and sorted first): json.dumps writes its own text."""

    def __eq__(self, other: object) -> bool:
        return other == "category" or str.__eq__(self, other)

    def __hash__(self) -> int:
        return hash("category")

    def __lt__(self, other: object) -> bool:
        return True


def _edit(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SHARED)
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return doc


def _rekey(index: int, old: str, new: Any) -> dict[str, Any]:
    doc = copy.deepcopy(SHARED)
    entry = doc["findings"][index]
    doc["findings"][index] = {(new if k == old else k): v for k, v in entry.items()}
    return doc


CASES: dict[str, Any] = {
    "rank an IntEnum": _edit(("findings", 0, "rank"), Rank.HIGH),
    "rank True": _edit(("findings", 1, "rank"), True),
    "rank a float": _edit(("findings", 0, "rank"), 4.0),
    "rank 6": _edit(("findings", 0, "rank"), 6),
    "rank huge": _edit(("findings", 0, "rank"), 10**5000),
    "dev 1": _edit(("findings", 0, "dev"), 1),
    "fixable None": _edit(("findings", 0, "fixable"), None),
    "rule_id a str subclass": _edit(("findings", 0, "rule_id"), Key("CVE-1")),
    "rule_id None": _edit(("findings", 0, "rule_id"), None),
    "where an int": _edit(("findings", 2, "where"), 3),
    "fingerprint bytes": _edit(("findings", 0, "fingerprint"), b"ab"),
    "category a Category": _edit(("findings", 0, "category"), Category.SAST),
    "severity NaN": _edit(("findings", 0, "severity"), math.nan),
    "no dev": _edit(("findings", 0), {k: v for k, v in SHARED["findings"][0].items() if k != "dev"}),
    "an extra member": _edit(("findings", 0), {**SHARED["findings"][0], "extra": 1}),
    "a member renamed": _rekey(0, "dev", "Dev"),
    "a str subclass key": _rekey(0, "category", Key("category")),
    "a lying key": _rekey(1, "category", Liar("zzz")),
    "an int key": _rekey(0, "dev", 7),
    "a finding a list": _edit(("findings", 0), list(SHARED["findings"][0].items())),
    "a finding an OrderedDict-like dict subclass": _edit(
        ("findings", 0), type("D", (dict,), {})(SHARED["findings"][0])
    ),
    "findings a tuple": _edit(("findings",), tuple(SHARED["findings"])),
    "findings None": _edit(("findings",), None),
    "package a tuple": _edit(("findings", 1, "package"), ("a", "b")),
    "package name None": _edit(("findings", 1, "package", "name"), None),
    "package name a str subclass": _edit(("findings", 1, "package", "name"), Key("x")),
    "package with an extra member": _edit(("findings", 1, "package", "extra"), "x"),
    "package with a member missing": _edit(("findings", 1, "package"), {"name": "a"}),
    "package with an int key": _edit(("findings", 1, "package", 1), "x"),
    "package as {}": _edit(("findings", 1, "package"), {}),
    "locations a tuple": _edit(("findings", 1, "locations"), ({"path": "a", "line": 1},)),
    "a location's line a float": _edit(("findings", 1, "locations", 1, "line"), 3.0),
    "a location's line a bool": _edit(("findings", 1, "locations", 1, "line"), False),
    "a location's line huge": _edit(("findings", 1, "locations", 1, "line"), 10**16),
    "a location's line very huge": _edit(("findings", 1, "locations", 1, "line"), 10**5000),
    "a location's path None": _edit(("findings", 1, "locations", 0, "path"), None),
    "a location with an extra member": _edit(("findings", 1, "locations", 0, "column"), 1),
    "a location with a member renamed": _edit(("findings", 1, "locations", 0), {"path": "a", "Line": 1}),
    "a location a list": _edit(("findings", 1, "locations", 0), ["path", "line"]),
    "tools with None": _edit(("findings", 1, "tools", 1), None),
    "tools with a str subclass": _edit(("findings", 1, "tools", 1), Key("grype")),
    "tools a string": _edit(("findings", 1, "tools"), "trivy"),
    "an object json cannot write in findings": _edit(("findings", 0, "where"), object()),
}


def _cycle() -> dict[str, Any]:
    doc = copy.deepcopy(SHARED)
    doc["config"]["self"] = doc["config"]
    return doc


ELSEWHERE: dict[str, Any] = {
    "a location's line negative (the shortcut writes it)": _edit(("findings", 1, "locations", 1, "line"), -3),
    "an object json cannot write in config": _edit(("config", "x"), object()),
    "an object json cannot write after findings": _edit(("today",), {1, 2}),
    "one before and one after: the one before is raised": _edit(("today",), {1, 2}) | {"build": object()},
    "NaN and infinity elsewhere": _edit(("images", 0, "size"), math.inf) | {"config": math.nan},
    "a cycle outside the findings": _cycle(),
    "a top-level int key": _edit((1,), "x"),
    "a top-level str subclass key": _edit((Key("zz"),), "x"),
    "no findings": {k: v for k, v in SHARED.items() if k != "findings"},
    "only findings": {"findings": SHARED["findings"]},
    "a dict subclass": type("Doc", (dict,), {})(SHARED),
    "a list": [SHARED],
    "a string": "\ud800",
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_a_findings_array_build_input_did_not_make_goes_to_json_dumps(case: str) -> None:
    doc = CASES[case]
    assert gate_input._finding_texts(doc["findings"]) is None  # pyright: ignore[reportPrivateUsage]
    assert _outcome(gate_input_text, doc) == _outcome(_plain, doc)


@pytest.mark.parametrize("case", list(ELSEWHERE), ids=list(ELSEWHERE))
def test_any_other_document_gives_what_json_dumps_gives(case: str) -> None:
    doc = ELSEWHERE[case]
    assert _outcome(gate_input_text, doc) == _outcome(_plain, doc)


def test_the_shared_base_is_written_by_the_shortcut() -> None:
    assert gate_input._finding_texts(SHARED["findings"]) is not None  # pyright: ignore[reportPrivateUsage]
    assert len({id(f["package"]) for f in SHARED["findings"][1:]}) == 1
    assert len({id(f["locations"]) for f in SHARED["findings"][1:]}) == 1
    assert gate_input_text(SHARED) == _plain(SHARED)
    assert _outcome(gate_input_text, ELSEWHERE["one before and one after: the one before is raised"]) == (
        "TypeError",
        "Object of type object is not JSON serializable",
    )


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(mutated(SHARED, keys_of(SHARED)))
def test_mutated_documents_give_what_json_dumps_gives(doc: Any) -> None:
    assert _outcome(gate_input_text, doc) == _outcome(_plain, doc)


def test_the_members_are_written_in_json_dumps_order() -> None:
    """A member before "findings" whose writing changes the findings (a dict subclass whose items() edits
    them): json.dumps writes the findings as they are then, and so does the shortcut (before, findings, after)."""

    class Editing(dict[str, Any]):
        def items(self) -> Any:
            self["findings"][1]["rule_id"] = "edited"
            return super().items()

    def doc() -> dict[str, Any]:
        d = copy.deepcopy(SHARED)
        d["config"] = Editing(findings=d["findings"])  # "config" < "findings"
        return d

    text = gate_input_text(doc())
    assert '"rule_id": "edited"' in text
    assert text == _plain(doc())
    assert gate_input._finding_texts(doc()["findings"]) is not None  # pyright: ignore[reportPrivateUsage]
