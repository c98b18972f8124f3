"""semgrep 1.185.0 for real: each result takes its own rule's severity/category/CWE, distinct results stay
distinct through the merge, and the coverage inventory lists the languages the rules do not cover."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.model import Category, Severity, merge_findings
from pipeline.stages import scan as scan_stage
from pipeline.tools import semgrep
from pipeline.tools.base import OUT, SRC, Invocation
from tests.hostrun import HostResult, run_on_host

pytestmark = pytest.mark.contract

# Two rules share one id with different severities, categories and CWEs (as 89 ids of semgrep's public
# rule set do); the AWS one carries the registry's secret metadata; "secret" in an id says nothing.
RULES = """\
rules:
  - id: shared.short-id
    languages: [python]
    severity: WARNING
    message: eval of $X
    pattern: eval($X)
    metadata:
      category: security
      cwe: ["CWE-95: Improper Neutralization of Directives in Dynamically Evaluated Code"]
  - id: shared.short-id
    languages: [python]
    severity: ERROR
    message: exec of dynamic code
    pattern: exec(...)
    metadata:
      category: security
      cwe: "CWE-94: Improper Control of Generation of Code"
  - id: detected-aws-access-key-id-value
    languages: [regex]
    severity: ERROR
    message: AWS Access Key ID Value detected. This is a sensitive credential.
    pattern-regex: AKIA[0-9A-Z]{16}
    metadata:
      cwe: ["CWE-798: Use of Hard-coded Credentials"]
      category: security
      technology: [secrets, aws]
      subcategory: [audit]
      vulnerability_class: ["Hard-coded Secrets"]
  - id: flask-secret-key-rotation-reminder
    languages: [python]
    severity: INFO
    message: SECRET_KEY is set here; rotate it with the deployment
    pattern: app.config["SECRET_KEY"] = ...
    metadata:
      category: best-practice
"""

APP = """\
import os

app.config["SECRET_KEY"] = os.environ["KEY"]
AWS = "AKIAABCDEFGHIJKLMNOP"
eval(a); eval(b)
exec(code)
"""


def run(tmp: Path, files: dict[str, str], *, inventory: bool) -> HostResult:
    src = tmp / "src"
    for name, text in files.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_text(text)
    (tmp / "rules").mkdir()
    (tmp / "rules" / "rules.yml").write_text(RULES)
    inv: Invocation = semgrep.scan(inventory=inventory)
    mapping = {
        SRC: src,
        OUT: tmp / "out",
        semgrep.RULES_DIR: tmp / "rules",
        semgrep.INVENTORY_DIR: semgrep.INVENTORY_RULES,
    }
    res = run_on_host(inv, mapping, extra_env={"HOME": str(tmp / "home")})
    inv.exit_codes.check(inv.tool, res.exit_code, res.stderr)
    return res


@pytest.fixture(autouse=True)
def _semgrep_installed() -> None:
    assert shutil.which("semgrep") is not None, "semgrep is not on PATH; run scripts/setup.sh"


def test_each_result_takes_its_own_rules_severity_category_and_cwe(tmp_path: Path) -> None:
    res = run(tmp_path, {"app.py": APP}, inventory=False)
    run_ = semgrep.parse(res.report, prefixes=semgrep.id_prefixes(res.invocation))
    got = sorted(
        (f.locations[0].start_line, f.locations[0].start_column, f.rule_id, f.severity, f.category)
        for f in run_.findings
    )
    assert got == [
        (3, 1, "flask-secret-key-rotation-reminder", Severity.LOW, Category.SAST),
        (4, 8, "detected-aws-access-key-id-value", Severity.HIGH, Category.SECRET),
        (5, 1, "shared.short-id", Severity.MEDIUM, Category.SAST),
        (5, 10, "shared.short-id", Severity.MEDIUM, Category.SAST),
        (6, 1, "shared.short-id", Severity.HIGH, Category.SAST),  # the ERROR rule, not the first one's WARNING
    ]
    by_line = {f.locations[0].start_line: f for f in run_.findings}
    assert "CWE-94" in by_line[6].tags and "CWE-95" not in by_line[6].tags
    assert "CWE-95" in by_line[5].tags
    assert "CWE-798" in by_line[4].tags
    assert "AKIAABCDEFGHIJKLMNOP" not in repr(run_)
    # two results of one rule on one line (different columns and messages) survive the merge
    merged = merge_findings(run_.findings)
    assert len(merged) == 5


def test_coverage_lists_languages_without_rules(tmp_path: Path) -> None:
    files = {"app.py": APP, "web/server.js": "console.log(1)\n", "cmd/main.go": "package main\n", "README.md": "x\n"}
    res = run(tmp_path, files, inventory=True)
    run_ = semgrep.parse(
        res.report, prefixes=semgrep.id_prefixes(res.invocation), rules=semgrep.rule_counts((tmp_path / "rules",))
    )
    assert {f.rule_id for f in run_.findings} >= {"shared.short-id"}
    assert not any(f.rule_id.startswith(semgrep.INVENTORY_PREFIX) for f in run_.findings)
    cov = run_.coverage
    assert cov is not None
    assert dict(cov.languages) == {"go": 1, "javascript": 1, "python": 1}
    assert dict(cov.rules) == {"python": 3, "regex": 1}
    assert cov.rules_known


def test_the_stage_runs_the_inventory_with_the_bundled_rules(tmp_path: Path) -> None:
    from pipeline.config import Config

    src = tmp_path / "src"
    (src / "cmd").mkdir(parents=True)
    (src / "cmd" / "main.go").write_text("package main\n\nfunc main() {}\n")
    (src / "app.py").write_text("print(1)\n")
    cfg = Config()
    inv = scan_stage.invocation("semgrep", cfg)
    mapping = {
        SRC: src,
        OUT: tmp_path / "out",
        semgrep.RULES_DIR: semgrep.BUNDLED_RULES,
        semgrep.INVENTORY_DIR: semgrep.INVENTORY_RULES,
    }
    res = run_on_host(inv, mapping, extra_env={"HOME": str(tmp_path / "home")})
    assert inv.exit_codes.check(inv.tool, res.exit_code, res.stderr) is False
    run_ = scan_stage.parse("semgrep", res.report, cfg, res.invocation)
    assert run_.findings == ()
    cov = run_.coverage
    assert cov is not None
    assert dict(cov.languages) == {"go": 1, "python": 1}
    assert "go" not in dict(cov.rules) and dict(cov.rules)["python"] >= 6


def test_rules_sharing_an_id_in_two_files_both_run_and_keep_distinct_ids(tmp_path: Path) -> None:
    """semgrep-rules has avoid-bind-to-all-interfaces for Python (INFO) and Go (WARNING); with
    --no-rewrite-rule-ids semgrep ran only one of them. Now both run, each with its own id and severity."""
    rule = (
        "rules:\n  - id: avoid-bind-to-all-interfaces\n    languages: [{lang}]\n    severity: {sev}\n"
        "    message: binds to all interfaces\n    pattern: {pattern}\n    metadata:\n      category: security\n"
    )
    rules = tmp_path / "rules"
    (rules / "python").mkdir(parents=True)
    (rules / "go").mkdir()
    (rules / "python" / "bind.yaml").write_text(
        rule.format(lang="python", sev="INFO", pattern="s.bind(('0.0.0.0', ...))")
    )
    (rules / "go" / "bind_all.yaml").write_text(
        rule.format(lang="go", sev="WARNING", pattern='net.Listen("tcp", "0.0.0.0:2000")')
    )
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.py").write_text("s.bind(('0.0.0.0', 1337))\n")
    (src / "main.go").write_text(
        'package main\n\nimport "net"\n\nfunc main() {\n\tnet.Listen("tcp", "0.0.0.0:2000")\n}\n'
    )
    inv = semgrep.scan()
    mapping = {SRC: src, OUT: tmp_path / "out", semgrep.RULES_DIR: rules}
    res = run_on_host(inv, mapping, extra_env={"HOME": str(tmp_path / "home")})
    assert inv.exit_codes.check(inv.tool, res.exit_code, res.stderr) is True
    run_ = semgrep.parse(res.report, prefixes=semgrep.id_prefixes(res.invocation))
    got = sorted((f.locations[0].path, f.rule_id, f.severity) for f in run_.findings)
    assert got == [
        ("a.py", "python.avoid-bind-to-all-interfaces", Severity.LOW),
        ("main.go", "go.avoid-bind-to-all-interfaces", Severity.MEDIUM),
    ]
