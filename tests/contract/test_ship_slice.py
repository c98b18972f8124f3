"""The vertical slice of `ship`, without an engine: the invocations the stages build, run for real on the host.

Each scanner's Invocation comes from `pipeline.stages.scan.invocation` (the very function the Dagger stage
uses), runs against the real tool with the container paths mapped to temporary folders, and its real output
goes through the real parser. Findings are merged, the gate input is built, the bundled Rego policies are
evaluated by regorus, and the reports are rendered — as `ship` does, minus the engine.
"""

from __future__ import annotations

import datetime
import json
import shutil
from pathlib import Path

import attrs
import jsonschema
import pytest

from pipeline import config
from pipeline.formats import oci
from pipeline.formats.dockerfile import final_base
from pipeline.model import Finding, ImageFacts, ToolRun, Verdict, merge_findings
from pipeline.model_gate import BuildFacts
from pipeline.policy.config import gate_config_from
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.exceptions import parse_exceptions
from pipeline.policy.input import build_input
from pipeline.policy.verdict import read_verdict
from pipeline.reports import write_reports
from pipeline.stages import scan
from pipeline.tools import hadolint, languages, semgrep, trivy
from pipeline.tools.base import CACHE, IN, OUT, SRC
from tests.hostrun import run_on_host
from tests.images import BuiltImage
from tests.unit.report_factories import sarif_schema_path

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
TODAY = datetime.date(2026, 11, 27)


def _mapping(tmp: Path, src: Path) -> dict[str, Path]:
    cache = tmp / "cache"
    db = cache / "trivy" / "db"
    db.mkdir(parents=True)
    for name in ("trivy.db", "metadata.json"):
        shutil.copy(FIXTURES / "trivy-db" / name, db / name)
    return {
        SRC: src,
        OUT: tmp / "out",
        CACHE: cache,
        scan.RULES_DIR: ROOT / "pipeline" / "rules" / "semgrep",
        scan.INVENTORY_DIR: ROOT / "pipeline" / "rules" / "inventory",
    }


def run_source_scanners(tmp: Path, project: Path, cfg: config.Config) -> tuple[ToolRun, ...]:
    src = tmp / "src"
    shutil.copytree(project, src)
    mapping = _mapping(tmp, src)
    runs: list[ToolRun] = []
    files = [str(p.relative_to(src)) for p in src.rglob("*") if p.is_file()]
    for name in cfg.scanners:
        if name in languages.ANALYZER_FILES and not languages.needed(name, files, cfg.skip_paths):
            continue  # as the stage: bandit / njsscan only where the tree has their language
        inv = scan.invocation(name, cfg)
        got = run_on_host(inv, mapping)
        inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)  # raises on a tool failure
        if name == "hadolint":
            hadolint.check_stderr(got.stderr)
        sarif = (tmp / "out" / Path(semgrep.SARIF_REPORT).name).read_text() if name == "semgrep" else None
        runs.append(scan.parse(name, got.report, cfg, got.invocation, sarif=sarif))  # as the stage reads them
    return tuple(runs)


def gate(
    findings: tuple[Finding, ...],
    cfg: config.Config,
    *,
    facts: tuple[ImageFacts, ...] = (),
    exceptions: tuple[dict[str, object], ...] = (),
) -> tuple[Verdict, dict[str, object]]:
    build = (
        BuildFacts(config_digests=tuple((f.platform, f.config_digest) for f in facts), image="localhost/app")
        if facts
        else None
    )
    doc = build_input(
        findings,
        sbom=None,
        facts=facts,
        build=build,
        config=gate_config_from(cfg.gate),
        exceptions=parse_exceptions(exceptions),
        today=TODAY,
    )
    return read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)), doc


def test_bad_project_fails_the_gate_with_one_reason_per_category(tmp_path: Path) -> None:
    cfg = config.load(None)
    runs = run_source_scanners(tmp_path, FIXTURES / "bad-project", cfg)
    findings = merge_findings(f for r in runs for f in r.findings)
    verdict, _ = gate(findings, cfg)
    assert not verdict.passed
    denied = {r.rule_id: r for r in verdict.denials}
    assert set(denied) == {
        "threshold.sast",
        "threshold.secret",
        "threshold.dependency",
        "threshold.misconfiguration",
    }
    by_fp = {f.fingerprint: f for f in findings}
    for rule_id, category in (
        ("threshold.sast", "sast"),
        ("threshold.secret", "secret"),
        ("threshold.dependency", "dependency"),
        ("threshold.misconfiguration", "misconfiguration"),
    ):
        reason = denied[rule_id]
        assert reason.message and reason.remedy
        assert reason.findings, rule_id
        assert {by_fp[fp].category.value for fp in reason.findings} == {category}
    # the same secret found by gitleaks and trivy is one finding, reported by both
    secrets = [f for f in findings if f.category.value == "secret"]
    assert any(set(f.tools) == {"gitleaks", "trivy"} for f in secrets)
    # the four fixture CVEs, each once, with fixed versions
    cves = {(f.rule_id, f.package.fixed_version) for f in findings if f.package and f.rule_id.startswith("CVE")}
    assert cves == {
        ("CVE-2018-18074", "2.20.0"),
        ("CVE-2019-10906", "2.10.1"),
        ("CVE-2019-11324", "1.24.2"),
        ("CVE-2020-1747", "5.3.1"),
    }


def test_clean_example_passes_the_gate(tmp_path: Path) -> None:
    cfg = config.load(None)
    runs = run_source_scanners(tmp_path, ROOT / "examples" / "app", cfg)
    findings = merge_findings(f for r in runs for f in r.findings)
    verdict, _ = gate(findings, cfg)
    assert verdict.passed, verdict.denials


def test_scanning_twice_gives_byte_identical_reports_and_valid_sarif(tmp_path: Path) -> None:
    cfg = config.load(None)
    outputs: list[dict[str, bytes]] = []
    for i in range(2):
        runs = run_source_scanners(tmp_path / str(i), FIXTURES / "bad-project", cfg)
        findings = merge_findings(f for r in runs for f in r.findings)
        verdict, _ = gate(findings, cfg)
        outputs.append(write_reports(runs, findings, verdict))
    assert outputs[0] == outputs[1]
    sarif = json.loads(outputs[0]["seaworthy.sarif"])
    schema = json.loads(sarif_schema_path().read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)
    assert {run["tool"]["driver"]["name"].lower() for run in sarif["runs"]} >= {"gitleaks", "hadolint", "trivy"}
    # nothing the gitleaks fixture holds leaks into any report
    for secret in ("AKIAQYLPMN5HHHFPZAM2", "ghp_"):
        for name, data in outputs[0].items():
            assert secret.encode() not in data, (secret, name)


def _image_findings(tmp: Path, image: BuiltImage) -> tuple[ToolRun, ImageFacts]:
    """trivy's image scan of the real image (fixture DB, offline) and the image's facts, as the stages read them."""
    mapping = _mapping(tmp, tmp)
    mapping[f"{IN}/image.tar"] = image.docker_archive
    inv = trivy.image_scan(input_path=f"{IN}/image.tar", db=trivy.DbOptions(offline=True))
    got = run_on_host(inv, mapping)
    inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)
    facts = oci.read_image_facts(image.oci_dir)
    assert image.context is not None
    base = final_base((image.context / "Dockerfile").read_text(), build_args=dict(image.build_args))
    run = trivy.parse(got.report, mode="image")
    # trivy names the config digest it scanned: the very one the build's export carries
    assert run.subject == facts.config_digest == image.config_digest
    return run, attrs.evolve(facts, base_image=base.ref, base_pin=base.pin)


def test_vulnerable_image_fails_on_exactly_the_fixture_advisories_and_its_root_user(
    tmp_path: Path, vulnerable_app_image: BuiltImage
) -> None:
    cfg = config.load(None)
    run, facts = _image_findings(tmp_path, vulnerable_app_image)
    findings = merge_findings(run.findings)
    verdict, _ = gate(findings, cfg, facts=(facts,))
    assert not verdict.passed
    denied = {r.rule_id: r for r in verdict.denials}
    assert {"threshold.image-vulnerability", "image.root-user", "image.labels"} <= set(denied)
    by_fp = {f.fingerprint: f for f in findings}
    flagged = {
        (f.rule_id, f.package.name)
        for f in (by_fp[fp] for fp in denied["threshold.image-vulnerability"].findings)
        if f.package is not None
    }
    assert flagged == {
        ("CVE-2099-0001", "libc6"),
        ("CVE-2099-0001", "libc-bin"),
        ("CVE-2019-10906", "Jinja2"),
        ("CVE-2019-11324", "urllib3"),
        ("CVE-2022-24999", "qs"),
    }  # requests' CVE-2018-18074 and express' CVE-2024-29041 are MEDIUM in the fixture DB: below HIGH


def test_clean_example_image_passes_with_a_reviewed_exception_for_the_base_advisory(
    tmp_path: Path, example_app_image: BuiltImage
) -> None:
    cfg = config.load(None)
    run, facts = _image_findings(tmp_path, example_app_image)
    findings = merge_findings(run.findings)
    failing, _ = gate(findings, cfg, facts=(facts,))
    assert [r.rule_id for r in failing.denials] == ["threshold.image-vulnerability"]
    waiver = {
        "target": ["CVE-2099-0001"],
        "owner": "platform-team",
        "reason": "fixture advisory for the Debian base; rebuilt when the fix ships",
        "expires": datetime.date(2026, 12, 31),
    }
    verdict, _ = gate(findings, cfg, facts=(facts,), exceptions=(waiver,))
    assert verdict.passed, verdict.denials
    assert any("exception applied: exceptions[0]" in n for n in verdict.notes)
    expired = {**waiver, "expires": datetime.date(2026, 11, 1)}
    verdict, _ = gate(findings, cfg, facts=(facts,), exceptions=(expired,))
    assert "exception.expired" in {r.rule_id for r in verdict.denials}
