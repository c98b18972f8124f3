"""Issue 8: no trivy setting hides a finding from the gate. Real trivy 0.76.0 on the host, the fixture DB,
the real parser and the real Rego gate (regorus).

The old `[scan.trivy] severities = ["HIGH"]` reached trivy as `--severity HIGH` and made the CRITICAL
CVE-2020-1747 disappear, so the gate passed. Now the key is refused, the argv the pipeline builds from any
accepted configuration carries no severity or fixed-only filter, and the CRITICAL is denied by name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline import config
from pipeline.errors import ConfigError
from pipeline.model import Category, Severity
from pipeline.policy.config import gate_config_from
from pipeline.stages import scan as scan_stage
from pipeline.tools import trivy
from tests.contract.test_trivy_fs import BAD_PROJECT, copy_tree, run, seed_cache
from tests.policy_helpers import evaluate, ids

pytestmark = pytest.mark.contract


@pytest.mark.parametrize(
    "text",
    [
        '[scan.trivy]\nseverities = ["HIGH"]',
        '[scan.trivy]\nseverities = ["HIGH", "MEDIUM"]',
        "[scan.trivy]\nignore_unfixed = true",
    ],
)
def test_the_tool_side_filters_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match=r"would hide .* from the gate; remove"):
        config.load(text)


def test_a_critical_is_reported_and_gated_whatever_the_configuration(tmp_path: Path) -> None:
    # the strictest relaxation a user can still write: gate only on CRITICAL, only on fixable ones
    cfg = config.load('[gate]\nthresholds = { dependency = "CRITICAL" }\nfixable_only = true')
    inv = scan_stage.invocation("trivy", cfg)
    assert "--severity" not in inv.argv
    assert "--ignore-unfixed" not in inv.argv
    src = copy_tree(BAD_PROJECT, tmp_path / "src")
    res, found = run(inv, tmp_path, src=src, cache=seed_cache(tmp_path))
    assert found
    run_ = trivy.parse(res.report, mode="fs")
    deps = {f.rule_id: f.severity for f in run_.findings if f.category is Category.DEPENDENCY}
    # every severity reaches the gate, not only the ones that fail it
    assert deps == {
        "CVE-2018-18074": Severity.MEDIUM,
        "CVE-2019-10906": Severity.HIGH,
        "CVE-2019-11324": Severity.HIGH,
        "CVE-2020-1747": Severity.CRITICAL,
    }
    dep_findings = [f for f in run_.findings if f.category is Category.DEPENDENCY]
    gate_cfg = gate_config_from(cfg.gate, relaxations=cfg.relaxations(), source=cfg.source_file)
    verdict, _ = evaluate(dep_findings, config=gate_cfg)
    assert ids(verdict.denials) == ["threshold.dependency"]
    (denial,) = verdict.denials
    assert denial.message.startswith("1 dependency finding(s) at CRITICAL or above with a fix available: ")
    assert "CVE-2020-1747 at PyYAML 5.3" in denial.message
    # and the verdict says what was relaxed, by key
    assert sorted(r.message for r in verdict.warnings if r.rule_id == "config.relaxed") == [
        "seaworthy.toml: gate.fixable_only = true relaxes the gate: dependency and image-vulnerability findings "
        "without a fixed version do not fail the gate",
        'seaworthy.toml: gate.thresholds.dependency = "CRITICAL" relaxes the gate: dependency findings below '
        "CRITICAL do not fail the gate",
    ]
