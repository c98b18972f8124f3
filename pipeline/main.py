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
from pipeline.model import ToolRun, Verdict
from pipeline.reports import merged_findings
from pipeline.stages import gate as gate_stage
from pipeline.stages import image as image_stage
from pipeline.stages import release as release_stage
from pipeline.stages import report as report_stage
from pipeline.stages import scan as scan_stage
from pipeline.stages import scan_gate as scan_gate_stage
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
    list[dagger.Secret],
    Doc("Build secrets (env://, file://…), each under the id --secret-ids gives, for RUN --mount=type=secret"),
]
SecretIdsArg = Annotated[
    list[str], Doc("The Dockerfile secret id of each --secrets entry, in the same order (e.g. npm,pip)")
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
RegistryServiceArg = Annotated[
    dagger.Service | None,
    Doc("A registry you run, e.g. tcp://localhost:5000 (plain HTTP); --repository=localhost:5000/team/app"),
]


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


def _scan_result(
    runs: tuple[ToolRun, ...], verdict: Verdict | None = None, extra: dict[str, str] | None = None
) -> ScanResult:
    """The findings of `runs`, merged once, with their reports; `verdict` is `scan`'s gate (None: not gated)."""
    findings = merged_findings(runs)  # merged, scrubbed of every secret value any run marked
    files = report_stage.render(runs, findings, verdict=verdict)
    files.update({name: text.encode() for name, text in (extra or {}).items()})
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

    @function(cache="session")  # type: ignore[call-overload]
    async def scan(
        self,
        source: SourceArg,
        config: ConfigArg = None,
        scanners: ScannersArg = (),  # pyright: ignore[reportArgumentType]
        skip: SkipArg = (),  # pyright: ignore[reportArgumentType]
        dockerfile: DockerfileArg = "",
        strict: Annotated[
            bool, Doc("Fail the call when the gate fails (false: return the findings and reports anyway)")
        ] = True,
        today: TodayArg = "",
    ) -> ScanResult:
        """Run the source scanners (semgrep, gitleaks, trivy fs, hadolint, bandit, njsscan) at once, merge, gate.

        hadolint and trivy check every Dockerfile/Containerfile in the source (outside the skip paths). The gate
        is ship's Rego gate over what the source has (no image rules). When it fails the call fails with the
        reasons (unless --strict=false).

        Cache: per session. The findings depend on live data (the vulnerability DB, rule packs, tool tags that
        move until locked) and the verdict on today's date (exception expiry), so a new `dagger call` always
        scans again; the engine's default would keep them up to 7 days (dagger core/modfunc.go
        MaxFunctionCacheTTLSeconds).
        """
        cfg = await load_config(source, config)
        cfg = cfg.override(scanners=tuple(scanners), skip_paths=(*cfg.skip_paths, *skip))
        if dockerfile:
            cfg = cfg.override(build=attrs.evolve(cfg.build, dockerfile=dockerfile))
        for name in cfg.scanners:
            if name not in config_mod.SCANNERS:
                raise InputError(f"--scanners: unknown scanner {name!r}; use any of {', '.join(config_mod.SCANNERS)}")
        runs = await scan_stage.run_scanners(source, cfg, dockerfile=dockerfile)
        findings = merged_findings(runs)
        gated = await scan_gate_stage.evaluate(source, cfg, runs, findings, today=_today(today))
        result = _scan_result(
            runs,
            gated.verdict,
            {"gate-input.json": gated.input_text, "verdict.json": report_stage.verdict_json(gated.verdict)},
        )
        if not gated.verdict.passed and strict:
            denied = ", ".join(r.rule_id for r in gated.verdict.denials)
            raise GateFailed(
                f"the policy gate denied the source scan ({denied}). Fix the reasons below or record a reviewed "
                f"exception (owner, reason, expiry) in seaworthy.toml; --strict=false returns the reports "
                f"without failing.\n\n{result.summary}"
            )
        return result

    async def _one(
        self, name: str, source: dagger.Directory, config: dagger.File | None, dockerfile: str = ""
    ) -> ScanResult:
        cfg = await load_config(source, config)
        if dockerfile:
            cfg = cfg.override(build=attrs.evolve(cfg.build, dockerfile=dockerfile))
        runs = await scan_stage.run_scanners(source, cfg, names=[name], dockerfile=dockerfile)
        return _scan_result(runs)

    @function(cache="session")  # type: ignore[call-overload]
    async def semgrep(self, source: SourceArg, config: ConfigArg = None) -> ScanResult:
        """SAST with semgrep: the bundled offline rules plus any in seaworthy.toml.

        Cache: per session. The findings depend on live data (the vulnerability DB, rule packs, tool tags that
        move until locked), so a new `dagger call` always scans again; the engine's default would keep them
        up to 7 days (dagger core/modfunc.go MaxFunctionCacheTTLSeconds).
        """
        return await self._one("semgrep", source, config)

    @function(cache="session")  # type: ignore[call-overload]
    async def gitleaks(self, source: SourceArg, config: ConfigArg = None) -> ScanResult:
        """Secrets in the working tree with gitleaks (values are redacted, never reported).

        Cache: per session. The findings depend on live data (the vulnerability DB, rule packs, tool tags that
        move until locked), so a new `dagger call` always scans again; the engine's default would keep them
        up to 7 days (dagger core/modfunc.go MaxFunctionCacheTTLSeconds).
        """
        return await self._one("gitleaks", source, config)

    @function(cache="session")  # type: ignore[call-overload]
    async def trivy_fs(self, source: SourceArg, config: ConfigArg = None) -> ScanResult:
        """Vulnerable dependencies (lock files), IaC/Dockerfile misconfiguration and secrets with trivy fs.

        Cache: per session. The findings depend on live data (the vulnerability DB, rule packs, tool tags that
        move until locked), so a new `dagger call` always scans again; the engine's default would keep them
        up to 7 days (dagger core/modfunc.go MaxFunctionCacheTTLSeconds).
        """
        return await self._one("trivy", source, config)

    @function(cache="session")  # type: ignore[call-overload]
    async def bandit(self, source: SourceArg, config: ConfigArg = None) -> ScanResult:
        """Python SAST with bandit (run only when the tree has Python files).

        Cache: per session. The findings depend on live data (the vulnerability DB, rule packs, tool tags that
        move until locked), so a new `dagger call` always scans again; the engine's default would keep them
        up to 7 days (dagger core/modfunc.go MaxFunctionCacheTTLSeconds).
        """
        return await self._one("bandit", source, config)

    @function(cache="session")  # type: ignore[call-overload]
    async def njsscan(self, source: SourceArg, config: ConfigArg = None) -> ScanResult:
        """Node.js SAST with njsscan (run only when the tree has JavaScript files).

        Cache: per session. The findings depend on live data (the vulnerability DB, rule packs, tool tags that
        move until locked), so a new `dagger call` always scans again; the engine's default would keep them
        up to 7 days (dagger core/modfunc.go MaxFunctionCacheTTLSeconds).
        """
        return await self._one("njsscan", source, config)

    @function(cache="session")  # type: ignore[call-overload]
    async def hadolint(self, source: SourceArg, config: ConfigArg = None, dockerfile: DockerfileArg = "") -> ScanResult:
        """Dockerfile lint with hadolint: every Dockerfile/Containerfile in the source, plus --dockerfile.

        Cache: per session. The findings depend on live data (the vulnerability DB, rule packs, tool tags that
        move until locked), so a new `dagger call` always scans again; the engine's default would keep them
        up to 7 days (dagger core/modfunc.go MaxFunctionCacheTTLSeconds).
        """
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

    @function(cache="session")  # type: ignore[call-overload]
    async def build(
        self,
        source: SourceArg,
        config: ConfigArg = None,
        dockerfile: DockerfileArg = "",
        target: TargetArg = "",
        build_args: BuildArgsArg = (),  # pyright: ignore[reportArgumentType]
        platform: Annotated[str, Doc("Platform to build, e.g. linux/arm64 (default: native)")] = "",
        secrets: SecretsArg = (),  # pyright: ignore[reportArgumentType]
        secret_ids: SecretIdsArg = (),  # pyright: ignore[reportArgumentType]
    ) -> dagger.Container:
        """Build the source's Dockerfile once and return the container (fails with the build's own message).

        Cache: per session. The build resolves base image tags (`FROM python:3.13-slim`) that move; a week-old
        cached result would hide a rebuilt base.
        """
        cfg = await self._build_cfg(
            source, config, dockerfile, target, list(build_args), [platform] if platform else []
        )
        image_stage.secret_ids(list(secret_ids), len(secrets))
        await image_stage.check_source(source, cfg.build.dockerfile)
        named = await image_stage.named_secrets(list(secrets), list(secret_ids))
        built = image_stage.build_variants(source, cfg, secrets=named)
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

    @function(cache="session")  # type: ignore[call-overload]
    async def sbom(
        self,
        source: SourceArg,
        image: ImageArg = None,
        config: ConfigArg = None,
        dockerfile: DockerfileArg = "",
        generator: Annotated[str, Doc("SBOM generator: trivy (default) or syft")] = "",
    ) -> dagger.Directory:
        """CycloneDX 1.6 and SPDX 2.3 SBOMs of the image (built from the source unless --image is given).

        Cache: per session, like `build`: the image it describes is rebuilt from moving base tags.
        """
        built, cfg, _ = await self._built(image, source, config, dockerfile)
        if generator:
            if generator not in config_mod.SBOM_GENERATORS:
                raise InputError(f"--generator {generator!r} is not supported; use trivy or syft")
            cfg = cfg.override(sbom_generator=generator)
        files = await image_stage.sbom(built, cfg)
        return report_stage.sbom_directory(sbom_pair.finalize(files.cyclonedx, files.spdx, tool=files.tool))

    @function(cache="session")  # type: ignore[call-overload]
    async def scan_image(
        self,
        source: SourceArg,
        image: ImageArg = None,
        config: ConfigArg = None,
        dockerfile: DockerfileArg = "",
    ) -> ScanResult:
        """Vulnerabilities of the image with trivy; the DB lives in a cache volume refreshed once a day.

        Cache: per session. The findings depend on live data (the vulnerability DB, rule packs, tool tags that
        move until locked), so a new `dagger call` always scans again; the engine's default would keep them
        up to 7 days (dagger core/modfunc.go MaxFunctionCacheTTLSeconds).
        """
        built, cfg, _ = await self._built(image, source, config, dockerfile)
        await trivydb.refresh(cfg)
        runs = await image_stage.scan_image(built, cfg)
        return _scan_result(runs)

    @function(cache="session")  # type: ignore[call-overload]
    async def facts(
        self,
        source: SourceArg,
        image: ImageArg = None,
        config: ConfigArg = None,
        dockerfile: DockerfileArg = "",
    ) -> str:
        """Image facts the gate reads (user, entrypoint, ports, labels, base image and pin, size, config digest).

        Cache: per session, like `build`: the image it describes is rebuilt from moving base tags.
        """
        built, _cfg, text = await self._built(image, source, config, dockerfile)
        facts = await image_stage.image_facts(built, text)
        return report_stage.facts_json(facts)

    # --- gate -------------------------------------------------------------------------------------------

    @function(cache="24h")  # type: ignore[call-overload]
    async def gate(
        self,
        input: Annotated[dagger.File, Doc("A gate input document (gate-input.json from a ship report)")],
        policy: Annotated[
            dagger.Directory | None, Doc("Your own Rego policy folder (adds/overrides rules by id)")
        ] = None,
    ) -> GateResult:
        """Evaluate a saved gate input document with the bundled Rego policies (plus yours) in OPA.

        Cache: 24h. A pure function of the input document, the policies and the pinned OPA image (all part of the
        cache key); 24h rather than the default week so that a re-pinned OPA tag is picked up within a day.
        """
        verdict = await gate_stage.evaluate(
            await input.contents(),
            user_policies=[("--policy", policy)] if policy is not None else [],
            where="--input",
        )
        return GateResult(
            passed=verdict.passed,
            verdict=report_stage.verdict_json(verdict),
            summary=report_stage.verdict_markdown(verdict),
        )

    # --- release ----------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    def registry(self) -> dagger.Service:
        """The ephemeral OCI registry `ship` publishes to when no --repository is given (plain HTTP).

        Cache: never. Each call must start a fresh, empty registry.
        """
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
        dockerfile: DockerfileArg = "",
        registry_service: RegistryServiceArg = None,
    ) -> str:
        """Push the image (all platform variants as one index) and return repo@sha256:… after reading it back.

        Cache: never. It changes a registry; a cached result would report a push or signature that did not happen.
        """
        built, _cfg, _ = await self._built(image, source, config, dockerfile)
        target = release_stage.Target.parse(
            repository,
            tag,
            username=username,
            password=password,
            insecure=insecure_registry,
            service=registry_service,
        )
        pushed = await release_stage.publish(built.tarball, built.platforms, target)
        return target.public(pushed.ref)

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
        registry_service: RegistryServiceArg = None,
    ) -> str:
        """Sign an image by digest with cosign: key, keyless (OIDC token) or KMS.

        Cache: never. It changes a registry; a cached result would report a push or signature that did not happen.
        """
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
        reg = release_stage.RegistryAccess(registry_username, registry_password, insecure_registry, registry_service)
        await release_stage.sign(release_stage.via_service(ref, registry_service), signing, reg)
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
        registry_service: RegistryServiceArg = None,
    ) -> str:
        """Attach a signed in-toto attestation (SBOM, vulnerabilities, provenance, verdict…) to an image by digest.

        Cache: never. It changes a registry; a cached result would report a push or signature that did not happen.
        """
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
        reg = release_stage.RegistryAccess(registry_username, registry_password, insecure_registry, registry_service)
        await release_stage.attest(release_stage.via_service(ref, registry_service), predicate, type, signing, reg)
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
        registry_service: RegistryServiceArg = None,
    ) -> str:
        """Verify an image's signature, its attestations and policy over them (usable before a deploy).

        Cache: never. It reads the registry's current state and the vulnerability attestation's age.
        """
        verifier = release_stage.Verifying.from_args(
            public_key=public_key,
            kms_key=kms_key,
            identity=identity,
            identity_regexp=identity_regexp,
            issuer=issuer,
            tlog=tlog,
            kms_credentials=kms_credentials,
        )
        reg = release_stage.RegistryAccess(registry_username, registry_password, insecure_registry, registry_service)
        result = await release_stage.verify(
            release_stage.via_service(ref, registry_service),
            verifier,
            reg,
            require=tuple(require),
            max_vuln_age_hours=max_vuln_age_hours,
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
        secret_ids: SecretIdsArg = (),  # pyright: ignore[reportArgumentType]
        policy: Annotated[dagger.Directory | None, Doc("Your own Rego policy folder")] = None,
        repository: Annotated[
            str, Doc("Where to publish, e.g. ghcr.io/org/app (default: an ephemeral in-engine registry)")
        ] = "",
        tag: Annotated[str, Doc("Tag to push")] = "latest",
        username: Annotated[str, Doc("Registry user name")] = "",
        password: Annotated[dagger.Secret | None, Doc("Registry password or token")] = None,
        insecure_registry: Annotated[bool, Doc("Plain HTTP / no TLS verification for --repository")] = False,
        registry_service: RegistryServiceArg = None,
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

        Cache: never. It scans with live data and changes a registry; every call must do both again.
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
            service=registry_service,
        )
        outcome = await ship_stage.ship(
            source,
            cfg,
            plan,
            secrets=await image_stage.named_secrets(list(secrets), list(secret_ids)),
            user_policy=policy,
            today=_today(today),
        )
        if not outcome.verdict.passed and strict:
            raise GateFailed(outcome.failure_message)
        return outcome.reports

    @function(cache="168h")  # type: ignore[call-overload]
    def version(self) -> str:
        """Seaworthy's version and the pinned tool images.

        Cache: 168h (the engine's maximum). A constant of the module source, which is part of the cache key.
        """
        return release_stage.versions()


__all__ = ["GateResult", "ScanResult", "Seaworthy"]
