"""The `seaworthy` console script, run as a user runs it (subprocess on .venv/bin/seaworthy); exit codes asserted."""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import attrs
import jsonschema
import pytest

from pipeline.formats import gitlab
from pipeline.formats.json_report import render_report
from pipeline.model import Decision, Finding, Reason
from pipeline.policy.config import GateConfig
from pipeline.policy.engine import BUNDLED_POLICY_DIR
from pipeline.policy.exceptions import BUNDLED_RULE_IDS, POLICY_RULE_IDS
from pipeline.policy.input import build_input
from pipeline.rules_catalog import catalog
from tests.policy_helpers import good_build, good_image
from tests.unit.report_factories import finding, load_sarif_schema, realistic

ROOT = Path(__file__).resolve().parents[2]
SEAWORTHY = Path(sys.executable).parent / "seaworthy"
EXAMPLE = ROOT / "examples" / "app"


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert SEAWORTHY.is_file(), f"{SEAWORTHY} is missing: run `uv sync` (pyproject [project.scripts])"
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [str(SEAWORTHY), *args], check=False, capture_output=True, text=True, cwd=cwd, env=full_env, timeout=120
    )


def one_line_error(got: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in got.stderr, got.stderr
    lines = got.stderr.strip().splitlines()
    assert len(lines) == 1, got.stderr
    return lines[0]


# --- check -------------------------------------------------------------------------------------------------


def test_check_passes_on_the_example() -> None:
    got = run("check", str(EXAMPLE))
    assert got.returncode == 0, got.stdout + got.stderr
    assert "OK" in got.stdout


def test_python_dash_m_runs_the_same_command() -> None:
    got = subprocess.run(
        [sys.executable, "-m", "pipeline", "check", str(EXAMPLE)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert got.returncode == 0, got.stderr
    assert "OK" in got.stdout


def test_check_without_a_config_says_the_defaults_apply(tmp_path: Path) -> None:
    got = run("check", str(tmp_path))
    assert got.returncode == 0
    assert "defaults apply" in got.stdout


def test_check_broken_config_one_line_naming_the_key(tmp_path: Path) -> None:
    (tmp_path / "seaworthy.toml").write_text('[gate]\nthresholds = { sast = "HIGHH" }\n', encoding="utf-8")
    got = run("check", str(tmp_path))
    assert got.returncode == 1
    lines = got.stdout.strip().splitlines()
    assert len(lines) == 1, got.stdout
    assert "gate.thresholds.sast" in lines[0]
    assert "HIGHH" in lines[0]


def test_check_reports_every_problem_on_its_own_line(tmp_path: Path) -> None:
    (tmp_path / "seaworthy.toml").write_text(
        '[gate]\nthresholds = { sast = "HIGHH" }\nfail_fast = true\n'
        '[scan]\nscannerz = ["trivy"]\n'
        '[[exceptions]]\ntarget = "CVE-2020-1"\nowner = "a"\nreason = "b"\nexpires = 2020-01-01\n'
        '[[exceptions]]\ntarget = "CVE-2020-2"\n',
        encoding="utf-8",
    )
    got = run("check", str(tmp_path), "--today", "2026-11-27")
    assert got.returncode == 1
    lines = got.stdout.strip().splitlines()
    assert len(lines) == 5, got.stdout
    for needle in ("gate.thresholds.sast", "gate.fail_fast", "scan.scannerz", "exceptions[1]: missing 'owner'"):
        assert sum(needle in line for line in lines) == 1, (needle, lines)
    assert any("exceptions[0]" in line and "expired on 2020-01-01" in line for line in lines)


def test_check_a_sibling_dependent_key_is_not_a_false_problem(tmp_path: Path) -> None:
    # bundled_rules = false is valid only because semgrep does not run: checked as a whole, no complaint
    (tmp_path / "seaworthy.toml").write_text(
        '[scan]\nscanners = ["trivy", "gitleaks"]\nsemgrep = { bundled_rules = false }\n', encoding="utf-8"
    )
    got = run("check", str(tmp_path))
    assert got.returncode == 0, got.stdout


def test_check_the_exception_file_and_policy_folders(tmp_path: Path) -> None:
    (tmp_path / "seaworthy.toml").write_text(
        '[gate]\nexceptions_file = "waivers.toml"\npolicy_dirs = ["policy", "missing"]\n', encoding="utf-8"
    )
    (tmp_path / "waivers.toml").write_text('[[exceptions]]\ntarget = "CVE-2020-1"\nowner = "x"\n', encoding="utf-8")
    (tmp_path / "policy").mkdir()
    (tmp_path / "policy" / "mine.rego").write_text("package seaworthy.gate\n", encoding="utf-8")
    got = run("check", str(tmp_path))
    assert got.returncode == 1
    lines = got.stdout.strip().splitlines()
    assert len(lines) == 3, got.stdout
    assert any(line.startswith("waivers.toml: exceptions[0]: missing 'reason'") for line in lines)
    assert any("mine.rego: package seaworthy.gate is a bundled package" in line for line in lines)
    assert any("gate.policy_dirs 'missing' does not exist" in line for line in lines)


def test_check_unreadable_input_is_one_line_exit_2(tmp_path: Path) -> None:
    (tmp_path / "seaworthy.toml").write_bytes(b"\xff\xfe[gate]\n")
    got = run("check", str(tmp_path))
    assert got.returncode == 2
    assert "not UTF-8" in one_line_error(got)
    got = run("check", str(tmp_path / "nope"))
    assert got.returncode == 2
    assert "not a folder" in one_line_error(got)


# --- gate --------------------------------------------------------------------------------------------------


def gate_input(tmp_path: Path, *findings: Finding) -> Path:
    doc = build_input(
        findings,
        sbom=None,
        facts=[good_image()],
        build=good_build(),
        config=GateConfig(),
        exceptions=(),
        today=datetime.date(2026, 6, 1),
    )
    path = tmp_path / "gate-input.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_gate_passes_a_clean_input(tmp_path: Path) -> None:
    got = run("gate", str(gate_input(tmp_path)))
    assert got.returncode == 0, got.stdout + got.stderr
    assert got.stdout.splitlines()[0] == "PASSED"


def test_gate_denies_with_reasons_and_exit_1(tmp_path: Path) -> None:
    got = run("gate", str(gate_input(tmp_path, finding())))
    assert got.returncode == 1, got.stdout + got.stderr
    assert got.stdout.splitlines()[0] == "FAILED"
    assert any(line.startswith("deny threshold.sast:") for line in got.stdout.splitlines())
    as_json = run("gate", str(gate_input(tmp_path, finding())), "--json")
    assert as_json.returncode == 1
    verdict = json.loads(as_json.stdout)
    assert verdict["passed"] is False
    assert [d["rule_id"] for d in verdict["denials"]] == ["threshold.sast"]


def test_gate_with_a_user_policy(tmp_path: Path) -> None:
    policy = tmp_path / "policy"
    policy.mkdir()
    (policy / "extra.rego").write_text(
        "package seaworthy.rules.extra\n\nimport rego.v1\n\n"
        'deny contains {"id": "extra.always", "msg": "always", "remedy": "none"} if true\n',
        encoding="utf-8",
    )
    got = run("gate", str(gate_input(tmp_path)), "--policy", str(policy))
    assert got.returncode == 1, got.stdout + got.stderr
    assert "deny extra.always: always" in got.stdout


def test_gate_bad_inputs_are_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    got = run("gate", str(bad))
    assert got.returncode == 2
    assert "not JSON" in one_line_error(got)
    bad.write_text('{"schema": "something-else"}', encoding="utf-8")
    got = run("gate", str(bad))
    assert got.returncode == 2
    assert "gate-input.schema.json" in one_line_error(got)
    bad.write_text('{"schema": "seaworthy.gate-input/v1"}', encoding="utf-8")
    got = run("gate", str(bad))
    assert got.returncode == 2
    assert "written by an older Seaworthy" in one_line_error(got)
    got = run("gate", str(gate_input(tmp_path)), "--policy", str(tmp_path / "nowhere"))
    assert got.returncode == 2
    assert "does not exist" in one_line_error(got)


def test_gate_with_opa_requested_but_absent_is_exit_2(tmp_path: Path) -> None:
    got = run("gate", str(gate_input(tmp_path)), "--engine", "opa", env={"PATH": str(tmp_path)})
    assert got.returncode == 2
    assert "opa is not on PATH" in one_line_error(got)


# --- report ------------------------------------------------------------------------------------------------


@pytest.fixture
def report_json(tmp_path: Path) -> Path:
    runs, findings, verdict = realistic()
    path = tmp_path / "report.json"
    path.write_bytes(render_report(runs, findings, verdict, notes=["a note"]))
    return path


def test_report_renders_sarif_junit_markdown(report_json: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.sarif"
    got = run("report", str(report_json), "--format", "sarif", "-o", str(out))
    assert got.returncode == 0, got.stderr
    sarif = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(load_sarif_schema()).validate(sarif)
    assert sum(len(r["results"]) for r in sarif["runs"]) > 0
    got = run("report", str(report_json), "--format", "junit")
    assert got.returncode == 0 and got.stdout.startswith("<?xml"), got.stderr
    got = run("report", str(report_json), "--format", "markdown")
    assert got.returncode == 0 and "Seaworthy" in got.stdout, got.stderr


def test_report_of_an_ungated_run_is_rerendered_not_gated(tmp_path: Path) -> None:
    runs, findings, _ = realistic()
    path = tmp_path / "report.json"
    path.write_bytes(render_report(runs, findings, None))
    got = run("report", str(path), "--format", "markdown")
    assert got.returncode == 0 and got.stdout.startswith("## Seaworthy: not gated\n"), got.stderr
    got = run("report", str(path), "--format", "junit")
    assert got.returncode == 0 and 'message="not gated: no policy was evaluated"' in got.stdout, got.stderr
    got = run("report", str(path), "--format", "gitlab-sast")
    assert got.returncode == 0, got.stderr
    assert "not gated: no policy was evaluated" in [m["value"] for m in json.loads(got.stdout)["scan"]["messages"]]


def test_report_renders_the_four_gitlab_reports_valid_and_deterministic(report_json: Path) -> None:
    schema = json.loads((Path(gitlab.__file__).parent / "schemas" / "gitlab-security-report-15.0.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    total = 0
    for kind in ("sast", "dependency-scanning", "container-scanning", "secret-detection"):
        args = ["report", str(report_json), "--format", f"gitlab-{kind}", "--image", "ghcr.io/Octo-Org/App:1"]
        args += ["--end-time", "2026-11-27T10:00:00Z", "--commit-sha", "abc1234"]
        first = run(*args)
        assert first.returncode == 0, first.stderr
        assert run(*args).stdout == first.stdout
        doc = json.loads(first.stdout)
        validator.validate(doc)
        assert doc["scan"]["type"] == kind.replace("-", "_")
        assert doc["scan"]["end_time"] == "2026-11-27T10:00:00"
        total += len(doc["vulnerabilities"])
        if kind == "container-scanning":
            assert {v["location"]["image"] for v in doc["vulnerabilities"]} == {"ghcr.io/octo-org/app:1"}
        if kind == "secret-detection":
            assert {v["location"]["commit"]["sha"] for v in doc["vulnerabilities"]} == {"abc1234"}
    _, findings, _ = realistic()
    assert total == len(findings)  # every finding in exactly one GitLab report


def test_report_container_scanning_without_image_is_a_clear_error(report_json: Path) -> None:
    got = run("report", str(report_json), "--format", "gitlab-container-scanning")
    assert got.returncode == 2
    assert "needs the scanned image reference" in one_line_error(got)


def test_report_refuses_what_is_not_a_report(tmp_path: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text('{"schema": "x"}', encoding="utf-8")
    got = run("report", str(bad), "--format", "sarif")
    assert got.returncode == 2
    assert "not a seaworthy.report/v1 report" in one_line_error(got)
    got = run("report", str(bad), "--format", "pdf")
    assert got.returncode == 2  # argparse usage error


# --- explain, image-name -----------------------------------------------------------------------------------


def test_explain_bundled_rules() -> None:
    got = run("explain", "SW-DS-005")
    assert got.returncode == 0, got.stderr
    assert "checksum" in got.stdout and "severity: MEDIUM" in got.stdout
    got = run("explain", "threshold.secret")
    assert got.returncode == 0
    assert "severity: deny" in got.stdout and "rotate" in got.stdout
    got = run("explain", "seaworthy.python.crypto.weak-hash")
    assert got.returncode == 0
    assert "CWE-328" in got.stdout and "hashlib.sha256" in got.stdout
    got = run("explain", "dl3007")
    assert got.returncode == 0 and "hadolint/wiki/DL3007" in got.stdout


def test_explain_unknown_rule_suggests_and_exits_2() -> None:
    got = run("explain", "weak-hash")
    assert got.returncode == 2
    assert "did you mean seaworthy.javascript.crypto.weak-hash, seaworthy.python.crypto.weak-hash?" in one_line_error(
        got
    )


def test_every_gate_rule_id_is_explained() -> None:
    known = catalog()
    emitted = {
        m.group(1)
        for path in BUNDLED_POLICY_DIR.rglob("*.rego")
        for m in re.finditer(r'"((?:[a-z]+)\.[a-z-]+)"', path.read_text(encoding="utf-8"))
        if not m.group(1).endswith(".toml")
    }
    assert len(emitted) > 20
    for rid in sorted({*BUNDLED_RULE_IDS, *POLICY_RULE_IDS, "config.relaxed", "exception.long-lived", *emitted}):
        assert rid in known, rid
    semgrep_ids = {r for r in known if r.startswith("seaworthy.")}
    assert len(semgrep_ids) >= 5
    assert {f"SW-DS-00{i}" for i in range(1, 7)} <= set(known)


def test_image_name_lowercases_a_mixed_case_owner() -> None:
    got = run("image-name", "ghcr.io/Octo-Org/My-App:V1.2")
    assert got.returncode == 0, got.stderr
    assert got.stdout.strip() == "ghcr.io/octo-org/my-app:V1.2"
    got = run("image-name", "ghcr.io/${{ github.repository }}")
    assert got.returncode == 2
    assert "not expanded" in one_line_error(got)


def test_gitlab_reports_carry_the_relaxations_of_the_run(tmp_path: Path) -> None:
    runs, findings, verdict = realistic()
    relaxed = Reason(
        "config.relaxed", Decision.WARN, "scan.scanners: semgrep did not run, so nothing it finds is gated"
    )
    verdict = attrs.evolve(verdict, warnings=(*verdict.warnings, relaxed))
    path = tmp_path / "report.json"
    path.write_bytes(render_report(runs, findings, verdict))
    got = run("report", str(path), "--format", "gitlab-sast", "--end-time", "2026-11-27T10:00:00Z")
    assert got.returncode == 0, got.stderr
    messages = json.loads(got.stdout)["scan"]["messages"]
    assert {"level": "warn", "value": f"config.relaxed: {relaxed.message}"} in messages
