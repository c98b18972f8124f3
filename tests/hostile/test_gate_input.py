"""Hostile gate inputs: every malformed document is refused before evaluation, with one line naming the
JSON path and the fix (pipeline/policy/gate-input.schema.json, pipeline.policy.schema).

Each case is checked three ways: our validator's exact message, the `jsonschema` package's opinion of the
same document (it must also find it invalid: one schema, two validators that agree), and the gate run with
the real regorus (it refuses rather than gives a verdict).
"""

from __future__ import annotations

import copy
import datetime
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from pipeline.errors import PolicyError
from pipeline.model import Category, Component, Package, Severity
from pipeline.policy.config import GateConfig
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.input import SCHEMA, build_input
from pipeline.policy.schema import SCHEMA_FILE, SCHEMA_ID, gate_input_schema, load_gate_input, validate_gate_input
from tests.policy_helpers import TODAY, exceptions, finding, good_build, good_image, sbom, vuln

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = (
    "re-run `ship` to regenerate gate-input.json, or fix the document to pipeline/policy/gate-input.schema.json."
)


def _base() -> dict[str, Any]:
    """A document with every section filled: findings[0] a CRITICAL secret, findings[1] a HIGH dependency."""
    return build_input(
        [
            finding(Category.SECRET, "github-pat", Severity.CRITICAL, tool="gitleaks", path="conf.py", line=3),
            vuln(),
        ],
        sbom=sbom(Component("bash", "5.2", "pkg:deb/debian/bash@5.2", "deb", ("GPL-3.0-or-later",))),
        facts=[good_image()],
        build=good_build(),
        config=GateConfig(),
        exceptions=exceptions({"target": ["CVE-2018-18074"], "package": "requests"}),
        today=TODAY,
    )


BASE = _base()


def test_the_base_document_is_valid_and_shaped_as_the_cases_expect() -> None:
    validate_gate_input(BASE)
    jsonschema.Draft202012Validator(dict(gate_input_schema())).validate(BASE)
    assert BASE["findings"][0]["category"] == "secret" and BASE["findings"][0]["package"] is None
    assert BASE["findings"][1]["package"]["key"] == "requests"
    assert BASE["sbom"] and BASE["images"] and BASE["build"] and BASE["exceptions"]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = _keys(path)
        node: Any = doc
        for key in parents:
            node = node[key]
        node[last] = value

    return mutate


def _drop(path: str) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        *parents, last = _keys(path)
        node: Any = doc
        for key in parents:
            node = node[key]
        del node[last]

    return mutate


def _keys(path: str) -> list[str | int]:
    return [int(k) if k.isdigit() else k for k in re.split(r"[.\[\]]+", path) if k]


def _replace(value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(doc: dict[str, Any]) -> None:
        doc.clear()
        doc["__replace__"] = value

    return mutate


# (case id, mutation of BASE, exact message after "gate input test")
DOCUMENT_CASES: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("empty-object", lambda d: d.clear(), ' is not a Seaworthy gate input (it is an object without "schema": '),
    ("array", _replace([]), ' is not a Seaworthy gate input (it is an array without "schema": '),
    ("null", _replace(None), ' is not a Seaworthy gate input (it is null without "schema": '),
    ("string", _replace("gate-input.json"), ' is not a Seaworthy gate input (it is a string without "schema": '),
    ("schema-v1", _set("schema", "seaworthy.gate-input/v1"), " is seaworthy.gate-input/v1, written by an older "),
    ("schema-v3", _set("schema", "seaworthy.gate-input/v3"), ': schema is "seaworthy.gate-input/v3", must be "'),
    ("schema-number", _set("schema", 2), ": schema is 2, must be "),
    ("missing-findings", _drop("findings"), ": the document has no 'findings' member (required); "),
    ("missing-config", _drop("config"), ": the document has no 'config' member (required); "),
    ("missing-today", _drop("today"), ": the document has no 'today' member (required); "),
    ("unknown-top-member", _set("finding", []), ': the document has an unknown member "finding" (known: schema, '),
    ("findings-object", _set("findings", {}), ": findings is an object, must be an array; "),
    ("finding-string", _set("findings[0]", "github-pat"), ": findings[0] is a string, must be an object; "),
    (
        "category-wrong-case",
        _set("findings[0].category", "Secret"),
        ': findings[0].category is "Secret", not one of sast, secret, dependency, misconfiguration, '
        "image-vulnerability, license (write 'secret': the gate compares exactly); ",
    ),
    ("category-unknown", _set("findings[0].category", "secrets"), ': findings[0].category is "secrets", not one of'),
    ("category-null", _set("findings[0].category", None), ": findings[0].category is null, not one of "),
    ("rank-missing", _drop("findings[0].rank"), ": findings[0] has no 'rank' member (required); "),
    (
        "rank-disagrees",
        _set("findings[0].rank", 4),
        ": findings[0].rank is 4 but severity CRITICAL has rank 5 (UNKNOWN 0, INFO 1, LOW 2, MEDIUM 3, HIGH 4, "
        "CRITICAL 5): set it to 5; ",
    ),
    ("rank-zero-for-high", _set("findings[1].rank", 0), ": findings[1].rank is 0 but severity HIGH has rank 4"),
    ("rank-string", _set("findings[0].rank", "5"), ": findings[0].rank is a string, must be an integer; "),
    ("rank-boolean", _set("findings[0].rank", True), ": findings[0].rank is a boolean, must be an integer; "),
    ("rank-fraction", _set("findings[0].rank", 4.5), ": findings[0].rank is a number, must be an integer; "),
    ("rank-above", _set("findings[0].rank", 6), ": findings[0].rank is 6, above the maximum 5; "),
    ("rank-negative", _set("findings[0].rank", -1), ": findings[0].rank is -1, below the minimum 0; "),
    (
        "severity-lower-case",
        _set("findings[0].severity", "critical"),
        ': findings[0].severity is "critical", not one of UNKNOWN, INFO, LOW, MEDIUM, HIGH, CRITICAL '
        "(write 'CRITICAL': the gate compares exactly); ",
    ),
    ("severity-unknown", _set("findings[0].severity", "SEVERE"), ': findings[0].severity is "SEVERE", not one of '),
    ("severity-missing", _drop("findings[0].severity"), ": findings[0] has no 'severity' member (required); "),
    ("rule-id-empty", _set("findings[0].rule_id", ""), ": findings[0].rule_id is empty, must be a non-empty string; "),
    ("fingerprint-empty", _set("findings[0].fingerprint", ""), ": findings[0].fingerprint is empty, must be a "),
    ("tools-empty", _set("findings[0].tools", []), ": findings[0].tools has 0 item(s), needs at least 1; "),
    ("fixable-string", _set("findings[0].fixable", "yes"), ": findings[0].fixable is a string, must be a boolean; "),
    ("unknown-finding-member", _set("findings[0].cvss", 9.8), ': findings[0] has an unknown member "cvss" (known: '),
    ("package-without-key", _drop("findings[1].package.key"), ": findings[1].package has no 'key' member (required)"),
    ("package-string", _set("findings[1].package", "requests"), ": findings[1].package is a string, must be an object"),
    ("package-name-number", _set("findings[1].package.name", 1), ": findings[1].package.name is an integer, must be "),
    ("line-string", _set("findings[0].locations[0].line", "3"), ": findings[0].locations[0].line is a string, must be"),
    ("today-slashes", _set("today", "2026/06/01"), ': today is "2026/06/01", not a date YYYY-MM-DD; '),
    ("today-month-13", _set("today", "2026-13-01"), ': today is "2026-13-01", not a date YYYY-MM-DD; '),
    (
        "thresholds-two-spellings",
        _set("config.thresholds.SAST", "LOW"),
        ': config.thresholds has an unknown member "SAST"',
    ),
    ("threshold-off-word", _set("config.thresholds.secret", "off"), ': config.thresholds.secret is "off", not one of '),
    ("threshold-missing", _drop("config.thresholds.secret"), ": config.thresholds has no 'secret' member (required); "),
    (
        "fixable-only-string",
        _set("config.fixable_only", "false"),
        ": config.fixable_only is a string, must be a boolean",
    ),
    ("relaxation-without-key", _set("config.relaxations", [{"relaxed": "x"}]), ": config.relaxations[0] has no 'key'"),
    ("source-empty", _set("config.source", ""), ": config.source is empty, must be a non-empty string; "),
    (
        "labels-not-list",
        _set("config.required_labels", "a,b"),
        ": config.required_labels is a string, must be an array",
    ),
    ("image-root-string", _set("images[0].runs_as_root", "no"), ": images[0].runs_as_root is a string, must be a "),
    ("base-pin-unknown", _set("images[0].base_pin", "pinned"), ': images[0].base_pin is "pinned", not one of digest, '),
    ("label-value-number", _set("images[0].labels.team", 7), ": images[0].labels.team is an integer, must be a string"),
    ("build-string", _set("build", "registry.example/app"), ": build is a string, must be an object; "),
    ("sbom-array", _set("sbom", []), ": sbom is an array, must be an object; "),
    ("sbom-count-negative", _set("sbom.components_count", -1), ": sbom.components_count is -1, below the minimum 0; "),
    ("expires-far-text", _set("exceptions[0].expires", "9999"), ': exceptions[0].expires is "9999", not a date '),
    ("exception-no-target", _set("exceptions[0].targets", []), ": exceptions[0].targets has 0 item(s), needs at least"),
    ("exception-no-owner", _set("exceptions[0].owner", ""), ": exceptions[0].owner is empty, must be a non-empty "),
    ("exception-index-negative", _set("exceptions[0].index", -2), ": exceptions[0].index is -2, below the minimum 0"),
]


def _mutated(mutate: Callable[[dict[str, Any]], None]) -> Any:
    doc = copy.deepcopy(BASE)
    mutate(doc)
    return doc.get("__replace__", doc)


@pytest.mark.parametrize(("mutate", "message"), [c[1:] for c in DOCUMENT_CASES], ids=[c[0] for c in DOCUMENT_CASES])
def test_a_malformed_document_is_refused_naming_path_and_fix(
    mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    doc = _mutated(mutate)
    with pytest.raises(PolicyError) as err:
        validate_gate_input(doc, where="test")
    text = str(err.value)
    assert text.startswith("gate input test" + message), text
    assert "\n" not in text
    assert text.endswith((REGENERATE, "pass the gate-input.json of a ship report.", "only on the current schema)."))
    # the published schema says the same (jsonschema, the reference implementation, as a second opinion)
    assert not jsonschema.Draft202012Validator(dict(gate_input_schema())).is_valid(doc)


@pytest.mark.parametrize(
    ("mutate", "message"), [c[1:] for c in DOCUMENT_CASES[:20]], ids=[c[0] for c in DOCUMENT_CASES[:20]]
)
def test_the_gate_refuses_rather_than_decides(mutate: Callable[[dict[str, Any]], None], message: str) -> None:
    """With the real regorus and the bundled policies: no verdict (and so no pass) on a malformed input."""
    doc = _mutated(mutate)
    if isinstance(doc, str):  # evaluate_with_regorus reads a str as the document's JSON text
        message = " is not JSON (Expecting value at line 1 column 1); "
    with pytest.raises(PolicyError, match=r"^gate input \(in-process\)" + re.escape(message)):
        evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)


def test_a_secret_spelled_secret_with_a_capital_never_passes() -> None:
    """The issue's case: a CRITICAL secret whose category is "Secret" passed the gate."""
    doc = copy.deepcopy(BASE)
    doc["findings"] = [doc["findings"][0]]
    doc["exceptions"] = []
    assert evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)["deny"][0]["id"] == "threshold.secret"
    doc["findings"][0]["category"] = "Secret"
    with pytest.raises(PolicyError, match=r"findings\[0\]\.category is \"Secret\""):
        evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)
    del doc["findings"][0]["rank"]
    doc["findings"][0]["category"] = "secret"
    with pytest.raises(PolicyError, match=r"findings\[0\] has no 'rank' member"):
        evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)


BOM = "\ufeff"

# (case id, JSON text, exact message after "gate input --input")
TEXT_CASES: list[tuple[str, str, str]] = [
    ("empty-text", "", " is not JSON (Expecting value at line 1 column 1); "),
    ("truncated", json.dumps(BASE)[:100], " is not JSON ("),
    ("bom", BOM + json.dumps(BASE), " starts with a UTF-8 byte order mark; save it without BOM (or "),
    (
        "duplicate-key",
        '{"schema": "x", "schema": "seaworthy.gate-input/v2"}',
        ": the key 'schema' appears twice in one ",
    ),
    ("nan", '{"schema": "seaworthy.gate-input/v2", "x": NaN}', ": NaN is not a JSON number; "),
    ("infinity", '{"schema": "seaworthy.gate-input/v2", "x": -Infinity}', ": -Infinity is not a JSON number; "),
    ("deep-nesting", "[" * 200_000 + "]" * 200_000, " is nested too deeply to be a gate input; "),
    ("empty-object", "{}", ' is not a Seaworthy gate input (it is an object without "schema": '),
    ("top-level-number", "42", ' is not a Seaworthy gate input (it is an integer without "schema": '),
]


@pytest.mark.parametrize(("text", "message"), [c[1:] for c in TEXT_CASES], ids=[c[0] for c in TEXT_CASES])
def test_gate_input_text_is_refused_with_one_line(text: str, message: str) -> None:
    with pytest.raises(PolicyError) as err:
        load_gate_input(text, where="--input")
    assert str(err.value).startswith("gate input --input" + message), str(err.value)
    assert "\n" not in str(err.value)


def test_a_valid_text_loads_to_the_same_document() -> None:
    assert load_gate_input(json.dumps(BASE, indent=2), where="--input") == BASE


def test_one_schema_published_and_versioned_consistently() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert (
        SCHEMA == SCHEMA_ID == schema["title"] == schema["properties"]["schema"]["const"] == "seaworthy.gate-input/v2"
    )
    policy_md = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    assert "pipeline/policy/gate-input.schema.json" in policy_md and "seaworthy.gate-input/v2" in policy_md
    assert "seaworthy.gate-input/v2" in (BUNDLED_POLICY_DIR / "lib.rego").read_text(encoding="utf-8")


def test_build_input_always_writes_a_valid_document() -> None:
    empty = build_input(
        [], sbom=None, facts=[], build=None, config=GateConfig(thresholds={}), exceptions=[], today=TODAY
    )
    for doc in (BASE, empty):
        validate_gate_input(doc)
        jsonschema.Draft202012Validator(dict(gate_input_schema())).validate(doc)
    off = build_input(
        [],
        sbom=None,
        facts=[],
        build=None,
        config=GateConfig(thresholds={Category.SAST: None}),
        exceptions=[],
        today=datetime.date(2026, 2, 28),
    )
    validate_gate_input(off)
    assert off["config"]["thresholds"]["sast"] is None
    # what the configuration relaxed on the scan side, and where it came from (pipeline.config; optional here)
    relaxed = copy.deepcopy(off)
    relaxed["config"]["relaxations"] = [{"key": "scan.scanners", "relaxed": "gitleaks left out"}]
    relaxed["config"]["source"] = "seaworthy.toml"
    validate_gate_input(relaxed)
    jsonschema.Draft202012Validator(dict(gate_input_schema())).validate(relaxed)


# --- two findings, one fingerprint: beyond what JSON Schema can say, refused all the same -------------------


def _two_with_one_fingerprint() -> dict[str, Any]:
    """A CRITICAL dependency and a licence finding on license_warn (GPL-3.0-only) that share a fingerprint: the
    licence rules set the licence finding aside from the thresholds by fingerprint, and the CVE went with it."""
    pkg = Package("requests", "2.19.0", "pypi", "pkg:pypi/requests@2.19.0", "2.20.0")
    doc = build_input(
        [
            finding(Category.DEPENDENCY, "CVE-2018-18074", Severity.CRITICAL, tool="trivy", line=None, package=pkg),
            finding(Category.LICENSE, "GPL-3.0-only", Severity.LOW, tool="trivy", line=None, package=pkg),
        ],
        sbom=None,
        facts=[good_image()],
        build=good_build(),
        config=GateConfig(),
        exceptions=[],
        today=TODAY,
    )
    doc["findings"][1]["fingerprint"] = doc["findings"][0]["fingerprint"]
    return doc


def test_two_findings_with_one_fingerprint_are_refused_naming_both() -> None:
    doc = _two_with_one_fingerprint()
    fp = doc["findings"][0]["fingerprint"]
    # JSON Schema cannot say "unique by member": the published schema accepts it, the validator does not
    assert jsonschema.Draft202012Validator(dict(gate_input_schema())).is_valid(doc)
    with pytest.raises(PolicyError) as err:
        validate_gate_input(doc, where="test")
    assert str(err.value) == (
        f'gate input test: findings[1].fingerprint "{fp}" is also findings[0]\'s; each finding needs its own '
        f"(rules and exceptions tell findings apart by it): merge the two, or {REGENERATE}"
    )


def test_a_critical_cve_sharing_a_licence_finding_s_fingerprint_never_passes() -> None:
    """Before the check: the dependency finding was set aside with the licence finding, and no threshold denied."""
    doc = _two_with_one_fingerprint()
    with pytest.raises(PolicyError, match=r"findings\[1\]\.fingerprint .* is also findings\[0\]'s"):
        evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)
    with pytest.raises(PolicyError, match=r"findings\[1\]\.fingerprint .* is also findings\[0\]'s"):
        load_gate_input(json.dumps(doc), where="--input")
    # with distinct fingerprints the CVE denies
    doc["findings"][1]["fingerprint"] = "f" * 32
    deny = {r["id"] for r in evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)["deny"]}
    assert "threshold.dependency" in deny
