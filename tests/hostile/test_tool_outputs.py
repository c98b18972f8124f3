"""Hostile and odd tool outputs: real reports of semgrep, gitleaks and trivy, bent the way other tools,
other platforms or an attacker bend them. Each case asserts the exact outcome: the same findings, a kept and
labelled finding with a note, or a one-line `ToolOutputError` naming the tool and the problem.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.errors import ToolOutputError
from pipeline.formats.redact import REDACTED
from pipeline.formats.sarif_in import NO_RULE_ID
from pipeline.model import Category, Severity, ToolRun
from pipeline.tools import gitleaks, semgrep, trivy
from tests.hostile import _real

pytestmark = pytest.mark.contract

Mutate = Callable[[dict[str, Any]], None]


def _trivy_fs(text: str) -> ToolRun:
    return trivy.parse(text, mode="fs")


PARSERS: dict[str, tuple[Callable[[], str], Callable[[str], ToolRun]]] = {
    "semgrep": (_real.semgrep_json, _real.parse_semgrep),
    "gitleaks": (_real.gitleaks_sarif, gitleaks.parse),
    "trivy": (_real.trivy_fs_json, _trivy_fs),
}


def _bent(source: Callable[[], str], mutate: Mutate) -> str:
    doc = json.loads(source())
    mutate(doc)
    return json.dumps(doc)


def _one_line(err: pytest.ExceptionInfo[ToolOutputError]) -> str:
    first = str(err.value).splitlines()[0]
    assert first == str(err.value), "the error must be one line"
    return first


# ----------------------------------------------------------------------------------- BOM, nesting, encoding


@pytest.mark.parametrize("tool", sorted(PARSERS))
def test_a_utf8_bom_before_a_real_report_is_accepted(tool: str) -> None:
    source, parse = PARSERS[tool]
    plain = parse(source())
    assert plain.findings
    with_bom = parse("\ufeff" + source())
    assert with_bom.findings == plain.findings
    assert with_bom.notes == plain.notes


@pytest.mark.parametrize("tool", sorted(PARSERS))
def test_a_bom_and_nothing_else_is_an_empty_report(tool: str) -> None:
    _, parse = PARSERS[tool]
    with pytest.raises(ToolOutputError, match=r"report is empty") as err:
        parse("\ufeff\n")
    assert tool in _one_line(err)


@pytest.mark.parametrize("tool", sorted(PARSERS))
def test_json_nested_beyond_what_python_can_read_is_a_one_line_error(tool: str) -> None:
    _, parse = PARSERS[tool]
    hostile = '{"version": "2.1.0", "runs": [' + "[" * 200_000 + "]" * 200_000 + "]}"
    with pytest.raises(ToolOutputError, match=r"nested deeper than any real report is") as err:
        parse(hostile)
    assert _one_line(err).startswith(f"{tool} output is unusable")


TOKEN_RULE = "acme.hardcoded-api-token"


def _semgrep_rule_id(doc: dict[str, Any], value: str) -> None:
    """The token rule's results renamed (with the folder prefix semgrep gives the tree's rules)."""
    for r in doc["results"]:
        if r["check_id"] == f"rules.{TOKEN_RULE}":
            r["check_id"] = f"rules.{value}"


def _semgrep_path(doc: dict[str, Any], value: str) -> None:
    for r in doc["results"]:
        r["path"] = value


def _sarif_uri(doc: dict[str, Any], value: str) -> None:
    for r in doc["runs"][0]["results"]:
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = value


@pytest.mark.parametrize(
    ("where", "mutate", "check"),
    [
        (
            "rule id",
            lambda d: _semgrep_rule_id(d, "acme.tok\ud800en"),
            lambda run: any(f.rule_id == "acme.tok\ufffden" for f in run.findings),
        ),
        (
            "path",
            lambda d: _semgrep_path(d, "calls\udc80.py"),
            lambda run: all(loc.path == "calls\ufffd.py" for f in run.findings for loc in f.locations),
        ),
        (
            "escaped pair stays one character",
            lambda d: _semgrep_path(d, "ship\ud83d\udea2.py"),
            lambda run: all(loc.path == "ship\U0001f6a2.py" for f in run.findings for loc in f.locations),
        ),
    ],
)
def test_lone_surrogates_in_real_semgrep_json_become_replacement_characters(
    where: str, mutate: Mutate, check: Callable[[ToolRun], bool]
) -> None:
    run = _real.parse_semgrep(_bent(_real.semgrep_json, mutate))
    assert run.findings
    assert check(run), where
    for f in run.findings:  # every text is encodable, so every report and the gate can carry it
        for text in (f.rule_id, f.message, f.title, *(loc.path for loc in f.locations)):
            text.encode("utf-8")


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("Target", "requirements\udc80.txt", "requirements\ufffd.txt"),
        ("PkgName", "jinja\ud800", "jinja\ufffd"),
    ],
)
def test_lone_surrogates_in_real_trivy_json_become_replacement_characters(
    field: str, value: str, expected: str
) -> None:
    def mutate(doc: dict[str, Any]) -> None:
        res = doc["Results"][0]
        if field == "Target":
            res["Target"] = value
        else:
            res["Vulnerabilities"][0]["PkgName"] = value

    run = _trivy_fs(_bent(_real.trivy_fs_json, mutate))
    texts = {loc.path for f in run.findings for loc in f.locations} | {
        f.package.name for f in run.findings if f.package
    }
    assert expected in texts
    assert value not in texts


# ------------------------------------------------------------------------------------ trivy: empty Target


@pytest.mark.parametrize(
    ("index", "kind"),
    [(0, "Vulnerabilities"), (1, "Misconfigurations"), (2, "Secrets")],
)
@pytest.mark.parametrize("how", ["empty", "missing"])
def test_one_trivy_result_without_target_keeps_every_finding_and_says_so(index: int, kind: str, how: str) -> None:
    whole = _trivy_fs(_real.trivy_fs_json())
    doc = json.loads(_real.trivy_fs_json())
    assert doc["Results"][index].get(kind), "the real report changed shape"

    def mutate(d: dict[str, Any]) -> None:
        if how == "empty":
            d["Results"][index]["Target"] = ""
        else:
            del d["Results"][index]["Target"]

    run = _trivy_fs(_bent(_real.trivy_fs_json, mutate))
    assert len(run.findings) == len(whole.findings)  # nothing dropped
    placeless = [f for f in run.findings if not f.locations]
    assert len(placeless) == len(doc["Results"][index][kind]) - (
        sum(1 for m in doc["Results"][index][kind] if m.get("Status") == "PASS") if kind == "Misconfigurations" else 0
    )
    assert {f.rule_id for f in placeless} <= {f.rule_id for f in whole.findings}
    assert run.notes == (
        f"trivy: 1 result(s) named no Target (Results[{index}]); their findings are kept without a file location",
    )


def test_a_trivy_target_that_is_not_a_string_is_refused() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["Results"][0]["Target"] = 5

    with pytest.raises(ToolOutputError) as err:
        _trivy_fs(_bent(_real.trivy_fs_json, mutate))
    assert "Results[0].Target is int, expected a string" in _one_line(err)


# ------------------------------------------------------------------------------------- junk SARIF results


def _first_result(d: dict[str, Any]) -> dict[str, Any]:
    return d["runs"][0]["results"][0]


def _no_rule(d: dict[str, Any]) -> None:
    r = _first_result(d)
    r.pop("ruleId", None)
    r.pop("rule", None)
    r.pop("ruleIndex", None)


def _nothing(d: dict[str, Any]) -> None:
    d["runs"][0]["results"][0] = {}


def _no_rule_error_level(d: dict[str, Any]) -> None:
    _no_rule(d)
    _first_result(d)["level"] = "error"


def _bad_rule_index(d: dict[str, Any]) -> None:
    _no_rule(d)
    _first_result(d)["ruleIndex"] = 9999


@pytest.mark.parametrize(
    ("mutate", "severity", "has_place"),
    [
        (_no_rule, Severity.MEDIUM, True),
        (_nothing, Severity.MEDIUM, False),
        (_no_rule_error_level, Severity.HIGH, True),
        (_bad_rule_index, Severity.MEDIUM, True),
    ],
    ids=["no-rule-id", "empty-object", "no-rule-id-level-error", "rule-index-out-of-range"],
)
def test_a_gitleaks_result_without_rule_is_kept_labelled_at_its_own_level(
    mutate: Mutate, severity: Severity, has_place: bool
) -> None:
    whole = gitleaks.parse(_real.gitleaks_sarif())
    run = gitleaks.parse(_bent(_real.gitleaks_sarif, mutate))
    assert len(run.findings) == len(whole.findings)  # kept, never dropped
    junk = [f for f in run.findings if f.rule_id == NO_RULE_ID]
    assert len(junk) == 1
    (f,) = junk
    # not raised to gitleaks' "every secret is HIGH or CRITICAL" rule policy: there is no rule
    assert f.severity is severity
    assert f.category is Category.SECRET  # still a secret: gitleaks reports nothing else, and the gate denies it
    assert f.title == "Result without a rule id (incomplete tool output)"
    assert bool(f.locations) is has_place
    assert any(n.startswith(f"1 result(s) named no rule; they are kept as rule '{NO_RULE_ID}'") for n in run.notes)


def test_a_semgrep_result_with_nothing_in_it_is_kept_and_says_so() -> None:
    whole = _real.parse_semgrep(_real.semgrep_json())
    run = _real.parse_semgrep(_bent(_real.semgrep_json, lambda d: d["results"].__setitem__(0, {})))
    assert len(run.findings) == len(whole.findings)  # kept, never dropped
    (f,) = [f for f in run.findings if f.rule_id == NO_RULE_ID]
    assert (f.category, f.severity) == (Category.SAST, Severity.MEDIUM)
    assert f.message == "semgrep reported a result that names no rule and says nothing"
    assert f.title == "Result without a rule id (incomplete tool output)"
    assert not f.locations
    assert f"1 result(s) had no file location and are kept without one: {NO_RULE_ID} (1)" in run.notes
    assert any(n.startswith(f"1 result(s) named no rule; they are kept as rule '{NO_RULE_ID}'") for n in run.notes)


def test_a_semgrep_result_without_rule_keeps_its_own_severity_and_place() -> None:
    def mutate(d: dict[str, Any]) -> None:
        (token,) = [r for r in d["results"] if r["check_id"] == f"rules.{TOKEN_RULE}"]
        del token["check_id"]

    run = _real.parse_semgrep(_bent(_real.semgrep_json, mutate))
    (f,) = [f for f in run.findings if f.rule_id == NO_RULE_ID]
    # no rule, so no rule metadata: its own severity (ERROR), the place semgrep gave, and not a secret rule's
    # redaction, but the credential-shaped token of its message is still scrubbed
    assert (f.category, f.severity) == (Category.SAST, Severity.HIGH)
    assert [(loc.path, loc.start_line) for loc in f.locations] == [("app.py", 1)]
    assert f.message == f"Hard-coded API token {REDACTED} assigned to API_TOKEN"
    assert _real.CANARY in run.scrub


@pytest.mark.parametrize(("value", "kind"), [(7, "int"), (None, "NoneType"), ("x", "str"), ([], "list")])
def test_a_semgrep_result_that_is_not_an_object_refuses_the_file(value: object, kind: str) -> None:
    with pytest.raises(ToolOutputError) as err:
        _real.parse_semgrep(_bent(_real.semgrep_json, lambda d: d["results"].insert(1, value)))
    assert _one_line(err).startswith(f"semgrep output is unusable: result 1 is a {kind}, not an object")


@pytest.mark.parametrize(("value", "kind"), [(7, "int"), (None, "NoneType"), ("x", "str"), ([], "list")])
def test_a_sarif_result_that_is_not_an_object_refuses_the_file(value: object, kind: str) -> None:
    """The SARIF reader (gitleaks' real SARIF; semgrep's is JSON now)."""

    def mutate(d: dict[str, Any]) -> None:
        d["runs"][0]["results"].insert(1, value)

    with pytest.raises(ToolOutputError) as err:
        gitleaks.parse(_bent(_real.gitleaks_sarif, mutate))
    assert f"SARIF run 0 result 1 is a {kind}, not an object" in _one_line(err)


def test_a_sarif_run_that_says_it_failed_is_a_failure_not_findings() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["runs"][0]["invocations"] = [{"executionSuccessful": False}]

    assert gitleaks.parse(_real.gitleaks_sarif()).findings  # the real report has findings
    with pytest.raises(ToolOutputError, match="the SARIF log says the run did not succeed"):
        gitleaks.parse(_bent(_real.gitleaks_sarif, mutate))


def test_a_semgrep_run_that_reports_an_error_is_a_failure_not_findings() -> None:
    def mutate(d: dict[str, Any]) -> None:
        d["errors"].append({"level": "error", "type": "Fatal error", "message": "out of memory\nat core"})

    with pytest.raises(ToolOutputError) as err:
        _real.parse_semgrep(_bent(_real.semgrep_json, mutate))
    assert "the tool reported an error: out of memory;" in _one_line(err)


# ---------------------------------------------------------------------------------------- absolute paths


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("C:\\work\\calls.py", "C:/work/calls.py"),
        ("file:///C:/work/calls.py", "C:/work/calls.py"),
        ("file:///c%3A/work/calls.py", "c:/work/calls.py"),
        ("/home/dev/calls.py", "/home/dev/calls.py"),
        ("file:///home/dev/calls.py", "/home/dev/calls.py"),
        ("file:///src/calls.py", "calls.py"),
        ("/src/./lib/../calls.py", "calls.py"),
        ("C:/x%20y/calls.py", "C:/x y/calls.py"),
        ("file:///src/a%2525b.py", "a%25b.py"),
        ("https://example.com/calls.py", "https://example.com/calls.py"),
    ],
)
def test_absolute_paths_of_other_tools_stay_absolute_unless_under_the_scanned_root(uri: str, path: str) -> None:
    """The SARIF reader on real SARIF of another tool (gitleaks; semgrep's report is JSON now)."""
    run = gitleaks.parse(_bent(_real.gitleaks_sarif, lambda d: _sarif_uri(d, uri)))
    assert run.findings
    assert {loc.path for f in run.findings for loc in f.locations} == {path}


@pytest.mark.parametrize(
    ("given", "path"),
    [
        ("/src/calls.py", "calls.py"),
        ("/src/./lib/../calls.py", "calls.py"),
        ("/home/dev/calls.py", "/home/dev/calls.py"),
        ("lib/a%25b.py", "lib/a%25b.py"),  # a file path, not a URI: "%" is part of the name
        ("/src/x%20y.py", "x%20y.py"),
    ],
)
def test_absolute_semgrep_paths_stay_absolute_unless_under_the_scanned_root(given: str, path: str) -> None:
    run = _real.parse_semgrep(_bent(_real.semgrep_json, lambda d: _semgrep_path(d, given)))
    assert run.findings
    assert {loc.path for f in run.findings for loc in f.locations} == {path}


# --------------------------------------------------------------------------------- redaction by metadata


def _retag(d: dict[str, Any], rule_id: str, metadata: dict[str, Any]) -> None:
    for r in d["results"]:
        if r["check_id"] == f"rules.{TOKEN_RULE}":
            r["extra"]["metadata"] = metadata
    _semgrep_rule_id(d, rule_id)


TEMPLATE = "Hard-coded API token $VAL assigned to $NAME"


@pytest.mark.parametrize("templates", [False, True], ids=["tree-rule", "template-known"])
@pytest.mark.parametrize(
    ("rule_id", "metadata", "redacted"),
    [
        ("acme.check-assignment", {"cwe": ["CWE-798: Use of Hard-coded Credentials"]}, True),
        ("acme.check-assignment", {"cwe": "CWE-259: Use of Hard-coded Password"}, True),
        ("acme.check-assignment", {"cwe": ["CWE-321"]}, True),
        ("acme.check-assignment", {"technology": ["secrets"]}, True),
        ("acme.check-assignment", {"category": "security", "subcategory": ["credentials"]}, True),
        ("acme.check-assignment", {"seaworthy-category": "secret"}, True),
        ("acme.leaked-password", {}, True),
        ("acme.aws.api_key", {}, True),
        ("acme.check-assignment", {"category": "security", "cwe": ["CWE-78: OS Command Injection"]}, False),
        ("acme.check-assignment", {}, False),
    ],
)
def test_redaction_is_decided_by_rule_metadata_and_a_token_never_survives(
    rule_id: str, metadata: dict[str, Any], redacted: bool, templates: bool
) -> None:
    text = _bent(_real.semgrep_json, lambda d: _retag(d, rule_id, metadata))
    assert _real.CANARY in text  # semgrep's own message carries the value: the test proves something
    known = {rule_id: TEMPLATE} if templates else None  # as the stage knows the bundled rules' templates
    run = semgrep.parse(text, prefixes=semgrep.id_prefixes(_real.SEMGREP), templates=known)
    (f,) = [f for f in run.findings if f.rule_id == rule_id]
    if redacted and templates:  # the rule's own template: metavariables by name, never by value
        assert f.message == TEMPLATE
        assert {_real.CANARY, "API_TOKEN"} <= set(run.scrub)  # every value a secret rule interpolated
    elif redacted:  # no template: a fixed text naming the rule; the credential-shaped token is scrubbed
        assert f.message == f"Hard-coded secret (semgrep rule {rule_id}; the matched text is not shown)"
        assert _real.CANARY in run.scrub
    else:  # a rule not about secrets keeps its message; the credential-shaped value in it is scrubbed
        assert f.message == f"Hard-coded API token {REDACTED} assigned to API_TOKEN"
        assert run.scrub == (_real.CANARY,)
    assert _real.CANARY not in repr(run)
    assert all(_real.CANARY not in n for n in run.notes)


def test_a_snippet_holding_the_value_is_never_read_into_a_finding() -> None:
    """gitleaks run without --redact puts the secret in the snippet; nothing of it reaches a finding."""

    def mutate(d: dict[str, Any]) -> None:
        for r in d["runs"][0]["results"]:
            r["locations"][0]["physicalLocation"]["region"]["snippet"] = {"text": f'API_TOKEN = "{_real.CANARY}"'}
            r["message"]["text"] = f"generic-api-key has detected secret {_real.CANARY}"

    run = gitleaks.parse(_bent(_real.gitleaks_sarif, mutate))
    assert run.findings
    assert _real.CANARY not in repr(run.findings)
    assert all(_real.CANARY not in f.message for f in run.findings)


def test_the_real_reports_are_not_changed_by_the_hostile_suite() -> None:
    """The generated outputs are shared between tests: bending must work on copies."""
    before = copy.deepcopy(json.loads(_real.semgrep_json()))
    _bent(_real.semgrep_json, lambda d: d["results"].__setitem__(0, {}))
    assert json.loads(_real.semgrep_json()) == before


@pytest.mark.parametrize(
    "mutate",
    [lambda d: _semgrep_path(d, "calls\udc80.py"), lambda d: _semgrep_rule_id(d, "acme.\udfffrule")],
    ids=["path", "rule-id"],
)
def test_a_lone_surrogate_from_a_real_report_reaches_the_rego_gate_as_valid_text(mutate: Mutate) -> None:
    """regorus raised RuntimeError ("unexpected end of hex escape") on a lone surrogate in the gate input."""
    import datetime

    from pipeline import config
    from pipeline.model import merge_findings
    from pipeline.policy.config import gate_config_from
    from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
    from pipeline.policy.input import build_input
    from pipeline.policy.verdict import read_verdict

    run = _real.parse_semgrep(_bent(_real.semgrep_json, mutate))
    doc = build_input(
        merge_findings(run.findings),
        sbom=None,
        facts=(),
        build=None,
        config=gate_config_from(config.load(None).gate),
        exceptions=(),
        today=datetime.date(2026, 11, 27),
    )
    verdict = read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc))
    assert not verdict.passed
    assert "\ufffd" in json.dumps(doc["findings"], ensure_ascii=False)  # the bent text reached the gate
    # the token rule's CWE-798 makes its finding a secret (semgrep's JSON: the rule's own metadata)
    assert {r.rule_id for r in verdict.denials} == {"threshold.secret"}


def test_a_secret_rule_without_template_still_lends_its_value_to_the_scrubber() -> None:
    """semgrep's JSON never carries a rule's template and the rule comes from the scanned tree: the message is
    a fixed text naming the rule, and the credential-shaped token of semgrep's message is scrubbed from every
    other text (here: a warning of the same run)."""

    def mutate(d: dict[str, Any]) -> None:
        d["errors"].append({"level": "warn", "type": "Timeout", "message": f"slow file near {_real.CANARY}"})

    run = _real.parse_semgrep(_bent(_real.semgrep_json, mutate))
    (f,) = [f for f in run.findings if f.rule_id == TOKEN_RULE]
    assert f.message == f"Hard-coded secret (semgrep rule {TOKEN_RULE}; the matched text is not shown)"
    assert f.category is Category.SECRET  # CWE-798 in its metadata
    assert _real.CANARY in run.scrub
    assert run.notes == (f"semgrep warning: slow file near {REDACTED}",)
