"""Hostile exception entries (issue 8): refused at load naming the entry and key, or applied exactly as
written and never wider. The gate cases run the real bundled Rego gate (regorus)."""

from __future__ import annotations

import importlib
import json
import random
from typing import Any

import pytest

from pipeline.config import parse_toml
from pipeline.errors import ConfigError
from pipeline.model import Category, Finding, Location, Package, Severity
from pipeline.model_gate import covers, glob_match, glob_problem
from pipeline.policy.exceptions import load_exceptions, parse_exceptions
from tests.policy_helpers import evaluate, exceptions, finding, good_build, good_image, ids, vuln

OK: dict[str, Any] = {"target": "CVE-2018-18074", "owner": "team-app", "reason": "reviewed", "expires": "2026-12-31"}


def refused(*tables: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as info:
        parse_exceptions(list(tables))
    message = str(info.value)
    assert "\n" not in message, message
    return message


# ------------------------------------------------------------------------------------------- refused at load

GLOB_FIX = 'fix it, e.g. path = "src/**/*.py".'
IMAGE_FIX = 'fix it, e.g. image = "registry.example/app*".'


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"path": "["},
            f"exceptions[0].path = \"[\" is not a valid glob ('[' at position 1 is never closed with ']'); {GLOB_FIX}",
        ),
        (
            {"path": "src/[abc"},
            f"exceptions[0].path = \"src/[abc\" is not a valid glob ('[' at position 5 is never closed with ']'); {GLOB_FIX}",
        ),
        (
            {"path": "src/{a,b"},
            f"exceptions[0].path = \"src/{{a,b\" is not a valid glob (a '{{' is never closed with '}}'); {GLOB_FIX}",
        ),
        (
            {"path": "src/}"},
            f"exceptions[0].path = \"src/}}\" is not a valid glob ('}}' at position 5 closes nothing); {GLOB_FIX}",
        ),
        (
            {"path": "src/[]"},
            f'exceptions[0].path = "src/[]" is not a valid glob (the character class at position 5 is empty); {GLOB_FIX}',
        ),
        (
            {"path": "src/[!]x]"},
            f'exceptions[0].path = "src/[!]x]" is not a valid glob (the character class at position 5 is empty); {GLOB_FIX}',
        ),
        (
            {"path": "[z-a].py"},
            f'exceptions[0].path = "[z-a].py" is not a valid glob (the range z-a at position 1 runs backwards); {GLOB_FIX}',
        ),
        (
            {"path": "{a,{b,c}}"},
            f"exceptions[0].path = \"{{a,{{b,c}}}}\" is not a valid glob ('{{' at position 4 is nested in another {{…}}; list the alternatives in one); {GLOB_FIX}",
        ),
        (
            {"path": "src\\*.py"},
            f"exceptions[0].path = \"src\\*.py\" is not a valid glob ('\\' escapes are not supported; use [*] or [?] for a literal * or ?); {GLOB_FIX}",
        ),
        (
            {"path": "/srv/app/**"},
            f'exceptions[0].path = "/srv/app/**" is not a valid glob (it is absolute); {GLOB_FIX}',
        ),
        (
            {"path": "../**"},
            f"exceptions[0].path = \"../**\" is not a valid glob (it leaves the source root with '..'); {GLOB_FIX}",
        ),
        (
            {"path": "src/\u202ecod.py"},
            'exceptions[0]: path = "src/\\u202ecod.py" contains a bidirectional-override character (U+202E) that '
            "reorders what a reviewer sees; retype it in plain text.",
        ),
        (
            {"image": "registry.example/[app"},
            f"exceptions[0].image = \"registry.example/[app\" is not a valid glob ('[' at position 18 is never closed with ']'); {IMAGE_FIX}",
        ),
        (
            {"image": "registry.example/{a,b"},
            f"exceptions[0].image = \"registry.example/{{a,b\" is not a valid glob (a '{{' is never closed with '}}'); {IMAGE_FIX}",
        ),
        (
            {"target": "CVE-2018-18074 CVE-2019-10906"},
            'exceptions[0]: target "CVE-2018-18074 CVE-2019-10906" is not a finding id, fingerprint or rule id (it contains a space); write ids as the reports show them, e.g. target = ["CVE-2024-1234"].',
        ),
        (
            {"target": ["CVE-1\u202e"]},
            'exceptions[0]: target "CVE-1\\u202e" is not a finding id, fingerprint or rule id (a bidirectional-override character (U+202E) that reorders what a reviewer sees); write ids as the reports show them, e.g. target = ["CVE-2024-1234"].',
        ),
        (
            {"target": ["CVE-1\x00"]},
            'exceptions[0]: target "CVE-1\\x00" is not a finding id, fingerprint or rule id (a control character (U+0000)); write ids as the reports show them, e.g. target = ["CVE-2024-1234"].',
        ),
        (
            {"target": ["CVE-\ud800"]},
            'exceptions[0]: target "CVE-\\ud800" is not a finding id, fingerprint or rule id (a lone surrogate (U+D800) that is not valid Unicode text); write ids as the reports show them, e.g. target = ["CVE-2024-1234"].',
        ),
        (
            {"owner": "team\u2067-app"},
            'exceptions[0]: owner = "team\\u2067-app" contains a bidirectional-override character (U+2067) that reorders what a reviewer sees; retype it in plain text.',
        ),
        (
            {"owner": "team\napp"},
            'exceptions[0]: owner = "team\\x0aapp" contains a control character (U+000A); retype it in plain text.',
        ),
        (
            {"reason": "ok \u202eevil"},
            'exceptions[0]: reason = "ok \\u202eevil" contains a bidirectional-override character (U+202E) that reorders what a reviewer sees; retype it in plain text.',
        ),
        (
            {"package": "req\u200buests"},
            'exceptions[0]: package = "req\\u200buests" contains an invisible format character (U+200B); retype it in plain text.',
        ),
        (
            {"target": "config.relaxed"},
            "exceptions[0]: 'config.relaxed' is the gate's notice of a relaxation and cannot be waived; change the configuration key or the exception it names instead.",
        ),
        (
            {"target": "exception.long-lived"},
            "exceptions[0]: 'exception.long-lived' is the gate's notice of a relaxation and cannot be waived; change the configuration key or the exception it names instead.",
        ),
        (
            {"target": "policy.override"},
            "exceptions[0]: 'policy.override' is the gate's check on user policies and cannot be waived; fix the policy module it names (docs/policy.md, overrides).",
        ),
        (
            {"expires": "9999-99-99"},
            "exceptions[0]: 'expires' = '9999-99-99' is not a date; write expires = YYYY-MM-DD (the last day the exception is valid), e.g. expires = 2026-12-31.",
        ),
    ],
)
def test_refused_at_load_naming_entry_and_key(changes: dict[str, Any], message: str) -> None:
    assert refused({**OK, **changes}) == f"seaworthy.toml: {message}"


def test_the_message_names_the_entry_at_fault_not_the_first() -> None:
    tables = [dict(OK), dict(OK), dict(OK), {**OK, "path": "src/[oops"}]
    assert refused(*tables).startswith('seaworthy.toml: exceptions[3].path = "src/[oops" is not a valid glob')


def test_a_multiline_reason_is_accepted() -> None:
    (e,) = parse_exceptions([{**OK, "reason": "line one\nline two\twith a tab"}])
    assert e.reason == "line one\nline two\twith a tab"


# ------------------------------------------------------------------------------------------- exception files


def test_exception_file_with_a_bom_is_accepted() -> None:
    text = '\ufeff[[exceptions]]\ntarget = "CVE-2018-18074"\nowner = "o"\nreason = "r"\nexpires = 2026-12-31\n'
    (e,) = load_exceptions(parse_toml(text, source="exceptions.toml"), source="exceptions.toml", own_file=True)
    assert (e.name, e.targets, e.source) == ("exceptions[0]", ("CVE-2018-18074",), "exceptions.toml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[[exceptions]]\ntarget = " + "[" * 40 + "]" * 40,
            "exceptions.toml: exceptions[0].target[0][0][0][0][0][0][0][0][0][0][0][0][0][0] is nested more than "
            "16 levels deep; flatten it.",
        ),
        (
            "x = " + "[" * 50_000 + "]" * 50_000,
            "exceptions.toml: tables or arrays are nested too deeply to read; flatten the file (at most 16 levels).",
        ),
        (
            '[[exceptions]]\nreason = "a\\u202Eb"',
            'exceptions.toml: exceptions[0].reason = "a\\u202eb" contains a bidirectional-override character '
            "(U+202E) that reorders what a reviewer sees; retype it in plain text.",
        ),
    ],
)
def test_hostile_exception_files_are_refused_in_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_toml(text, source="exceptions.toml")
    assert str(info.value) == message


# ------------------------------------------------------------------------------------------- long-lived


@pytest.mark.parametrize(
    ("expires", "warned"),
    [
        ("9999-12-31", True),
        ("2027-06-02", True),  # a year and a day after TODAY (2026-06-01)
        ("2027-06-01", False),  # exactly a year
        ("2026-12-31", False),
        ("2026-06-01", False),  # last valid day is today
    ],
)
def test_far_future_expiry_warns_and_still_applies(expires: str, warned: bool) -> None:
    f = vuln("CVE-2018-18074")
    verdict, _ = evaluate([f], waivers=exceptions({"target": "CVE-2018-18074", "expires": expires, "owner": "al"}))
    assert verdict.passed
    long_lived = [r.message for r in verdict.warnings if r.rule_id == "exception.long-lived"]
    expected = (
        [
            f"exceptions[0] (CVE-2018-18074, owner al) expires on {expires}, more than a year after 2026-06-01: it "
            "waives like a permanent switch"
        ]
        if warned
        else []
    )
    assert long_lived == expected


# ------------------------------------------------------------------------------------------- never wider


def pkg(name: str, version: str) -> Package:
    return Package(name, version, "pypi", f"pkg:pypi/{name}@{version}", "9.9")


@pytest.mark.parametrize(
    ("waiver", "hit", "miss"),
    [
        # package scope: another package with the same CVE stays denied
        (
            {"target": "CVE-1", "package": "requests"},
            vuln("CVE-1", "requests", "2.19.0"),
            vuln("CVE-1", "urllib3", "1.23"),
        ),
        # version scope: another version stays denied
        (
            {"target": "CVE-1", "package": "requests", "version": "2.19.0"},
            vuln("CVE-1", "requests", "2.19.0"),
            vuln("CVE-1", "requests", "2.20.0"),
        ),
        # path scope: '*' does not cross folders
        (
            {"target": "rule.x", "path": "src/*.py"},
            finding(rule_id="rule.x", path="src/app.py"),
            finding(rule_id="rule.x", path="src/sub/app.py"),
        ),
        # path scope: alternatives are exact
        (
            {"target": "rule.x", "path": "{src,lib}/app.py"},
            finding(rule_id="rule.x", path="lib/app.py"),
            finding(rule_id="rule.x", path="tests/app.py"),
        ),
        # an id is not a prefix
        (
            {"target": "CVE-2018-1"},
            vuln("CVE-2018-1"),
            vuln("CVE-2018-18074"),
        ),
        # ids compare exactly, case included
        (
            {"target": "rule.X"},
            finding(rule_id="rule.X"),
            finding(rule_id="rule.x"),
        ),
        # a rule id does not waive another rule on the same line
        (
            {"target": "rule.a", "path": "app.py"},
            finding(rule_id="rule.a"),
            finding(rule_id="rule.b"),
        ),
    ],
)
def test_an_exception_waives_exactly_what_it_names(waiver: dict[str, Any], hit: Finding, miss: Finding) -> None:
    verdict, result = evaluate([hit, miss], waivers=exceptions(waiver))
    assert [a["findings"] for a in result["exceptions_applied"]] == [[hit.fingerprint]]
    (denial,) = verdict.denials
    assert denial.findings == (miss.fingerprint,)


def test_a_fingerprint_waives_that_finding_only() -> None:
    a = finding(rule_id="rule.x", path="a.py")
    b = finding(rule_id="rule.x", path="b.py")
    verdict, result = evaluate([a, b], waivers=exceptions({"target": a.fingerprint}))
    assert [a_["findings"] for a_ in result["exceptions_applied"]] == [[a.fingerprint]]
    assert [r.findings for r in verdict.denials] == [(b.fingerprint,)]


def test_image_scope_does_not_stretch_to_a_similar_name() -> None:
    root = good_image(user="")
    waiver = exceptions({"target": "image.root-user", "image": "registry.example/app"})
    verdict, _ = evaluate(facts=[root], build=good_build(image="registry.example/app2"), waivers=waiver)
    assert ids(verdict.denials) == ["image.root-user"]


def test_scopes_of_two_exceptions_do_not_combine() -> None:
    f = vuln("CVE-1", "requests", "2.19.0", path="requirements.txt")
    waivers = exceptions(
        {"target": "CVE-1", "package": "urllib3"},  # right id, wrong package
        {"target": "CVE-2", "package": "requests"},  # right package, wrong id
    )
    verdict, result = evaluate([f], waivers=waivers)
    assert result["exceptions_applied"] == []
    assert ids(verdict.denials) == ["threshold.dependency"]


def test_an_expired_exception_waives_nothing_even_far_in_the_past() -> None:
    f = vuln("CVE-1")
    verdict, result = evaluate([f], waivers=exceptions({"target": "CVE-1", "expires": "0001-01-01"}))
    assert result["exceptions_applied"] == []
    assert ids(verdict.denials) == ["exception.expired", "threshold.dependency"]


# ------------------------------------------------------------------------------------------- at scale


def test_indexed_matching_agrees_with_the_python_mirror_at_scale() -> None:
    """2,000 findings x 600 exceptions with every kind of scope: the gate waives exactly the findings the
    Python mirror (`covers`) says, pair by pair (the lookup index neither misses nor adds a match)."""
    rng = random.Random(8)
    fs: list[Finding] = []
    for i in range(2000):
        is_vuln = i % 2 == 0
        fs.append(
            Finding(
                category=Category.DEPENDENCY if is_vuln else Category.SAST,
                rule_id=f"CVE-{i % 97}" if is_vuln else f"rule-{i % 89}",
                severity=Severity.CRITICAL,
                message="m",
                tools=("trivy",),
                locations=(Location(f"src/mod{i % 13}/f{i}.py", 1),),
                package=pkg(f"Pkg_{i % 31}", f"1.{i % 5}") if is_vuln else None,
            )
        )
    tables: list[dict[str, Any]] = []
    for _ in range(600):
        kind = rng.randrange(6)
        t: dict[str, Any] = {"target": [f"CVE-{rng.randrange(97)}", f"rule-{rng.randrange(89)}"]}
        if kind == 1:
            t["package"] = f"pkg-{rng.randrange(31)}"
        elif kind == 2:
            t |= {"package": f"PKG.{rng.randrange(31)}", "version": f"1.{rng.randrange(5)}"}
        elif kind == 3:
            t["path"] = f"src/mod{rng.randrange(13)}/*.py"
        elif kind == 4:
            t["target"] = [fs[rng.randrange(2000)].fingerprint]
        elif kind == 5:
            t["image"] = rng.choice(["registry.example/*", "other.example/*"])
        tables.append(t)
    waivers = exceptions(*tables)
    image = "registry.example/app"
    _, result = evaluate(fs, waivers=waivers, build=good_build(image=image))
    got = {(a["exception"], fp) for a in result["exceptions_applied"] for fp in a["findings"]}
    expected = {(e.name, f.fingerprint) for e in waivers for f in fs if covers(e, f, image=image)}
    assert len(expected) > 1000
    assert got == expected


# ------------------------------------------------------------------------------------------- globs


def test_every_glob_accepted_at_load_means_the_same_to_the_gate_and_the_python_mirror() -> None:
    """2,000 seeded random globs: the ones `glob_problem` accepts never make the Rego `glob.match` fail,
    and `glob_match` (which trivyignore.yaml and openvex.json use) agrees with it on every sample path: the
    exported waivers cover exactly what the gate waived."""
    regorus: Any = importlib.import_module("regorus")
    engine: Any = regorus.Engine()
    engine.add_policy(
        "g.rego", 'package g\nimport rego.v1\nr := [glob.match(input.p, ["/"], s) | some s in input.paths]\n'
    )
    paths = ["", "a", "ab", "a/b", "a/b/c", "b", "x/a", "a,b", "[", "z/", "-", "a.b/c.d"]
    pieces = ["a", "b", "/", "*", "**", "?", "[", "]", "{", "}", ",", "!", "-", ".", "z"]
    rng = random.Random(8)
    accepted = 0
    for _ in range(2000):
        pattern = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 7)))
        if glob_problem(pattern):
            continue
        accepted += 1
        engine.set_input_json(json.dumps({"p": pattern, "paths": paths}))
        gate = json.loads(engine.eval_query_as_json("data.g.r"))["result"][0]["expressions"][0]["value"]
        assert gate == [glob_match(pattern, p) for p in paths], pattern
    assert accepted > 500
