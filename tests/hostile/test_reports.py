"""Hostile content through every report: real findings (from real semgrep, gitleaks and trivy reports) carrying
bidi overrides, control characters, lone surrogates, absolute paths, secret values and mixed severities. Each
case asserts exactly what seaworthy.sarif, junit.xml, report.json and summary.md contain.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import attrs
import jsonschema
import pytest

from pipeline.formats.redact import REDACTED
from pipeline.formats.sarif import render_sarif
from pipeline.formats.sarif_in import parse_sarif
from pipeline.model import Category, Decision, Finding, Location, Reason, Severity, ToolRun, Verdict, merge_findings
from pipeline.reports import write_reports
from pipeline.tools import gitleaks, trivy
from tests.hostile import _real
from tests.unit.report_factories import sarif_schema_path

pytestmark = pytest.mark.contract


def _runs() -> list[ToolRun]:
    return [
        _real.parse_semgrep(_real.semgrep_json()),
        gitleaks.parse(_real.gitleaks_sarif()),
        trivy.parse(_real.trivy_fs_json(), mode="fs"),
    ]


def _write(runs: list[ToolRun], verdict: Verdict | None = None, notes: tuple[str, ...] = ()) -> dict[str, str]:
    findings = merge_findings(f for r in runs for f in r.findings)
    files = write_reports(runs, findings, verdict or Verdict(passed=False), notes=notes)
    return {name: data.decode("utf-8") for name, data in files.items()}


def _validate_sarif(text: str) -> dict[str, Any]:
    doc = json.loads(text)
    jsonschema.Draft4Validator(json.loads(sarif_schema_path().read_text())).validate(doc)
    return doc


# -------------------------------------------------------------------------- bidi and control characters

CHARS = {
    "RLO": "\u202e",
    "LRI": "\u2066",
    "PDI": "\u2069",
    "RLM": "\u200f",
    "ALM": "\u061c",
    "ZWSP": "\u200b",
    "BOM": "\ufeff",
    "ESC": "\x1b",
    "NUL": "\x00",
    "BEL": "\x07",
    "CR": "\r",
    "C1-CSI": "\x9b",
}


def _inject(run: ToolRun, char: str) -> ToolRun:
    f = run.findings[0]
    evil = attrs.evolve(
        f,
        message=f"safe{char}elif admin:{char} # ok",
        title=f"title{char}",
        rule_id=f"{f.rule_id}{char}x",
        locations=(Location(f"src/acc{char}ess.py", 3),),
        fingerprint=f.fingerprint,
    )
    return attrs.evolve(run, findings=(evil, *run.findings[1:]), notes=(*run.notes, f"note {char} here"))


@pytest.mark.parametrize("name", sorted(CHARS))
def test_bidi_and_control_characters_are_shown_never_rendered_in_any_report(name: str) -> None:
    char = CHARS[name]
    runs = _runs()
    runs[0] = _inject(runs[0], char)
    verdict = Verdict(
        passed=False,
        denials=(Reason("threshold.sast", Decision.DENY, f"denied {char} because"),),
        notes=(f"verdict note {char}",),
    )
    out = _write(runs, verdict, notes=(f"extra {char}",))
    visible = f"[U+{ord(char):04X}]"
    for file, text in out.items():
        assert char not in text, (name, file)
    assert visible in out["report.json"]
    assert visible in out["summary.md"]
    assert visible in out["seaworthy.sarif"]
    _validate_sarif(out["seaworthy.sarif"])


def test_a_lone_surrogate_in_a_rule_id_renders_sarif_instead_of_failing() -> None:
    run = _real.parse_semgrep(_real.semgrep_json())
    f = attrs.evolve(run.findings[0], rule_id="acme.\ud800rule", fingerprint=run.findings[0].fingerprint)
    out = render_sarif([run], [f])  # used to raise KeyError: the rule was indexed by its cleaned id
    doc = _validate_sarif(out.text)
    results = doc["runs"][0]["results"]
    rules = doc["runs"][0]["tool"]["driver"]["rules"]
    assert rules[results[0]["ruleIndex"]]["id"] == "acme.\ufffdrule"


@pytest.mark.parametrize("field", ["rule_id", "path", "message", "package"])
def test_a_lone_surrogate_anywhere_gives_valid_utf8_reports(field: str) -> None:
    runs = _runs()
    trivy_run = runs[2]
    f = next(f for f in trivy_run.findings if f.package is not None)
    changes: dict[str, Any] = {
        "rule_id": {"rule_id": "CVE-\udc80"},
        "path": {"locations": (Location("req\udc80.txt", 1),)},
        "message": {"message": "bad \ud800 name"},
        "package": {"package": attrs.evolve(f.package, name="pkg\udfff")},
    }[field]
    bad = attrs.evolve(f, **changes, fingerprint=f.fingerprint)
    runs[2] = attrs.evolve(trivy_run, findings=(bad, *(x for x in trivy_run.findings if x is not f)))
    out = _write(runs)  # decoding as UTF-8 (in _write) is the point: a lone surrogate cannot be encoded
    assert "\ufffd" in out["report.json"]
    sarif = _validate_sarif(out["seaworthy.sarif"])
    assert "\ufffd" in json.dumps(sarif, ensure_ascii=False) or "%EF%BF%BD" in out["seaworthy.sarif"]


# ---------------------------------------------------------------------------------------- absolute paths


@pytest.mark.parametrize(
    ("path", "uri", "base"),
    [
        ("C:/work/calls.py", "file:///C:/work/calls.py", None),
        ("/home/dev/calls.py", "file:///home/dev/calls.py", None),
        ("/home/dev/my file.py", "file:///home/dev/my%20file.py", None),
        ("calls.py", "calls.py", "%SRCROOT%"),
        ("dir/my file.py", "dir/my%20file.py", "%SRCROOT%"),
        ("dir/ü.py", "dir/%C3%BC.py", "%SRCROOT%"),
        ("https://example.com/x.py", "Dockerfile", "%SRCROOT%"),
    ],
)
def test_absolute_paths_are_file_uris_without_base_and_marked(path: str, uri: str, base: str | None) -> None:
    run = _real.parse_semgrep(_real.semgrep_json())
    moved = [attrs.evolve(f, locations=(Location(path, 2),), fingerprint=f.fingerprint) for f in run.findings]
    doc = _validate_sarif(render_sarif([run], moved).text)
    for result in doc["runs"][0]["results"]:
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uri"] == uri
        assert artifact.get("uriBaseId") == base
        outside = base is None or uri == "Dockerfile"
        assert ("outsideScannedTree" in result["properties"]) is outside
        if outside:
            assert result["properties"]["outsideScannedTree"] == [path]
            assert f"Outside the scanned tree: {path}." in result["message"]["text"]


def test_absolute_paths_of_a_real_report_survive_a_round_trip() -> None:
    """Another tool's real SARIF (gitleaks; semgrep's report is JSON now) with a Windows agent's file URI."""
    doc = json.loads(_real.gitleaks_sarif())
    for r in doc["runs"][0]["results"]:
        r["locations"][0]["physicalLocation"]["artifactLocation"] = {"uri": "file:///C:/agent/_work/app.py"}
    run = gitleaks.parse(json.dumps(doc))
    assert run.findings
    again = parse_sarif(render_sarif([run], run.findings).text, tool="gitleaks", category=Category.SECRET)
    assert {loc.path for f in again.findings for loc in f.locations} == {"C:/agent/_work/app.py"}


def test_absolute_paths_of_a_real_semgrep_report_survive_a_round_trip() -> None:
    doc = json.loads(_real.semgrep_json())
    for r in doc["results"]:
        r["path"] = "/home/dev/app.py"
    run = _real.parse_semgrep(json.dumps(doc))
    assert run.findings
    again = parse_sarif(render_sarif([run], run.findings).text, tool="semgrep", category=Category.SAST)
    assert {loc.path for f in again.findings for loc in f.locations} == {"/home/dev/app.py"}


# ------------------------------------------------------------------------------------ per-result severity


def test_each_result_of_a_real_semgrep_rule_keeps_its_own_severity_through_sarif() -> None:
    """Three results of one rule at three severities (semgrep's JSON gives each result its own rule's, as
    ESLint or .NET analyzers give each SARIF result its level) come back at three severities, not all at the
    worst one."""
    doc = json.loads(_real.semgrep_json())
    severities = iter(("ERROR", "WARNING", "INFO"))
    for r in doc["results"]:
        if r["check_id"] == "rules.acme.debug-call":
            r["extra"]["severity"] = next(severities)
    run = _real.parse_semgrep(json.dumps(doc))
    first = sorted(f.severity for f in run.findings if f.rule_id == "acme.debug-call")
    assert first == [Severity.LOW, Severity.MEDIUM, Severity.HIGH]
    out = render_sarif([run], run.findings)
    sarif = _validate_sarif(out.text)
    rule = next(r for r in sarif["runs"][0]["tool"]["driver"]["rules"] if r["id"] == "acme.debug-call")
    assert "security-severity" not in rule["properties"]  # GitHub would show it on every result
    again = parse_sarif(out.text, tool="semgrep", category=Category.SAST)
    assert sorted(f.severity for f in again.findings if f.rule_id == "acme.debug-call") == first


def test_one_cve_at_two_severities_in_a_real_trivy_report_keeps_both() -> None:
    doc = json.loads(_real.trivy_fs_json())
    vulns = doc["Results"][0]["Vulnerabilities"]
    twin = dict(vulns[0], PkgName="other-package", Severity="LOW")
    twin["PkgIdentifier"] = {"PURL": "pkg:pypi/other-package@1.0", "UID": "twin"}
    vulns.append(twin)
    run = trivy.parse(json.dumps(doc), mode="fs")
    before = {(f.rule_id, f.package.name): f.severity for f in run.findings if f.package}
    again = parse_sarif(render_sarif([run], run.findings).text, tool="trivy", category=Category.DEPENDENCY)
    after = {(f.rule_id, f.package_name): f.severity for f in _with_package_names(again.findings)}
    assert after == before
    assert len(set(before.values())) > 1


@attrs.frozen
class _Named:
    rule_id: str
    package_name: str
    severity: Severity


def _with_package_names(findings: tuple[Finding, ...]) -> list[_Named]:
    """SARIF carries the package in the message ("Package: name version …"): read it back from there."""
    out: list[_Named] = []
    for f in findings:
        lines = [line for line in f.message.splitlines() if line.startswith("Package: ")]
        if lines:
            out.append(_Named(f.rule_id, lines[0].removeprefix("Package: ").split()[0], f.severity))
    return out


# ---------------------------------------------------------------------------------------------- scrubbing


def _canary_runs() -> list[ToolRun]:
    return [
        _real.parse_semgrep(_real.semgrep_json()),
        gitleaks.parse(_real.gitleaks_sarif()),
        trivy.parse(_real.trivy_secret_json(), mode="fs"),
    ]


def _quoting_finding(where: str) -> Finding:
    text = f"it is {_real.CANARY} here"
    base = Finding(
        category=Category.MISCONFIGURATION,
        rule_id="X-1",
        severity=Severity.LOW,
        message="plain",
        tools=("othertool",),
        locations=(Location("app.py", 1),),
    )
    changes: dict[str, Any] = {
        "message": {"message": text},
        "title": {"title": text},
        "path": {"locations": (Location(f"dir/{_real.CANARY}.txt", 1),)},
        "tag": {"tags": (text,)},
        "help_uri": {"help_uri": f"https://example.com/{_real.CANARY}"},
    }[where]
    return attrs.evolve(base, **changes)


@pytest.mark.parametrize("where", ["message", "title", "path", "tag", "help_uri"])
def test_a_value_a_secret_rule_matched_is_scrubbed_from_any_field_of_any_tool(where: str) -> None:
    runs = _canary_runs()
    runs.append(ToolRun(tool="othertool", version="1", findings=(_quoting_finding(where),)))
    out = _write(runs)
    for file, text in out.items():
        assert _real.CANARY not in text, (where, file)
    assert REDACTED in out["report.json"]


@pytest.mark.parametrize("where", ["tool note", "extra note", "verdict reason", "verdict note"])
def test_a_value_is_scrubbed_from_notes_and_the_verdict(where: str) -> None:
    runs = _canary_runs()
    text = f"saw {_real.CANARY}"
    verdict = Verdict(passed=False)
    notes: tuple[str, ...] = ()
    if where == "tool note":
        runs[0] = attrs.evolve(runs[0], notes=(text,))
    elif where == "extra note":
        notes = (text,)
    elif where == "verdict reason":
        verdict = Verdict(passed=False, denials=(Reason("threshold.secret", Decision.DENY, text, remedy=text),))
    else:
        verdict = Verdict(passed=False, notes=(text,))
    out = _write(runs, verdict, notes)
    for file, data in out.items():
        assert _real.CANARY not in data, (where, file)


def test_a_value_with_characters_json_and_xml_escape_is_scrubbed_in_its_escaped_form() -> None:
    secret = 'pa"ss<w>ord&' + _real.CANARY[4:20]
    run = ToolRun(
        tool="othertool",
        version="1",
        findings=(
            Finding(
                category=Category.SECRET,
                rule_id="pw",
                severity=Severity.HIGH,
                message=f"password {secret}",
                tools=("othertool",),
                locations=(Location("a.py", 1),),
            ),
        ),
        scrub=(secret,),
    )
    out = _write([run])
    for file, text in out.items():
        assert secret not in text, file
        assert _real.CANARY[4:20] not in text, file


def test_the_values_to_scrub_are_never_shown() -> None:
    run = _real.parse_semgrep(_real.semgrep_json())
    assert _real.CANARY in run.scrub
    assert _real.CANARY not in repr(run)
    assert _real.CANARY not in str(run)


@pytest.mark.parametrize(
    "render",
    [
        lambda runs, fs: render_sarif(runs, fs).text,
        lambda runs, fs: write_reports(runs, fs, Verdict(passed=True))["junit.xml"].decode(),
        lambda runs, fs: write_reports(runs, fs, Verdict(passed=True))["summary.md"].decode(),
        lambda runs, fs: write_reports(runs, fs, Verdict(passed=True))["report.json"].decode(),
    ],
    ids=["sarif", "junit", "summary", "report"],
)
def test_the_canary_reaches_no_single_report(render: Callable[[list[ToolRun], tuple[Finding, ...]], str]) -> None:
    runs = _canary_runs()
    findings = merge_findings(f for r in runs for f in r.findings)
    assert _real.CANARY not in render(runs, findings)


V = 'xx","yy'  # a hostile "secret": a JSON string boundary in the middle


@pytest.mark.parametrize(
    ("kind", "document"),
    [
        ("json", json.dumps({"a": V, "b": "keep", "c": f"say {V} twice: {V}"}).encode()),
        ("xml", b'<t a="xx&quot;,&quot;yy"><m>xx","yy and xx","yy</m></t>'),
        ("text", b'raw xx","yy here'),
    ],
)
def test_the_last_byte_pass_replaces_a_hostile_value_only_where_a_string_holds_it(kind: str, document: bytes) -> None:
    from pipeline.formats.redact import Scrubber

    out = Scrubber((V,)).data(document, kind)
    assert REDACTED.encode() in out
    if kind == "json":  # still the same JSON document, every occurrence replaced
        assert json.loads(out) == {"a": REDACTED, "b": "keep", "c": f"say {REDACTED} twice: {REDACTED}"}
    elif kind == "xml":
        import xml.etree.ElementTree as ET

        root = ET.fromstring(out)
        assert root.get("a") == REDACTED
        assert root.findtext("m") == f"{REDACTED} and {REDACTED}"
    else:
        assert out == f"raw {REDACTED} here".encode()


@pytest.mark.parametrize("where", ["path", "tag", "message"])
def test_the_gate_input_is_built_from_findings_scrubbed_across_tools(where: str) -> None:
    """`ship` and `scan` build the gate input and their findings JSON from `merged_findings`: a value one
    tool's secret rule matched is gone from another tool's finding there too."""
    import datetime

    from pipeline import config
    from pipeline.formats.json_report import finding_to_json
    from pipeline.policy.config import gate_config_from
    from pipeline.policy.input import build_input
    from pipeline.reports import merged_findings

    runs = _canary_runs()
    runs.append(ToolRun(tool="othertool", version="1", findings=(_quoting_finding(where),)))
    findings = merged_findings(runs)
    doc = build_input(
        findings,
        sbom=None,
        facts=(),
        build=None,
        config=gate_config_from(config.load(None).gate),
        exceptions=(),
        today=datetime.date(2026, 11, 27),
    )
    assert _real.CANARY not in json.dumps(doc, ensure_ascii=False)
    assert _real.CANARY not in json.dumps([finding_to_json(f) for f in findings], ensure_ascii=False)
    assert any(f.tools == ("othertool",) for f in findings)
