"""semgrep for real (semgrep 1.185.0 on the host, own venv) with the bundled rules, through the real parser.

Each fixture tree is copied to a tmp dir first: inside this git checkout semgrep's default ignores (matched
against paths relative to the git root) skip everything under `tests/`.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.errors import ToolFailed, ToolOutputError
from pipeline.model import Category, Finding, Severity, ToolRun
from pipeline.tools import semgrep
from pipeline.tools.base import OUT, SRC, Invocation
from tests.hostrun import HostResult, run_on_host

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
BAD_PROJECT = ROOT / "tests" / "fixtures" / "bad-project"
RULE_TARGETS = ROOT / "tests" / "fixtures" / "semgrep-rules"
EXAMPLE_APP = ROOT / "examples" / "app"

SHELL_INJECTION = "seaworthy.python.shell-injection.user-input-to-shell"
PICKLE = "seaworthy.python.deserialization.pickle"
YAML_LOAD = "seaworthy.python.deserialization.yaml-load"
WEAK_HASH = "seaworthy.python.crypto.weak-hash"


@pytest.fixture(autouse=True)
def _semgrep_installed() -> None:
    assert shutil.which("semgrep") is not None, (
        "semgrep is not on PATH; run scripts/setup.sh (semgrep==1.185.0 in .venv-semgrep)"
    )


def copy_tree(src: Path, dest: Path) -> Path:
    assert src.is_dir() and any(src.iterdir()), f"fixture {src} is missing or empty"
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".git"))
    return dest


def run(inv: Invocation, tmp: Path, src: Path) -> tuple[HostResult, bool]:
    mapping = {SRC: src, OUT: tmp / "out", semgrep.RULES_DIR: semgrep.BUNDLED_RULES}
    res = run_on_host(inv, mapping, extra_env={"HOME": str(tmp / "home")})
    found = inv.exit_codes.check(inv.tool, res.exit_code, res.stderr)  # raises ToolFailed on failure
    return res, found


def parsed(res: HostResult) -> ToolRun:
    """The report parsed as the stage parses it: rule ids without the prefix semgrep gives local configs."""
    return semgrep.parse(res.report, prefixes=semgrep.id_prefixes(res.invocation))


def line_of(f: Finding) -> int:
    line = f.locations[0].start_line
    assert line is not None
    return line


@pytest.fixture(scope="module")
def bad_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[HostResult, bool, ToolRun]:
    tmp = tmp_path_factory.mktemp("semgrep-bad")
    res, found = run(semgrep.scan(), tmp, copy_tree(BAD_PROJECT, tmp / "src"))
    return res, found, parsed(res)


def test_bad_project_shell_injection_and_unsafe_deserialization(bad_scan: tuple[HostResult, bool, ToolRun]) -> None:
    res, found, run_ = bad_scan
    assert res.exit_code == 1
    assert found is True
    assert run_.tool == "semgrep"
    assert run_.version == "1.185.0"
    by_rule = {f.rule_id: f for f in run_.findings}
    assert {SHELL_INJECTION, PICKLE, YAML_LOAD, WEAK_HASH} <= set(by_rule)
    shell = by_rule[SHELL_INJECTION]
    assert shell.category is Category.SAST
    assert shell.severity is Severity.CRITICAL  # security-severity 9.0
    assert "CWE-78" in shell.tags
    assert shell.locations[0].path == "app.py"
    app_lines = (BAD_PROJECT / "app.py").read_text().splitlines()
    assert "shell=True" in app_lines[line_of(shell) - 1]
    pickle = by_rule[PICKLE]
    assert pickle.severity is Severity.HIGH
    assert "CWE-502" in pickle.tags
    assert "pickle.loads" in app_lines[line_of(pickle) - 1]
    assert by_rule[WEAK_HASH].severity is Severity.MEDIUM
    assert all(f.help_uri.startswith("https://") for f in run_.findings)
    assert all(f.title and f.message for f in run_.findings)
    # only our own rule ids: not prefixed with the host path of the rules dir
    assert all(f.rule_id.startswith("seaworthy.") for f in run_.findings)


def test_report_paths_are_relative_and_text_output_is_not_printed(
    bad_scan: tuple[HostResult, bool, ToolRun],
) -> None:
    res, _, run_ = bad_scan
    # app.py: injection, deserialization, weak hash; config.py: DEBUG = True and a hard-coded access key
    assert {loc.path for f in run_.findings for loc in f.locations} == {"app.py", "config.py"}
    assert "pickle.loads" not in res.stdout  # the text report (source lines) went to /dev/null


def annotated_lines(src: Path) -> tuple[set[tuple[str, int, str]], set[tuple[str, int, str]]]:
    """(file, line, rule) of every `ruleid:` and every `ok:` annotation of the target files under `src`."""
    expected: set[tuple[str, int, str]] = set()
    must_not: set[tuple[str, int, str]] = set()
    for target in sorted(p for p in src.iterdir() if p.suffix in {".py", ".js", ".ts", ".html"}):
        lines = target.read_text().splitlines()
        for i, line in enumerate(lines):
            m = re.search(r"(?:#|//|<!--) (ruleid|ok): ([\w.,\s-]+?)\s*(?:-->)?$", line)
            if not m:
                continue
            j = i + 1
            while lines[j].strip().startswith(("#", "//", "<!--")):
                j += 1
            for rule in (r.strip() for r in m.group(2).split(",")):
                (expected if m.group(1) == "ruleid" else must_not).add((target.name, j + 1, rule))
    return expected, must_not


def test_bundled_rules_match_their_annotated_targets(tmp_path: Path) -> None:
    """Every `ruleid:` annotation is reported by exactly that rule at the next line; `ok:` lines are not.

    All bundled rules run over all targets together (as `scan` runs them), so a rule that fires on another
    rule's target is caught too.
    """
    src = copy_tree(RULE_TARGETS, tmp_path / "src")
    res, _ = run(semgrep.scan(), tmp_path, src)
    run_ = parsed(res)
    got = {(loc.path, loc.start_line, f.rule_id) for f in run_.findings for loc in f.locations[:1]}
    expected, must_not = annotated_lines(src)
    assert len(expected) >= 100
    assert len(must_not) >= 80
    assert got - expected == set(), "findings without a `ruleid:` annotation"
    assert expected - got == set(), "annotated lines the rules missed"
    assert not (got & must_not)
    covered = {rule for _, _, rule in expected}
    bundled = {
        m.group(1)
        for p in semgrep.BUNDLED_RULES.glob("*.yml")
        for m in re.finditer(r"^\s+- id: (\S+)", p.read_text(), re.M)
    }
    assert covered == bundled, "every bundled rule needs annotated targets"
    assert {rule for _, _, rule in must_not} == bundled, "every bundled rule needs `ok:` negatives"


def test_semgrep_test_passes_on_the_bundled_rules() -> None:
    """`semgrep --test`: each rules file against its target files of the same name (the rule authors' loop)."""
    proc = subprocess.run(
        ["semgrep", "--test", "--json", "--metrics", "off", "--config", str(semgrep.BUNDLED_RULES), str(RULE_TARGETS)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert result["config_missing_tests"] == []
    assert result["config_with_errors"] == []
    checks = {rule: check for per_file in result["results"].values() for rule, check in per_file["checks"].items()}
    rule_files = sorted(p.stem for p in semgrep.BUNDLED_RULES.glob("*.yml"))
    assert sorted({Path(f).stem for f in result["results"]}) == rule_files
    assert len(checks) >= 30
    assert all(c["passed"] for c in checks.values()), [r for r, c in checks.items() if not c["passed"]]


def test_rule_metadata_names_category_cwe_and_severity() -> None:
    """Category, CWE and severity come from each rule's metadata (never from words in its id)."""
    for path in sorted(semgrep.BUNDLED_RULES.glob("*.yml")):
        for rule in yaml.safe_load(path.read_text())["rules"]:
            meta = rule["metadata"]
            where = f"{path.name}: {rule['id']}"
            assert meta["category"] == "security", where
            assert meta.get("seaworthy-category", "sast") in {"sast", "secret"}, where
            assert meta["cwe"] and all(re.match(r"CWE-\d+: ", c) for c in meta["cwe"]), where
            assert 0 < float(meta["security-severity"]) <= 10, where
            assert rule["severity"] in {"ERROR", "WARNING", "INFO"}, where
            assert meta["references"][0].startswith("https://"), where


def test_example_app_is_clean(tmp_path: Path) -> None:
    res, found = run(semgrep.scan(), tmp_path, copy_tree(EXAMPLE_APP, tmp_path / "src"))
    assert res.exit_code == 0
    assert found is False
    run_ = parsed(res)
    assert run_.findings == ()
    assert run_.version == "1.185.0"


def test_exclude_skips_paths(tmp_path: Path) -> None:
    res, found = run(semgrep.scan(exclude=("app.py", "conf*.py")), tmp_path, copy_tree(BAD_PROJECT, tmp_path / "src"))
    assert (res.exit_code, found) == (0, False)
    assert parsed(res).findings == ()


def test_user_rules_inside_the_tree_replace_the_bundled_ones(tmp_path: Path) -> None:
    src = copy_tree(BAD_PROJECT, tmp_path / "src")
    (src / ".semgrep").mkdir()
    (src / ".semgrep" / "own.yml").write_text(
        "rules:\n"
        "  - id: own.no-print\n"
        "    languages: [python]\n"
        "    severity: INFO\n"
        "    message: no print\n"
        "    pattern: print(...)\n"
    )
    inv = semgrep.scan(rules=(".semgrep",))
    assert semgrep.RULES_DIR not in inv.mounts
    res, found = run(inv, tmp_path, src)
    assert found is True
    run_ = parsed(res)
    assert {f.rule_id for f in run_.findings} == {"own.no-print"}
    assert {f.severity for f in run_.findings} == {Severity.LOW}  # INFO rule -> SARIF note -> LOW


@pytest.mark.parametrize(
    ("rule_text", "code", "said"),
    [
        ("rules:\n  - id: broken\n    languages: [python\n", 7, "Invalid YAML file"),
        (
            "rules:\n  - id: broken\n    languages: [python]\n    severity: ERROR\n    message: m\n    pattern: foo(\n",
            2,
            "Rule parse error",
        ),
    ],
    ids=["invalid-yaml", "invalid-pattern"],
)
def test_broken_rules_are_a_tool_failure_with_semgreps_message(
    tmp_path: Path, rule_text: str, code: int, said: str
) -> None:
    src = copy_tree(BAD_PROJECT, tmp_path / "src")
    (src / "rules").mkdir()
    (src / "rules" / "broken.yml").write_text(rule_text)
    inv = semgrep.scan(rules=("rules/broken.yml",))
    mapping = {SRC: src, OUT: tmp_path / "out"}
    res = run_on_host(inv, mapping, extra_env={"HOME": str(tmp_path / "home")})
    assert res.exit_code == code
    with pytest.raises(ToolFailed) as info:
        inv.exit_codes.check(inv.tool, res.exit_code, res.stderr)
    assert said in info.value.tool_message
    assert info.value.exit_code == code
    # even if someone ignored the exit code, the report itself is not "clean"
    with pytest.raises(ToolOutputError):
        parsed(res)


def test_truncated_or_empty_report_is_an_output_error(bad_scan: tuple[HostResult, bool, ToolRun]) -> None:
    report = bad_scan[0].report
    for broken in ("", report[: len(report) // 2], report[:-2]):
        with pytest.raises(ToolOutputError):
            semgrep.parse(broken)


def test_gitignored_files_are_skipped_unless_asked_for(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / ".gitignore").write_text("generated/\n")
    (src / "generated").mkdir()
    (src / "generated" / "cache.py").write_text("import pickle\n\nDATA = pickle.loads(b'')\n")
    (src / "main.py").write_text("import marshal\n\nDATA = marshal.loads(b'')\n")
    subprocess.run(["git", "init", "-q", str(src)], check=True)  # untracked files: scanned all the same
    default, _ = run(semgrep.scan(), tmp_path / "a", src)
    assert {f.locations[0].path for f in parsed(default).findings} == {"main.py"}
    everything, _ = run(semgrep.scan(include_gitignored=True), tmp_path / "b", src)
    paths = {f.locations[0].path for f in parsed(everything).findings}
    assert paths == {"main.py", "generated/cache.py"}
