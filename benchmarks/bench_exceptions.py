"""How long exception matching takes in the Rego gate (regorus, the bundled policies): issue 8's target is
linear time, 10,000 exceptions x 100,000 findings.

    .venv/bin/python benchmarks/bench_exceptions.py [N_FINDINGS] [N_EXCEPTIONS]

Every exception names a finding id that occurs in the input (ids repeat every 5,000 findings), with a mix of
scopes: none, package (+ version), path glob, image glob, and some name fingerprints. Prints the time of
build_input and of the regorus evaluation, and how many findings the exceptions waived.
"""

from __future__ import annotations

import datetime
import sys
import time

from pipeline.model import Category, Finding, Location, Package, Severity
from pipeline.model_gate import BuildFacts
from pipeline.policy.config import GateConfig
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.exceptions import parse_exceptions
from pipeline.policy.input import build_input
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


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_exc = int(sys.argv[2]) if len(sys.argv) > 2 else 10_000
    fs = findings(n)
    waivers = parse_exceptions(exception_tables(n_exc, fs))
    build = BuildFacts(image="registry.example/app")
    t0 = time.perf_counter()
    doc = build_input(
        fs, sbom=None, facts=(), build=build, config=GateConfig(), exceptions=waivers, today=datetime.date(2026, 6, 1)
    )
    t1 = time.perf_counter()
    result = evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)
    t2 = time.perf_counter()
    verdict = read_verdict(result)
    waived = {fp for a in result.get("exceptions_applied", []) for fp in a["findings"]}
    print(f"findings={n} exceptions={n_exc}")
    print(f"build_input              {t1 - t0:6.2f} s")
    print(f"regorus (load+eval)      {t2 - t1:6.2f} s")
    print(f"waived findings={len(waived)} exceptions applied={len(result.get('exceptions_applied', []))}")
    print(f"denials={[r.rule_id for r in verdict.denials]} notes={len(verdict.notes)}")


if __name__ == "__main__":
    main()
