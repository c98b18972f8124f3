"""User policies, error handling and the OPA invocation around the gate (real regorus, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import PolicyError, ToolOutputError
from pipeline.model import Category, Finding, Severity
from pipeline.policy.config import GateConfig
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.exceptions import BUNDLED_RULE_IDS
from pipeline.policy.input import build_input
from pipeline.policy.verdict import read_verdict
from pipeline.tools import opa
from tests.policy_helpers import TODAY, evaluate, exceptions, finding, good_build, good_image, ids

EXTRA_RULE = """package seaworthy.rules.acme_ports

import rego.v1

deny contains r if {
	some img in input.images
	img.labels["com.acme.ssh"] == "yes"
	r := {"id": "acme.no-ssh", "msg": "port 22 is exposed", "remedy": "remove EXPOSE 22", "findings": []}
}
"""

OVERRIDE_ROOT = """package seaworthy.rules.acme_root

import rego.v1

overrides contains "image.root-user"

# root is tolerated for images labelled as init containers, but only as a warning
warn contains r if {
	some img in input.images
	img.runs_as_root
	img.labels["com.acme.init"] == "true"
	r := {"id": "image.root-user", "msg": "init container runs as root", "remedy": "", "findings": []}
}

deny contains data.seaworthy.lib.reason("image.root-user", "runs as root", "add USER", []) if {
	some img in input.images
	img.runs_as_root
	not img.labels["com.acme.init"]
}
"""


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


def test_user_policy_adds_a_rule(tmp_path: Path) -> None:
    _write(tmp_path / "policy", "ports.rego", EXTRA_RULE)
    labelled = good_image(labels=(*good_image().labels, ("com.acme.ssh", "yes")))
    verdict, _ = evaluate(facts=[labelled], build=good_build(), policy_dirs=[tmp_path / "policy"])
    assert ids(verdict.denials) == ["acme.no-ssh"]
    assert verdict.denials[0].remedy == "remove EXPOSE 22"
    verdict, _ = evaluate(facts=[good_image()], build=good_build(), policy_dirs=[tmp_path / "policy"])
    assert verdict.passed


def test_user_policy_overrides_a_bundled_rule_by_id(tmp_path: Path) -> None:
    _write(tmp_path / "policy", "root.rego", OVERRIDE_ROOT)
    init = good_image(user="", labels=(*good_image().labels, ("com.acme.init", "true")))
    verdict, _ = evaluate(facts=[init], build=good_build(), policy_dirs=[tmp_path / "policy"])
    assert verdict.passed
    assert [(r.rule_id, r.message) for r in verdict.warnings] == [
        ("image.root-user", "init container runs as root"),
        (
            "policy.override",
            "bundled rule image.root-user is overridden by package seaworthy.rules.acme_root: "
            "only that module's reasons with this id count",
        ),
        (  # the bundled denial it turned into a warning shows as such
            "policy.override-relaxed",
            "package seaworthy.rules.acme_root relaxed bundled rule image.root-user: it denied on this input, "
            "the override only warns",
        ),
    ]

    verdict, _ = evaluate(facts=[good_image(user="")], build=good_build(), policy_dirs=[tmp_path / "policy"])
    assert [(r.rule_id, r.message) for r in verdict.denials] == [("image.root-user", "runs as root")]
    assert ids(verdict.warnings) == ["policy.override"]
    # without the user policy the bundled message is back
    verdict, _ = evaluate(facts=[init], build=good_build())
    assert verdict.denials[0].message.startswith("the image runs as root")


PROBE = 'package seaworthy.rules.probe\n\nimport rego.v1\n\noverrides contains "threshold.secret"\n'

# Replaces threshold.secret: secrets under tests/ only warn, every other secret denies.
SECRET_REPLACEMENT = """package seaworthy.rules.acme_secrets

import rego.v1

overrides contains "threshold.secret"

_secrets := [f | some f in data.seaworthy.lib.findings; f.category == "secret"]

_in_tests(f) if startswith(f.locations[0].path, "tests/")

warn contains data.seaworthy.lib.reason("threshold.secret", "test fixture secret", "", [f.fingerprint]) if {
	some f in _secrets
	_in_tests(f)
}

deny contains data.seaworthy.lib.reason("threshold.secret", "secret in the product", "rotate it", [f.fingerprint]) if {
	some f in _secrets
	not _in_tests(f)
}
"""


def _secret(path: str = "config.py") -> Finding:
    return finding(Category.SECRET, "github-pat", Severity.CRITICAL, tool="gitleaks", path=path, line=13)


def test_override_without_replacement_does_not_switch_a_rule_off(tmp_path: Path) -> None:
    _write(tmp_path / "p", "probe.rego", PROBE)
    leak = _secret()
    verdict, _ = evaluate([leak], policy_dirs=[tmp_path / "p"])
    assert not verdict.passed
    assert ids(verdict.denials) == ["policy.override-without-replacement"]
    denial = verdict.denials[0]
    assert denial.findings == (leak.fingerprint,)
    assert denial.message == (
        "package seaworthy.rules.probe overrides bundled rule threshold.secret but gives no reason with that id "
        "where it fired: the rule would be switched off"
    )
    assert "exception file" in denial.remedy
    assert ids(verdict.warnings) == ["policy.override"]
    # where the bundled rule does not fire there is nothing to replace, but the override still shows
    verdict, _ = evaluate([], policy_dirs=[tmp_path / "p"])
    assert verdict.passed and ids(verdict.warnings) == ["policy.override"]
    assert "threshold.secret" in verdict.warnings[0].message and "seaworthy.rules.probe" in verdict.warnings[0].message


def test_override_with_replacement_decides_in_place_of_the_bundled_rule(tmp_path: Path) -> None:
    _write(tmp_path / "p", "secrets.rego", SECRET_REPLACEMENT)
    fixture, leak = _secret("tests/fixtures/conf.py"), _secret("src/conf.py")
    verdict, _ = evaluate([fixture], policy_dirs=[tmp_path / "p"])
    assert verdict.passed
    assert [(r.rule_id, r.message) for r in verdict.warnings] == [
        (
            "policy.override",
            "bundled rule threshold.secret is overridden by package seaworthy.rules.acme_secrets: "
            "only that module's reasons with this id count",
        ),
        (
            "policy.override-relaxed",
            "package seaworthy.rules.acme_secrets relaxed bundled rule threshold.secret: 1 finding(s) it denied "
            "are only warned about: github-pat at tests/fixtures/conf.py:13",
        ),
        ("threshold.secret", "test fixture secret"),
    ]
    assert verdict.warnings[1].findings == (fixture.fingerprint,)
    verdict, _ = evaluate([fixture, leak], policy_dirs=[tmp_path / "p"])
    assert [(r.rule_id, r.message, r.findings) for r in verdict.denials] == [
        ("threshold.secret", "secret in the product", (leak.fingerprint,))
    ]


def test_replacement_must_answer_every_case_the_rule_fires_on(tmp_path: Path) -> None:
    # the same module without its warn: a secret under tests/ would vanish silently
    partial = (
        SECRET_REPLACEMENT.split("warn contains", 1)[0]
        + "deny contains"
        + SECRET_REPLACEMENT.split("deny contains", 1)[1]
    )
    assert "warn contains" not in partial
    _write(tmp_path / "p", "secrets.rego", partial)
    fixture = _secret("tests/fixtures/conf.py")
    verdict, _ = evaluate([fixture], policy_dirs=[tmp_path / "p"])
    assert ids(verdict.denials) == ["policy.override-without-replacement"]
    assert verdict.denials[0].findings == (fixture.fingerprint,)


def test_gate_checks_cannot_be_overridden(tmp_path: Path) -> None:
    _write(
        tmp_path / "p",
        "sneaky.rego",
        "package seaworthy.rules.sneaky\n\nimport rego.v1\n\n"
        'overrides contains "exception.expired"\n\noverrides contains "policy.override-without-replacement"\n',
    )
    waivers = exceptions({"target": "CVE-0", "expires": "2020-01-01"})
    verdict, _ = evaluate(waivers=waivers, policy_dirs=[tmp_path / "p"])
    assert ids(verdict.denials) == ["exception.expired", "policy.override-forbidden", "policy.override-forbidden"]
    forbidden = sorted(r.message for r in verdict.denials if r.rule_id == "policy.override-forbidden")
    assert forbidden == [
        "package seaworthy.rules.sneaky overrides exception.expired, a check of the gate itself that cannot be overridden",
        "package seaworthy.rules.sneaky overrides policy.override-without-replacement, a check of the gate itself "
        "that cannot be overridden",
    ]
    assert verdict.warnings == ()


def test_override_of_a_user_rule_is_named_as_such(tmp_path: Path) -> None:
    _write(tmp_path / "p", "ports.rego", EXTRA_RULE)
    _write(
        tmp_path / "p",
        "quiet.rego",
        'package seaworthy.rules.quiet\n\nimport rego.v1\n\noverrides contains "acme.no-ssh"\n',
    )
    labelled = good_image(labels=(*good_image().labels, ("com.acme.ssh", "yes")))
    verdict, _ = evaluate(facts=[labelled], build=good_build(), policy_dirs=[tmp_path / "p"])
    assert ids(verdict.denials) == ["policy.override-without-replacement"]
    assert "overrides rule acme.no-ssh" in verdict.denials[0].message
    assert verdict.warnings[0].message.startswith("rule acme.no-ssh is overridden by package seaworthy.rules.quiet")


def test_bundled_rule_ids_agree_between_rego_and_python() -> None:
    collect = evaluate_with_regorus([BUNDLED_POLICY_DIR], {}, query="data.seaworthy.collect")
    assert sorted(collect["bundled_rule_ids"]) == sorted(BUNDLED_RULE_IDS)


def test_user_policy_cannot_reuse_a_bundled_package(tmp_path: Path) -> None:
    _write(tmp_path / "p", "image.rego", "package seaworthy.rules.image\n\nimport rego.v1\n\nx := 1\n")
    with pytest.raises(PolicyError, match=r"image\.rego: package seaworthy\.rules\.image is a bundled package"):
        evaluate(policy_dirs=[tmp_path / "p"])


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    bad = _write(
        tmp_path / "p",
        "broken.rego",
        'package seaworthy.rules.broken\n\nimport rego.v1\n\ndeny contains r if {\n\tr := {"id": "x"\n}\n',
    )
    with pytest.raises(PolicyError) as err:
        evaluate(policy_dirs=[tmp_path / "p"])
    first = str(err.value).splitlines()[0]
    assert first.startswith(f"{bad}:8:") and "does not parse" in first and "Stack backtrace" not in str(err.value)


def test_v0_syntax_is_rejected_with_location(tmp_path: Path) -> None:
    old = _write(tmp_path / "p", "old.rego", 'package seaworthy.rules.old\n\ndeny[msg] { msg := "x" }\n')
    with pytest.raises(PolicyError, match=rf"^{old}:3:"):
        evaluate(policy_dirs=[tmp_path / "p"])


def test_missing_or_empty_policy_dir(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="does not exist"):
        evaluate(policy_dirs=[tmp_path / "nope"])
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("no rules")
    with pytest.raises(PolicyError, match=r"holds no \.rego file"):
        evaluate(policy_dirs=[tmp_path / "empty"])
    with pytest.raises(PolicyError, match="no policy folder"):
        evaluate_with_regorus([], {})


@pytest.mark.parametrize(
    ("rule", "match"),
    [
        (
            'deny contains "plain string" if { true }',
            r"rule data\.seaworthy\.rules\.shape\.deny returned 'plain string'",
        ),
        ('warn contains {"msg": "no id"} if { true }', r"rule data\.seaworthy\.rules\.shape\.warn returned"),
        ('deny := ["a list"]', r"rule data\.seaworthy\.rules\.shape\.deny returned \['a list'\]"),
    ],
)
def test_wrong_shape_names_the_rule(tmp_path: Path, rule: str, match: str) -> None:
    _write(tmp_path / "p", "shape.rego", f"package seaworthy.rules.shape\n\nimport rego.v1\n\n{rule}\n")
    with pytest.raises(PolicyError, match=match):
        evaluate(policy_dirs=[tmp_path / "p"])


def test_wrong_field_types_name_the_rule_id() -> None:
    base = {"deny": [], "warn": [], "notes": [], "exceptions_applied": [], "malformed": []}
    bad_findings = {**base, "deny": [{"id": "acme.x", "msg": "m", "findings": "abc"}]}
    with pytest.raises(PolicyError, match=r"rule 'acme\.x' \(deny\) has 'findings'"):
        read_verdict(bad_findings)
    with pytest.raises(PolicyError, match=r"rule 'acme\.y' \(warn\) has no string 'msg'"):
        read_verdict({**base, "warn": [{"id": "acme.y", "msg": 3}]})
    with pytest.raises(PolicyError, match="no 'deny' member"):
        read_verdict({"warn": []})


def test_gate_query_undefined_without_bundled_policies(tmp_path: Path) -> None:
    _write(tmp_path / "p", "x.rego", "package other\n\nimport rego.v1\n\nx := 1\n")
    # a valid (empty) gate input: what is missing is the bundled policies
    empty = build_input([], sbom=None, facts=[], build=None, config=GateConfig(), exceptions=[], today=TODAY)
    with pytest.raises(PolicyError, match="undefined"):
        evaluate_with_regorus([tmp_path / "p"], empty)


def test_opa_invocation_mounts_bundled_and_user_policies() -> None:
    inv = opa.eval_gate(2)
    assert inv.image.repository == "openpolicyagent/opa" and inv.image.tag.split("-")[0].startswith("1.")
    assert inv.argv[:4] == ("/opa", "eval", "--format", "json")
    assert inv.argv[4:6] == ("--timeout", opa.EVAL_TIMEOUT) and opa.EVAL_TIMEOUT == "60s"
    assert inv.argv[-3:] == ("--input", opa.INPUT, "data.seaworthy.gate")
    data_dirs = [inv.argv[i + 1] for i, a in enumerate(inv.argv) if a == "--data"]
    assert data_dirs == [opa.POLICY_BUNDLED, "/in/policy/user-0", "/in/policy/user-1"]
    assert inv.mounts[opa.POLICY_BUNDLED] == "policy:bundled" and inv.mounts["/in/policy/user-1"] == "policy:user:1"
    assert inv.stdout_to_report and inv.report.startswith("/tmp/seaworthy-out/")


def test_opa_parse_reads_the_same_document_regorus_gives() -> None:
    _, result = evaluate(facts=[good_image(user="")], build=good_build())
    opa_output = json.dumps(
        {
            "result": [
                {"expressions": [{"value": result, "text": "data.seaworthy.gate", "location": {"row": 1, "col": 1}}]}
            ]
        }
    )
    assert read_verdict(opa.parse(opa_output)) == read_verdict(result)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("", "empty"),
        ('{"result": [{"expressions": [{"value": {"deny"', "truncated"),
        ("{}", "undefined"),
        (
            '{"errors": [{"message": "rego_parse_error: unexpected }", '
            '"location": {"file": "/in/policy/user-0/a.rego", "row": 4}}]}',
            r"a\.rego:4: rego_parse_error",
        ),
        ('{"result": [{"expressions": [{"value": true}]}]}', "expected an object"),
    ],
)
def test_opa_parse_fails_closed(text: str, match: str) -> None:
    with pytest.raises(ToolOutputError, match=match):
        opa.parse(text)


def test_bundled_dir_is_the_package_folder() -> None:
    names = sorted(p.name for p in BUNDLED_POLICY_DIR.rglob("*.rego"))
    assert names == [
        "collect.rego",
        "coverage.rego",
        "dev_dependencies.rego",
        "exceptions.rego",
        "gate.rego",
        "image.rego",
        "lib.rego",
        "licenses.rego",
        "relaxations.rego",
        "sbom.rego",
        "thresholds.rego",
    ]


def test_user_policy_texts_are_checked_like_folders() -> None:
    from pipeline.policy.engine import check_user_policy_texts

    check_user_policy_texts({"mine.rego": "package seaworthy.rules.mine\n"}, where="policy")
    with pytest.raises(PolicyError, match=r"policy folder policy holds no \.rego file"):
        check_user_policy_texts({}, where="policy")
    with pytest.raises(PolicyError, match=r"policy/a\.rego: package seaworthy\.rules\.image is a bundled package"):
        check_user_policy_texts({"a.rego": "package seaworthy.rules.image\n"}, where="policy")
    with pytest.raises(PolicyError, match=r"policy/b\.rego: no package declaration"):
        check_user_policy_texts({"b.rego": "deny contains x if { x := 1 }\n"}, where="policy")


@pytest.mark.parametrize("pkg", ["seaworthy", "seaworthy.rules", "seaworthy.rules.thresholds.deny", "acme.rules"])
def test_user_packages_must_sit_one_level_under_seaworthy_rules(pkg: str) -> None:
    from pipeline.policy.engine import check_user_policy_texts

    with pytest.raises(PolicyError, match=r"name yours seaworthy\.rules\.<your-name>"):
        check_user_policy_texts({"a.rego": f"package {pkg}\n"}, where="policy")


# --- the valid case validates while the child evaluates; every error still comes in the order of the steps ------

SLOW = """package seaworthy.rules.slow

import rego.v1

deny contains data.seaworthy.lib.reason("slow.pairs", sprintf("%d", [n]), "", []) if {
	n := count([1 | some a in input.findings; some b in input.findings; some c in input.findings; a != c])
	n < 0
}
"""


def _doc(n: int = 1) -> dict[str, object]:
    many = [finding(rule_id=f"rule-{i}", path=f"f{i}.py") for i in range(n)]
    return build_input(many, sbom=None, facts=[], build=None, config=GateConfig(), exceptions=[], today=TODAY)


def _invalid() -> dict[str, object]:
    doc = _doc()
    doc["findings"][0]["rank"] = 9  # type: ignore[index]  # pyright: ignore[reportIndexIssue, reportArgumentType]
    return doc


def test_an_invalid_input_is_refused_before_a_broken_user_policy(tmp_path: Path) -> None:
    _write(tmp_path / "p", "bad.rego", "package seaworthy.rules.bad\n\nimport rego.v1\n\ndeny contains x if {\n")
    with pytest.raises(PolicyError, match=r"findings\[0\]\.rank"):
        evaluate_with_regorus([BUNDLED_POLICY_DIR, tmp_path / "p"], _invalid())
    with pytest.raises(PolicyError, match=r"bad\.rego:\d+:\d+: the policy does not parse"):
        evaluate_with_regorus([BUNDLED_POLICY_DIR, tmp_path / "p"], _doc())


def test_an_invalid_input_stops_a_slow_evaluation_and_says_why(tmp_path: Path) -> None:
    # the child evaluating the slow policy (minutes) is stopped as soon as the validation fails (milliseconds): the
    # validation's error, not the time limit's, which waiting for the child first would give
    _write(tmp_path / "p", "slow.rego", SLOW)
    doc = _doc(300)
    doc["findings"][5]["rank"] = 9  # type: ignore[index]  # pyright: ignore[reportIndexIssue, reportArgumentType]
    with pytest.raises(PolicyError, match=r"findings\[5\]\.rank"):
        evaluate_with_regorus([BUNDLED_POLICY_DIR, tmp_path / "p"], doc, timeout=5)


def test_text_regorus_refuses_is_named_after_a_valid_document() -> None:
    # a lone surrogate passes Python's validation of the text, regorus (in the child) refuses it
    text = json.dumps(_doc()).replace('"rule-0"', '"rule-\\ud800"')
    with pytest.raises(PolicyError, match=r"^the gate input is not plain JSON \(.+\); give the gate a document"):
        evaluate_with_regorus([BUNDLED_POLICY_DIR], text)


def test_nan_in_a_document_is_named_after_its_validation() -> None:
    doc = _doc()
    doc["config"]["extra"] = float("nan")  # type: ignore[index]  # pyright: ignore[reportIndexIssue]
    with pytest.raises(PolicyError) as err:
        evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)
    assert "config" in str(err.value)  # the schema names the unknown member first, as before


@pytest.mark.parametrize(
    ("value", "match"),
    [({1, 2}, r"config"), (object(), r"config"), ([[[[]]]], r"config")],
    ids=["set", "object", "nested"],
)
def test_a_document_json_cannot_write_gets_the_validation_s_error(value: object, match: str) -> None:
    # json.dumps now runs before the validation finishes: its TypeError must not come first
    doc = _doc()
    doc["config"]["extra"] = value  # type: ignore[index]  # pyright: ignore[reportIndexIssue]
    with pytest.raises(PolicyError, match=match):
        evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)


def test_a_document_nested_too_deeply_for_json_gets_the_validation_s_error() -> None:
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    doc = _doc()
    doc["config"]["extra"] = deep  # type: ignore[index]  # pyright: ignore[reportIndexIssue]
    with pytest.raises(PolicyError, match=r"gate input \(in-process\)"):
        evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)
