"""SARIF output: valid against the OASIS SARIF 2.1.0 schema, shaped for GitHub, capped, deterministic."""

from __future__ import annotations

import gzip
import json
import random
from typing import Any

import jsonschema.validators
import pytest

from pipeline.formats.sarif import (
    FINGERPRINT_KEY,
    GITHUB_LIMITS,
    Omission,
    Reason,
    SarifLimits,
    render_sarif,
)
from pipeline.model import Category, Finding, Location, Package, Severity, ToolRun
from tests.unit.report_factories import finding, load_sarif_schema, misconfig, realistic, vuln


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = load_sarif_schema()
    assert schema["$schema"].startswith("http://json-schema.org/draft-04/"), schema["$schema"]
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate(validator: Any, data: bytes) -> dict[str, Any]:
    doc = json.loads(data)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:10])
    return doc


def run_of(doc: dict[str, Any], tool: str) -> dict[str, Any]:
    (run,) = [r for r in doc["runs"] if r["tool"]["driver"]["name"] == tool]
    return run


def test_the_schema_is_really_checked(validator: Any) -> None:
    """A result without a message must fail validation, else the other tests prove nothing."""
    runs, findings, _ = realistic()
    doc = json.loads(render_sarif(runs, findings).data)
    del doc["runs"][0]["results"][0]["message"]
    assert not validator.is_valid(doc)


def test_realistic_mix_is_valid_and_shaped_for_github(validator: Any) -> None:
    runs, findings, _ = realistic()
    out = render_sarif(runs, findings)
    doc = validate(validator, out.data)

    assert doc["version"] == "2.1.0"
    assert [r["tool"]["driver"]["name"] for r in doc["runs"]] == ["gitleaks", "hadolint", "semgrep", "trivy"]
    assert run_of(doc, "trivy")["tool"]["driver"]["version"] == "0.76.0"
    assert out.notes == ()
    assert out.omitted == ()
    assert out.results == len(findings) == sum(len(r["results"]) for r in doc["runs"])

    by_fp = {r["partialFingerprints"][FINGERPRINT_KEY]: r for run in doc["runs"] for r in run["results"]}
    assert set(by_fp) == {f.fingerprint for f in findings}
    for run in doc["runs"]:
        rules = run["tool"]["driver"]["rules"]
        assert [r["id"] for r in rules] == sorted(r["id"] for r in rules)
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            assert result["locations"], "GitHub rejects results without a location"
            for loc in result["locations"]:
                art = loc["physicalLocation"]["artifactLocation"]
                assert art["uriBaseId"] == "%SRCROOT%"
                assert ":" not in art["uri"].split("/")[0], "must be a relative reference"
    for f in findings:
        result = by_fp[f.fingerprint]
        assert result["level"] == {5: "error", 4: "error", 3: "warning", 0: "warning"}.get(f.severity, "note")
        assert result["properties"]["severity"] == f.severity.name
        assert result["properties"]["tools"] == list(f.tools)


def test_a_finding_of_two_tools_is_one_result_in_its_first_tools_run() -> None:
    runs, findings, _ = realistic()
    (merged,) = [f for f in findings if f.tools == ("gitleaks", "trivy")]
    doc = json.loads(render_sarif(runs, findings).data)
    hits = [
        (run["tool"]["driver"]["name"], r)
        for run in doc["runs"]
        for r in run["results"]
        if r["partialFingerprints"][FINGERPRINT_KEY] == merged.fingerprint
    ]
    assert [tool for tool, _ in hits] == ["gitleaks"]
    assert hits[0][1]["properties"]["tools"] == ["gitleaks", "trivy"]


def test_locations_regions_and_fallbacks() -> None:
    runs, findings, _ = realistic()
    doc = json.loads(render_sarif(runs, findings, dockerfile="build/Dockerfile").data)
    results = {r["ruleId"]: r for run in doc["runs"] for r in run["results"]}

    shell = results["python.lang.security.audit.subprocess-shell-true"]["locations"][0]["physicalLocation"]
    assert shell == {
        "artifactLocation": {"uri": "app.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 12, "endLine": 12, "startColumn": 5, "endColumn": 40},
    }
    weird = results["weak-md5"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert weird == "src/%C3%BC%20tils/hash%20%231.py"

    # only a place inside the image: the Dockerfile, with the image path in the message and properties
    libc = results["CVE-2023-4911"]
    assert libc["locations"] == [
        {"physicalLocation": {"artifactLocation": {"uri": "build/Dockerfile", "uriBaseId": "%SRCROOT%"}}}
    ]
    assert "In the image: var/lib/dpkg/status." in libc["message"]["text"]
    assert "Package: libc6 2.36-9 (deb); no fixed version known." in libc["message"]["text"]
    assert libc["properties"]["imagePaths"] == ["var/lib/dpkg/status"]
    # no place at all: the Dockerfile too
    for rule in ("CVE-2024-0001", "AGPL-3.0-only"):
        uri = results[rule]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert uri == "build/Dockerfile"
    # a lock-file vulnerability keeps its lock file and says the fix
    jinja = results["CVE-2019-10906"]
    assert jinja["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "requirements.txt"
    assert "fixed in 2.10.1" in jinja["message"]["text"]
    assert jinja["properties"]["package"]["fixedVersion"] == "2.10.1"


def test_each_result_keeps_its_own_severity_and_only_uniform_rules_carry_one() -> None:
    findings = [
        vuln("CVE-1", "a", "1", severity=Severity.LOW),
        vuln("CVE-1", "b", "1", severity=Severity.CRITICAL),
        vuln("CVE-2", "c", "1", severity=Severity.MEDIUM),
        vuln("CVE-3", "c", "1", severity=Severity.INFO),
    ]
    doc = json.loads(render_sarif([ToolRun("trivy", "0.76.0", tuple(findings))], findings).data)
    rules = {r["id"]: r for r in doc["runs"][0]["tool"]["driver"]["rules"]}
    # CVE-1's results differ (LOW and CRITICAL): the rule carries no security-severity, GitHub would show
    # the rule's on both; each result says its own level and security-severity
    assert "security-severity" not in rules["CVE-1"]["properties"]
    assert rules["CVE-1"]["defaultConfiguration"]["level"] == "error"
    by_pkg = {r["properties"]["package"]["name"]: r for r in doc["runs"][0]["results"]}
    assert (by_pkg["a"]["level"], by_pkg["a"]["properties"]["security-severity"]) == ("note", "2.0")
    assert (by_pkg["b"]["level"], by_pkg["b"]["properties"]["security-severity"]) == ("error", "9.5")
    assert rules["CVE-2"]["properties"]["security-severity"] == "5.5"
    assert "security-severity" not in rules["CVE-3"]["properties"]
    assert rules["CVE-3"]["defaultConfiguration"]["level"] == "note"
    assert rules["CVE-1"]["properties"]["tags"][0] == "security"
    assert rules["CVE-1"]["helpUri"] == "https://avd.aquasec.com/nvd/cve-1"
    assert rules["CVE-1"]["shortDescription"]["text"] == "b: CVE-1", "the title of its most severe result"


def test_edge_cases_stay_valid(validator: Any) -> None:
    nasty = "line1\nline2\x00\x07 \ud800 | <b>&amp; ü 🚢"
    findings = [
        finding(message="", title="", locations=()),  # no message, no place
        finding(
            rule_id="r2",
            message=nasty,
            locations=(Location("a.py", 0), Location("b.py", 5, 3, 0, -1), Location("c.py", 7, 7, 9, 2)),
            help_uri="not a uri",
        ),
        finding(rule_id="r3", tools=("newtool",), tags=tuple(f"t{i:02}" for i in range(30))),
        finding(rule_id="r4", locations=(Location(""),)),
    ]
    out = render_sarif([ToolRun("semgrep", "", ()), ToolRun("idle", "1.0", ())], findings)
    doc = validate(validator, out.data)
    assert out.data.endswith(b"}\n") and out.data.count(b"\n") == 1
    assert "🚢".encode() in out.data, "UTF-8, not \\u escapes"
    assert [r["tool"]["driver"]["name"] for r in doc["runs"]] == ["idle", "newtool", "semgrep"]
    assert run_of(doc, "idle")["results"] == []
    assert "invocations" not in run_of(doc, "newtool"), "no ToolRun, no invocation"
    assert "version" not in run_of(doc, "semgrep")["tool"]["driver"]
    results = {r["ruleId"]: r for r in run_of(doc, "semgrep")["results"]}
    assert results[finding().rule_id]["message"]["text"] == finding().rule_id
    regions = [loc["physicalLocation"].get("region") for loc in results["r2"]["locations"]]
    assert regions == [None, {"startLine": 5}, {"startLine": 7, "endLine": 7, "startColumn": 9}]
    assert "helpUri" not in run_of(doc, "semgrep")["tool"]["driver"]["rules"][1]
    (rule3,) = run_of(doc, "newtool")["tool"]["driver"]["rules"]
    assert len(rule3["properties"]["tags"]) == GITHUB_LIMITS.max_tags_per_rule
    uri = results["r4"]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "Dockerfile"


def test_empty_input_is_a_valid_log(validator: Any) -> None:
    doc = validate(validator, render_sarif([], []).data)
    assert doc["runs"] == []


def test_invocations_carry_exit_codes_and_tool_notes(validator: Any) -> None:
    runs = [
        ToolRun("trivy", "0.76.0", (), exit_code=0, notes=("image scan",)),
        ToolRun("trivy", "0.76.0", (), exit_code=1),
    ]
    doc = validate(validator, render_sarif(runs, []).data)
    (run,) = doc["runs"]
    assert run["invocations"] == [
        {
            "executionSuccessful": True,
            "exitCode": 0,
            "toolExecutionNotifications": [{"level": "note", "message": {"text": "image scan"}}],
        },
        {"executionSuccessful": True, "exitCode": 1},
    ]


def test_byte_identical_across_renders_and_input_orders() -> None:
    runs, findings, _ = realistic()
    first = render_sarif(runs, findings)
    assert render_sarif(runs, findings).data == first.data
    rng = random.Random(7)
    for _ in range(5):
        shuffled_runs, shuffled = list(runs), list(findings)
        rng.shuffle(shuffled_runs)
        rng.shuffle(shuffled)
        assert render_sarif(shuffled_runs, shuffled).data == first.data


def _many(n: int, tool: str = "trivy") -> list[Finding]:
    severities = list(Severity)
    return [
        Finding(
            category=Category.DEPENDENCY,
            rule_id=f"CVE-2024-{i % 997:04}",
            severity=severities[i % len(severities)],
            message=f"vulnerable package number {i}",
            tools=(tool,),
            locations=(Location(f"services/s{i % 50}/requirements.txt"),),
            package=Package(f"pkg{i}", "1.0", "pypi", f"pkg:pypi/pkg{i}@1.0", "1.1" if i % 2 else ""),
        )
        for i in range(n)
    ]


@pytest.fixture(scope="module")
def hundred_k() -> list[Finding]:
    return _many(100_000)


def test_100k_results_are_capped_to_25000_most_severe_with_exact_notes(hundred_k: list[Finding]) -> None:
    out = render_sarif([ToolRun("trivy", "0.76.0", ())], hundred_k)
    doc = json.loads(out.data)
    (run,) = doc["runs"]
    assert len(run["results"]) == out.results == 25_000
    assert len(gzip.compress(out.data)) <= GITHUB_LIMITS.max_gzip_bytes
    # 100k spread evenly over 6 severities: every CRITICAL is kept, then HIGH up to 25,000.
    counts = {s: sum(1 for f in hundred_k if f.severity is s) for s in Severity}
    kept = {s: sum(1 for r in run["results"] if r["properties"]["severity"] == s.name) for s in Severity}
    assert kept[Severity.CRITICAL] == counts[Severity.CRITICAL]
    assert kept[Severity.HIGH] == 25_000 - counts[Severity.CRITICAL]
    dropped_high = counts[Severity.HIGH] - kept[Severity.HIGH]
    assert out.omitted == (
        Omission("trivy", Reason.RESULTS, Severity.HIGH, dropped_high),
        Omission("trivy", Reason.RESULTS, Severity.MEDIUM, counts[Severity.MEDIUM]),
        Omission("trivy", Reason.RESULTS, Severity.LOW, counts[Severity.LOW]),
        Omission("trivy", Reason.RESULTS, Severity.INFO, counts[Severity.INFO]),
        Omission("trivy", Reason.RESULTS, Severity.UNKNOWN, counts[Severity.UNKNOWN]),
    )
    assert out.notes == (
        f"SARIF: left out 75000 results of trivy ({dropped_high} HIGH, {counts[Severity.MEDIUM]} MEDIUM, "
        f"{counts[Severity.LOW]} LOW, {counts[Severity.INFO]} INFO, {counts[Severity.UNKNOWN]} UNKNOWN): "
        "GitHub accepts at most 25000 results per run; the most severe were kept.",
    )
    assert out.omitted_count + out.results == 100_000
    # the rules list only what the kept results use
    used = {r["ruleId"] for r in run["results"]}
    assert {r["id"] for r in run["tool"]["driver"]["rules"]} == used


def test_size_cap_drops_least_severe_first_across_runs(hundred_k: list[Finding]) -> None:
    high = [f for f in hundred_k[:3000] if f.severity >= Severity.HIGH]
    other = _many(3000, tool="grype")
    limits = SarifLimits(max_gzip_bytes=60_000)
    out = render_sarif([], [*high, *other], limits=limits)
    assert len(gzip.compress(out.data, compresslevel=6, mtime=0)) <= 60_000
    doc = json.loads(out.data)
    kept = [
        (run["tool"]["driver"]["name"], Severity[r["properties"]["severity"]])
        for run in doc["runs"]
        for r in run["results"]
    ]
    assert out.results == len(kept) > 0
    dropped = {o.severity for o in out.omitted}
    assert all(o.reason == Reason.SIZE for o in out.omitted)
    assert min(s for _, s in kept) >= max(dropped), "a less severe result was kept while a more severe one went"
    assert out.omitted_count + out.results == len(high) + len(other)
    # and it does not throw away much more than needed: 90 % of the limit is used
    assert len(gzip.compress(out.data, compresslevel=6, mtime=0)) > 0.9 * 60_000
    for tool in ("grype", "trivy"):
        per = {o.severity: o.count for o in out.omitted if o.tool == tool}
        if per:
            total = sum(per.values())
            assert any(n.startswith(f"SARIF: left out {total} results of {tool} (") for n in out.notes)
    assert all("to keep the file under 60000 bytes gzipped" in n for n in out.notes)


def test_30_runs_are_capped_to_the_20_most_severe(validator: Any) -> None:
    findings: list[Finding] = []
    runs: list[ToolRun] = []
    for t in range(30):
        tool = f"tool{t:02}"
        runs.append(ToolRun(tool, "1", ()))
        # tool00..tool09 only INFO, tool10..tool29 one HIGH each; tool05 has nothing at all
        if t == 5:
            continue
        sev = Severity.INFO if t < 10 else Severity.HIGH
        findings.append(finding(rule_id=f"r{t}", severity=sev, tools=(tool,)))
    out = render_sarif(runs, findings)
    doc = validate(validator, out.data)
    assert [r["tool"]["driver"]["name"] for r in doc["runs"]] == [f"tool{t}" for t in range(10, 30)]
    expected = [
        "SARIF: left out the run of tool05 (no results): GitHub accepts at most 20 runs per file; "
        "this run's results were the least severe."
    ]
    expected += [
        f"SARIF: left out the run of tool{t:02} (1 result: 1 INFO): GitHub accepts at most 20 runs per file; "
        "this run's results were the least severe."
        for t in range(10)
        if t != 5
    ]
    assert out.notes == tuple(sorted(expected))
    assert out.omitted == tuple(Omission(f"tool{t:02}", Reason.RUNS, Severity.INFO, 1) for t in range(10) if t != 5)


def test_locations_beyond_the_limit_are_left_out_and_said() -> None:
    f = finding(locations=tuple(Location(f"f{i:03}.py", 1) for i in range(150)))
    out = render_sarif([], [f])
    (result,) = json.loads(out.data)["runs"][0]["results"]
    assert len(result["locations"]) == 100
    assert out.notes == ("SARIF: 1 result of semgrep list only their first 100 locations (GitHub keeps no more).",)


def test_render_is_pure_and_does_not_reorder_inputs() -> None:
    runs, findings, _ = realistic()
    before = list(findings)
    render_sarif(runs, findings, limits=SarifLimits(max_results_per_run=1))
    assert list(findings) == before
    assert misconfig().tools == ("hadolint",)
