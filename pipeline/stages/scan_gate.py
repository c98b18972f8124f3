"""`scan`'s verdict: the same Rego gate `ship` evaluates, over what a source scan has (no image, no SBOM).

The image rules (user, labels, base pin, digests, SBOM) need image facts and stay silent without them; every
finding rule (thresholds per category, secrets, licences, development dependencies, SAST coverage) and
every exception applies as in `ship`. So a project whose findings would stop `ship` fails `scan` too.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any

import attrs
import dagger

from pipeline.config import Config
from pipeline.formats.dev_install import dev_install
from pipeline.model import Finding, ToolRun, Verdict
from pipeline.model_gate import Exception_
from pipeline.policy.config import gate_config_from
from pipeline.policy.input import build_input, gate_input_text
from pipeline.stages import gate as gate_stage
from pipeline.stages import ship as ship_stage


@attrs.frozen
class ScanVerdict:
    verdict: Verdict
    input_text: str
    """gate-input.json as evaluated."""


def source_gate_input(
    findings: Sequence[Finding],
    runs: Sequence[ToolRun],
    cfg: Config,
    *,
    exceptions: Sequence[Exception_],
    today: datetime.date,
    dockerfile_text: str | None,
) -> dict[str, Any]:
    """The gate input of a source-only scan (pure): no SBOM, no image facts, no build."""
    return build_input(
        findings,
        sbom=None,
        facts=(),
        build=None,
        config=gate_config_from(cfg.gate, relaxations=cfg.relaxations(), source=cfg.source_file),
        exceptions=exceptions,
        today=today,
        runs=runs,
        dev=dev_install(dockerfile_text, path=cfg.build.dockerfile),
    )


async def evaluate(
    source: dagger.Directory,
    cfg: Config,
    runs: Sequence[ToolRun],
    findings: Sequence[Finding],
    *,
    today: datetime.date,
    user_policy: dagger.Directory | None = None,
) -> ScanVerdict:
    """Evaluate the bundled policies (plus seaworthy.toml's gate.policy_dirs and the caller's `user_policy`
    folder) over the scan's findings."""
    exceptions = await ship_stage.load_exceptions_for(source, cfg)
    text: str | None = None
    if await source.exists(cfg.build.dockerfile, expected_type=dagger.ExistsType.REGULAR_TYPE):
        text = await source.file(cfg.build.dockerfile).contents()
    doc = source_gate_input(findings, runs, cfg, exceptions=exceptions, today=today, dockerfile_text=text)
    input_text = gate_input_text(doc)  # the same writer as ship's gate-input.json
    user_policies = [(d, source.directory(d)) for d in cfg.gate.policy_dirs]
    if user_policy is not None:
        user_policies.append(("--policy", user_policy))
    verdict = await gate_stage.evaluate_built(doc, input_text, user_policies=user_policies)
    return ScanVerdict(verdict, input_text)
