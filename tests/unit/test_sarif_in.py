"""SARIF 2.1.0 input: severity mapping, paths, results without a location, bad input, 100k results."""

from __future__ import annotations

import json
from typing import Any

import pytest

from pipeline.errors import ToolOutputError
from pipeline.formats.sarif_in import (
    SarifRule,
    load_sarif,
    normalize_tag,
    parse_sarif,
    relative_path,
    severity_from_security_severity,
)
from pipeline.model import Category, Location, Severity


def log(
    results: list[dict[str, Any]] | None,
    rules: list[dict[str, Any]] | None = None,
    **run_extra: Any,
) -> str:
    run: dict[str, Any] = {"tool": {"driver": {"name": "Tool", "semanticVersion": "1.2.3", "rules": rules or []}}}
    if results is not None:
        run["results"] = results
    run.update(run_extra)
    return json.dumps({"version": "2.1.0", "runs": [run]})


def result(rule_id: str = "R1", path: str | None = "app.py", line: int | None = 3, **extra: Any) -> dict[str, Any]:
    res: dict[str, Any] = {"ruleId": rule_id, "message": {"text": f"problem {rule_id}"}}
    if path is not None:
        region = {"startLine": line, "endLine": line, "startColumn": 5, "endColumn": 9} if line else {}
        res["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": path}, "region": region}}]
    res.update(extra)
    return res


def parse(text: str, **kw: Any):
    kw.setdefault("tool", "tool")
    kw.setdefault("category", Category.SAST)
    return parse_sarif(text, **kw)


# ------------------------------------------------------------------------------------------ severity


@pytest.mark.parametrize(
    ("score", "expected"),
    [
        ("10.0", Severity.CRITICAL),
        ("9.0", Severity.CRITICAL),
        ("8.9", Severity.HIGH),
        (7.0, Severity.HIGH),
        ("6.9", Severity.MEDIUM),
        ("4.0", Severity.MEDIUM),
        ("3.9", Severity.LOW),
        ("0.1", Severity.LOW),
        ("0", Severity.INFO),
        ("high", None),
        ("11", None),
        ("-1", None),
        ("nan", None),
        (None, None),
        (True, None),
    ],
)
def test_security_severity_bands(score: object, expected: Severity | None) -> None:
    assert severity_from_security_severity(score) is expected


@pytest.mark.parametrize(
    ("level", "expected"),
    [("error", Severity.HIGH), ("warning", Severity.MEDIUM), ("note", Severity.LOW), ("none", Severity.INFO)],
)
def test_result_level_maps_to_severity(level: str, expected: Severity) -> None:
    run = parse(log([result(level=level)]))
    assert run.findings[0].severity is expected


def test_level_falls_back_to_rule_default_then_to_sarif_default_warning() -> None:
    rules = [{"id": "R1", "defaultConfiguration": {"level": "error"}}, {"id": "R2"}]
    run = parse(log([result("R1"), result("R2"), result("R1", level="note")], rules))
    got = sorted((f.rule_id, f.severity) for f in run.findings)
    assert got == [("R1", Severity.LOW), ("R1", Severity.HIGH), ("R2", Severity.MEDIUM)]


def test_security_severity_beats_level_result_beats_rule() -> None:
    rules = [
        {"id": "R1", "defaultConfiguration": {"level": "note"}, "properties": {"security-severity": "9.8"}},
        {"id": "R2", "properties": {"security-severity": "not a number"}},
    ]
    results = [
        result("R1", level="note"),
        result("R1", line=4, properties={"security-severity": "5.0"}),
        result("R2", level="error"),
    ]
    run = parse(log(results, rules))
    got = {(f.rule_id, f.locations[0].start_line): f.severity for f in run.findings}
    assert got == {("R1", 3): Severity.CRITICAL, ("R1", 4): Severity.MEDIUM, ("R2", 3): Severity.HIGH}


def test_tool_hooks_decide_severity_and_category_per_rule() -> None:
    seen: list[tuple[str, str]] = []

    def severity_of(rule: SarifRule, level: str) -> Severity | None:
        seen.append((rule.id, level))
        return Severity.CRITICAL if rule.id == "aws" else None

    def category_of(rule: SarifRule) -> Category | None:
        return Category.SECRET if "secret" in rule.tags else None

    rules = [{"id": "aws"}, {"id": "eval", "properties": {"tags": ["secret"]}}, {"id": "other"}]
    run = parse(
        log([result("aws"), result("eval", level="error"), result("other")], rules),
        severity_of=severity_of,
        category_of=category_of,
        levels={"warning": Severity.INFO, "error": Severity.HIGH},
    )
    got = {f.rule_id: (f.severity, f.category) for f in run.findings}
    assert got == {
        "aws": (Severity.CRITICAL, Category.SAST),
        "eval": (Severity.HIGH, Category.SECRET),
        "other": (Severity.INFO, Category.SAST),
    }
    assert sorted(seen) == [("aws", "warning"), ("eval", "error"), ("other", "warning")]


def test_unknown_level_is_unknown_severity_not_dropped() -> None:
    run = parse(log([result(level="fatal")]))
    assert [f.severity for f in run.findings] == [Severity.UNKNOWN]


# ------------------------------------------------------------------------------------------ rule details


def test_rule_help_uri_title_tags_and_version() -> None:
    rules = [
        {
            "id": "seaworthy.python.pickle",
            "shortDescription": {"text": "Semgrep Finding: seaworthy.python.pickle"},
            "fullDescription": {"text": "Unpickling runs code. Use json instead."},
            "helpUri": "https://example.org/pickle",
            "properties": {"tags": ["CWE-502: Deserialization of Untrusted Data", "security", " "]},
        },
        {"id": "DL3007", "shortDescription": {"text": "Pin the image version"}},
    ]
    run = parse(log([result("seaworthy.python.pickle", properties={"tags": ["extra"]}), result("DL3007")], rules))
    by_id = {f.rule_id: f for f in run.findings}
    pickle = by_id["seaworthy.python.pickle"]
    assert pickle.title == "Unpickling runs code."  # a short description that only repeats the id is no title
    assert pickle.help_uri == "https://example.org/pickle"
    assert pickle.tags == ("CWE-502", "extra", "security")
    assert pickle.message == "problem seaworthy.python.pickle"
    assert by_id["DL3007"].title == "Pin the image version"
    assert by_id["DL3007"].help_uri == ""
    assert run.version == "1.2.3"
    assert run.tool == "tool"
    assert all(f.tools == ("tool",) for f in run.findings)


def test_normalize_tag() -> None:
    assert normalize_tag("cwe-78: OS Command Injection") == "CWE-78"
    assert normalize_tag(" security ") == "security"
    assert normalize_tag("CWE-1004") == "CWE-1004"


def test_rule_found_by_index_and_message_from_message_strings() -> None:
    rules = [
        {"id": "A"},
        {"id": "B", "messageStrings": {"default": {"text": "found {0} in {1}"}}},
    ]
    res = {
        "ruleIndex": 1,
        "message": {"id": "default", "arguments": ["md5", "app.py"]},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": "app.py"}}}],
    }
    run = parse(log([res], rules))
    assert [(f.rule_id, f.message) for f in run.findings] == [("B", "found md5 in app.py")]


def test_rule_from_extension_and_missing_rule_id_is_kept_and_noted() -> None:
    text = log(
        [
            {"rule": {"index": 0, "toolComponent": {"index": 0}}, "message": {"text": "from ext"}},
            {"message": {"text": "who?"}},
        ],
        None,
    )
    data = json.loads(text)
    data["runs"][0]["tool"]["extensions"] = [{"name": "ext", "rules": [{"id": "EXT1"}]}]
    run = parse(json.dumps(data))
    assert sorted(f.rule_id for f in run.findings) == ["EXT1", "no-rule-id"]
    assert any("named no rule" in n for n in run.notes)


def test_message_falls_back_to_rule_description() -> None:
    rules = [{"id": "R1", "shortDescription": {"text": "short text"}}]
    res = result("R1")
    del res["message"]
    run = parse(log([res], rules))
    assert run.findings[0].message == "short text"


# ------------------------------------------------------------------------------------------ paths


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("app.py", "app.py"),
        ("./app.py", "app.py"),
        ("src/./pkg/../app.py", "src/app.py"),
        ("file:///src/app.py", "app.py"),
        ("file:///src/dir%20with%20space/a.py", "dir with space/a.py"),
        ("/src/deep/dir/Dockerfile", "deep/dir/Dockerfile"),
        ("/src", ""),
        ("/srcfoo/app.py", "/srcfoo/app.py"),
        ("/etc/passwd", "/etc/passwd"),
        ("pkg\\mod.py", "pkg/mod.py"),
        ("file:///C:/work/app.py", "C:/work/app.py"),
        ("https://example.org/x", "https://example.org/x"),
        ("", ""),
    ],
)
def test_relative_path(uri: str, expected: str) -> None:
    assert relative_path(uri) == expected


def test_relative_path_other_roots() -> None:
    assert relative_path("/tmp/x/src/app.py", ("/src", "/tmp/x/src")) == "app.py"
    assert relative_path("/tmp/x/src/app.py", ("/tmp/x", "/tmp/x/src")) == "app.py"  # longest root wins


def test_uri_base_ids_and_artifact_index_resolve_to_tree_paths() -> None:
    results = [
        {
            "ruleId": "R",
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py", "uriBaseId": "SRC"}}}],
        },
        {
            "ruleId": "R",
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "b.py", "uriBaseId": "%SRCROOT%"}}}],
        },
        {
            "ruleId": "R",
            "locations": [{"physicalLocation": {"artifactLocation": {"uri": "c.py", "uriBaseId": "SUB"}}}],
        },
        {"ruleId": "R", "locations": [{"physicalLocation": {"artifactLocation": {"index": 0}}}]},
    ]
    text = log(
        results,
        originalUriBaseIds={"SRC": {"uri": "file:///src/"}, "SUB": {"uri": "lib/", "uriBaseId": "SRC"}},
        artifacts=[{"location": {"uri": "pkg/d.py", "uriBaseId": "SRC"}}],
    )
    run = parse(text)
    assert sorted(f.locations[0].path for f in run.findings) == ["a.py", "b.py", "lib/c.py", "pkg/d.py"]


def test_region_is_kept_and_duplicates_are_dropped() -> None:
    loc = {
        "physicalLocation": {
            "artifactLocation": {"uri": "x.py"},
            "region": {"startLine": 7, "startColumn": 2},
        }
    }
    run = parse(
        log(
            [
                {
                    "ruleId": "R",
                    "locations": [loc, loc, {"physicalLocation": {"artifactLocation": {"uri": "y.py"}}}],
                }
            ]
        )
    )
    assert run.findings[0].locations == (
        Location("x.py", start_line=7, start_column=2),
        Location("y.py"),
    )


# ------------------------------------------------------------------------------------------ kept / left out


def test_results_without_location_are_kept_and_noted() -> None:
    logical_only = {
        "ruleId": "L1",
        "message": {"text": "logical"},
        "locations": [{"logicalLocations": [{"fullyQualifiedName": "pkg.mod"}]}],
    }
    run = parse(log([result("R1", path=None), result("R1", path=None), logical_only, result("R2")]))
    assert len(run.findings) == 4
    without = [f for f in run.findings if not f.locations]
    assert sorted(f.rule_id for f in without) == ["L1", "R1", "R1"]
    note = next(n for n in run.notes if "no file location" in n)
    assert note.startswith("3 result(s)")
    assert "R1 (2)" in note
    assert "L1 (1)" in note


def test_suppressed_and_passing_results_are_left_out_with_a_note() -> None:
    results = [
        result("R1", suppressions=[{"kind": "inSource"}]),
        result("R1", line=5, suppressions=[{"kind": "external", "status": "rejected"}]),
        result("R2", kind="pass"),
        result("R3", kind="review"),
    ]
    run = parse(log(results))
    assert sorted((f.rule_id, f.locations[0].start_line) for f in run.findings) == [("R1", 5), ("R3", 3)]
    assert any("suppressed in the source were left out: R1 (1)" in n for n in run.notes)
    assert any("pass/notApplicable were left out: R2 (1)" in n for n in run.notes)


def test_notifications_become_notes_or_errors() -> None:
    invocations = [
        {
            "executionSuccessful": True,
            "toolExecutionNotifications": [
                {"level": "warning", "message": {"text": "Syntax error in x.py"}},
                {"level": "error", "message": {"text": "Invalid YAML file rules.yml"}},
            ],
        }
    ]
    text = log([], invocations=invocations)
    run = parse(text)
    assert run.findings == ()
    assert run.notes == ("tool error: Invalid YAML file rules.yml", "tool warning: Syntax error in x.py")
    with pytest.raises(ToolOutputError, match=r"Invalid YAML file rules\.yml"):
        parse(text, fail_on_error_notifications=True)


def test_execution_not_successful_is_an_error() -> None:
    invocations = [
        {"executionSuccessful": False, "toolExecutionNotifications": [{"message": {"text": "out of memory"}}]}
    ]
    with pytest.raises(ToolOutputError, match=r"did not succeed.*out of memory"):
        parse(log([], invocations=invocations))


def test_several_runs_and_deterministic_order() -> None:
    data = json.loads(log([result("B", line=9), result("A", level="error")]))
    data["runs"].append(json.loads(log([result("C", level="note")]))["runs"][0])
    text = json.dumps(data)
    first = parse(text)
    assert [f.rule_id for f in first.findings] == ["A", "B", "C"]  # most severe first
    assert parse(text) == first
    assert [f.fingerprint for f in parse(text).findings] == [f.fingerprint for f in first.findings]


def test_snippets_never_reach_findings() -> None:
    secret = "ghp" + "_0123456789abcdefghijklmnopqrstuvwxyZ"  # split: no secret scanner should flag this file
    res = result("github-pat")
    res["locations"][0]["physicalLocation"]["region"]["snippet"] = {"text": f"TOKEN = '{secret}'"}
    res["locations"][0]["physicalLocation"]["contextRegion"] = {"snippet": {"text": secret}}
    res["partialFingerprints"] = {"secret": secret}
    run = parse(log([res]), category=Category.SECRET)
    assert secret not in repr(run)


# ------------------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ('{"version": "2.1.0", "runs": [{"tool": {"driver"', "truncated"),
        ("<html>502 Bad Gateway</html>", "not JSON"),
        ("[]", "JSON list, not a SARIF log"),
        ('{"results": []}', "not a SARIF log"),
        ('{"version": "2.0.0", "runs": []}', "version is '2.0.0'"),
        ('{"version": 2.1, "runs": []}', "version is 2.1"),
        ('{"version": "2.1.0", "runs": []}', "no runs"),
        ('{"version": "2.1.0", "runs": {}}', "no runs"),
        ('{"version": "2.1.0", "runs": [42]}', "run 0 is not an object"),
        ('{"version": "2.1.0", "runs": [{"results": []}]}', "no tool.driver.name"),
        ('{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}}]}', "no 'results' array"),
        (
            '{"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": null}]}',
            "no 'results'",
        ),
    ],
)
def test_bad_input_is_a_tool_output_error(text: str, problem: str) -> None:
    with pytest.raises(ToolOutputError, match=r"^tool output is unusable") as info:
        parse(text)
    assert problem in info.value.problem
    assert info.value.tool == "tool"


def test_truncated_real_looking_log_at_any_cut_is_an_error() -> None:
    text = log([result(f"R{i}", line=i + 1) for i in range(20)])
    for cut in range(1, len(text) - 1, 37):
        with pytest.raises(ToolOutputError):
            load_sarif("tool", text[:cut])


# ------------------------------------------------------------------------------------------ scale


def test_100k_results_parse_completely() -> None:
    n = 100_000
    rules = [{"id": f"R{i}", "defaultConfiguration": {"level": "warning"}} for i in range(500)]
    results: list[dict[str, Any]] = []
    for i in range(n):
        res: dict[str, Any] = {
            "ruleId": f"R{i % 500}",
            "ruleIndex": i % 500,
            "message": {"text": "m"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": f"file:///src/pkg{i % 100}/mod{i}.py"},
                        "region": {"startLine": i % 1000 + 1},
                    }
                }
            ],
        }
        if i % 10_000 == 0:
            res["level"] = "error"
        if i % 25_000 == 1:
            del res["locations"]
        results.append(res)
    run = parse(log(results, rules))
    assert len(run.findings) == n
    assert sum(1 for f in run.findings if f.severity is Severity.HIGH) == 10
    assert sum(1 for f in run.findings if not f.locations) == 4
    assert run.findings[0].severity is Severity.HIGH
    assert {f.locations[0].path for f in run.findings if f.locations} >= {"pkg0/mod0.py", "pkg99/mod99999.py"}
    assert any(n.startswith("4 result(s) had no file location") for n in run.notes)


def test_partial_fingerprints_keep_results_of_one_rule_distinct_and_location_less_ones_too() -> None:
    from pipeline.model import merge_findings

    def result(fp: str | None, msg: str, line: int | None = 4) -> dict[str, object]:
        r: dict[str, object] = {"ruleId": "R1", "message": {"text": msg}}
        if line is not None:
            r["locations"] = [{"physicalLocation": {"artifactLocation": {"uri": "a.c"}, "region": {"startLine": line}}}]
        if fp is not None:
            r["partialFingerprints"] = {"primaryLocationLineHash": fp}
        return r

    log = {
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "t"}},
                "results": [
                    result("aaa", "same"),
                    result("bbb", "same"),
                    result("aaa", "same again"),
                    result(None, "no place one", None),
                    result(None, "no place two", None),
                    {**result(None, "x"), "fingerprints": {"matchBasedId/v1": "requires login"}},
                ],
            }
        ],
    }
    run = parse_sarif(json.dumps(log), tool="t", category=Category.SAST)
    assert len({f.identity for f in run.findings}) == 3  # aaa, bbb (hashed: may hold matched text) and none
    merged = merge_findings(run.findings)
    assert len(merged) == 5  # aaa twice is one result; the two location-less ones stay two
