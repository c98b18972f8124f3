"""Reports as Dagger directories, and small JSON renderings the public functions return."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import dagger

from pipeline.formats import gitlab
from pipeline.formats.json_report import finding_to_json, image_to_json, verdict_to_json
from pipeline.formats.markdown import render_markdown
from pipeline.formats.sbom_pair import SbomPair
from pipeline.model import Finding, ImageFacts, SbomSummary, ToolRun, Verdict
from pipeline.reports import GitlabScan, write_reports
from pipeline.stages.release import __version__
from pipeline.stages.runner import as_directory

_SHA = re.compile(r"[0-9a-f]{7,64}")


def render(
    runs: Sequence[ToolRun],
    findings: Sequence[Finding],
    *,
    verdict: Verdict | None,
    image: ImageFacts | None = None,
    sboms: Sequence[SbomSummary] = (),
    notes: Sequence[str] = (),
    dockerfile: str = "Dockerfile",
    started: datetime | None = None,
    scanned_image: str = "",
    operating_system: str = gitlab.UNKNOWN_OS,
    commit_sha: str = "",
) -> dict[str, bytes]:
    """Every report file of a run, GitLab's security reports included (`pipeline.reports.gitlab_reports`).

    `verdict` None: the run was not gated (a single scanner, an image scan); every report says so.

    `started`: when the scan began (GitLab's ``scan.start_time``; None: now); the end time is now, when the
    reports are rendered. `scanned_image`/`operating_system`: the image the run scanned and its distribution
    (GitLab's container_scanning). `commit_sha`: the source's commit (GitLab's secret_detection; a
    non-hexadecimal value is ignored).
    """
    finished = datetime.now(UTC).replace(microsecond=0)
    scan = GitlabScan(
        start_time=started or finished,
        end_time=finished,
        analyzer_version=__version__,
        image=scanned_image,
        operating_system=operating_system,
        commit_sha=commit_sha if _SHA.fullmatch(commit_sha) else gitlab.NO_COMMIT,
    )
    return write_reports(
        runs,
        findings,
        verdict,
        image=image,
        sboms=sboms,
        notes=notes,
        dockerfile=dockerfile,
        gitlab_scan=scan,
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
