"""Real tool outputs for the hostile tests, generated once per session by the real binaries.

Each function runs the exact Invocation a stage builds (through `tests.hostrun.run_on_host`) on a small tree
and returns the report text; the hostile tests then bend it the way other tools, other platforms or an
attacker would. Nothing is mocked and no generated output is committed.
"""

from __future__ import annotations

import functools
import hashlib
import shutil
import tempfile
from pathlib import Path

from pipeline.model import ToolRun
from pipeline.tools import gitleaks, semgrep, syft, trivy
from pipeline.tools.base import CACHE, OUT, SRC, Invocation
from tests.hostrun import run_on_host

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"

_BODY = hashlib.sha256(b"seaworthy hostile canary").hexdigest()
CANARY = "ghp_" + "".join(c.upper() if i % 2 == 0 else c for i, c in enumerate(_BODY[:36]))
"""A GitHub-PAT-shaped value built at run time (no token-shaped literal is ever committed)."""

RULE = """\
rules:
  - id: acme.hardcoded-api-token
    languages: [python]
    severity: ERROR
    message: Hard-coded API token $VAL assigned to $NAME
    metadata:
      cwe: "CWE-798: Use of Hard-coded Credentials"
    patterns:
      - pattern: $NAME = "$VAL"
      - metavariable-regex:
          metavariable: $VAL
          regex: ^ghp_
  - id: acme.debug-call
    languages: [python]
    severity: WARNING
    message: debug call $F
    pattern: $F(...)
    paths:
      include: [calls.py]
"""

APP = f'API_TOKEN = "{CANARY}"\n'
CALLS = "print(1)\nprint(2)\nlen([])\n"


@functools.cache
def _workdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="seaworthy-hostile-"))


@functools.cache
def canary_tree() -> Path:
    src = _workdir() / "canary"
    (src / "rules").mkdir(parents=True)
    (src / "rules" / "tokens.yml").write_text(RULE)
    (src / "app.py").write_text(APP)
    (src / "calls.py").write_text(CALLS)
    return src


def _run(inv: Invocation, src: Path, name: str) -> str:
    out = _workdir() / f"out-{name}"
    cache = _workdir() / "cache"
    db = cache / "trivy" / "db"
    if not db.exists():
        db.mkdir(parents=True)
        for f in ("trivy.db", "metadata.json"):
            shutil.copy(FIXTURES / "trivy-db" / f, db / f)
    got = run_on_host(inv, {SRC: src, OUT: out, CACHE: cache})
    inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)
    assert got.report.strip(), f"{inv.tool} wrote no report"
    return got.report


SEMGREP = semgrep.scan(rules=("rules/tokens.yml",))
"""The invocation the stage builds for ``[scan.semgrep] rules = ["rules/tokens.yml"]`` without the bundled rules."""


@functools.cache
def semgrep_json() -> str:
    """semgrep 1.185's JSON on the canary tree with the tree's own rules (one interpolates the token)."""
    return _run(SEMGREP, canary_tree(), "semgrep")


def parse_semgrep(text: str, *, templates: bool = False) -> ToolRun:
    """semgrep's JSON parsed as the stage parses it (the prefix semgrep gives the rules' folder cut); with
    ``templates``, also knowing the tree's rule templates (as it knows the bundled rules')."""
    known = semgrep.rule_templates((canary_tree() / "rules",)) if templates else None
    return semgrep.parse(text, prefixes=semgrep.id_prefixes(SEMGREP), templates=known)


@functools.cache
def gitleaks_sarif() -> str:
    return _run(gitleaks.scan(), canary_tree(), "gitleaks")


@functools.cache
def trivy_secret_json() -> str:
    return _run(trivy.fs_scan(scanners=("secret",), db=trivy.DbOptions(offline=True)), canary_tree(), "trivy-secret")


@functools.cache
def trivy_fs_json() -> str:
    """trivy fs (vulnerabilities with the fixture DB, misconfigurations, secrets) of the bad-project fixture."""
    src = _workdir() / "bad-project"
    if not src.exists():
        shutil.copytree(FIXTURES / "bad-project", src)
    inv = trivy.fs_scan(scanners=("vuln", "misconfig", "secret"), db=trivy.DbOptions(offline=True))
    return _run(inv, src, "trivy-fs")


@functools.cache
def source_sbom(fmt: str) -> str:
    """trivy's SBOM (cyclonedx or spdx-json) of the vulnerable-app fixture's lock files."""
    src = _workdir() / "vulnerable-app"
    if not src.exists():
        shutil.copytree(FIXTURES / "vulnerable-app", src)
    return _run(trivy.source_sbom(fmt=fmt), src, f"sbom-{fmt}")  # pyright: ignore[reportArgumentType]


@functools.cache
def syft_sboms() -> dict[str, str]:
    """syft's CycloneDX and SPDX documents (one run) of the vulnerable-app fixture as a directory."""
    src = _workdir() / "vulnerable-app-syft"
    if not src.exists():
        shutil.copytree(FIXTURES / "vulnerable-app", src)
    inv = syft.sbom(input_path=SRC, source_kind="dir")
    out = _workdir() / "out-syft"
    got = run_on_host(inv, {SRC: src, OUT: out})
    inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)
    return {fmt: (out / Path(path).name).read_text() for fmt, path in syft.reports(inv).items()}
