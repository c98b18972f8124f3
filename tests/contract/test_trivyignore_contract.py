"""The generated `.trivyignore.yaml` is accepted by the real trivy and hides exactly the waived findings."""

from __future__ import annotations

import datetime
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.formats.trivyignore import render_trivyignore
from pipeline.model import Category, Severity
from tests.conftest import FIXTURES
from tests.policy_helpers import exceptions, finding, vuln

pytestmark = pytest.mark.contract


def _scan(src: Path, cache: Path, ignorefile: Path | None) -> set[tuple[str, str]]:
    trivy = shutil.which("trivy")
    assert trivy, "trivy is not on PATH; run the tests through scripts/test.sh (it puts .venv/bin on PATH)"
    argv = [
        trivy,
        "fs",
        "--cache-dir",
        str(cache),
        "--scanners",
        "vuln,secret,misconfig",
        "--skip-check-update",
        "--skip-db-update",
        "--format",
        "json",
        "--quiet",
    ]
    if ignorefile is not None:
        argv += ["--ignorefile", str(ignorefile)]
    proc = subprocess.run([*argv, str(src)], capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found: set[tuple[str, str]] = set()
    for result in json.loads(proc.stdout).get("Results") or []:
        for v in result.get("Vulnerabilities") or []:
            found.add((result["Target"], v["VulnerabilityID"]))
        for m in result.get("Misconfigurations") or []:
            found.add((result["Target"], m["ID"]))
        for s in result.get("Secrets") or []:
            found.add((result["Target"], s["RuleID"]))
    return found


def test_trivy_accepts_the_ignore_file_and_hides_exactly_the_waived(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(FIXTURES / "bad-project", src)
    db = tmp_path / "cache" / "db"
    db.mkdir(parents=True)
    for name in ("trivy.db", "metadata.json"):
        shutil.copy(FIXTURES / "trivy-db" / name, db / name)

    before = _scan(src, tmp_path / "cache", None)
    expected_before = {
        ("requirements.txt", "CVE-2018-18074"),
        ("requirements.txt", "CVE-2019-10906"),
        ("Dockerfile", "DS-0026"),
        ("config.py", "github-pat"),
        ("config.py", "aws-access-key-id"),
    }
    assert expected_before <= before, before

    pat = finding(Category.SECRET, "github-pat", Severity.CRITICAL, tool="trivy", path="config.py", line=13)
    waivers = exceptions(
        # trivy compares expired_at with the real clock: keep these valid for good
        {"target": "CVE-2018-18074", "package": "requests", "expires": "2099-12-31"},
        {"target": "DS-0026", "path": "Dockerfile", "expires": "2099-12-31"},
        {"target": pat.fingerprint, "expires": "2099-12-31"},
        {"target": "CVE-2019-10906", "expires": "2026-01-01"},  # expired: must stay visible
    )
    text = render_trivyignore(waivers, findings=[vuln("CVE-2018-18074"), pat], today=datetime.date(2026, 6, 1))
    ignorefile = tmp_path / "seaworthy.trivyignore.yaml"
    ignorefile.write_text(text)

    after = _scan(src, tmp_path / "cache", ignorefile)
    hidden = {("requirements.txt", "CVE-2018-18074"), ("Dockerfile", "DS-0026"), ("config.py", "github-pat")}
    assert before - after == hidden
    assert ("requirements.txt", "CVE-2019-10906") in after
