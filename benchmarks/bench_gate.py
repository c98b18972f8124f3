"""How long the Rego gate `ship` runs takes on a large input (regorus, the bundled policies).

    .venv/bin/python benchmarks/bench_gate.py [N_FINDINGS] [N_EXCEPTIONS] [--trivy]

Prints the CPU seconds (user + system time of this process and of the regorus child it forks, from os.times(): less
sensitive to a busy machine than wall time) of each step
`ship` runs: build the input document, serialize it as gate-input.json, evaluate the gate (regorus here;
OPA in a container in the pipeline, not runnable here) and read the verdict. Target (issue 8): 100k findings
in 3 s or less, all steps included.

The findings are synthetic and share no objects; with --trivy they are what `ship` has from a trivy image
report (benchmarks/bench_pipeline.py's generator, parsed and merged: findings share Package objects,
location tuples and tool tuples, which build_input, gate_input_text and validate_gate_input each handle
once). validate_gate_input, which the gate step runs first, is also timed on its own (an extra call).
"""

from __future__ import annotations

import datetime
import os
import sys
from pathlib import Path

from pipeline.model import (
    BasePin,
    Category,
    Component,
    Finding,
    ImageFacts,
    Location,
    Package,
    SbomSummary,
    Severity,
)
from pipeline.model_gate import BuildFacts
from pipeline.policy.config import GateConfig
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.exceptions import parse_exceptions
from pipeline.policy.input import build_input, gate_input_text
from pipeline.policy.schema import validate_gate_input
from pipeline.policy.verdict import read_verdict


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children: the gate evaluates regorus in a forked child
    (pipeline.policy.engine), whose time time.process_time() would leave out."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def findings(n: int) -> list[Finding]:
    cats = list(Category)
    out: list[Finding] = []
    for i in range(n):
        cat = cats[i % len(cats)]
        pkg = None
        if cat.is_vulnerability or cat is Category.LICENSE:
            pkg = Package(
                f"pkg{i % 500}",
                f"1.{i % 7}",
                "pypi",
                f"pkg:pypi/pkg{i % 500}@1.{i % 7}",
                "2.0" if i % 3 else "",
            )
        out.append(
            Finding(
                category=cat,
                rule_id=f"CVE-2024-{i % 5000:05d}" if cat.is_vulnerability else f"rule-{i % 300}",
                severity=Severity(i % 6),
                message="m",
                tools=("trivy",),
                locations=(Location(f"src/mod{i % 100}/file{i}.py", i % 400 + 1),),
                package=pkg,
            )
        )
    return out


def trivy_findings(n: int) -> list[Finding]:
    """What `ship` has from a trivy image report of `n` vulnerabilities: parsed and merged."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_pipeline import trivy_report

    from pipeline.model import merge_findings
    from pipeline.tools import trivy

    return list(merge_findings(trivy.parse(trivy_report(n), mode="image").findings))


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    n = int(args[0]) if args else 100_000
    n_exc = int(args[1]) if len(args) > 1 else 20
    fs = trivy_findings(n) if "--trivy" in sys.argv else findings(n)
    waivers = parse_exceptions(
        [
            {
                "target": f"rule-{i}",
                "path": "src/mod1*/**",
                "owner": "o",
                "reason": "r",
                "expires": "2030-01-01",
            }
            for i in range(n_exc)
        ]
    )
    comps = tuple(
        Component(f"c{i}", "1", licenses=("MIT OR GPL-2.0-only",) if i % 2 else ("GPL-3.0-only",)) for i in range(2000)
    )
    facts = [ImageFacts("sha256:" + "a" * 64, user="app", base_image="x:1", base_pin=BasePin.TAG)]
    build = BuildFacts((("linux/amd64", "sha256:" + "a" * 64),), platforms=("linux/amd64",))

    t0 = cpu_seconds()
    doc = build_input(
        fs,
        sbom=SbomSummary("cyclonedx", "1.6", comps),
        facts=facts,
        build=build,
        config=GateConfig(),
        exceptions=waivers,
        today=datetime.date(2026, 6, 1),
    )
    t1 = cpu_seconds()
    text = gate_input_text(doc)  # the gate-input.json ship writes and hands to the engine
    t2 = cpu_seconds()
    result = evaluate_with_regorus(
        [BUNDLED_POLICY_DIR], doc, input_text=text
    )  # as ship: the built document validated, its text evaluated
    t3 = cpu_seconds()
    verdict = read_verdict(result)
    t4 = cpu_seconds()
    validate_gate_input(doc)  # again, alone: the part of the gate step before regorus
    t5 = cpu_seconds()
    kind = "trivy-shaped" if "--trivy" in sys.argv else "synthetic"
    print(f"findings={len(fs)} {kind} exceptions={n_exc} components={len(comps)} input={len(text) / 1e6:.1f} MB")
    print("(CPU seconds)")
    print(f"build_input      {t1 - t0:6.2f} s")
    print(f"json.dumps       {t2 - t1:6.2f} s")
    print(f"gate: validate, regorus load + input + eval {t3 - t2:6.2f} s")
    print(f"  (validate_gate_input alone {t5 - t4:6.2f} s)")
    print(f"read_verdict     {t4 - t3:6.2f} s")
    print(f"total            {t4 - t0:6.2f} s")
    print(f"denials={[r.rule_id for r in verdict.denials]} warnings={[r.rule_id for r in verdict.warnings]}")
    print(f"fingerprints in reasons={sum(len(r.findings) for r in verdict.reasons)} notes={len(verdict.notes)}")


if __name__ == "__main__":
    main()
