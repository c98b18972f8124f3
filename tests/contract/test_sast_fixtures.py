"""bandit and njsscan for real (bandit 1.9.4 in .venv, njsscan 1.0.2 in .venv-njsscan), plus the bundled semgrep
rules, over the two fixture apps, through the real parsers: every expected finding, and nothing else.

The tables are the fixture READMEs' (tests/fixtures/express-api/README.md, tests/fixtures/flask-app/README.md).
Fixtures are copied out first: njsscan skips any path containing "fixtures", semgrep skips `tests/`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from pipeline.errors import ToolFailed, ToolOutputError
from pipeline.model import Category, Severity, ToolRun
from pipeline.tools import bandit, njsscan, semgrep
from pipeline.tools.base import IN, OUT, SRC, Invocation
from tests.hostrun import HostResult, run_on_host

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
EXPRESS = ROOT / "tests" / "fixtures" / "express-api"
FLASK = ROOT / "tests" / "fixtures" / "flask-app"
EXAMPLE_APP = ROOT / "examples" / "app"
NJSSCAN_BIN = ROOT / ".venv-njsscan" / "bin"

S = "seaworthy."
EXPRESS_SEMGREP = {
    ("src/routes/orders.js", 15, S + "javascript.sql-injection.concatenated-query"),
    ("src/routes/orders.js", 20, S + "javascript.sql-injection.concatenated-query"),
    ("src/routes/orders.js", 27, S + "javascript.xss.reflected-response"),
    ("src/server.js", 17, S + "javascript.xss.reflected-response"),
    ("src/routes/orders.js", 33, S + "javascript.path-traversal.request-path"),
    ("src/routes/orders.js", 42, S + "javascript.code-injection.eval"),
    ("src/auth.js", 8, S + "javascript.secrets.hardcoded-signing-key"),
    ("src/auth.js", 14, S + "javascript.secrets.hardcoded-signing-key"),
}
EXPRESS_NJSSCAN = {
    ("src/server.js", 17, "express_xss"),
    ("src/routes/orders.js", 33, "join_resolve_path_traversal"),
    ("src/routes/orders.js", 42, "eval_nodejs"),
    ("src/auth.js", 5, "node_secret"),
    ("src/auth.js", 3, "hardcoded_jwt_secret"),  # njsscan spans lines 3-9 and 3-19: two findings
    # njsscan's false positives (the name goes through path.basename first)
    ("src/routes/orders.js", 37, "generic_path_traversal"),
    ("src/routes/orders.js", 37, "join_resolve_path_traversal"),
}
FLASK_SEMGREP = {
    ("app.py", 15, S + "python.csrf.disabled"),
    ("app.py", 17, S + "python.xss.jinja2-autoescape-off"),
    ("app.py", 21, S + "python.crypto.weak-hash"),
    ("app.py", 21, S + "python.crypto.weak-password-hash"),
    ("app.py", 29, S + "python.sql-injection.formatted-query"),
    ("app.py", 47, S + "python.cookies.insecure"),
    ("app.py", 53, S + "python.deserialization.pickle"),
    ("app.py", 58, S + "python.debug.enabled"),
}
FLASK_BANDIT = {
    ("app.py", 6, "B403"),
    ("app.py", 17, "B701"),
    ("app.py", 21, "B324"),
    ("app.py", 29, "B608"),
    ("app.py", 53, "B301"),
    ("app.py", 58, "B201"),
    ("app.py", 58, "B104"),
}


@pytest.fixture(autouse=True)
def _tools_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    assert shutil.which("bandit") is not None, "bandit is not on PATH; run scripts/setup.sh (dev group)"
    assert (NJSSCAN_BIN / "njsscan").exists(), "njsscan is missing; run scripts/setup.sh (.venv-njsscan)"
    # njsscan calls `semgrep` from PATH: its own pinned one, not .venv-semgrep's
    monkeypatch.setenv("PATH", f"{NJSSCAN_BIN}{os.pathsep}{os.environ['PATH']}")


def copy_app(src: Path, dest: Path) -> Path:
    assert src.is_dir() and any(src.iterdir()), f"fixture {src} is missing or empty"
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".git", "README.md"))
    return dest


def run(inv: Invocation, tmp: Path, src: Path, config: str = "") -> tuple[HostResult, bool]:
    """Run on the host; njsscan gets its generated config (``config``, or the default one) as the stage mounts it."""
    mapping: dict[str, str | Path] = {SRC: src, OUT: tmp / "out", semgrep.RULES_DIR: semgrep.BUNDLED_RULES}
    if inv.tool == njsscan.NAME:
        config = config or njsscan.config_text()
        (tmp / "in").mkdir(parents=True, exist_ok=True)
        (tmp / "in" / "njsscan.yml").write_text(config)
        mapping[IN] = tmp / "in"
    res = run_on_host(inv, mapping, extra_env={"HOME": str(tmp / "home")})
    return res, inv.exit_codes.check(inv.tool, res.exit_code, res.stderr)


def places(run_: ToolRun) -> set[tuple[str, int, str]]:
    out: set[tuple[str, int, str]] = set()
    for f in run_.findings:
        loc = f.locations[0]
        assert loc.start_line is not None
        out.add((loc.path, loc.start_line, f.rule_id))
    return out


def semgrep_run(app: Path, tmp: Path) -> ToolRun:
    res, found = run(semgrep.scan(), tmp, copy_app(app, tmp / "src"))
    assert found is True
    return semgrep.parse(res.report, prefixes=semgrep.id_prefixes(res.invocation))  # as the stage parses


def test_express_api_semgrep_finds_exactly_the_table(tmp_path: Path) -> None:
    run_ = semgrep_run(EXPRESS, tmp_path)
    assert places(run_) == EXPRESS_SEMGREP
    secrets = {f.rule_id for f in run_.findings if f.category is Category.SECRET}
    assert secrets == {S + "javascript.secrets.hardcoded-signing-key"}
    assert len(run_.findings) == len(EXPRESS_SEMGREP)  # one finding per place: no duplicates


def test_flask_app_semgrep_finds_exactly_the_table(tmp_path: Path) -> None:
    run_ = semgrep_run(FLASK, tmp_path)
    assert places(run_) == FLASK_SEMGREP
    assert len(run_.findings) == len(FLASK_SEMGREP)
    assert all(f.category is Category.SAST for f in run_.findings)


def test_express_api_njsscan(tmp_path: Path) -> None:
    res, found = run(njsscan.scan(), tmp_path, copy_app(EXPRESS, tmp_path / "src"))
    assert (res.exit_code, found) == (1, True)
    run_ = njsscan.parse(res.report)
    assert run_.version == njsscan.VERSION
    assert run_.notes == ()
    assert places(run_) == EXPRESS_NJSSCAN
    by_rule = {f.rule_id: f for f in run_.findings}
    assert by_rule["eval_nodejs"].severity is Severity.HIGH
    assert "CWE-95" in by_rule["eval_nodejs"].tags
    assert by_rule["join_resolve_path_traversal"].severity is Severity.MEDIUM  # WARNING
    # njsscan's credential rules guess from names: SAST, capped at MEDIUM (semgrep's rule files the secret)
    assert by_rule["node_secret"].severity is Severity.MEDIUM
    assert "credential-heuristic" in by_rule["hardcoded_jwt_secret"].tags
    assert all(f.category is Category.SAST for f in run_.findings)
    jwt = sorted(f.locations[0].end_line or 0 for f in run_.findings if f.rule_id == "hardcoded_jwt_secret")
    assert jwt == [9, 19]
    assert "orders-api-jwt-signing-secret-2024" not in repr(run_)  # the matched value never reaches a finding


def test_flask_app_bandit(tmp_path: Path) -> None:
    res, found = run(bandit.scan(), tmp_path, copy_app(FLASK, tmp_path / "src"))
    assert (res.exit_code, found) == (1, True)
    run_ = bandit.parse(res.report)
    assert run_.version == bandit.VERSION
    assert places(run_) == FLASK_BANDIT
    by_rule = {f.rule_id: f for f in run_.findings}
    assert by_rule["B608"].severity is Severity.MEDIUM
    assert by_rule["B701"].severity is Severity.HIGH
    assert "CWE-89" in by_rule["B608"].tags
    assert all(f.category is Category.SAST for f in run_.findings)
    assert by_rule["B301"].help_uri.startswith("https://bandit.readthedocs.io/")


def test_example_app_has_no_blocking_finding(tmp_path: Path) -> None:
    """The clean example: nothing at the gate's SAST threshold (HIGH); njsscan sees no JavaScript at all.

    bandit's one MEDIUM is B310 ("audit url open") on healthcheck.py's urlopen of a constant localhost URL:
    judged a false positive, and below the threshold.
    """
    res, _ = run(bandit.scan(), tmp_path / "b", copy_app(EXAMPLE_APP, tmp_path / "b" / "src"))
    findings = bandit.parse(res.report).findings
    assert [f for f in findings if f.severity >= Severity.HIGH] == []
    assert {(f.rule_id, f.locations[0].path) for f in findings if f.severity >= Severity.MEDIUM} == {
        ("B310", "healthcheck.py")
    }
    res, found = run(njsscan.scan(), tmp_path / "n", copy_app(EXAMPLE_APP, tmp_path / "n" / "src"))
    assert (res.exit_code, found) == (0, False)
    assert njsscan.parse(res.report).findings == ()


def test_unparsable_files_become_notes_not_silence(tmp_path: Path) -> None:
    src = copy_app(FLASK, tmp_path / "src")
    (src / "legacy.py").write_text('print "python 2"\n')
    res, _ = run(bandit.scan(), tmp_path / "b", src)
    run_ = bandit.parse(res.report)
    assert run_.notes == ("bandit could not scan legacy.py: syntax error while parsing AST from file",)
    js = tmp_path / "js"
    js.mkdir()
    (js / "broken.js").write_text("function (\n")
    res, found = run(njsscan.scan(), tmp_path / "n", js)
    assert (res.exit_code, found) == (1, True)  # njsscan exits 1 for a file it could not parse
    run_ = njsscan.parse(res.report)
    assert run_.findings == ()
    assert len(run_.notes) == 1 and run_.notes[0].startswith("njsscan could not fully parse broken.js")


def test_exclude_skips_paths(tmp_path: Path) -> None:
    res, found = run(bandit.scan(exclude=("app.py",)), tmp_path / "b", copy_app(FLASK, tmp_path / "b" / "src"))
    assert (res.exit_code, found) == (0, False)
    assert bandit.parse(res.report).findings == ()
    inv = njsscan.scan(exclude=("src/routes/**",))
    src = copy_app(EXPRESS, tmp_path / "n" / "src")
    res, _ = run(inv, tmp_path / "n", src, config=njsscan.config_text(("src/routes/**",)))
    paths = {f.locations[0].path for f in njsscan.parse(res.report).findings}
    assert paths == {"src/auth.js", "src/server.js"}


def test_what_the_readme_says_the_sast_scanners_leave_out_on_their_own(tmp_path: Path) -> None:
    """README, "What the SAST scanners leave out on their own": bandit does not run B101 (an access check by
    `assert` included), and njsscan skips a path that merely *contains* one of its words (`inspect` has
    `spec`), while the same code under another name is reported; semgrep's bundled rules still read it."""
    readme = (ROOT / "README.md").read_text()
    assert "bandit: check B101" in readme and "`lib/inspect.js` is skipped too" in readme
    assert bandit.SKIPPED_TESTS == ("B101",)
    py = tmp_path / "b" / "src"
    py.mkdir(parents=True)
    (py / "views.py").write_text("def delete_user(user, target):\n    assert user.is_admin\n    target.delete()\n")
    res, found = run(bandit.scan(), tmp_path / "b", py)
    assert (res.exit_code, found) == (0, False)
    assert bandit.parse(res.report).findings == ()

    js = tmp_path / "n" / "src"
    (js / "lib").mkdir(parents=True)
    code = (
        "module.exports = function (req, res) {\n  const total = eval(req.body.formula);\n  res.json({ total });\n};\n"
    )
    (js / "lib" / "handler.js").write_text(code)
    (js / "lib" / "inspect.js").write_text(code)
    res, _ = run(njsscan.scan(), tmp_path / "n", js)
    found_at = {(f.locations[0].path, f.rule_id) for f in njsscan.parse(res.report).findings}
    assert ("lib/handler.js", "eval_nodejs") in found_at
    assert not any(path == "lib/inspect.js" for path, _ in found_at)
    sem = semgrep_run(js, tmp_path / "s")
    assert {f.locations[0].path for f in sem.findings} >= {"lib/handler.js", "lib/inspect.js"}


def test_njsscan_without_semgrep_is_a_failure_not_a_clean_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """libsast reports "semgrep not found" inside the report: that is never "no findings"."""
    bare = tmp_path / "bin"
    bare.mkdir()
    (bare / "njsscan").symlink_to(NJSSCAN_BIN / "njsscan")
    monkeypatch.setenv("PATH", f"{bare}{os.pathsep}/usr/bin{os.pathsep}/bin")
    res, _ = run(njsscan.scan(), tmp_path, copy_app(EXPRESS, tmp_path / "src"))
    with pytest.raises(ToolOutputError, match="did not complete"):
        njsscan.parse(res.report)


def test_bad_arguments_are_a_tool_failure(tmp_path: Path) -> None:
    inv = bandit.scan()
    broken = Invocation(
        tool=inv.tool, image=inv.image, argv=(*inv.argv[:-1], "--profile", "nope", "."), report=inv.report,
        exit_codes=inv.exit_codes, mounts=inv.mounts, workdir=inv.workdir,
    )  # fmt: skip
    mapping = {SRC: copy_app(FLASK, tmp_path / "src"), OUT: tmp_path / "out"}
    res = run_on_host(broken, mapping)
    with pytest.raises(ToolFailed):
        broken.exit_codes.check(broken.tool, res.exit_code, res.stderr)


def test_json_files_are_not_read_as_templates(tmp_path: Path) -> None:
    """nx.json globs such as "!{projectRoot}/…" were six HIGH pug_jade_template findings (see IGNORED_EXTENSIONS)."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "nx.json").write_text('{"inputs": ["!{projectRoot}/**/*.spec.ts", "!{projectRoot}/jest.config.ts"]}\n')
    (src / "index.js").write_text("module.exports = 1;\n")
    res, found = run(njsscan.scan(), tmp_path, src)
    assert (res.exit_code, found) == (0, False)
    assert njsscan.parse(res.report).findings == ()


def test_truncated_or_empty_reports_are_output_errors(tmp_path: Path) -> None:
    res, _ = run(bandit.scan(), tmp_path, copy_app(FLASK, tmp_path / "src"))
    for broken in ("", res.report[: len(res.report) // 2], "{}", "[]"):
        with pytest.raises(ToolOutputError):
            bandit.parse(broken)
    for broken in (
        "",
        '{"errors": []}',
        '{"nodejs": {"x": {"files": [], "metadata": {"severity": "HUGE"}}}, "errors": []}',
    ):
        with pytest.raises(ToolOutputError):
            njsscan.parse(broken)
