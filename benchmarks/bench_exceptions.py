"""How long exception matching takes in the Rego gate (regorus, the bundled policies): issue 8's target is
linear time, 10,000 exceptions x 100,000 findings.

    .venv/bin/python benchmarks/bench_exceptions.py [N_FINDINGS] [N_EXCEPTIONS]

Every exception names a finding id that occurs in the input (ids repeat every 5,000 findings), with a mix of
scopes: none, package (+ version), path glob, image glob, and some name fingerprints. Prints the time of
build_input (with the gate-input.json text) and of the regorus evaluation (CPU seconds from os.times(), the
forked regorus child included; wall seconds in brackets), and how many findings the exceptions waived. Linear
time shows as x2 from (N, E) to (2N, 2E).
"""

from __future__ import annotations

import datetime
import os
import sys
import time

from pipeline.model import Category, Finding, Location, Package, Severity, merge_findings
from pipeline.model_gate import BuildFacts
from pipeline.policy.config import GateConfig
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.exceptions import parse_exceptions
from pipeline.policy.input import build_input, gate_input_text
from pipeline.policy.verdict import read_verdict

IDS = 5000


def findings(n: int) -> list[Finding]:
    out: list[Finding] = []
    for i in range(n):
        vuln = i % 2 == 0
        pkg = (
            Package(f"pkg{i % 700}", f"1.{i % 7}", "pypi", f"pkg:pypi/pkg{i % 700}@1.{i % 7}", "2.0") if vuln else None
        )
        out.append(
            Finding(
                category=Category.DEPENDENCY if vuln else Category.SAST,
                rule_id=f"CVE-2024-{i % IDS:05d}" if vuln else f"rule-{i % IDS}",
                severity=Severity(i % 6),
                message="m",
                tools=("trivy" if vuln else "semgrep",),
                locations=(Location(f"src/mod{i % 100}/file{i}.py", i % 400 + 1),),
                package=pkg,
            )
        )
    return out


def exception_tables(n: int, fs: list[Finding]) -> list[dict[str, object]]:
    tables: list[dict[str, object]] = []
    for i in range(n):
        kind = i % 5
        vuln = i % 2 == 0
        target = f"CVE-2024-{i % IDS:05d}" if vuln else f"rule-{i % IDS}"
        t: dict[str, object] = {"target": [target], "owner": "o", "reason": "r", "expires": "2026-12-31"}
        if kind == 1 and vuln:
            t["package"] = f"PKG{i % 700}"
            t["version"] = f"1.{i % 7}"
        elif kind == 2:
            t["path"] = f"src/mod{i % 100}/**"
        elif kind == 3:
            t["image"] = "registry.example/*"
        elif kind == 4:
            t["target"] = [fs[(i * 7919) % len(fs)].fingerprint]
        tables.append(t)
    return tables


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the gate's forked regorus child)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_exc = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    fs = list(merge_findings(findings(n)))  # as ship: one finding per fingerprint (the gate refuses two)
    waivers = parse_exceptions(exception_tables(n_exc, fs))
    build = BuildFacts(image="registry.example/app")
    c0, t0 = cpu_seconds(), time.perf_counter()
    doc = build_input(
        fs, sbom=None, facts=(), build=build, config=GateConfig(), exceptions=waivers, today=datetime.date(2026, 6, 1)
    )
    text = gate_input_text(doc)
    c1, t1 = cpu_seconds(), time.perf_counter()
    # as ship: the built document validated as it is, its gate-input.json text evaluated
    result = evaluate_with_regorus([BUNDLED_POLICY_DIR], doc, input_text=text)
    c2, t2 = cpu_seconds(), time.perf_counter()
    verdict = read_verdict(result)
    waived = {fp for a in result.get("exceptions_applied", []) for fp in a["findings"]}
    print(f"findings={n} ({len(fs)} merged) exceptions={n_exc} (CPU seconds, this process and the regorus child; wall)")
    print(f"build_input + gate-input.json  {c1 - c0:6.2f} s ({t1 - t0:.2f})")
    print(f"regorus (validate+load+eval)   {c2 - c1:6.2f} s ({t2 - t1:.2f})")
    print(f"waived findings={len(waived)} exceptions applied={len(result.get('exceptions_applied', []))}")
    print(f"denials={[r.rule_id for r in verdict.denials]} notes={len(verdict.notes)}")


if __name__ == "__main__":
    main()
