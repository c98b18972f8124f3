"""Side by side, in one run: what `ship` does with a trivy report against `trivy convert --format sarif`.

    .venv/bin/python benchmarks/bench_vs_trivy.py [--sizes 1000,10000,100000] [--repeat 3]

For each size, one trivy image report (benchmarks/bench_pipeline.py's generator: N vulnerabilities over
2,000 packages, one in ten reported twice) is written to a file, then timed: wall seconds and CPU seconds
(user + system of this process and of the children it reaped, from os.times(): the gate's regorus child
included), the median of --repeat runs (default 3; --repeat-large for 100k and more, where trivy convert
alone takes a minute or more a run), each command after one untimed run (trivy's only below 100k):

- Seaworthy, in process, the steps `ship` runs on it: read the file, `trivy.parse`, `merge_findings`,
  `build_input`, the gate-input.json text ship writes (`json.dumps(..., sort_keys=True)`), the Rego
  gate on the bundled policies (regorus: OPA, which ship runs in a container, cannot run here),
  `read_verdict`, and `render_sarif` (seaworthy.sarif);
- Seaworthy in a fresh process (`--once FILE`): the same plus the interpreter start and the imports, with
  the bytecode cache written as an installation has it (PYTHONDONTWRITEBYTECODE is dropped for the child);
- trivy: `trivy convert --format sarif --output … FILE` (the real binary, a fresh process each time).

Prints a table with the growth factor from each size to the next. Asserts nothing (a shared machine).
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
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
    from pipeline.policy.input import build_input, gate_input_text
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
    input_text = gate_input_text(doc)  # the gate-input.json ship writes and hands to the engine
    lap("gate input")
    # as ship: the built document validated as it is, its gate-input.json text handed to the engine
    verdict = read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc, input_text=input_text))
    lap("rego gate")
    sarif = render_sarif([run], merged)
    lap("sarif")
    assert not verdict.passed
    return steps, len(merged), sarif.results


def cpu_seconds() -> float:
    """CPU time of this process and of its reaped children (the gate's forked regorus child, a command)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def median_run(
    argv: list[str], repeat: int, env: dict[str, str] | None = None, *, warm: bool = True
) -> tuple[float, float]:
    """(wall, CPU) seconds of a command: the median of `repeat` runs each (CPU = user + system of the child),
    after one untimed run when `warm` (files in the page cache, Python's bytecode cache written)."""
    if warm:
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(repeat):
        c0 = cpu_seconds()
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        walls.append(time.perf_counter() - t0)
        cpus.append(cpu_seconds() - c0)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--repeat", type=int, default=3, help="runs per size below 100k (the median is kept)")
    ap.add_argument("--repeat-large", type=int, default=1, help="runs per size from 100k (the median is kept)")
    ap.add_argument("--once", help="run the Seaworthy path once on this report file and exit")
    ap.add_argument("--write", nargs=2, metavar=("N", "FILE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.once:
        seaworthy_path(Path(args.once))
        return
    if args.write:
        from bench_pipeline import trivy_report

        Path(args.write[1]).write_text(trivy_report(int(args.write[0])), encoding="utf-8")
        return

    trivy_bin = str(ROOT / ".venv" / "bin" / "trivy")
    rows: list[tuple[int, tuple[float, float], tuple[float, float], tuple[float, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            repeat = args.repeat if n < 100_000 else args.repeat_large  # trivy convert takes minutes at 100k
            report = Path(tmp) / f"trivy-{n}.json"
            # written by a child: generating 100k entries here would leave this process's allocator slower for
            # the parse that follows (benchmarks/bench_trivy_parse.py: 1.3-1.6 s against 0.75 s)
            subprocess.run([sys.executable, __file__, "--write", str(n), str(report)], check=True)
            runs: list[tuple[float, float, dict[str, float]]] = []
            merged = results = 0
            for _ in range(repeat):
                c0 = cpu_seconds()
                steps, merged, results = seaworthy_path(report)
                runs.append((sum(steps.values()), cpu_seconds() - c0, steps))
            wall = statistics.median(r[0] for r in runs)
            cpu = statistics.median(r[1] for r in runs)
            step_median = {k: statistics.median(r[2][k] for r in runs) for k in runs[0][2]}
            # as installed: pip writes bytecode at install; PYTHONDONTWRITEBYTECODE (set on some CI machines)
            # would make every fresh process compile the pipeline's modules again (about 0.2 s)
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            fresh = median_run([sys.executable, __file__, "--once", str(report)], repeat, env)
            out = Path(tmp) / "trivy.sarif"
            trivy_s = median_run(
                [trivy_bin, "convert", "--quiet", "--format", "sarif", "--output", str(out), str(report)],
                repeat,
                warm=n < 100_000,  # a warm-up run of trivy at 100k would take minutes
            )
            rows.append((n, (wall, cpu), fresh, trivy_s))
            print(
                f"{n:>7} findings: "
                + " ".join(f"{k} {v:.3f}" for k, v in step_median.items())
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
