"""A user's own Dagger module on Seaworthy's Python API: its own build, Seaworthy's checks.

The image is built without a Dockerfile (a pinned Python base, the code copied in, `pip install`), and that
very container is handed to Seaworthy (`pipeline.api.image`): the source scan, the image's vulnerability scan,
its SBOM and facts, and one policy gate over all of it. Only `pipeline.api` runs anything in the engine; the
gate input is put together by pure functions (`gating.py`).
"""

from __future__ import annotations

from typing import Annotated

import attrs
import dagger
from dagger import DefaultPath, Doc, Ignore, dag, field, function, object_type

from my_pipeline import gating
from pipeline import api
from pipeline.config import Config
from pipeline.errors import ConfigError, GateFailed
from pipeline.formats import cyclonedx
from pipeline.formats.json_report import verdict_to_json
from pipeline.model_gate import Exception_
from pipeline.policy.exceptions import load_exception_file, parse_exceptions
from pipeline.reports import merged_findings, write_reports

BASE_IMAGE = "python:3.13.15-slim-trixie"
"""The base of this module's build: an exact version tag (add @sha256:… in production)."""
APP = "/app"
USER = "10001:10001"
PORT = 8080

SourceArg = Annotated[
    dagger.Directory,
    DefaultPath("/examples/app"),
    Ignore([".git", "**/.venv", "**/__pycache__"]),
    Doc("The application to build and check (default: Seaworthy's example app)"),
]
SourceRepositoryArg = Annotated[str, Doc("Source repository URL, for the org.opencontainers.image.source label")]
RevisionArg = Annotated[str, Doc("Source revision (commit SHA), for the org.opencontainers.image.revision label")]


@object_type
class Checked:
    """What `check` found: the image it built, the gate's verdict over the source and the image, the reports."""

    container: dagger.Container = field()
    """The image that was built, scanned and described (built once)."""
    passed: bool = field()
    verdict: str = field()
    """The verdict document (JSON)."""
    summary: str = field()
    """Markdown summary of the findings and the verdict."""
    reports: dagger.Directory = field()
    """seaworthy.sarif, junit.xml, summary.md, report.json, gate-input.json, verdict.json."""
    sbom: dagger.Directory = field()
    """sbom.cdx.json and sbom.spdx.json of the image."""


async def exceptions_of(source: dagger.Directory, cfg: Config) -> tuple[Exception_, ...]:
    """The reviewed exceptions: seaworthy.toml's [[exceptions]], then the file `gate.exceptions_file` names."""
    found = list(parse_exceptions(cfg.exceptions, source=cfg.source_file or "seaworthy.toml"))
    path = cfg.gate.exceptions_file
    if path:
        if not await source.exists(path):
            raise ConfigError(
                f"{cfg.source_file or 'seaworthy.toml'}: gate.exceptions_file {path!r} does not exist in the "
                "source; fix the path (relative to the source root) or remove the key."
            )
        extra = load_exception_file(await source.file(path).contents(), source=path)
        found += [attrs.evolve(e, index=e.index + len(found)) for e in extra]
    return tuple(found)


@object_type
class MyPipeline:
    """Build the app without a Dockerfile, then scan, describe and gate it with Seaworthy."""

    @function(cache="session")  # type: ignore[call-overload]
    def build(
        self,
        source: SourceArg,
        source_repository: SourceRepositoryArg = "https://example.invalid/my-pipeline",
        revision: RevisionArg = "unknown",
    ) -> dagger.Container:
        """The app's image: the code in /app, its requirements installed, a non-root user, OCI labels.

        Cache: per session. The base tag and the requirements resolve to new versions over time.
        """
        return (
            dag.container()
            .from_(BASE_IMAGE)
            .with_env_variable("PYTHONDONTWRITEBYTECODE", "1")
            .with_env_variable("PYTHONUNBUFFERED", "1")
            .with_directory(APP, source, exclude=["seaworthy.toml", "Dockerfile", "README.md"])
            .with_workdir(APP)
            .with_exec(
                [
                    "sh",
                    "-c",
                    "if [ -f requirements.txt ]; then pip install --no-cache-dir -r requirements.txt; fi",
                ]
            )
            .with_label("org.opencontainers.image.source", source_repository)
            .with_label("org.opencontainers.image.revision", revision)
            .with_user(USER)
            .with_exposed_port(PORT)
            .with_env_variable("PORT", str(PORT))
            .with_default_args(["python3", f"{APP}/app.py"])
        )

    @function(cache="session")  # type: ignore[call-overload]
    async def check(
        self,
        source: SourceArg,
        source_repository: SourceRepositoryArg = "https://example.invalid/my-pipeline",
        revision: RevisionArg = "unknown",
        strict: Annotated[bool, Doc("Fail the call when the gate denies (false: return the result anyway)")] = True,
        today: Annotated[str, Doc("Date exceptions expire against, YYYY-MM-DD (default: today, UTC)")] = "",
    ) -> Checked:
        """Build once; scan the source and the image, make the SBOM, gate everything; return what was found.

        Cache: per session. The findings depend on live data (the vulnerability DB) and the verdict on the date.
        """
        on = api.today(today)
        cfg = await api.load_config(source)
        container = self.build(source, source_repository, revision)
        built = api.image(container)  # the one image every step below reads
        source_scan = await api.scan(source, cfg, gated=False)
        image_scan = await api.scan_image(built, cfg)
        sbom = await api.sbom(built, cfg)
        cdx = cyclonedx.parse(await sbom.file("sbom.cdx.json").contents(), tool=cfg.sbom_generator)
        facts = gating.facts_from_json(await api.facts(built), base_image=BASE_IMAGE)
        doc = gating.gate_document(
            cfg,
            source_runs=source_scan.runs,
            image_runs=image_scan.runs,
            facts=facts,
            sbom=cdx,
            exceptions=await exceptions_of(source, cfg),
            today=on,
        )
        input_text = gating.dumps(doc)
        verdict = await api.gate(input_text)
        runs = (*source_scan.runs, *image_scan.runs)
        files = write_reports(runs, merged_findings(runs), verdict, image=facts[0], sboms=(cdx,))
        files["gate-input.json"] = input_text.encode()
        files["verdict.json"] = gating.dumps(verdict_to_json(verdict)).encode()
        summary = files["summary.md"].decode()
        if not verdict.passed and strict:
            denied = ", ".join(r.rule_id for r in verdict.denials)
            raise GateFailed(
                f"the policy gate denied the image ({denied}); fix the reasons below or record a reviewed "
                f"exception in seaworthy.toml, or pass --strict=false to get the reports.\n\n{summary}"
            )
        reports = dag.directory()
        for name, data in sorted(files.items()):
            reports = reports.with_new_file(name, data.decode())
        return Checked(
            container=container,
            passed=verdict.passed,
            verdict=files["verdict.json"].decode(),
            summary=summary,
            reports=reports,
            sbom=sbom,
        )
