"""The Dagger module object: Seaworthy's public functions.

Thin on purpose: each function reads its arguments, loads `seaworthy.toml` from the source, and composes
stages (pipeline/stages). Anything with a branch worth testing lives in a lower layer.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

import attrs
import dagger
from dagger import DefaultPath, Doc, Ignore, field, function, object_type

from pipeline import config as config_mod
from pipeline import log
from pipeline.config import Config
from pipeline.errors import GateFailed, InputError
from pipeline.formats import sbom_pair
from pipeline.model import ToolRun, merge_findings
from pipeline.stages import gate as gate_stage
from pipeline.stages import image as image_stage
from pipeline.stages import release as release_stage
from pipeline.stages import report as report_stage
from pipeline.stages import scan as scan_stage
from pipeline.stages import ship as ship_stage
from pipeline.stages import trivydb

SourceArg = Annotated[
    dagger.Directory,
    DefaultPath("examples/app"),
    Ignore([".git", "**/.venv", "**/.venv-*", "**/node_modules", "**/__pycache__"]),
    Doc("Source tree to scan and build (default: the bundled example app)"),
]
ConfigArg = Annotated[
    dagger.File | None,
    Doc("Configuration file (default: seaworthy.toml at the source root, if present)"),
]
ScannersArg = Annotated[
    list[str],
    Doc(
        "Source scanners to run: semgrep, gitleaks, trivy, hadolint, bandit, njsscan (default: all, or "
        "seaworthy.toml; bandit and njsscan only where the tree has Python / JavaScript files)"
    ),
]
SkipArg = Annotated[list[str], Doc("Glob patterns of paths no source scanner looks at (adds to seaworthy.toml)")]
DockerfileArg = Annotated[str, Doc("Dockerfile path inside the source (default: Dockerfile)")]
TargetArg = Annotated[str, Doc("Build stage to stop at (Dockerfile target)")]
BuildArgsArg = Annotated[list[str], Doc("Build arguments as KEY=VALUE (never secrets: use --secrets)")]
PlatformsArg = Annotated[list[str], Doc("Platforms to build, e.g. linux/amd64,linux/arm64 (default: native)")]
SecretsArg = Annotated[
    list[dagger.Secret], Doc("Build secrets, mounted at /run/secrets/<name> for RUN --mount=type=secret")
]
ImageArg = Annotated[dagger.Container | None, Doc("An image to use instead of building the source (e.g. alpine:3.22)")]
TodayArg = Annotated[str, Doc("Date the exceptions' expiry is checked against, YYYY-MM-DD (default: today, UTC)")]

# signing and registry arguments shared by sign, attest, verify and ship
RefArg = Annotated[str, Doc("Image by digest: repo@sha256:… (a tag is refused)")]
KeyArg = Annotated[dagger.Secret | None, Doc("cosign private key (key mode)")]
KeyPasswordArg = Annotated[dagger.Secret | None, Doc("Password of the cosign key")]
KmsKeyArg = Annotated[str, Doc("KMS key URI (kms mode): awskms://, gcpkms://, azurekms://, hashivault://")]
KmsCredentialsArg = Annotated[
    dagger.Secret | None,
    Doc("KMS credentials: a NAME=value file (AWS_*, AZURE_*, VAULT_*) or GCP's JSON key (kms mode)"),
]
IdentityTokenArg = Annotated[dagger.Secret | None, Doc("OIDC token for keyless signing (GitLab SIGSTORE_ID_TOKEN)")]
OidcUrlArg = Annotated[dagger.Secret | None, Doc("GitHub ACTIONS_ID_TOKEN_REQUEST_URL (keyless)")]
OidcTokenArg = Annotated[dagger.Secret | None, Doc("GitHub ACTIONS_ID_TOKEN_REQUEST_TOKEN (keyless)")]
TlogArg = Annotated[bool, Doc("Use the transparency log (turn off for private or ephemeral registries)")]
RegistryUserArg = Annotated[str, Doc("Registry user name")]
RegistryPasswordArg = Annotated[dagger.Secret | None, Doc("Registry password or token")]
InsecureArg = Annotated[bool, Doc("Plain HTTP / no TLS verification (local registries only)")]


@object_type
class ScanResult:
    """Findings of one or more scanners, merged, with their reports."""

    findings: str = field()
    """The merged findings as JSON (the `findings` array of report.json)."""
    count: int = field()
    summary: str = field()
    """Markdown summary."""
    reports: dagger.Directory = field()
    """seaworthy.sarif, junit.xml, summary.md, report.json."""


@object_type
class GateResult:
    """The policy gate's verdict."""

    passed: bool = field()
    verdict: str = field()
    """The verdict document (JSON)."""
    summary: str = field()
    """Markdown summary of the verdict."""


def _today(value: str) -> date:
    if not value:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--today {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-27") from None


async def load_config(source: dagger.Directory, config: dagger.File | None) -> Config:
    """seaworthy.toml from --config, else from the source root, else the defaults."""
    if config is not None:
        return config_mod.load(await config.contents(), source=await config.name())
    if await source.exists(config_mod.CONFIG_FILE):
        return config_mod.load(await source.file(config_mod.CONFIG_FILE).contents())
    return config_mod.load(None)


def _scan_result(runs: tuple[ToolRun, ...]) -> ScanResult:
    """The findings of `runs`, merged once, with their reports (no gate: `scan` reports, `ship` decides)."""
    findings = merge_findings(f for r in runs for f in r.findings)
    files = report_stage.render(runs, findings, verdict=None)
    return ScanResult(
        findings=report_stage.findings_json(findings),
        count=len(findings),
        summary=files["summary.md"].decode(),
        reports=report_stage.directory(files),
    )


@object_type
class Seaworthy:
    """Scan, build once, describe, gate, publish, sign, attest and verify a container image."""

    log_format: Annotated[str, Doc("Log format: console (default) or json")] = "console"

    def __post_init__(self) -> None:
        # every call rebuilds the object from its state, so --log-format applies to every function
        log.configure(self.log_format)

    # --- source scanners ------------------------------------------------------------------------------

    @function
    async def scan(
        self,
        source: SourceArg,
        config: ConfigArg = None,
        scanners: ScannersArg = (),  # pyright: ignore[reportArgumentType]
        skip: SkipArg = (),  # pyright: ignore[reportArgumentType]
    ) -> ScanResult:
        """Run the source scanners (semgrep, gitleaks, trivy fs, hadolint, bandit, njsscan) at once; merge findings."""
        cfg = await load_config(source, config)
        cfg = cfg.override(scanners=tuple(scanners), skip_paths=(*cfg.skip_paths, *skip))
        for name in cfg.scanners:
            if name not in config_mod.SCANNERS:
                raise InputError(f"--scanners: unknown scanner {name!r}; use any of {', '.join(config_mod.SCANNERS)}")
        if "hadolint" in cfg.scanners:
            await image_stage.check_source(source, cfg.build.dockerfile)
        runs = await scan_stage.run_scanners(source, cfg)
        return _scan_result(runs)

    async def _one(
        self, name: str, source: dagger.Directory, config: dagger.File | None, dockerfile: str = ""
    ) -> ScanResult:
        cfg = await load_config(source, config)
        if dockerfile:
            cfg = cfg.override(build=attrs.evolve(cfg.build, dockerfile=dockerfile))
        if name == "hadolint":
            await image_stage.check_source(source, cfg.build.dockerfile)
        runs = await scan_stage.run_scanners(source, cfg, names=[name])
        return _scan_result(runs)

    @function
    async def semgrep(self, source: SourceArg, config: ConfigArg = None) -> ScanResult:
        """SAST with semgrep: the bundled offline rules plus any in seaworthy.toml."""
        return await self._one("semgrep", source, config)

    @function
    async def gitleaks(self, source: SourceArg, config: ConfigArg = None) -> ScanResult:
        """Secrets in the working tree with gitleaks (values are redacted, never reported)."""
        return await self._one("gitleaks", source, config)

    @function
    async def trivy_fs(self, source: SourceArg, config: ConfigArg = None) -> ScanResult:
        """Vulnerable dependencies (lock files), IaC/Dockerfile misconfiguration and secrets with trivy fs."""
        return await self._one("trivy", source, config)

    @function
    async def bandit(self, source: SourceArg, config: ConfigArg = None) -> ScanResult:
        """Python SAST with bandit (run only when the tree has Python files)."""
        return await self._one("bandit", source, config)

    @function
    async def njsscan(self, source: SourceArg, config: ConfigArg = None) -> ScanResult:
        """Node.js SAST with njsscan (run only when the tree has JavaScript files)."""
        return await self._one("njsscan", source, config)

    @function
    async def hadolint(self, source: SourceArg, config: ConfigArg = None, dockerfile: DockerfileArg = "") -> ScanResult:
        """Dockerfile lint with hadolint."""
        return await self._one("hadolint", source, config, dockerfile)

    # --- image ------------------------------------------------------------------------------------------

    async def _build_cfg(
        self,
        source: dagger.Directory,
        config: dagger.File | None,
        dockerfile: str,
        target: str,
        build_args: list[str],
        platforms: list[str],
    ) -> Config:
        cfg = await load_config(source, config)
        merged_args = dict(cfg.build.build_args)
        merged_args.update(dict(image_stage.build_args(build_args)))
        build = config_mod.BuildConfig(
            dockerfile=dockerfile or cfg.build.dockerfile,
            target=target or cfg.build.target,
            platforms=tuple(config_mod.validate_platform(p) for p in platforms) or cfg.build.platforms,
            build_args=tuple(sorted(merged_args.items())),
        )
        return cfg.override(build=build)

    @function
    async def build(
        self,
        source: SourceArg,
        config: ConfigArg = None,
        dockerfile: DockerfileArg = "",
        target: TargetArg = "",
        build_args: BuildArgsArg = (),  # pyright: ignore[reportArgumentType]
        platform: Annotated[str, Doc("Platform to build, e.g. linux/arm64 (default: native)")] = "",
        secrets: SecretsArg = (),  # pyright: ignore[reportArgumentType]
    ) -> dagger.Container:
        """Build the source's Dockerfile once and return the container (fails with the build's own message)."""
        cfg = await self._build_cfg(
            source, config, dockerfile, target, list(build_args), [platform] if platform else []
        )
        await image_stage.check_source(source, cfg.build.dockerfile)
        built = image_stage.build_variants(source, cfg, secrets=list(secrets))
        await image_stage.ensure_built(built)
        return built.variants[0]

    async def _built(
        self,
        image: dagger.Container | None,
        source: dagger.Directory,
        config: dagger.File | None,
        dockerfile: str,
    ) -> tuple[image_stage.Built, Config, str]:
        cfg = await self._build_cfg(source, config, dockerfile, "", [], [])
        if image is not None:
            return image_stage.from_container(image), cfg, ""
        text = await image_stage.check_source(source, cfg.build.dockerfile)
        built = image_stage.build_variants(source, cfg)
        await image_stage.ensure_built(built)
        return built, cfg, text

    @function
    async def sbom(
        self,
        source: SourceArg,
        image: ImageArg = None,
        config: ConfigArg = None,
        dockerfile: DockerfileArg = "",
        generator: Annotated[str, Doc("SBOM generator: trivy (default) or syft")] = "",
    ) -> dagger.Directory:
        """CycloneDX 1.6 and SPDX 2.3 SBOMs of the image (built from the source unless --image is given)."""
        built, cfg, _ = await self._built(image, source, config, dockerfile)
        if generator:
            if generator not in config_mod.SBOM_GENERATORS:
                raise InputError(f"--generator {generator!r} is not supported; use trivy or syft")
            cfg = cfg.override(sbom_generator=generator)
        files = await image_stage.sbom(built, cfg)
        return report_stage.sbom_directory(sbom_pair.finalize(files.cyclonedx, files.spdx, tool=files.tool))

    @function
    async def scan_image(
        self,
        source: SourceArg,
        image: ImageArg = None,
        config: ConfigArg = None,
        dockerfile: DockerfileArg = "",
    ) -> ScanResult:
        """Vulnerabilities of the image with trivy; the DB lives in a cache volume refreshed once a day."""
        built, cfg, _ = await self._built(image, source, config, dockerfile)
        await trivydb.refresh(cfg)
        runs = await image_stage.scan_image(built, cfg)
        return _scan_result(runs)

    @function
    async def facts(
        self,
        source: SourceArg,
        image: ImageArg = None,
        config: ConfigArg = None,
        dockerfile: DockerfileArg = "",
    ) -> str:
        """Image facts the gate reads (user, entrypoint, ports, labels, base image and pin, size, config digest)."""
        built, _cfg, text = await self._built(image, source, config, dockerfile)
        facts = await image_stage.image_facts(built, text)
        return report_stage.facts_json(facts)

    # --- gate -------------------------------------------------------------------------------------------

    @function
    async def gate(
        self,
        input: Annotated[dagger.File, Doc("A gate input document (gate-input.json from a ship report)")],
        policy: Annotated[
            dagger.Directory | None, Doc("Your own Rego policy folder (adds/overrides rules by id)")
        ] = None,
    ) -> GateResult:
        """Evaluate a saved gate input document with the bundled Rego policies (plus yours) in OPA."""
        verdict = await gate_stage.evaluate(
            await input.contents(), user_policies=[("--policy", policy)] if policy is not None else []
        )
        return GateResult(
            passed=verdict.passed,
            verdict=report_stage.verdict_json(verdict),
            summary=report_stage.verdict_markdown(verdict),
        )

    # --- release ----------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    def registry(self) -> dagger.Service:
        """The ephemeral OCI registry `ship` publishes to when no --repository is given (plain HTTP)."""
        return release_stage.ephemeral_registry(f"seaworthy-registry-{datetime.now(UTC).isoformat()}")

    @function(cache="never")  # type: ignore[call-overload]
    async def publish(
        self,
        repository: Annotated[str, Doc("Where to push, e.g. ghcr.io/org/app (lower-cased; tag from --tag)")],
        source: SourceArg,
        image: ImageArg = None,
        config: ConfigArg = None,
        tag: Annotated[str, Doc("Tag to push (the result is always repo@sha256:…)")] = "latest",
        username: Annotated[str, Doc("Registry user name")] = "",
        password: Annotated[dagger.Secret | None, Doc("Registry password or token")] = None,
        insecure_registry: Annotated[bool, Doc("Plain HTTP / no TLS verification (local registries only)")] = False,
    ) -> str:
        """Push the image (all platform variants as one index) and return repo@sha256:… after reading it back."""
        built, _cfg, _ = await self._built(image, source, config, "")
        target = release_stage.Target.parse(
            repository, tag, username=username, password=password, insecure=insecure_registry
        )
        pushed = await release_stage.publish(built.tarball, built.platforms, target)
        return pushed.ref

    @function(cache="never")  # type: ignore[call-overload]
    async def sign(
        self,
        ref: RefArg,
        key: KeyArg = None,
        key_password: KeyPasswordArg = None,
        kms_key: KmsKeyArg = "",
        kms_credentials: KmsCredentialsArg = None,
        identity_token: IdentityTokenArg = None,
        oidc_request_url: OidcUrlArg = None,
        oidc_request_token: OidcTokenArg = None,
        tlog: TlogArg = True,
        registry_username: RegistryUserArg = "",
        registry_password: RegistryPasswordArg = None,
        insecure_registry: InsecureArg = False,
    ) -> str:
        """Sign an image by digest with cosign: key, keyless (OIDC token) or KMS."""
        signing = release_stage.Signing.from_args(
            key=key,
            key_password=key_password,
            kms_key=kms_key,
            kms_credentials=kms_credentials,
            identity_token=identity_token,
            oidc_request_url=oidc_request_url,
            oidc_request_token=oidc_request_token,
            tlog=tlog,
        )
        reg = release_stage.RegistryAccess(registry_username, registry_password, insecure_registry)
        await release_stage.sign(ref, signing, reg)
        return ref

    @function(cache="never")  # type: ignore[call-overload]
    async def attest(
        self,
        ref: RefArg,
        predicate: Annotated[dagger.File, Doc("The predicate document (JSON)")],
        type: Annotated[str, Doc("Predicate type: cyclonedx, spdxjson, vuln, slsaprovenance1, verdict, or a URI")],
        key: KeyArg = None,
        key_password: KeyPasswordArg = None,
        kms_key: KmsKeyArg = "",
        kms_credentials: KmsCredentialsArg = None,
        identity_token: IdentityTokenArg = None,
        oidc_request_url: OidcUrlArg = None,
        oidc_request_token: OidcTokenArg = None,
        tlog: TlogArg = True,
        registry_username: RegistryUserArg = "",
        registry_password: RegistryPasswordArg = None,
        insecure_registry: InsecureArg = False,
    ) -> str:
        """Attach a signed in-toto attestation (SBOM, vulnerabilities, provenance, verdict…) to an image by digest."""
        signing = release_stage.Signing.from_args(
            key=key,
            key_password=key_password,
            kms_key=kms_key,
            kms_credentials=kms_credentials,
            identity_token=identity_token,
            oidc_request_url=oidc_request_url,
            oidc_request_token=oidc_request_token,
            tlog=tlog,
        )
        reg = release_stage.RegistryAccess(registry_username, registry_password, insecure_registry)
        await release_stage.attest(ref, predicate, type, signing, reg)
        return ref

    @function(cache="never")  # type: ignore[call-overload]
    async def verify(
        self,
        ref: RefArg,
        public_key: Annotated[dagger.File | None, Doc("cosign public key (key mode)")] = None,
        kms_key: Annotated[str, Doc("KMS key URI to verify with")] = "",
        kms_credentials: KmsCredentialsArg = None,
        identity: Annotated[
            str,
            Doc(
                "Expected signer identity (keyless), e.g. https://github.com/org/repo/.github/workflows/ship.yml@refs/heads/main"
            ),
        ] = "",
        identity_regexp: Annotated[str, Doc("Expected signer identity as a regular expression (keyless)")] = "",
        issuer: Annotated[
            str, Doc("Expected OIDC issuer (keyless), e.g. https://token.actions.githubusercontent.com")
        ] = "",
        require: Annotated[
            list[str],
            Doc("Attestations that must be present: sbom, vuln, provenance, verdict (default: all)"),
        ] = (),  # pyright: ignore[reportArgumentType]
        max_vuln_age_hours: Annotated[int, Doc("The vulnerability attestation must be younger than this")] = 24,
        tlog: Annotated[bool, Doc("Require the transparency log entry")] = True,
        registry_username: RegistryUserArg = "",
        registry_password: RegistryPasswordArg = None,
        insecure_registry: InsecureArg = False,
    ) -> str:
        """Verify an image's signature, its attestations and policy over them (usable before a deploy)."""
        verifier = release_stage.Verifying.from_args(
            public_key=public_key,
            kms_key=kms_key,
            identity=identity,
            identity_regexp=identity_regexp,
            issuer=issuer,
            tlog=tlog,
            kms_credentials=kms_credentials,
        )
        reg = release_stage.RegistryAccess(registry_username, registry_password, insecure_registry)
        result = await release_stage.verify(
            ref, verifier, reg, require=tuple(require), max_vuln_age_hours=max_vuln_age_hours
        )
        return result

    # --- everything ----------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def ship(
        self,
        source: SourceArg,
        config: ConfigArg = None,
        scanners: ScannersArg = (),  # pyright: ignore[reportArgumentType]
        skip: SkipArg = (),  # pyright: ignore[reportArgumentType]
        dockerfile: DockerfileArg = "",
        target: TargetArg = "",
        build_args: BuildArgsArg = (),  # pyright: ignore[reportArgumentType]
        platforms: PlatformsArg = (),  # pyright: ignore[reportArgumentType]
        secrets: SecretsArg = (),  # pyright: ignore[reportArgumentType]
        policy: Annotated[dagger.Directory | None, Doc("Your own Rego policy folder")] = None,
        repository: Annotated[
            str, Doc("Where to publish, e.g. ghcr.io/org/app (default: an ephemeral in-engine registry)")
        ] = "",
        tag: Annotated[str, Doc("Tag to push")] = "latest",
        username: Annotated[str, Doc("Registry user name")] = "",
        password: Annotated[dagger.Secret | None, Doc("Registry password or token")] = None,
        insecure_registry: Annotated[bool, Doc("Plain HTTP / no TLS verification for --repository")] = False,
        key: Annotated[
            dagger.Secret | None,
            Doc("cosign private key (key mode; default for the ephemeral registry: a fresh key pair)"),
        ] = None,
        key_password: Annotated[dagger.Secret | None, Doc("Password of the cosign key")] = None,
        kms_key: KmsKeyArg = "",
        kms_credentials: KmsCredentialsArg = None,
        identity_token: Annotated[
            dagger.Secret | None, Doc("OIDC token for keyless signing (GitLab SIGSTORE_ID_TOKEN)")
        ] = None,
        oidc_request_url: Annotated[dagger.Secret | None, Doc("GitHub ACTIONS_ID_TOKEN_REQUEST_URL (keyless)")] = None,
        oidc_request_token: Annotated[
            dagger.Secret | None, Doc("GitHub ACTIONS_ID_TOKEN_REQUEST_TOKEN (keyless)")
        ] = None,
        tlog: Annotated[
            bool, Doc("Upload signatures to the transparency log (forced off for the ephemeral registry)")
        ] = True,
        source_repository: Annotated[
            str, Doc("Source repository URL for the provenance (e.g. $GITHUB_SERVER_URL/$GITHUB_REPOSITORY)")
        ] = "",
        revision: Annotated[str, Doc("Source revision (commit SHA) for the provenance")] = "",
        verify_identity: Annotated[str, Doc("Keyless: the certificate identity ship expects when it verifies")] = "",
        verify_issuer: Annotated[str, Doc("Keyless: the OIDC issuer ship expects (default for GitHub tokens)")] = "",
        strict: Annotated[
            bool, Doc("Fail the call when the gate fails (false: return the reports anyway, publish nothing)")
        ] = True,
        today: TodayArg = "",
    ) -> dagger.Directory:
        """Scan, build once, SBOM and scan the image, gate; if it passes publish, sign, attest and verify.

        Returns the reports directory. When the gate fails nothing is pushed and the call fails with the
        reasons (unless --strict=false).
        """
        cfg = await self._build_cfg(source, config, dockerfile, target, list(build_args), list(platforms))
        cfg = cfg.override(scanners=tuple(scanners), skip_paths=(*cfg.skip_paths, *skip))
        plan = ship_stage.Plan.from_args(
            repository=repository,
            tag=tag,
            username=username,
            password=password,
            insecure=insecure_registry,
            signing=release_stage.Signing.from_args(
                key=key,
                key_password=key_password,
                kms_key=kms_key,
                kms_credentials=kms_credentials,
                identity_token=identity_token,
                oidc_request_url=oidc_request_url,
                oidc_request_token=oidc_request_token,
                tlog=tlog,
                ephemeral=not repository,
            ),
            source_repository=source_repository,
            revision=revision,
            verify_identity=verify_identity,
            verify_issuer=verify_issuer,
        )
        outcome = await ship_stage.ship(
            source,
            cfg,
            plan,
            secrets=list(secrets),
            user_policy=policy,
            today=_today(today),
        )
        if not outcome.verdict.passed and strict:
            raise GateFailed(outcome.failure_message)
        return outcome.reports

    @function
    def version(self) -> str:
        """Seaworthy's version and the pinned tool images."""
        return release_stage.versions()


__all__ = ["GateResult", "ScanResult", "Seaworthy"]
