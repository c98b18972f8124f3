"""The Rego gate's hot paths (pipeline/policy/rego/lib.rego) give what their plain definitions give.

`covered` (exceptions matched by target through `by_target`), `over_threshold` (one pass, local
values), rules/licenses.rego's `_from_findings` (no function call per finding) and
rules/dev_dependencies.rego's `_dev_hits` (waived findings skipped by lookup) were rewritten for speed at
100k findings; this checks them against the straightforward rules
they replace, on generated inputs, with regorus.
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
"""

CATEGORIES = ["sast", "secret", "dependency", "misconfiguration", "image-vulnerability", "license"]
LICENSES = ["GPL-3.0-only", "MIT", "agpl-3.0"]
RULES = ["r1", "r2", "CVE-1", "CVE-2", *LICENSES]
FINGERPRINTS = ["fp0", "fp1", "fp2", "fp3", "fp4", "fp5"]
PATHS = ["src/a.py", "src/b/c.py", "tests/t.py", "image:usr/lib/x"]


@st.composite
def finding(draw: st.DrawFn, index: int) -> dict[str, Any]:
    f: dict[str, Any] = {
        "category": draw(st.sampled_from(CATEGORIES)),
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
        "fingerprint": FINGERPRINTS[index],
    }
    fixable = draw(st.sampled_from([True, False, None, "yes", "missing"]))
    if fixable != "missing":
        f["fixable"] = fixable
    dev = draw(st.sampled_from([True, False, "missing"]))
    if dev != "missing":
        f["dev"] = dev
    return f


@st.composite
def exception(draw: st.DrawFn, index: int) -> dict[str, Any]:
    package = draw(st.sampled_from(["", "jinja2", "requests"]))
    return {
        "index": index,
        "name": f"exceptions[{index}]",
        "targets": sorted(set(draw(st.lists(st.sampled_from(RULES + FINGERPRINTS[:3]), min_size=1, max_size=3)))),
        "package": package,
        "package_keys": {"*": package} if package else {},
        "version": draw(st.sampled_from(["", "1.0"])) if package else "",
        "path": draw(st.sampled_from(["", "src/**", "tests/*", "nowhere/**"])),
        "image": draw(st.sampled_from(["", "registry.example/app", "other/*"])),
        "owner": "o",
        "reason": "r",
        "expires": draw(st.sampled_from(["2020-01-01", "2030-01-01"])),
    }


@st.composite
def gate_input(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(0, len(FINGERPRINTS)))
    thresholds = {c: draw(st.sampled_from([None, "LOW", "HIGH", "UNKNOWN", "critical"])) for c in CATEGORIES}
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
    return {
        "today": "2026-06-01",
        "config": {"thresholds": thresholds, "fixable_only": draw(st.booleans()), **licence_lists},
        "sbom": {"components": components},
        "findings": [draw(finding(i)) for i in range(n)],
        "exceptions": [draw(exception(i)) for i in range(draw(st.integers(0, 4)))],
        "build": {"image": draw(st.sampled_from(["registry.example/app", None]))},
    }


def _engine() -> Any:
    regorus: Any = importlib.import_module("regorus")
    engine: Any = regorus.Engine()
    for path in sorted(Path(BUNDLED_POLICY_DIR).rglob("*.rego")):
        engine.add_policy(str(path), path.read_text(encoding="utf-8"))
    engine.add_policy("naive.rego", NAIVE)
    return engine


ENGINE = _engine()


def _eval(engine: Any, query: str) -> Any:
    return json.loads(engine.eval_query_as_json(query))["result"][0]["expressions"][0]["value"]


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(gate_input())
def test_hot_paths_equal_their_plain_definitions(doc: dict[str, Any]) -> None:
    engine = ENGINE.clone()
    engine.set_input_json(json.dumps(doc))
    assert _eval(engine, "data.seaworthy.lib.covered") == _eval(engine, "data.seaworthy.naive.covered")
    assert _eval(engine, "data.seaworthy.lib.over_threshold") == _eval(engine, "data.seaworthy.naive.over_threshold")
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
        engine = ENGINE.clone()
        engine.set_input_json(json.dumps(doc))
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
        engine = ENGINE.clone()
        engine.set_input_json(json.dumps(doc))
        got = _eval(engine, "data.seaworthy.rules.dev_dependencies._dev_hits")
        assert got == _eval(engine, "data.seaworthy.naive.dev_hits")
        assert len(got) == hits
