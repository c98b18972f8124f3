"""The gate input of this module's check: the source scan, the image scan, the image facts and the SBOM.

Pure (no Dagger, no I/O): the module's `check` gathers the parts through `pipeline.api` and this turns them
into one `seaworthy.gate-input/v2` document, evaluated by `pipeline.api.gate` (OPA in the engine) or, in the
tests, by regorus with the very same bundled policies.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

from pipeline.config import Config
from pipeline.formats.dockerfile import classify_pin
from pipeline.model import BasePin, ImageFacts, SbomSummary, ToolRun, as_scanned
from pipeline.model_gate import BuildFacts, Exception_
from pipeline.policy.config import gate_config_from
from pipeline.policy.input import build_input
from pipeline.reports import merged_findings


def facts_from_json(text: str, *, base_image: str) -> tuple[ImageFacts, ...]:
    """The image facts `pipeline.api.facts` returns (JSON), with the base image this module's build starts
    from: a build without a Dockerfile has no FROM line for Seaworthy to read it from."""
    out: list[ImageFacts] = []
    for item in json.loads(text):
        out.append(
            ImageFacts(
                config_digest=item["config_digest"],
                platform=item["platform"],
                user=item["user"],
                entrypoint=tuple(item["entrypoint"]),
                cmd=tuple(item["cmd"]),
                exposed_ports=tuple(item["exposed_ports"]),
                labels=tuple(sorted(item["labels"].items())),
                base_image=base_image,
                base_pin=classify_pin(base_image) if base_image else BasePin.NONE,
                size=item["size"],
                layers=item["layers"],
            )
        )
    return tuple(out)


def gate_document(
    cfg: Config,
    *,
    source_runs: Sequence[ToolRun],
    image_runs: Sequence[ToolRun],
    facts: Sequence[ImageFacts],
    sbom: SbomSummary | None,
    exceptions: Sequence[Exception_],
    today: datetime.date,
    image: str = "",
) -> dict[str, Any]:
    """One gate input over everything the check saw.

    The findings of every run are merged and scrubbed once (`pipeline.reports.merged_findings`); the image
    facts are those of the image that was scanned (`as_scanned`), and the build facts name the digests that
    were built, so the gate's `image.digest-mismatch` rule proves the scanned image is the built one.
    """
    runs = (*source_runs, *image_runs)
    built = BuildFacts(
        config_digests=tuple(sorted((f.platform, f.config_digest) for f in facts)),
        dockerfile="",
        platforms=tuple(sorted(f.platform for f in facts)),
        image=image,
    )
    return build_input(
        merged_findings(runs),
        sbom=sbom,
        facts=as_scanned(facts, image_runs),  # one image scan per platform, in the same order
        build=built,
        config=gate_config_from(cfg.gate, relaxations=cfg.relaxations(), source=cfg.source_file),
        exceptions=exceptions,
        today=today,
        runs=runs,
        dev=None,  # no Dockerfile to read: development dependencies count as shipped
    )


def dumps(doc: dict[str, Any]) -> str:
    """The document as `ship` writes gate-input.json (sorted keys, 2-space indent, trailing newline)."""
    return json.dumps(doc, sort_keys=True, indent=2) + "\n"
