"""The Rego gate rule by rule: how long regorus takes for each rule of the bundled policies on a large input.

    .venv/bin/python benchmarks/bench_rules.py [N_FINDINGS] [N_EXCEPTIONS]

The input is benchmarks/bench_gate.py's (N findings of every category, N_EXCEPTIONS path-scoped exceptions,
2,000 SBOM components). Prints the CPU seconds (this process: regorus runs in it here, without the fork the
gate uses) of validating the document, of regorus reading it, and of evaluating each rule below on a fresh
clone of the loaded engine (so each figure includes the rules it reads: `covered` is in `_over_at`, the one
pass the threshold rules take, which `over_threshold` and thresholds.deny read; `malformed` checks every
reason of `candidates`...), then the whole gate. `findings` and `over_threshold` are for user policies: the
bundled rules do not build them. `count(...)` keeps the result small: the figures are the
evaluation's, not the output's. A rule that takes a pass over the findings costs regorus a few microseconds
per finding; this is where to look first when the gate gets slower.
"""

from __future__ import annotations

import datetime
import sys
import time
from typing import Any

import regorus
from bench_gate import findings

from pipeline.model import BasePin, Component, ImageFacts, SbomSummary
from pipeline.model_gate import BuildFacts
from pipeline.policy.config import GateConfig
from pipeline.policy.engine import BUNDLED_POLICY_DIR, policy_files, read_policy_text
from pipeline.policy.exceptions import parse_exceptions
from pipeline.policy.input import build_input, gate_input_text
from pipeline.policy.schema import validate_gate_input

RULES = (
    "count(data.seaworthy.lib.by_target)",
    "count(data.seaworthy.lib.covered)",
    "count(data.seaworthy.lib.findings)",
    "count(data.seaworthy.lib.license_listed_findings)",
    "count(data.seaworthy.lib._set_aside)",
    "count(data.seaworthy.lib._over_at)",
    "count(data.seaworthy.lib.over_threshold)",
    "count(data.seaworthy.rules.thresholds.deny)",
    "count(data.seaworthy.rules.licenses._from_findings)",
    "count(data.seaworthy.rules.licenses.deny)",
    "count(data.seaworthy.rules.dev_dependencies._dev_hits)",
    "count(data.seaworthy.rules.image.deny)",
    "count(data.seaworthy.rules.coverage.warn)",
    "count(data.seaworthy.collect.candidates)",
    "count(data.seaworthy.gate.malformed)",
    "count(data.seaworthy.gate.exceptions_applied)",
    "count(data.seaworthy.gate.deny)",
    "data.seaworthy.gate",
)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_exc = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    waivers = parse_exceptions(
        [
            {"target": f"rule-{i}", "path": "src/mod1*/**", "owner": "o", "reason": "r", "expires": "2030-01-01"}
            for i in range(n_exc)
        ]
    )
    comps = tuple(
        Component(f"c{i}", "1", licenses=("MIT OR GPL-2.0-only",) if i % 2 else ("GPL-3.0-only",)) for i in range(2000)
    )
    doc = build_input(
        findings(n),
        sbom=SbomSummary("cyclonedx", "1.6", comps),
        facts=[ImageFacts("sha256:" + "a" * 64, user="app", base_image="x:1", base_pin=BasePin.TAG)],
        build=BuildFacts((("linux/amd64", "sha256:" + "a" * 64),), platforms=("linux/amd64",)),
        config=GateConfig(),
        exceptions=waivers,
        today=datetime.date(2026, 6, 1),
    )
    text = gate_input_text(doc)
    print(f"findings={n} exceptions={n_exc} input={len(text) / 1e6:.1f} MB (CPU seconds)")
    c = time.process_time()
    validate_gate_input(doc)
    print(f"{'schema validation':60} {time.process_time() - c:6.3f}")
    engine: Any = regorus.Engine()  # pyright: ignore[reportAttributeAccessIssue]  (untyped extension module)
    for path in policy_files(BUNDLED_POLICY_DIR):
        engine.add_policy(str(path), read_policy_text(path))
    c = time.process_time()
    engine.set_input_json(text)
    print(f"{'regorus reads the input (set_input_json)':60} {time.process_time() - c:6.3f}")
    for query in RULES:
        fresh: Any = engine.clone()
        c = time.process_time()
        fresh.eval_query_as_json(query)
        print(f"{query:60} {time.process_time() - c:6.3f}", flush=True)


if __name__ == "__main__":
    main()
