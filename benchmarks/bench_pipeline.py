"""Parse, deduplicate and gate a large trivy report as `ship` does, and parse/normalize a large SBOM.

    .venv/bin/python benchmarks/bench_pipeline.py [--sizes 10000,30000,100000] [--components 20000]

Prints CPU seconds (user + system time of this process and of the regorus child it forks, from os.times(): less
sensitive to a busy machine than wall time) for each
step at each size, and the growth factor from the smallest to the largest size (linear = the size ratio).
Targets (issue 8): 100k findings parsed (json.loads included) and merged in 1 s or less; the Rego gate `ship`
runs over them in 3 s or less: the input document, its gate-input.json text, the bundled policies evaluated
(regorus here: OPA, which ship runs in a container, cannot run here) and the verdict read back.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipeline.formats import cyclonedx
from pipeline.model import merge_findings
from pipeline.policy.config import GateConfig
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.input import build_input, gate_input_text
from pipeline.policy.verdict import read_verdict
from pipeline.tools import trivy


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children: the gate evaluates regorus in a forked child
    (pipeline.policy.engine), whose time time.process_time() would leave out."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def trivy_report(n: int) -> str:
    """A trivy image report with `n` vulnerabilities over 2,000 packages, 1 in 10 duplicated across targets."""
    vulns: list[dict[str, Any]] = []
    for i in range(n):
        pkg = f"pkg{i % 2000}"
        vulns.append(
            {
                "VulnerabilityID": f"CVE-2024-{i % (n - n // 10 or 1):06d}",
                "PkgName": pkg,
                "PkgIdentifier": {"PURL": f"pkg:pypi/{pkg}@1.0"},
                "InstalledVersion": "1.0",
                "FixedVersion": "1.1" if i % 3 else "",
                "Severity": ("LOW", "MEDIUM", "HIGH", "CRITICAL")[i % 4],
                "Title": f"{pkg}: a problem",
                "PrimaryURL": f"https://avd.aquasec.com/nvd/cve-2024-{i:06d}",
            }
        )
    half = n // 2
    doc = {
        "SchemaVersion": 2,
        "ArtifactName": "/in/image.tar",
        "ArtifactType": "container_image",
        "Results": [
            {"Target": "app/requirements.txt", "Class": "lang-pkgs", "Type": "pip", "Vulnerabilities": vulns[:half]},
            {"Target": "opt/venv", "Class": "lang-pkgs", "Type": "python-pkg", "Vulnerabilities": vulns[half:]},
        ],
    }
    return json.dumps(doc)


def sbom(n: int) -> str:
    comps = [
        {
            "bom-ref": f"pkg:deb/debian/p{i}@1.{i}",
            "type": "library",
            "name": f"p{i}",
            "version": f"1.{i}",
            "purl": f"pkg:deb/debian/p{i}@1.{i}",
            "licenses": [{"license": {"id": "MIT"}}],
        }
        for i in range(n)
    ]
    return json.dumps(
        {
            "bomFormat": "CycloneDX",
            "specVersion": "1.6",
            "serialNumber": "urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            "version": 1,
            "metadata": {"timestamp": "2026-11-27T00:00:00Z"},
            "components": comps[::-1],
            "dependencies": [{"ref": c["bom-ref"], "dependsOn": []} for c in comps],
        }
    )


def cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = cpu_seconds()
    value = fn()
    return cpu_seconds() - start, value


def rego_gate(merged: Any) -> Any:
    """What ship does from the merged findings to the verdict (with regorus in place of OPA)."""
    doc = build_input(
        merged,
        sbom=None,
        facts=(),
        build=None,
        config=GateConfig(),
        exceptions=(),
        today=datetime.date(2026, 11, 27),
    )
    text = gate_input_text(doc)  # the gate-input.json ship writes and hands to the engine
    return read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc, input_text=text))  # as ship: validated once


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,30000,100000")
    ap.add_argument("--components", type=int, default=20000)
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    totals: dict[int, tuple[float, float]] = {}
    print(f"{'findings':>9} {'json':>7} {'parse':>7} {'merge':>7} {'p+m':>7} {'rego':>7} {'total':>7} {'merged':>8}")
    for n in sizes:
        text = trivy_report(n)
        t_json, _ = cpu(lambda text=text: json.loads(text))
        t_parse, run = cpu(lambda text=text: trivy.parse(text, mode="image"))
        t_merge, merged = cpu(lambda run=run: merge_findings(run.findings))
        t_rego, verdict = cpu(lambda merged=merged: rego_gate(merged))
        assert not verdict.passed
        totals[n] = (t_parse + t_merge, t_parse + t_merge + t_rego)
        print(
            f"{n:>9} {t_json:>7.2f} {t_parse:>7.2f} {t_merge:>7.2f} {t_parse + t_merge:>7.2f} {t_rego:>7.2f} "
            f"{t_parse + t_merge + t_rego:>7.2f} {len(merged):>8}"
        )
    lo, hi = min(sizes), max(sizes)
    print(
        f"growth {lo}->{hi}: parse + merge x{totals[hi][0] / totals[lo][0]:.1f}, with the Rego gate "
        f"x{totals[hi][1] / totals[lo][1]:.1f}, for x{hi / lo:.0f} the findings "
        "(CPU seconds; json.loads is included in parse; rego = input document + gate-input.json + evaluation "
        "+ verdict)"
    )
    text = sbom(args.components)
    t_norm, normalized = cpu(lambda: cyclonedx.normalize(text, tool="bench"))
    t_sparse, summary = cpu(lambda: cyclonedx.parse(normalized, tool="bench"))
    print(
        f"SBOM {args.components} components: normalize {t_norm:.2f} s, parse {t_sparse:.2f} s "
        f"({len(summary.components)} components)"
    )


if __name__ == "__main__":
    main()
