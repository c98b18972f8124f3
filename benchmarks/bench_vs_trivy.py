"""Side by side, in one run: what `ship` does with a trivy report against `trivy convert --format sarif`.

    .venv/bin/python benchmarks/bench_vs_trivy.py [--sizes 1000,10000,100000] [--repeat 3]

For each size, one trivy image report (benchmarks/bench_pipeline.py's generator: N vulnerabilities over
2,000 packages, one in ten reported twice) is written to a file, then timed (wall and CPU seconds, best of
--repeat runs below 100k findings, one run from 100k: trivy convert alone takes minutes there):

- Seaworthy, in process, the steps `ship` runs on it: read the file, `trivy.parse`, `merge_findings`,
  `build_input`, the gate-input.json text ship writes (`json.dumps(..., sort_keys=True)`), the Rego
  gate on the bundled policies (regorus: OPA, which ship runs in a container, cannot run here),
  `read_verdict`, and `render_sarif` (seaworthy.sarif);
- Seaworthy in a fresh process (`--once FILE`): the same plus the interpreter start and the imports;
- trivy: `trivy convert --format sarif --output … FILE` (the real binary, a fresh process each time).

Prints a table with the growth factor from each size to the next. Asserts nothing (a shared machine).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def seaworthy_path(report: Path) -> tuple[dict[str, float], int, int]:
    """The ship path on one trivy report file: (seconds per step, merged findings, SARIF results)."""
    from pipeline.formats.sarif import render_sarif
    from pipeline.model import merge_findings
    from pipeline.policy.config import GateConfig
    from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
    from pipeline.policy.input import build_input
    from pipeline.policy.verdict import read_verdict
    from pipeline.tools import trivy

    steps: dict[str, float] = {}
    t = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t
        now = time.perf_counter()
        steps[name] = now - t
        t = now

    text = report.read_text(encoding="utf-8")
    run = trivy.parse(text, mode="image")
    lap("parse")
    merged = merge_findings(run.findings)
    lap("merge")
    doc = build_input(
        merged,
        sbom=None,
        facts=(),
        build=None,
        config=GateConfig(),
        exceptions=(),
        today=datetime.date(2026, 12, 1),
    )
    input_text = json.dumps(doc, sort_keys=True) + "\n"  # the gate-input.json ship writes and hands to OPA
    lap("gate input")
    # as ship: the built document validated as it is, its gate-input.json text handed to the engine
    verdict = read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc, input_text=input_text))
    lap("rego gate")
    sarif = render_sarif([run], merged)
    lap("sarif")
    assert not verdict.passed
    return steps, len(merged), sarif.results


def best_run(argv: list[str], repeat: int) -> tuple[float, float]:
    """(wall, CPU) seconds of a command: the best of `repeat` runs each (CPU = user + system of the child)."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        best_wall = min(best_wall, time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        best_cpu = min(best_cpu, cpu)
    return best_wall, best_cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size below 100k (best is kept); 1 from 100k")
    ap.add_argument("--once", help="run the Seaworthy path once on this report file and exit")
    args = ap.parse_args()
    if args.once:
        seaworthy_path(Path(args.once))
        return
    from bench_pipeline import trivy_report

    trivy_bin = str(ROOT / ".venv" / "bin" / "trivy")
    rows: list[tuple[int, tuple[float, float], tuple[float, float], tuple[float, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            repeat = args.repeat if n < 100_000 else 1  # trivy convert alone takes minutes at 100k
            report = Path(tmp) / f"trivy-{n}.json"
            report.write_text(trivy_report(n), encoding="utf-8")
            best: dict[str, float] = {}
            wall = cpu = float("inf")
            merged = results = 0
            for _ in range(repeat):
                c0 = time.process_time()
                steps, merged, results = seaworthy_path(report)
                cpu = min(cpu, time.process_time() - c0)
                if sum(steps.values()) < wall:
                    wall, best = sum(steps.values()), steps
            fresh = best_run([sys.executable, __file__, "--once", str(report)], repeat)
            out = Path(tmp) / "trivy.sarif"
            trivy_s = best_run(
                [trivy_bin, "convert", "--quiet", "--format", "sarif", "--output", str(out), str(report)], repeat
            )
            rows.append((n, (wall, cpu), fresh, trivy_s))
            print(
                f"{n:>7} findings: "
                + " ".join(f"{k} {v:.3f}" for k, v in best.items())
                + f" | seaworthy {wall:.3f} s ({cpu:.3f} CPU), fresh process {fresh[0]:.3f} s ({fresh[1]:.3f} CPU)"
                f" | trivy convert {trivy_s[0]:.3f} s ({trivy_s[1]:.3f} CPU)"
                f" | {merged} merged, {results} SARIF results",
                flush=True,
            )
    print()
    print(
        "| findings | Seaworthy in process: wall (CPU) | growth | Seaworthy, fresh process: wall (CPU) | growth "
        "| `trivy convert --format sarif`: wall (CPU) | growth |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    prev: tuple[float, float, float] | None = None
    for n, own, fresh, trivy_s in rows:
        now = (own[0], fresh[0], trivy_s[0])
        g = ("", "", "") if prev is None else tuple(f"x{a / b:.1f}" for a, b in zip(now, prev, strict=True))
        print(
            f"| {n:,} | {own[0]:.2f} s ({own[1]:.2f}) | {g[0]} | {fresh[0]:.2f} s ({fresh[1]:.2f}) | {g[1]} "
            f"| {trivy_s[0]:.2f} s ({trivy_s[1]:.2f}) | {g[2]} |"
        )
        prev = now
    print(
        f"\ngrowth: wall time from the previous size. machine: {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
