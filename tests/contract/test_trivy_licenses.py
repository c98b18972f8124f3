"""trivy 0.76.0 for real on tests/fixtures/node-deps: licence results become LICENSE findings with trivy's
classification as severity, and development dependencies are scanned and marked (offline fixture DB)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.model import Category, Severity, merge_findings
from pipeline.tools import trivy
from pipeline.tools.base import CACHE, OUT, SRC
from tests.hostrun import run_on_host

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
PROJECT = FIXTURES / "node-deps"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, object]]:
    assert shutil.which("trivy") is not None, "trivy is not on PATH; run scripts/setup.sh"
    tmp = tmp_path_factory.mktemp("trivy-licenses")
    db = tmp / "cache" / "trivy" / "db"
    db.mkdir(parents=True)
    for name in ("trivy.db", "metadata.json"):
        shutil.copy(FIXTURES / "trivy-db" / name, db / name)
    src = tmp / "src"
    shutil.copytree(PROJECT, src)
    inv = trivy.fs_scan(scanners=("vuln", "license"), db=trivy.DbOptions(offline=True))
    assert "--include-dev-deps" in inv.argv
    res = run_on_host(inv, {SRC: src, OUT: tmp / "out", CACHE: tmp / "cache"}, extra_env={"HOME": str(tmp)})
    assert inv.exit_codes.check("trivy", res.exit_code, res.stderr) is True
    return res.report, json.loads(res.report)


def test_every_licence_entry_becomes_a_license_finding(scanned: tuple[str, dict[str, object]]) -> None:
    text, raw = scanned
    entries = [lic for r in raw["Results"] for lic in r.get("Licenses", [])]  # type: ignore[union-attr, attr-defined]
    assert len(entries) == 4
    run = trivy.parse(text, mode="fs")
    got = {
        (f.package.name, f.package.version, f.rule_id, f.severity, f.dev)
        for f in run.findings
        if f.category is Category.LICENSE and f.package is not None
    }
    assert got == {
        ("agpl-devtool", "3.0.0", "AGPL-3.0-only", Severity.CRITICAL, True),
        ("gpl-lib", "1.0.0", "GPL-3.0-only", Severity.HIGH, False),
        ("mit-lib", "2.0.0", "MIT", Severity.LOW, False),
        ("qs", "6.7.0", "BSD-3-Clause", Severity.LOW, True),
    }
    gpl = next(f for f in run.findings if f.rule_id == "GPL-3.0-only")
    assert gpl.package is not None and gpl.package.purl == "pkg:npm/gpl-lib@1.0.0"
    assert gpl.package.ecosystem == "npm"
    assert gpl.locations[0].path == "package-lock.json"
    lock = (PROJECT / "package-lock.json").read_text().splitlines()
    assert gpl.locations[0].start_line is not None
    assert '"node_modules/gpl-lib"' in lock[gpl.locations[0].start_line - 1]
    assert "license-restricted" in gpl.tags
    assert len(merge_findings(run.findings)) == len(run.findings)


def test_dev_dependencies_are_scanned_and_marked(scanned: tuple[str, dict[str, object]]) -> None:
    run = trivy.parse(scanned[0], mode="fs")
    (qs,) = [f for f in run.findings if f.category is Category.DEPENDENCY]
    assert qs.rule_id == "CVE-2022-24999"
    assert qs.dev is True
    assert "development dependency" in qs.message
