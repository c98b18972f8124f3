"""The canary: a secret in a repository, found by real semgrep (through the repository's *own* rule, whose
message interpolates the match), real gitleaks and real trivy, never reaches any output.

Every output `ship` and `scan` write is checked: seaworthy.sarif, junit.xml, report.json, summary.md, the gate
input (its `findings` field included), the verdict, the findings JSON `scan` returns — and the parsed values
themselves (their repr, which is what a traceback would show).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pipeline import config
from pipeline.formats.json_report import finding_to_json, verdict_to_json
from pipeline.formats.redact import REDACTED
from pipeline.model import Category, ToolRun, merge_findings
from pipeline.policy.config import gate_config_from
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.input import build_input
from pipeline.policy.verdict import read_verdict
from pipeline.reports import write_reports
from pipeline.stages import scan
from pipeline.tools import semgrep
from pipeline.tools.base import CACHE, OUT, SRC
from tests.hostrun import run_on_host

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"

# Built at run time so that no token-shaped literal is ever committed: a GitHub PAT shape (ghp_ + 36
# letters and digits), which gitleaks' and trivy's built-in rules both know.
_BODY = hashlib.sha256(b"seaworthy canary").hexdigest()
CANARY = "ghp_" + "".join(c.upper() if i % 3 == 0 else c for i, c in enumerate(_BODY[:36]))

RULE = """\
rules:
  - id: acme.hardcoded-api-token
    languages: [python]
    severity: ERROR
    message: Hard-coded API token $VAL assigned to $NAME; load it from the environment
    metadata:
      cwe: "CWE-798: Use of Hard-coded Credentials"
      category: security
    patterns:
      - pattern: $NAME = "$VAL"
      - metavariable-regex:
          metavariable: $VAL
          regex: ^ghp_
"""

APP = f"""\
import os

API_TOKEN = "{CANARY}"


def headers():
    return {{"Authorization": API_TOKEN, "X-Debug": os.environ.get("DEBUG", "")}}
"""

SETTINGS = """\
[scan]
scanners = ["semgrep", "gitleaks", "trivy"]

[scan.semgrep]
rules = ["rules/tokens.yml"]
bundled_rules = false

[scan.trivy]
scanners = ["secret"]
"""


def _tree(tmp: Path) -> Path:
    src = tmp / "src"
    (src / "rules").mkdir(parents=True)
    (src / "rules" / "tokens.yml").write_text(RULE)
    (src / "app.py").write_text(APP)
    (src / "seaworthy.toml").write_text(SETTINGS)
    return src


def _sarif(tmp: Path, name: str) -> str | None:
    """semgrep's SARIF of the run, as the stage reads it (`scan.semgrep_sarif`): OUT is ``tmp/out`` here."""
    if name != "semgrep":
        return None
    return (tmp / "out" / Path(semgrep.SARIF_REPORT).name).read_text()


def _run_scanners(tmp: Path, src: Path, cfg: config.Config) -> tuple[ToolRun, ...]:
    cache = tmp / "cache"
    db = cache / "trivy" / "db"
    db.mkdir(parents=True)
    for name in ("trivy.db", "metadata.json"):
        shutil.copy(FIXTURES / "trivy-db" / name, db / name)
    mapping = {
        SRC: src,
        OUT: tmp / "out",
        CACHE: cache,
        scan.RULES_DIR: ROOT / "pipeline" / "rules" / "semgrep",
        semgrep.INVENTORY_DIR: semgrep.INVENTORY_RULES,
    }
    runs: list[ToolRun] = []
    for name in cfg.scanners:
        inv = scan.invocation(name, cfg)
        got = run_on_host(inv, mapping)
        found = inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)
        assert found or name == "trivy", f"{name} found nothing: the canary must be found by every scanner"
        runs.append(scan.parse(name, got.report, cfg, inv, sarif=_sarif(tmp, name)))  # as the stage parses it
        # the raw reports: semgrep's carries the canary (its message interpolates it); the others do not
        if name == "semgrep":
            assert CANARY in got.report, "the canary rule does not interpolate the match: the test proves nothing"
    return tuple(runs)


def test_the_canary_reaches_no_report_no_gate_input_and_no_verdict(tmp_path: Path) -> None:
    src = _tree(tmp_path)
    cfg = config.load((src / "seaworthy.toml").read_text())
    runs = _run_scanners(tmp_path, src, cfg)
    by_tool = {r.tool: r for r in runs}
    assert set(by_tool) == {"semgrep", "gitleaks", "trivy"}
    # every scanner found it, at app.py line 3
    for run in runs:
        assert any(loc.path == "app.py" and loc.start_line == 3 for f in run.findings for loc in f.locations), run.tool
    sem = [f for f in by_tool["semgrep"].findings if f.rule_id == "acme.hardcoded-api-token"]
    assert len(sem) == 1, [f.rule_id for f in by_tool["semgrep"].findings]
    # redacted by its metadata (CWE-798), not by its id. semgrep's JSON never carries a rule's template; its
    # SARIF of the same run does, for this rule of the scanned tree too: the message is the template
    # (metavariables by name) and every value semgrep interpolated goes to the scrubber
    assert sem[0].message == "Hard-coded API token $VAL assigned to $NAME; load it from the environment"
    assert CANARY in by_tool["semgrep"].scrub

    findings = merge_findings(f for r in runs for f in r.findings)
    assert any(f.category is Category.SECRET for f in findings)
    doc = build_input(
        findings,
        sbom=None,
        facts=(),
        build=None,
        config=gate_config_from(cfg.gate),
        exceptions=(),
        today=datetime.date(2026, 11, 27),
    )
    verdict = read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc))
    assert not verdict.passed  # a secret at any severity denies
    files = write_reports(runs, findings, verdict)
    assert set(files) == {"seaworthy.sarif", "junit.xml", "summary.md", "report.json"}

    outputs: dict[str, str] = {name: data.decode("utf-8") for name, data in files.items()}
    outputs["gate-input.json"] = json.dumps(doc, sort_keys=True, ensure_ascii=False)
    outputs["gate-input findings"] = json.dumps(doc["findings"], ensure_ascii=False)
    outputs["verdict.json"] = json.dumps(verdict_to_json(verdict), ensure_ascii=False)
    outputs["findings.json"] = json.dumps([finding_to_json(f) for f in findings], ensure_ascii=False)
    outputs["repr(runs)"] = repr(runs)
    outputs["repr(findings)"] = repr(findings)
    for name, text in outputs.items():
        for form in (CANARY, CANARY[4:], CANARY[4:20]):
            assert form not in text, f"the canary leaked into {name}"
    # the reports are still useful: the finding is there, by rule and place
    report = json.loads(files["report.json"])
    assert any(f["rule_id"] == "acme.hardcoded-api-token" for f in report["findings"])
    assert "app.py" in outputs["summary.md"]


def test_a_finding_of_another_tool_quoting_the_canary_is_scrubbed_in_every_report(tmp_path: Path) -> None:
    """The scrubber works across tools: a value semgrep's secret rule matched is removed from a message of
    any other tool's finding too (here: a misconfiguration message quoting the same line)."""
    import attrs

    from pipeline.model import Finding, Location, Severity, Verdict

    src = _tree(tmp_path)
    cfg = config.load((src / "seaworthy.toml").read_text().replace('"gitleaks", "trivy"', '"gitleaks"'))
    runs = list(_run_scanners(tmp_path, src, cfg))
    quoting = Finding(
        category=Category.MISCONFIGURATION,
        rule_id="X-1",
        severity=Severity.LOW,
        message=f"line 3 sets API_TOKEN to {CANARY}",
        title=f"token {CANARY}",
        tools=("othertool",),
        locations=(Location("app.py", 3),),
    )
    runs.append(ToolRun(tool="othertool", version="1", findings=(quoting,), notes=(f"saw {CANARY}",)))
    findings = merge_findings(f for r in runs for f in r.findings)
    verdict = Verdict(passed=False, notes=(f"note quoting {CANARY}",))
    files = write_reports(runs, findings, verdict, notes=[f"extra {CANARY}"])
    for name, data in files.items():
        assert CANARY.encode() not in data, name
    assert REDACTED in files["report.json"].decode()
    assert attrs.evolve(quoting).message.endswith(CANARY)  # the input itself is untouched (values are immutable)


# A short password of no credential shape (6 letters, the shortest value scrubbed: redact.MIN_SCRUB_LENGTH),
# built at run time. Only the rule's template (from semgrep's SARIF) tells it apart from the message's words.
SHORT = "".join(chr(ord("k") + i * 3 % 11) for i in range(6))

SHORT_RULES = """\
rules:
  - id: acme.db-password
    languages: [python]
    severity: ERROR
    message: Database password $VAL set in $NAME; read it from a secret store
    metadata:
      cwe: "CWE-259: Use of Hard-coded Password"
    patterns:
      - pattern: $NAME = "$VAL"
      - metavariable-regex:
          metavariable: $NAME
          regex: (?i).*passw.*
  - id: acme.string-setting
    languages: [python]
    severity: INFO
    message: Setting $NAME is the literal $VAL; move settings to configuration
    metadata:
      category: maintainability
    pattern: $NAME = "$VAL"
"""


def test_a_short_plain_password_a_rule_of_the_tree_interpolates_reaches_no_report(tmp_path: Path) -> None:
    """The repository's own secret rule matches a 6-letter password; another of its rules (not about secrets)
    quotes the same value in its message. Real semgrep; the value must leave no trace in any output."""
    assert len(SHORT) == 6 and SHORT.isalpha()
    src = tmp_path / "src"
    (src / "rules").mkdir(parents=True)
    (src / "rules" / "tokens.yml").write_text(SHORT_RULES)
    (src / "app.py").write_text(f'DB_PASSWORD = "{SHORT}"\n')
    (src / "seaworthy.toml").write_text(SETTINGS.replace('"gitleaks", "trivy"', '"gitleaks"'))
    cfg = config.load((src / "seaworthy.toml").read_text())
    inv = scan.invocation("semgrep", cfg)
    got = run_on_host(inv, {SRC: src, OUT: tmp_path / "out", semgrep.INVENTORY_DIR: semgrep.INVENTORY_RULES})
    assert inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)
    assert f"literal {SHORT};" in got.report, "semgrep did not interpolate the value: the test proves nothing"
    run = scan.parse("semgrep", got.report, cfg, inv, sarif=_sarif(tmp_path, "semgrep"))
    by_id = {f.rule_id: f for f in run.findings}
    assert set(by_id) == {"acme.db-password", "acme.string-setting"}, sorted(by_id)
    assert by_id["acme.db-password"].category is Category.SECRET
    assert by_id["acme.db-password"].message == "Database password $VAL set in $NAME; read it from a secret store"
    assert SHORT in run.scrub

    def outputs(runs: tuple[ToolRun, ...]) -> dict[str, str]:
        findings = merge_findings(f for r in runs for f in r.findings)
        files = write_reports(runs, findings, None)
        texts = {name: data.decode("utf-8") for name, data in files.items()}
        texts["findings.json"] = json.dumps([finding_to_json(f) for f in findings], ensure_ascii=False)
        texts["repr(findings)"] = repr(findings)
        return texts

    for name, text in outputs((run,)).items():
        assert SHORT not in text, f"the short password leaked into {name}"
    assert "app.py" in outputs((run,))["summary.md"]  # the reports still say where
    # the control: parsed without the SARIF (as before it was read), the other rule's message keeps the value
    blind = scan.parse("semgrep", got.report, cfg, inv)
    assert any(SHORT in text for text in outputs((blind,)).values())
