"""bandit / njsscan invocations, severity mapping and language detection (pure; the real tools run in
tests/contract/test_sast_fixtures.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pipeline.errors import ConfigError, ToolOutputError
from pipeline.model import Severity
from pipeline.tools import bandit, languages, njsscan
from pipeline.tools.base import IN, OUT, SRC

ROOT = Path(__file__).resolve().parents[2]


def test_bandit_argv_keeps_its_default_excludes_and_adds_the_skip_paths() -> None:
    inv = bandit.scan(exclude=("tests", "docs/"))
    assert inv.argv[0] == "bandit" and inv.argv[-1] == "."
    excludes = inv.argv[inv.argv.index("--exclude") + 1].split(",")
    assert {".git", "__pycache__", "node_modules", ".venv", "tests", "docs"} <= set(excludes)
    assert inv.argv[inv.argv.index("--skip") + 1] == "B101"
    assert inv.report == f"{OUT}/bandit.json" and inv.workdir == SRC
    assert inv.image.install[-1] == f"bandit=={bandit.VERSION}"
    with pytest.raises(ConfigError, match="comma"):
        bandit.scan(exclude=("a,b",))


@pytest.mark.parametrize(
    ("severity", "confidence", "expected"),
    [
        ("HIGH", "HIGH", Severity.HIGH),
        ("HIGH", "MEDIUM", Severity.HIGH),
        ("HIGH", "LOW", Severity.MEDIUM),
        ("MEDIUM", "LOW", Severity.LOW),
        ("LOW", "LOW", Severity.LOW),
        ("MEDIUM", "HIGH", Severity.MEDIUM),
    ],
)
def test_bandit_severity_steps_down_on_low_confidence(severity: str, confidence: str, expected: Severity) -> None:
    assert bandit.severity_of(severity, confidence) is expected


def test_bandit_password_findings_never_carry_the_value() -> None:
    report = {
        "errors": [],
        "results": [
            {
                "filename": "./settings.py",
                "line_number": 3,
                "line_range": [3],
                "col_offset": 0,
                "issue_text": "Possible hardcoded password: 'hunter2-real'",
                "issue_severity": "LOW",
                "issue_confidence": "MEDIUM",
                "issue_cwe": {"id": 259, "link": "https://cwe.mitre.org/data/definitions/259.html"},
                "test_id": "B105",
                "test_name": "hardcoded_password_string",
                "more_info": "https://bandit.readthedocs.io/",
            }
        ],
    }
    run = bandit.parse(json.dumps(report))
    (f,) = run.findings
    assert "hunter2-real" not in repr(f)
    assert f.locations[0].path == "settings.py" and "CWE-259" in f.tags


def test_njsscan_argv_and_generated_config() -> None:
    inv = njsscan.scan(exclude=("vendor/**", "*.test.js"))
    assert inv.argv[inv.argv.index("--config") + 1] == njsscan.CONFIG
    assert inv.mounts[njsscan.CONFIG] == "njsscan-config" and njsscan.CONFIG.startswith(IN + "/")
    assert json.loads(njsscan.config_text(("vendor/**", "*.test.js"))) == {
        "ignore-extensions": [".json"],
        "ignore-paths": [".test.js", "vendor"],
    }
    assert json.loads(njsscan.config_text()) == {"ignore-extensions": [".json"]}
    with pytest.raises(ConfigError, match="literal"):
        njsscan.scan(exclude=("**",))


def test_njsscan_errors_other_than_a_parse_warning_fail_closed() -> None:
    base = {"njsscan_version": "1.0.2", "nodejs": {}, "templates": {}}
    with pytest.raises(ToolOutputError, match="did not complete"):
        njsscan.parse(json.dumps({**base, "errors": ["semgrep not found. Install with: pip install semgrep"]}))
    with pytest.raises(ToolOutputError, match="did not complete"):
        njsscan.parse(json.dumps({**base, "errors": [{"level": "error", "type": "Rule error", "message": "x"}]}))


def test_setup_installs_the_njsscan_the_image_pins() -> None:
    text = (ROOT / "scripts" / "setup.sh").read_text()
    m = re.search(r"NJSSCAN_PACKAGES=\(([^)]*)\)", text)
    assert m is not None
    assert tuple(m.group(1).split()) == njsscan.PACKAGES
    assert f'"bandit=={bandit.VERSION}"' in (ROOT / "pyproject.toml").read_text()


@pytest.mark.parametrize(
    ("paths", "skip", "bandit_needed", "njsscan_needed"),
    [
        (["app.py", "static/app.js"], (), True, True),
        (["src/index.ts"], (), False, False),
        (["node_modules/x/index.js", ".venv/lib/site.py"], (), False, False),
        (["tools/gen.py", "web/main.js"], ("tools", "web/**"), False, False),
        (["./pkg/mod.py"], ("docs",), True, False),
    ],
)
def test_analyzers_run_only_where_their_language_has_files(
    paths: list[str], skip: tuple[str, ...], bandit_needed: bool, njsscan_needed: bool
) -> None:
    assert languages.needed("bandit", paths, skip) is bandit_needed
    assert languages.needed("njsscan", paths, skip) is njsscan_needed
    assert "no Python files" in languages.not_run_note("bandit")
