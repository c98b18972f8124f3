"""Reports as Dagger directories, and small JSON renderings the public functions return."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import dagger

from pipeline.formats.json_report import finding_to_json, image_to_json, verdict_to_json
from pipeline.formats.markdown import render_markdown
from pipeline.formats.sbom_pair import SbomPair
from pipeline.model import Finding, ImageFacts, SbomSummary, ToolRun, Verdict
from pipeline.reports import write_reports
from pipeline.stages.runner import as_directory

SCAN_ONLY = Verdict(passed=True, policy="none", notes=("Scan only: no policy gate was evaluated.",))
"""The verdict stand-in for `scan` and the single-scanner functions, which report without deciding."""


def render(
    runs: Sequence[ToolRun],
    findings: Sequence[Finding],
    *,
    verdict: Verdict | None,
    image: ImageFacts | None = None,
    sboms: Sequence[SbomSummary] = (),
    notes: Sequence[str] = (),
    dockerfile: str = "Dockerfile",
) -> dict[str, bytes]:
    return write_reports(
        runs,
        findings,
        verdict or SCAN_ONLY,
        image=image,
        sboms=sboms,
        notes=notes,
        dockerfile=dockerfile,
    )


def dumps(doc: object) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def findings_json(findings: Sequence[Finding]) -> str:
    return dumps([finding_to_json(f) for f in findings])


def facts_json(facts: Sequence[ImageFacts]) -> str:
    return dumps([image_to_json(f) for f in facts])


def verdict_json(verdict: Verdict) -> str:
    return dumps(verdict_to_json(verdict))


def verdict_markdown(verdict: Verdict) -> str:
    return render_markdown((), (), verdict)


def directory(files: Mapping[str, bytes | str]) -> dagger.Directory:
    return as_directory(files)


def sbom_directory(pair: SbomPair) -> dagger.Directory:
    return as_directory({"sbom.cdx.json": pair.cyclonedx, "sbom.spdx.json": pair.spdx})
