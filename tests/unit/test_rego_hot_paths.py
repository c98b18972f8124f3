"""The Rego gate's hot paths (pipeline/policy/rego/) give what their plain definitions give.

`covered` (exceptions matched by target through `by_target`, no pass without an exception in force),
`over_threshold` and the per-category indexes `_over_at` / `over_threshold_at` it is built from (one pass,
local values), rules/thresholds.rego's `deny` (a category's indexes, not a pass over over_threshold per
category), rules/licenses.rego's `_from_findings` (the listed licence findings of one shared pass),
rules/dev_dependencies.rego's `_dev_hits` (no pass of its own) and collect.rego's `_fingerprints` (min and
max, not a body per fingerprint) were rewritten for speed at 100k findings; this checks them against the
straightforward rules they replace, and against the hot paths they replaced where those differed from the
plain rules (fingerprints shared by several findings, from a hand-written gate input), on generated inputs,
with regorus. Lone surrogates never reach these rules: regorus refuses the input text before evaluating
(pipeline.policy.engine turns that into a PolicyError).
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.policy.engine import BUNDLED_POLICY_DIR

NAIVE = """
package seaworthy.naive

import rego.v1

covered contains [e.name, f.fingerprint] if {
	some f in input.findings
	some e in data.seaworthy.lib.active_exceptions
	data.seaworthy.lib.covers(e, f)
}

findings := [f | some f in input.findings; not f.fingerprint in {fp | some [_, fp] in covered}]

over_threshold := [f |
	some f in findings
	f.rank >= data.seaworthy.lib.limits[f.category]
	_counts(f)
	not data.seaworthy.lib.dev_set_aside(f)
	not data.seaworthy.lib.license_listed(f)
]

_counts(f) if f.category in data.seaworthy.lib.always_counted

_counts(f) if f.fixable

# rules/dev_dependencies.rego's development dependencies over the threshold, as first written
dev_hits := [f |
	some f in data.seaworthy.lib.findings
	f.category == "dependency"
	object.get(f, "dev", false) == true
	f.rank >= data.seaworthy.lib.limits.dependency
	data.seaworthy.rules.dev_dependencies._fixable_ok(f)
]

# rules/licenses.rego's licence findings as components, as first written (a function call per finding)
license_components := [c |
	some f in data.seaworthy.lib.findings
	data.seaworthy.lib.license_listed(f)
	is_object(f.package)
	not data.seaworthy.rules.licenses._in_sbom(f)
	c := {
		"name": f.package.name,
		"version": f.package.version,
		"licenses": [f.rule_id],
		"license_alternatives": [[lower(f.rule_id)]],
		"fingerprint": f.fingerprint,
	}
]

# lib.over_threshold before the per-category indexes: one pass, everything set aside by fingerprint
previous_over_threshold := [f |
	skipped := data.seaworthy.lib.waived_fingerprints | previous_set_aside
	lim := data.seaworthy.lib.limits
	counted := data.seaworthy.lib.always_counted
	some f in input.findings
	f.rank >= lim[f.category]
	true in {f.category in counted, object.get(f, "fixable", false) != false}
	not f.fingerprint in skipped
]

previous_set_aside := {f.fingerprint |
	object.get(input, ["dev_dependencies", "installed"], null) == false
	some f in input.findings
	f.category == "dependency"
	object.get(f, "dev", false) == true
} | {f.fingerprint |
	ids := data.seaworthy.lib._license_list_ids
	some f in input.findings
	f.category == "license"
	lower(f.rule_id) in ids
}

# rules/thresholds.rego's deny as first written (a pass over over_threshold per category), on the plain
# over_threshold and on the previous hot path
thresholds_deny := _thresholds_deny(over_threshold)

previous_thresholds_deny := _thresholds_deny(previous_over_threshold)

_thresholds_deny(ot) := {reason |
	some category, limit in data.seaworthy.lib.config.thresholds
	is_string(limit)
	hits := [f | some f in ot; f.category == category]
	count(hits) > 0
	reason := data.seaworthy.lib.reason(
		sprintf("threshold.%s", [category]),
		sprintf("%d %s finding(s) at %s%s: %s", [
			count(hits), category, data.seaworthy.rules.thresholds._floor(limit),
			data.seaworthy.rules.thresholds._fixable_note(category), data.seaworthy.lib.summary(hits, 5),
		]),
		object.get(data.seaworthy.rules.thresholds.remedies, category, "Fix the findings, or record a reviewed exception."),
		data.seaworthy.lib.fingerprints(hits),
	)
}

# collect.rego's `suppressed` and gate.rego's exceptions_applied rules as first written (every exception
# tried on every candidate)
suppressed_plain(r) if {
	some e in data.seaworthy.lib.active_exceptions
	data.seaworthy.collect.suppresses(e, r)
}

suppressed_candidates := {r | some [_, _, r] in data.seaworthy.collect.candidates; data.seaworthy.collect.suppressed(r)}

suppressed_candidates_plain := {r | some [_, _, r] in data.seaworthy.collect.candidates; suppressed_plain(r)}

rules_waived := {e.name: data.seaworthy.collect.rules_waived_by(e) | some e in data.seaworthy.lib.active_exceptions}

rules_waived_plain := {e.name: rules |
	some e in data.seaworthy.lib.active_exceptions
	rules := sort({r.id |
		some [_, _, r] in data.seaworthy.collect.candidates
		is_object(r)
		data.seaworthy.collect.suppresses(e, r)
	})
}

# collect.rego's `_fingerprints` as first written (a body per fingerprint)
fingerprints_every(fps) if {
	is_array(fps)
	every fp in fps {
		is_string(fp)
	}
}

# values JSON cannot carry (sets), inside arrays a user's reason could give as `findings`
set_cases := [[{"a"}], ["a", {"a"}], [{"a"}, "a"], ["a", set()], [set()], ["a", {"a": 1}, "b"], [1, "a", {"b"}]]
"""

CATEGORIES = ["sast", "secret", "dependency", "misconfiguration", "image-vulnerability", "license"]
LICENSES = ["GPL-3.0-only", "MIT", "agpl-3.0", "GPL-3.0-ONLY"]
RULES = ["r1", "r2", "CVE-1", "CVE-2", "r\u0301\u202e", *LICENSES]
# enough for more than five findings over one threshold (the summaries' "and N more"); odd unicode sorts too
FINGERPRINTS = [*(f"fp{i}" for i in range(12)), "fp\u00e9", "fp\U0001f600", "FP0", "fp\x00"]
# what an exception names: findings' rule ids and fingerprints, and gate rule ids (a user module's too)
TARGETS = [*RULES, *FINGERPRINTS[:3], "threshold.secret", "threshold.license", "license.copyleft", "acme.odd", "5"]
WHERE = ["src/a.py:1", "", "s\u0301rc/\u202eb.py:2", "\U0001f600", "missing"]
PATHS = ["src/a.py", "src/b/c.py", "tests/t.py", "image:usr/lib/x"]


@st.composite
def finding(draw: st.DrawFn, index: int, shared: bool = False, categories: list[str] = CATEGORIES) -> dict[str, Any]:
    f: dict[str, Any] = {
        "category": draw(st.sampled_from(categories)),
        "rule_id": draw(st.sampled_from(RULES)),
        "rank": draw(st.integers(0, 5)),
        "package": draw(
            st.none()
            | st.builds(
                lambda n, v, eco: {"name": n, "key": n.lower(), "version": v, "ecosystem": eco},
                st.sampled_from(["Jinja2", "requests"]),
                st.sampled_from(["1.0", "2.0"]),
                st.sampled_from(["pypi", "npm"]),
            )
        ),
        "locations": [{"path": p, "line": 1} for p in draw(st.lists(st.sampled_from(PATHS), max_size=2))],
        # shared: fingerprints repeat across findings (a hand-written gate input can do that)
        "fingerprint": draw(st.sampled_from(FINGERPRINTS[: index + 1])) if shared else FINGERPRINTS[index],
    }
    where = draw(st.sampled_from(WHERE))
    if where != "missing":
        f["where"] = where
    fixable = draw(st.sampled_from([True, False, None, "yes", "missing"]))
    if fixable != "missing":
        f["fixable"] = fixable
    dev = draw(st.sampled_from([True, False, "missing"]))
    if dev != "missing":
        f["dev"] = dev
    return f


@st.composite
def exception(draw: st.DrawFn, index: int) -> dict[str, Any]:
    whole_rule = draw(st.booleans())  # no package or path scope: it may waive a gate rule as a whole
    package = "" if whole_rule else draw(st.sampled_from(["", "jinja2", "requests"]))
    return {
        "index": index,
        "name": f"exceptions[{index}]",
        "targets": sorted(set(draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3)))),
        "package": package,
        "package_keys": {"*": package} if package else {},
        "version": draw(st.sampled_from(["", "1.0"])) if package else "",
        "path": "" if whole_rule else draw(st.sampled_from(["", "src/**", "tests/*", "nowhere/**"])),
        "image": draw(st.sampled_from(["", "registry.example/app", "other/*"])),
        "owner": "o",
        "reason": "r",
        "expires": draw(st.sampled_from(["2020-01-01", "2030-01-01"])),
    }


@st.composite
def gate_input(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(0, len(FINGERPRINTS)))
    shared = draw(st.integers(0, 3)) == 0
    # findings of one or two categories: more than five over one threshold (the summaries' "and N more")
    categories = draw(st.sampled_from([CATEGORIES, CATEGORIES, ["dependency"], ["license", "secret"]]))
    thresholds = {
        c: draw(st.sampled_from([None, "LOW", "HIGH", "UNKNOWN", "critical", "info", "bogus", "missing"]))
        for c in CATEGORIES
    }
    thresholds = {c: limit for c, limit in thresholds.items() if limit != "missing"}
    dev_dependencies = draw(st.sampled_from([True, False, None, "missing"]))
    licence_lists = {
        "license_deny": draw(st.lists(st.sampled_from(LICENSES), max_size=2)),
        "license_warn": draw(st.lists(st.sampled_from(LICENSES), max_size=2)),
    }
    if draw(st.booleans()):  # lists absent: both definitions must agree there too
        licence_lists = {}
    components = [
        {
            "name": name,
            "version": "1.0",
            "license_alternatives": [[lic.lower()] for lic in draw(st.lists(st.sampled_from(LICENSES), max_size=2))],
        }
        for name in draw(st.lists(st.sampled_from(["Jinja2", "requests"]), max_size=2, unique=True))
    ]
    doc: dict[str, Any] = {
        "today": "2026-06-01",
        "config": {"thresholds": thresholds, "fixable_only": draw(st.booleans()), **licence_lists},
        "sbom": {"components": components},
        "findings": [draw(finding(i, shared, categories)) for i in range(n)],
        "exceptions": [draw(exception(i)) for i in range(draw(st.integers(0, 4)))],
        "build": {"image": draw(st.sampled_from(["registry.example/app", None]))},
    }
    if dev_dependencies != "missing":  # installed: true, false (set aside) or null (unknown)
        doc["dev_dependencies"] = {"installed": dev_dependencies, "evidence": "npm ci"}
    return doc


# A user module whose reasons are odd candidates: malformed ones (no id, a number id, a string) included.
USER = """
package seaworthy.rules.acme

import rego.v1

deny contains {"id": "acme.odd", "msg": "m", "findings": [f.fingerprint]} if some f in input.findings

deny contains "a string, not a reason" if count(input.findings) > 2

deny contains {"msg": "no id"} if count(input.findings) > 1

warn contains {"id": 5, "msg": "a number id"} if count(input.findings) > 0

warn contains {"id": "5", "msg": "a string id"} if count(input.exceptions) > 1
"""


@st.composite
def waiver_input(draw: st.DrawFn) -> dict[str, Any]:
    """gate_input with more exceptions naming gate rules (bundled and the user module's) as wholes."""
    doc = draw(gate_input())
    for _ in range(draw(st.integers(0, 3))):
        e = draw(exception(len(doc["exceptions"])))
        e["targets"] = sorted(set(draw(st.lists(st.sampled_from(GATE_RULE_IDS), min_size=1, max_size=2))))
        # a package or a path scope: such an exception waives findings, never a whole rule
        scope = draw(st.sampled_from(["none", "none", "path", "package"]))
        e["package"], e["package_keys"], e["version"] = (
            ("jinja2", {"*": "jinja2"}, "") if scope == "package" else ("", {}, "")
        )
        e["path"] = "src/**" if scope == "path" else ""
        doc["exceptions"].append(e)
    return doc


GATE_RULE_IDS = ["threshold.secret", "threshold.license", "threshold.sast", "license.copyleft", "acme.odd", "5", "r1"]


def _engine(*extra: str) -> Any:
    regorus: Any = importlib.import_module("regorus")
    engine: Any = regorus.Engine()
    for path in sorted(Path(BUNDLED_POLICY_DIR).rglob("*.rego")):
        engine.add_policy(str(path), path.read_text(encoding="utf-8"))
    engine.add_policy("naive.rego", NAIVE)
    for i, text in enumerate(extra):
        engine.add_policy(f"user{i}.rego", text)
    return engine


ENGINE = _engine()
ENGINE_WITH_USER = _engine(USER)


def _with_input(engine: Any, doc: dict[str, Any]) -> Any:
    """A clone of `engine` (its policies parsed once) reading `doc`."""
    clone = engine.clone()
    clone.set_input_json(json.dumps(doc))
    return clone


def _eval(engine: Any, query: str) -> Any:
    return json.loads(engine.eval_query_as_json(query))["result"][0]["expressions"][0]["value"]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(gate_input())
def test_hot_paths_equal_their_plain_definitions(doc: dict[str, Any]) -> None:
    engine = _with_input(ENGINE, doc)
    fingerprints = [f["fingerprint"] for f in doc["findings"]]
    unique = len(set(fingerprints)) == len(fingerprints)
    assert _eval(engine, "data.seaworthy.lib.covered") == _eval(engine, "data.seaworthy.naive.covered")
    over_threshold = _eval(engine, "data.seaworthy.lib.over_threshold")
    assert over_threshold == _eval(engine, "data.seaworthy.naive.previous_over_threshold")
    assert _eval(engine, "data.seaworthy.lib._set_aside") == _eval(engine, "data.seaworthy.naive.previous_set_aside")
    deny = _eval(engine, "data.seaworthy.rules.thresholds.deny")
    assert deny == _eval(engine, "data.seaworthy.naive.previous_thresholds_deny")
    if unique:  # the plain rules set a finding aside by what it is, the hot paths by its fingerprint
        assert over_threshold == _eval(engine, "data.seaworthy.naive.over_threshold")
        assert deny == _eval(engine, "data.seaworthy.naive.thresholds_deny")
    for category in CATEGORIES:  # each category's indexes are those of its findings in over_threshold
        at = _eval(engine, f"[i | some i in data.seaworthy.lib.over_threshold_at({json.dumps(category)})]")
        assert [doc["findings"][i] for i in at] == [f for f in over_threshold if f["category"] == category]
    assert _eval(engine, "data.seaworthy.rules.licenses._from_findings") == _eval(
        engine, "data.seaworthy.naive.license_components"
    )
    assert _eval(engine, "data.seaworthy.rules.dev_dependencies._dev_hits") == _eval(
        engine, "data.seaworthy.naive.dev_hits"
    )


def test_a_waived_licence_finding_is_no_component_and_an_unwaived_one_is() -> None:
    """The case the generated inputs seldom reach: a listed licence finding with a package, waived or not."""
    f = {
        "category": "license",
        "rule_id": "GPL-3.0-only",
        "rank": 4,
        "package": {"name": "x", "key": "x", "version": "1.0", "ecosystem": "npm"},
        "locations": [],
        "fingerprint": "fp0",
    }
    waiver = {
        "index": 0,
        "name": "exceptions[0]",
        "targets": ["fp0"],
        "package": "",
        "package_keys": {},
        "version": "",
        "path": "",
        "image": "",
        "owner": "o",
        "reason": "r",
        "expires": "2030-01-01",
    }
    for exceptions, components in (([waiver], 0), ([], 1)):
        doc = {
            "today": "2026-06-01",
            "config": {
                "thresholds": dict.fromkeys(CATEGORIES, "HIGH"),
                "fixable_only": False,
                "license_deny": [],
                "license_warn": ["GPL-3.0-only"],
            },
            "sbom": {"components": []},
            "findings": [f],
            "exceptions": exceptions,
            "build": {"image": None},
        }
        engine = _with_input(ENGINE, doc)
        got = _eval(engine, "data.seaworthy.rules.licenses._from_findings")
        assert got == _eval(engine, "data.seaworthy.naive.license_components")
        assert len(got) == components


def test_a_waived_dev_dependency_finding_is_no_hit_and_an_unwaived_one_is() -> None:
    """Likewise for rules/dev_dependencies.rego: a development dependency over the threshold, waived or not."""
    f = {
        "category": "dependency",
        "rule_id": "CVE-1",
        "rank": 5,
        "fixable": True,
        "dev": True,
        "package": {"name": "x", "key": "x", "version": "1.0", "ecosystem": "npm"},
        "locations": [],
        "fingerprint": "fp0",
    }
    waiver = {
        "index": 0,
        "name": "exceptions[0]",
        "targets": ["CVE-1"],
        "package": "",
        "package_keys": {},
        "version": "",
        "path": "",
        "image": "",
        "owner": "o",
        "reason": "r",
        "expires": "2030-01-01",
    }
    for exceptions, hits in (([waiver], 0), ([], 1)):
        doc = {
            "today": "2026-06-01",
            "config": {"thresholds": dict.fromkeys(CATEGORIES, "HIGH"), "fixable_only": False},
            "findings": [f],
            "exceptions": exceptions,
            "build": {"image": None},
        }
        engine = _with_input(ENGINE, doc)
        got = _eval(engine, "data.seaworthy.rules.dev_dependencies._dev_hits")
        assert got == _eval(engine, "data.seaworthy.naive.dev_hits")
        assert len(got) == hits


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(waiver_input())
def test_rule_waivers_by_lookup_equal_every_exception_tried(doc: dict[str, Any]) -> None:
    """collect.suppressed and collect.rules_waived_by (gate.exceptions_applied) look rule ids up; the plain
    rules try every exception in force on every candidate (rule-id targets, package/path/image scopes,
    expired exceptions, malformed reasons of a user module)."""
    engine = _with_input(ENGINE_WITH_USER, doc)
    assert _eval(engine, "data.seaworthy.naive.suppressed_candidates") == _eval(
        engine, "data.seaworthy.naive.suppressed_candidates_plain"
    )
    assert _eval(engine, "data.seaworthy.naive.rules_waived") == _eval(
        engine, "data.seaworthy.naive.rules_waived_plain"
    )


def test_the_generated_inputs_reach_what_the_hot_paths_decide() -> None:
    """The comparison above means something only if the inputs reach the cases: summaries with "and N more",
    shared fingerprints, development dependencies set aside and counted, listed licence findings, waivers."""
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(gate_input())
    def survey(doc: dict[str, Any]) -> None:
        engine = _with_input(ENGINE, doc)
        fps = [f["fingerprint"] for f in doc["findings"]]
        if len(set(fps)) < len(fps):
            seen.add("shared fingerprints")
        for r in _eval(engine, "data.seaworthy.rules.thresholds.deny"):
            seen.add("threshold reason")
            if int(r["msg"].split(" ")[0]) > 5:
                seen.add("more than five hits")
        if _eval(engine, "data.seaworthy.rules.dev_dependencies._dev_hits"):
            seen.add(f"dev hits, installed={doc.get('dev_dependencies', {}).get('installed')}")
        if _eval(engine, "count(data.seaworthy.lib._license_set_aside) > 0"):
            seen.add("listed licence findings")
        if _eval(engine, "count(data.seaworthy.lib.covered) > 0"):
            seen.add("waived")
        if _eval(engine, "count(data.seaworthy.lib._fixable_limited) > 0"):
            seen.add("fixable-only limits")

    survey()

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(waiver_input())
    def survey_waivers(doc: dict[str, Any]) -> None:
        user = _with_input(ENGINE_WITH_USER, doc)
        waived = _eval(user, "data.seaworthy.naive.suppressed_candidates")
        if any(isinstance(r, dict) and r.get("id") == "acme.odd" for r in waived):
            seen.add("a user rule waived")
        if any(isinstance(r, dict) and str(r.get("id")).startswith("threshold.") for r in waived):
            seen.add("a threshold rule waived")
        if any(_eval(user, "data.seaworthy.naive.rules_waived").values()):
            seen.add("exceptions_applied rules")

    survey_waivers()
    assert seen >= {
        "shared fingerprints",
        "threshold reason",
        "more than five hits",
        "dev hits, installed=True",
        "dev hits, installed=False",
        "dev hits, installed=None",
        "listed licence findings",
        "waived",
        "fixable-only limits",
        "a user rule waived",
        "a threshold rule waived",
        "exceptions_applied rules",
    }


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner, max_size=2),
    max_leaves=6,
)


def _well_formed_fingerprints(engine: Any, ref: str) -> list[bool]:
    """[new, plain]: whether collect.rego's `_fingerprints` and its plain definition hold for `ref`."""
    return _eval(
        engine,
        f"[count({{1 | data.seaworthy.collect._fingerprints({ref})}}) == 1,"
        f" count({{1 | data.seaworthy.naive.fingerprints_every({ref})}}) == 1]",
    )


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.text(max_size=3), max_size=4) | st.lists(st.text(max_size=3) | _JSON, max_size=5) | _JSON)
def test_the_fingerprints_check_equals_every_fingerprint_a_string(value: Any) -> None:
    engine = ENGINE.clone()
    engine.set_input_json(json.dumps({"v": value}))
    new, plain = _well_formed_fingerprints(engine, "input.v")
    assert new == plain
    assert plain == (isinstance(value, list) and all(isinstance(v, str) for v in value))


def test_the_fingerprints_check_refuses_arrays_holding_sets() -> None:
    """Values JSON cannot carry but a user's rule can give: sets (they sort after strings), {} and set()."""
    engine = ENGINE.clone()
    engine.set_input_json("{}")
    cases = _eval(engine, "count(data.seaworthy.naive.set_cases)")
    for i in range(cases):
        assert _well_formed_fingerprints(engine, f"data.seaworthy.naive.set_cases[{i}]") == [False, False]
    assert _well_formed_fingerprints(engine, '["b", "a", ""]') == [True, True]
    assert _well_formed_fingerprints(engine, "[]") == [True, True]
    assert _well_formed_fingerprints(engine, '{"a"}') == [False, False]
