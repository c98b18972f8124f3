"""How long the Rego gate `ship` runs takes on a large input (regorus, the bundled policies).

    .venv/bin/python benchmarks/bench_gate.py [N_FINDINGS] [N_EXCEPTIONS] [--trivy] [--repeat 3]

Prints the CPU seconds (user + system time of this process and of the regorus child it forks, from os.times(): less
sensitive to a busy machine than wall time) of each step
`ship` runs: build the input document, serialize it as gate-input.json, evaluate the gate (regorus here;
OPA in a container in the pipeline, not runnable here) and read the verdict; and the wall time of them all
(the regorus child reads the text and evaluates while this process validates the document, so wall time can
be below CPU time). Each run is a fresh process; the medians are printed. Target (issue 8): 100k findings in
3 s or less, all steps included; exits 1 when the median CPU or wall time is over it.

The findings are synthetic and share no objects; with --trivy they are what `ship` has from a trivy image
report (benchmarks/bench_pipeline.py's generator, parsed and merged: findings share Package objects,
location tuples and tool tuples, which build_input, gate_input_text and validate_gate_input each handle
once). validate_gate_input, which the gate step runs first, is also timed on its own (an extra call).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
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


def trivy_findings(n: int, report: str | None = None) -> list[Finding]:
    """What `ship` has from a trivy image report of `n` vulnerabilities (the file `report` if given): parsed and
    merged."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_pipeline import trivy_report

    from pipeline.model import merge_findings
    from pipeline.tools import trivy

    text = Path(report).read_text(encoding="utf-8") if report else trivy_report(n)
    return list(merge_findings(trivy.parse(text, mode="image").findings))


def run_once(fs: list[Finding], n_exc: int) -> dict[str, float]:
    """The gate's steps on `fs` as `ship` runs them: CPU seconds of each (this process and the regorus child),
    and the wall seconds of the whole."""
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

    w0 = time.perf_counter()
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
    # as ship: the built document validated (here, while the regorus child reads the text and evaluates)
    result = evaluate_with_regorus([BUNDLED_POLICY_DIR], doc, input_text=text)
    t3 = cpu_seconds()
    verdict = read_verdict(result)
    t4 = cpu_seconds()
    wall = time.perf_counter() - w0
    validate_gate_input(doc)  # again, alone: the part of the gate step this process does
    t5 = cpu_seconds()
    assert not verdict.passed
    return {
        "build_input": t1 - t0,
        "gate_input_text": t2 - t1,
        "evaluate": t3 - t2,
        "read_verdict": t4 - t3,
        "total CPU": t4 - t0,
        "total wall": wall,
        "validate alone": t5 - t4,
        "input MB": len(text) / 1e6,
        "findings": len(fs),
    }


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", nargs="?", type=int, default=100_000)
    ap.add_argument("n_exceptions", nargs="?", type=int, default=20)
    ap.add_argument("--trivy", action="store_true", help="the findings ship has from a trivy report")
    ap.add_argument("--repeat", type=int, default=3, help="runs, each in a fresh process (the median is kept)")
    ap.add_argument("--once", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.once is not None:  # one run in this fresh process: the findings, then the timed steps
        fs = trivy_findings(args.n, args.once or None) if args.trivy else findings(args.n)
        print(json.dumps(run_once(fs, args.n_exceptions)))
        return 0
    runs: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        report = ""
        if args.trivy:  # written once, by a child: generating it in the timed process would slow its allocator
            report = str(Path(tmp) / "trivy.json")
            subprocess.run(
                [
                    sys.executable,
                    str(Path(__file__).resolve().parent / "bench_vs_trivy.py"),
                    "--write",
                    str(args.n),
                    report,
                ],
                check=True,
            )
        for _ in range(args.repeat):
            argv = [sys.executable, __file__, str(args.n), str(args.n_exceptions), "--once", report]
            if args.trivy:
                argv.append("--trivy")
            out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
            runs.append(json.loads(out.strip().splitlines()[-1]))
            print(" ".join(f"{k} {v:.2f}" for k, v in runs[-1].items()), flush=True)
    kind = "trivy-shaped" if args.trivy else "synthetic"
    first = runs[0]
    print(
        f"\nfindings={int(first['findings'])} {kind} exceptions={args.n_exceptions} components=2000 "
        f"input={first['input MB']:.1f} MB; medians of {len(runs)} runs, CPU seconds (this process + the regorus "
        f"child), load average {os.getloadavg()[0]:.1f}"
    )
    for key in ("build_input", "gate_input_text", "evaluate", "read_verdict", "validate alone"):
        print(f"  {key:18} {statistics.median(r[key] for r in runs):6.2f} s")
    cpu = statistics.median(r["total CPU"] for r in runs)
    wall = statistics.median(r["total wall"] for r in runs)
    print(f"  total              {cpu:6.2f} s CPU, {wall:.2f} s wall (target: 3 s)")
    return 0 if max(cpu, wall) <= 3.0 else 1


if __name__ == "__main__":
    sys.exit(main())
