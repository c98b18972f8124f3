"""The `seaworthy-sbom` module: SBOMs, image facts and image vulnerability scans of the caller's own container.

Thin by design: every function calls `pipeline.api` (never `pipeline.main`, whose object types would register
here too). See docs/architecture.md, "Modules under modules/: how they share the core".
"""

from __future__ import annotations

import copy
from dataclasses import field as state
from typing import Annotated, Self

import dagger
from dagger import Doc, dag, field, function, object_type

from pipeline import api

ContainerArg = Annotated[dagger.Container, Doc("Your image (e.g. the container your own build returns)")]


@object_type
class ImageScanResult:
    """Vulnerabilities of the image, with their reports."""

    findings: str = field()
    """The findings as JSON (the `findings` array of report.json)."""
    count: int = field()
    summary: str = field()
    """Markdown summary."""
    reports: dagger.Directory = field()
    """seaworthy.sarif, junit.xml, summary.md, report.json."""


@object_type
class SeaworthySbom:
    """SBOMs (CycloneDX 1.6 + SPDX 2.3), image facts and image vulnerability scans of your own container."""

    config: dagger.File | None = state(default=None, init=False)

    @function
    def with_config(self, file: Annotated[dagger.File, Doc("seaworthy.toml ([sbom], [scan.trivy] settings)")]) -> Self:
        """Read the configuration from this file (default: Seaworthy's defaults)."""
        new = copy.copy(self)
        new.config = file
        return new

    async def _cfg(self) -> api.Config:
        return await api.load_config(dag.directory(), self.config)

    @function(cache="session")  # type: ignore[call-overload]
    async def sbom(
        self,
        container: ContainerArg,
        generator: Annotated[str, Doc("SBOM generator: trivy (default) or syft")] = "",
    ) -> dagger.Directory:
        """sbom.cdx.json (CycloneDX 1.6) and sbom.spdx.json (SPDX 2.3) of the container, checked and finalized.

        Cache: per session: a container built from moving base tags changes between calls.
        """
        cfg = await self._cfg()
        if generator:
            cfg = cfg.override(sbom_generator=generator)  # api.sbom refuses an unknown one
        return await api.sbom(api.image(container), cfg)

    @function(cache="session")  # type: ignore[call-overload]
    async def scan(self, container: ContainerArg) -> ImageScanResult:
        """Vulnerabilities of the container with trivy (its DB in a cache volume refreshed once a day).

        Cache: per session: the findings depend on the live vulnerability DB.
        """
        scanned = await api.scan_image(api.image(container), await self._cfg())
        return ImageScanResult(
            findings=scanned.findings_json(),
            count=len(scanned.findings),
            summary=scanned.summary,
            reports=scanned.directory(),
        )

    @function(cache="session")  # type: ignore[call-overload]
    async def facts(self, container: ContainerArg) -> str:
        """Image facts the gate reads (user, entrypoint, ports, labels, base image, size, config digest), as JSON.

        Cache: per session, like `sbom`.
        """
        return await api.facts(api.image(container))
