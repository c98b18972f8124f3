"""The `seaworthy-scan` module: Seaworthy's source scanners on the caller's own directory.

Thin by design: every function calls `pipeline.api` (never `pipeline.main`, whose object types would register
here too). See docs/architecture.md, "Modules under modules/: how they share the core".
"""

from __future__ import annotations

import copy
from dataclasses import field as state
from typing import Annotated, Self

import dagger
from dagger import Doc, field, function, object_type

from pipeline import api


@object_type
class ScanResult:
    """Findings of the scanners, merged, with their reports and (when gated) the verdict."""

    findings: str = field()
    """The merged findings as JSON (the `findings` array of report.json)."""
    count: int = field()
    gated: bool = field()
    """Whether the policy gate was evaluated (false with --gated=false)."""
    passed: bool = field()
    """True only when the gate was evaluated and passed (false when not gated: an ungated scan passes nothing)."""
    verdict: str = field()
    """The verdict document (JSON); "" when not gated."""
    summary: str = field()
    """Markdown summary."""
    reports: dagger.Directory = field()
    """seaworthy.sarif, junit.xml, summary.md, report.json (+ gate-input.json, verdict.json when gated)."""


def scan_result(scanned: api.Scanned) -> ScanResult:
    verdict = scanned.files.get("verdict.json", b"").decode() if scanned.verdict is not None else ""
    return ScanResult(
        findings=scanned.findings_json(),
        count=len(scanned.findings),
        gated=scanned.gated,
        passed=scanned.passed,
        verdict=verdict,
        summary=scanned.summary,
        reports=scanned.directory(),
    )


@object_type
class SeaworthyScan:
    """Source scanning: semgrep, gitleaks, trivy, hadolint, bandit and njsscan on your directory, merged findings,
    SARIF/JUnit/Markdown reports, and the policy gate over them."""

    config: dagger.File | None = state(default=None, init=False)
    exceptions: dagger.File | None = state(default=None, init=False)
    policy: dagger.Directory | None = state(default=None, init=False)

    @function
    def with_config(self, file: Annotated[dagger.File, Doc("seaworthy.toml (default: the source root's)")]) -> Self:
        """Read the configuration from this file instead of the source root's seaworthy.toml."""
        new = copy.copy(self)
        new.config = file
        return new

    @function
    def with_exceptions(
        self, file: Annotated[dagger.File, Doc("The exception file (instead of [gate] exceptions_file)")]
    ) -> Self:
        """Read the accepted exceptions from this file."""
        new = copy.copy(self)
        new.exceptions = file
        return new

    @function
    def with_policy(
        self, directory: Annotated[dagger.Directory, Doc("Your Rego policy folder (adds/overrides rules by id)")]
    ) -> Self:
        """Gate with your own Rego policies as well as the bundled ones."""
        new = copy.copy(self)
        new.policy = directory
        return new

    @function(cache="session")  # type: ignore[call-overload]
    async def scan(
        self,
        source: Annotated[dagger.Directory, Doc("Your source tree")],
        scanners: Annotated[
            list[str],
            Doc("Scanners: semgrep, gitleaks, trivy, hadolint, bandit, njsscan (default: all, or seaworthy.toml)"),
        ] = (),  # pyright: ignore[reportArgumentType]
        skip: Annotated[list[str], Doc("Glob patterns of paths no scanner looks at (adds to seaworthy.toml)")] = (),  # pyright: ignore[reportArgumentType]
        dockerfile: Annotated[str, Doc("Dockerfile path inside the source (default: Dockerfile)")] = "",
        gated: Annotated[bool, Doc("Evaluate the policy gate over the findings")] = True,
        today: Annotated[str, Doc("Date exceptions expire against, YYYY-MM-DD (default: today, UTC)")] = "",
    ) -> ScanResult:
        """Scan the source and merge the findings; gate them unless --gated=false.

        Cache: per session. Findings depend on live data (vulnerability DB, rule packs), so a new `dagger call`
        scans again; the engine's default would keep them up to 7 days.
        """
        on = api.today(today)  # a bad date fails before anything runs
        cfg = await api.load_config(
            source,
            self.config,
            scanners=tuple(scanners),
            skip=tuple(skip),
            dockerfile=dockerfile,
            exceptions=self.exceptions,
        )
        scanned = await api.scan(source, cfg, gated=gated, policy=self.policy, on=on, dockerfile=dockerfile)
        return scan_result(scanned)
