"""The Dagger module object: Seaworthy's public functions.

Configuration is chained on the main object (`with_registry_auth`, `with_cosign_key`, `with_policy`…, each
returning a new object that keeps the earlier state); each function then takes only what is its own and
returns a result object (ScanResult, GateResult, Image, Release) whose own functions carry the state they
need. Thin on purpose: every step is a call into `pipeline.api`; anything with a branch worth testing lives
in a lower layer.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Annotated, Self

import dagger
from dagger import DefaultPath, Doc, Ignore, dag, field, function, object_type

from pipeline import api, log
from pipeline.config import SBOM_GENERATORS, Config
from pipeline.errors import GateFailed, InputError
from pipeline.model import Verdict
from pipeline.stages import release as release_stage

SourceArg = Annotated[
    dagger.Directory,
    DefaultPath("examples/app"),
    Ignore([".git", "**/.venv", "**/.venv-*", "**/node_modules", "**/__pycache__"]),
    Doc("Source tree to scan and build (default: the bundled example app)"),
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
PlatformsArg = Annotated[list[str], Doc("Platforms to build, e.g. linux/amd64,linux/arm64 (default: native)")]
TodayArg = Annotated[str, Doc("Date the exceptions' expiry is checked against, YYYY-MM-DD (default: today, UTC)")]
RefArg = Annotated[str, Doc("Image by digest: repo@sha256:… (a tag is refused)")]
TlogArg = Annotated[bool, Doc("Use the transparency log (turn off for private or ephemeral registries)")]
PublicKeyArg = Annotated[
    dagger.File | None, Doc("cosign public key (default with with-cosign-key / with-kms: the signing key's own)")
]
IdentityArg = Annotated[
    str,
    Doc(
        "Expected signer identity (keyless; default: with-keyless --identity), e.g. "
        "https://github.com/org/repo/.github/workflows/ship.yml@refs/heads/main"
    ),
]
IdentityRegexpArg = Annotated[str, Doc("Expected signer identity as a regular expression (keyless)")]
IssuerArg = Annotated[
    str,
    Doc(
        "Expected OIDC issuer (keyless; default: with-keyless --issuer), e.g. https://token.actions.githubusercontent.com"
    ),
]
RequireArg = Annotated[
    list[str], Doc("Attestations that must be present: sbom, vuln, provenance, verdict (default: all)")
]
MaxAgeArg = Annotated[int, Doc("The vulnerability attestation must be younger than this")]
VerifyTlogArg = Annotated[bool, Doc("Require the transparency log entry")]
StrictArg = Annotated[bool, Doc("Fail the call when the gate fails (false: return the result and reports anyway)")]

# --- state carried from the chained configuration into the result objects -----------------------------


def _no_strs() -> list[str]:
    return []


def _no_secrets() -> list[dagger.Secret]:
    return []


def _no_containers() -> list[dagger.Container]:
    return []


def _registries(
    addresses: list[str],
    usernames: list[str],
    secrets: list[dagger.Secret],
    insecure: list[str],
    service: dagger.Service | None,
) -> api.Registries:
    return api.Registries(
        auths=tuple(zip(addresses, usernames, secrets, strict=True)), insecure=tuple(insecure), service=service
    )


@dataclasses.dataclass(frozen=True)
class _SigningState:
    """The signing mode chained on the main object (one of key, keyless, kms)."""

    mode: str = ""
    key: dagger.Secret | None = None
    password: dagger.Secret | None = None
    kms_key: str = ""
    kms_credentials: dagger.Secret | None = None
    identity_token: dagger.Secret | None = None
    oidc_request_url: dagger.Secret | None = None
    oidc_request_token: dagger.Secret | None = None
    tlog: bool = True

    def signing(self, *, ephemeral: bool = False) -> api.Signing:
        if not self.mode and not ephemeral:
            raise InputError(
                "no way to sign was chained: add with-cosign-key --key=file:./cosign.key, "
                "with-kms --key=awskms:///alias/NAME, or with-keyless (an OIDC token) before the function"
            )
        return api.Signing.from_args(
            key=self.key,
            key_password=self.password,
            kms_key=self.kms_key,
            kms_credentials=self.kms_credentials,
            identity_token=self.identity_token,
            oidc_request_url=self.oidc_request_url,
            oidc_request_token=self.oidc_request_token,
            tlog=self.tlog,
            ephemeral=ephemeral,
        )


async def _verifying(
    signing: _SigningState,
    *,
    public_key: dagger.File | None,
    identity: str,
    identity_regexp: str,
    issuer: str,
    tlog: bool,
) -> api.Verifying:
    """How to verify: the arguments given, else what the chained signing mode implies (the public key of a
    chained cosign key, the chained KMS key)."""
    kms_key = ""
    chosen = public_key is not None or bool(identity or identity_regexp)
    if not chosen and signing.mode == "key":
        public_key = await release_stage.public_key_of(signing.signing())
    elif not chosen and signing.mode == "kms":
        kms_key = signing.kms_key
    if public_key is None and not kms_key and not (identity or identity_regexp):
        raise InputError(
            "verify has nothing to check the signature against: pass --public-key=cosign.pub, --identity with "
            "--issuer (keyless), or chain the signer (with-cosign-key, with-kms, with-keyless --identity)"
        )
    return api.Verifying.from_args(
        public_key=public_key,
        kms_key=kms_key,
        identity=identity,
        identity_regexp=identity_regexp,
        issuer=issuer,
        tlog=tlog,
        kms_credentials=signing.kms_credentials if kms_key else None,
    )


async def _load(source: dagger.Directory | None, config: dagger.File | None) -> Config:
    """The configuration of an Image's own steps (SBOM generator, trivy settings): with-config's file, else the
    source's seaworthy.toml; for the caller's own container (no source) with-config's or the defaults."""
    return await api.load_config(source if source is not None else dag.directory(), config)


# --- result objects -------------------------------------------------------------------------------------


@object_type
class ScanResult:
    """Findings of one or more scanners, merged, with their reports (and the verdict when gated)."""

    findings: str = field()
    """The merged findings as JSON (the `findings` array of report.json)."""
    count: int = field()
    """How many merged findings."""
    gated: bool = field()
    """Whether a policy gate was evaluated (false for the single scanners and Image.scan)."""
    passed: bool = field()
    """True only when a gate was evaluated and passed (false when not gated: an ungated scan passes nothing)."""
    verdict: str = field()
    """The verdict document (JSON); "" when no gate was evaluated."""
    summary: str = field()
    """Markdown summary."""
    reports: dagger.Directory = field()
    """seaworthy.sarif, junit.xml, summary.md, report.json (+ gate-input.json, verdict.json when gated)."""


def _scan_result(scanned: api.Scanned) -> ScanResult:
    return ScanResult(
        findings=scanned.findings_json(),
        count=len(scanned.findings),
        gated=scanned.gated,
        passed=scanned.passed,
        verdict=api.verdict_json(scanned.verdict) if scanned.verdict is not None else "",
        summary=scanned.summary,
        reports=scanned.directory(),
    )


@object_type
class GateResult:
    """The policy gate's verdict."""

    passed: bool = field()
    """Whether the gate passed (false as soon as one rule denies)."""
    verdict: str = field()
    """The verdict document (JSON)."""
    reasons: list[str] = field()
    """Each denial as "rule_id: message"."""
    summary: str = field()
    """Markdown summary of the verdict."""


def _gate_result(verdict: Verdict) -> GateResult:
    return GateResult(
        passed=verdict.passed,
        verdict=api.verdict_json(verdict),
        reasons=api.reasons(verdict),
        summary=api.verdict_summary(verdict),
    )


@object_type
class Image:
    """One image: built once from a source, or the caller's own container. Every step reads its one tarball."""

    container: dagger.Container = field()
    """The image (the first platform's variant)."""
    tarball: dagger.File = field()
    """The OCI tarball of every platform variant: what facts, SBOM, scan and publish read."""
    platforms: list[str] = field()
    """The platforms built ("" = the engine's native one)."""
    variants: list[dagger.Container] = dataclasses.field(default_factory=_no_containers)
    dockerfile: str = ""
    dockerfile_text: str = ""
    source: dagger.Directory | None = None
    config: dagger.File | None = None
    log_format: str = "console"
    registry_addresses: list[str] = dataclasses.field(default_factory=_no_strs)
    registry_usernames: list[str] = dataclasses.field(default_factory=_no_strs)
    registry_secrets: list[dagger.Secret] = dataclasses.field(default_factory=_no_secrets)
    insecure_registries: list[str] = dataclasses.field(default_factory=_no_strs)
    registry_service: dagger.Service | None = None

    def __post_init__(self) -> None:
        log.configure(self.log_format)

    def _built(self) -> api.Built:
        return api.Built(tuple(self.variants), tuple(self.platforms), self.tarball, self.dockerfile)

    @function(cache="session")  # type: ignore[call-overload]
    async def facts(self) -> str:
        """Image facts the gate reads (user, entrypoint, ports, labels, base image and pin, size, config digest).

        Cache: per session: the image it describes is rebuilt from moving base tags.
        """
        return await api.facts(self._built(), self.dockerfile_text)

    @function(cache="session")  # type: ignore[call-overload]
    async def sbom(
        self, generator: Annotated[str, Doc("SBOM generator: trivy (default, or seaworthy.toml) or syft")] = ""
    ) -> dagger.Directory:
        """CycloneDX 1.6 and SPDX 2.3 SBOMs of the image: sbom.cdx.json and sbom.spdx.json.

        Cache: per session: the image it describes is rebuilt from moving base tags.
        """
        cfg = await _load(self.source, self.config)
        if generator:
            if generator not in SBOM_GENERATORS:
                raise InputError(f"--generator {generator!r} is not supported; use trivy or syft")
            cfg = cfg.override(sbom_generator=generator)
        return await api.sbom(self._built(), cfg)

    @function(cache="session")  # type: ignore[call-overload]
    async def scan(self) -> ScanResult:
        """Vulnerabilities of the image with trivy; the DB lives in a cache volume refreshed once a day.

        Cache: per session. The findings depend on the live vulnerability DB.
        """
        return _scan_result(await api.scan_image(self._built(), await _load(self.source, self.config)))

    @function(cache="never")  # type: ignore[call-overload]
    async def publish(
        self,
        repository: Annotated[str, Doc("Where to push, e.g. ghcr.io/org/app (lower-cased; tag from --tag)")],
        tag: Annotated[str, Doc("Tag to push (the result is always repo@sha256:…)")] = "latest",
    ) -> str:
        """Push the image (every platform variant as one index) and return repo@sha256:… after reading it back.

        Credentials and transport come from with-registry-auth, with-insecure-registry and with-registry-service.
        Cache: never. It changes a registry; a cached result would report a push that did not happen.
        """
        registries = _registries(
            self.registry_addresses,
            self.registry_usernames,
            self.registry_secrets,
            self.insecure_registries,
            self.registry_service,
        )
        return await api.publish(self._built(), repository, tag, registries)


@object_type
class Release:
    """What `ship` did: the published reference, the verdict with its reasons, the reports and the SBOM."""

    ref: str = field()
    """repo@sha256:… as published; "" when the gate failed (nothing was published)."""
    passed: bool = field()
    """Whether the gate passed (with --strict=false a failed gate returns a release too, unpublished)."""
    verdict: str = field()
    """The verdict document (JSON)."""
    reasons: list[str] = field()
    """Each denial as "rule_id: message"."""
    summary: str = field()
    """Markdown summary (the verdict first)."""
    reports: dagger.Directory = field()
    """Every report ship writes (summary.md, seaworthy.sarif, junit.xml, report.json, verdict.json, …)."""
    sbom: dagger.Directory = field()
    """sbom.cdx.json and sbom.spdx.json of the image."""
    config_digests: list[str] = field()
    """The image config digest of each platform built (the ones read back from the registry when published)."""
    ephemeral: bool = False
    log_format: str = "console"
    registry_addresses: list[str] = dataclasses.field(default_factory=_no_strs)
    registry_usernames: list[str] = dataclasses.field(default_factory=_no_strs)
    registry_secrets: list[dagger.Secret] = dataclasses.field(default_factory=_no_secrets)
    insecure_registries: list[str] = dataclasses.field(default_factory=_no_strs)
    registry_service: dagger.Service | None = None
    signing_mode: str = ""
    cosign_key: dagger.Secret | None = None
    cosign_password: dagger.Secret | None = None
    kms_key: str = ""
    kms_credentials: dagger.Secret | None = None
    keyless_identity: str = ""
    keyless_issuer: str = ""
    tlog: bool = True

    def __post_init__(self) -> None:
        log.configure(self.log_format)

    @function(cache="never")  # type: ignore[call-overload]
    async def verify(
        self,
        public_key: PublicKeyArg = None,
        identity: IdentityArg = "",
        identity_regexp: IdentityRegexpArg = "",
        issuer: IssuerArg = "",
        require: RequireArg = (),  # pyright: ignore[reportArgumentType]
        max_vuln_age_hours: MaxAgeArg = 24,
        tlog: VerifyTlogArg = True,
    ) -> str:
        """Verify the released image again: signature, attestations and policy over them (the report, JSON).

        Cache: never. It reads the registry's current state and the vulnerability attestation's age.
        """
        if not self.ref:
            raise InputError("the gate denied this release, so nothing was published and there is nothing to verify")
        if self.ephemeral:
            raise InputError(
                "this release went to the ephemeral in-engine registry, which ended with ship (its verification "
                "is verification.json in the reports); ship with --repository to verify it later"
            )
        signing = _SigningState(
            mode=self.signing_mode,
            key=self.cosign_key,
            password=self.cosign_password,
            kms_key=self.kms_key,
            kms_credentials=self.kms_credentials,
            tlog=self.tlog,
        )
        verifying = await _verifying(
            signing,
            public_key=public_key,
            identity=identity or (self.keyless_identity if public_key is None and not identity_regexp else ""),
            identity_regexp=identity_regexp,
            issuer=issuer or (self.keyless_issuer if public_key is None else ""),
            tlog=tlog and self.tlog,
        )
        registries = _registries(
            self.registry_addresses,
            self.registry_usernames,
            self.registry_secrets,
            self.insecure_registries,
            self.registry_service,
        )
        return await api.verify(
            self.ref, verifying, registries, require=tuple(require), max_vuln_age_hours=max_vuln_age_hours
        )


# --- the main object ------------------------------------------------------------------------------------


@object_type
class Seaworthy:
    """Scan, build once, describe, gate, publish, sign, attest and verify a container image.

    Configure by chaining (`with-registry-auth`, `with-cosign-key`, `with-policy`, …), then call a function.
    """

    log_format: str = "console"
    config_file: dagger.File | None = None
    exceptions_file: dagger.File | None = None
    policy: dagger.Directory | None = None
    registry_addresses: list[str] = dataclasses.field(default_factory=_no_strs)
    registry_usernames: list[str] = dataclasses.field(default_factory=_no_strs)
    registry_secrets: list[dagger.Secret] = dataclasses.field(default_factory=_no_secrets)
    insecure_registries: list[str] = dataclasses.field(default_factory=_no_strs)
    registry_service: dagger.Service | None = None
    signing_mode: str = ""
    """"" (none chained), key, keyless or kms."""
    cosign_key: dagger.Secret | None = None
    cosign_password: dagger.Secret | None = None
    kms_key: str = ""
    kms_credentials: dagger.Secret | None = None
    identity_token: dagger.Secret | None = None
    oidc_request_url: dagger.Secret | None = None
    oidc_request_token: dagger.Secret | None = None
    keyless_identity: str = ""
    keyless_issuer: str = ""
    tlog: bool = True
    build_arg_names: list[str] = dataclasses.field(default_factory=_no_strs)
    build_arg_values: list[str] = dataclasses.field(default_factory=_no_strs)
    build_secret_ids: list[str] = dataclasses.field(default_factory=_no_strs)
    build_secrets: list[dagger.Secret] = dataclasses.field(default_factory=_no_secrets)
    source_repository: str = ""
    revision: str = ""

    def __post_init__(self) -> None:
        # every call rebuilds the object from its state, so with-log-format applies to every later function
        log.configure(self.log_format)

    @classmethod
    def create(cls) -> Seaworthy:
        """The constructor takes nothing: configuration is chained (with-…), so state never becomes a flag."""
        return cls()

    # --- chained configuration (pure: each returns a new object, the earlier state kept) ------------------

    @function(cache="session")  # type: ignore[call-overload]
    def with_config(self, file: Annotated[dagger.File, Doc("seaworthy.toml to use")]) -> Self:
        """Use this configuration file (default: seaworthy.toml at the source root, if present).

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        return dataclasses.replace(self, config_file=file)

    @function(cache="session")  # type: ignore[call-overload]
    def with_exceptions(
        self, file: Annotated[dagger.File, Doc("A TOML file of [[exceptions]] tables (owner, reason, expires)")]
    ) -> Self:
        """Use this exception file instead of seaworthy.toml's [gate] exceptions_file.

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        return dataclasses.replace(self, exceptions_file=file)

    @function(cache="session")  # type: ignore[call-overload]
    def with_policy(
        self, directory: Annotated[dagger.Directory, Doc("Your Rego policy folder (adds/overrides rules by id)")]
    ) -> Self:
        """Evaluate your own Rego policies with the bundled ones (every override shows in the verdict).

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        return dataclasses.replace(self, policy=directory)

    @function(cache="session")  # type: ignore[call-overload]
    def with_log_format(self, format: Annotated[str, Doc("console or json")]) -> Self:
        """Log as console text (default) or JSON lines.

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        if format not in ("console", "json"):
            raise InputError(f"--format {format!r} is not a log format; use console or json")
        return dataclasses.replace(self, log_format=format)

    @function(cache="session")  # type: ignore[call-overload]
    def with_registry_auth(
        self,
        address: Annotated[str, Doc("Registry host[:port], e.g. ghcr.io, docker.io, registry.example.com:5000")],
        username: Annotated[str, Doc("Registry user name")],
        secret: Annotated[dagger.Secret, Doc("Registry password or token, e.g. env:GH_TOKEN")],
    ) -> Self:
        """Credentials for one registry (repeat for several; the same address again replaces them).

        Used by every step that reads or writes that registry: publish, sign, attest, verify, ship.

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        registries = _registries(
            self.registry_addresses, self.registry_usernames, self.registry_secrets, [], None
        ).with_auth(address, username, secret)
        return dataclasses.replace(
            self,
            registry_addresses=[a[0] for a in registries.auths],
            registry_usernames=[a[1] for a in registries.auths],
            registry_secrets=[a[2] for a in registries.auths],
        )

    @function(cache="session")  # type: ignore[call-overload]
    def with_insecure_registry(
        self, address: Annotated[str, Doc("Registry host[:port] reached over plain HTTP / without TLS checks")]
    ) -> Self:
        """Reach this registry over plain HTTP / without TLS verification (local registries only).

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        registries = api.Registries(insecure=tuple(self.insecure_registries)).with_insecure(address)
        return dataclasses.replace(self, insecure_registries=list(registries.insecure))

    @function(cache="session")  # type: ignore[call-overload]
    def with_registry_service(
        self,
        service: Annotated[dagger.Service, Doc("A registry you run, e.g. tcp://localhost:5000 (plain HTTP)")],
    ) -> Self:
        """Publish to a registry you run: name it localhost:PORT in --repository (e.g. localhost:5000/team/app).

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        return dataclasses.replace(self, registry_service=service)

    def _signing_mode(self, mode: str) -> None:
        if self.signing_mode and self.signing_mode != mode:
            flags = {"key": "with-cosign-key", "keyless": "with-keyless", "kms": "with-kms"}
            raise InputError(
                f"{flags[mode]} after {flags[self.signing_mode]}: chain one way to sign, not both; drop one of them"
            )

    @function(cache="session")  # type: ignore[call-overload]
    def with_cosign_key(
        self,
        key: Annotated[dagger.Secret, Doc("cosign private key, e.g. file:./cosign.key")],
        password: Annotated[dagger.Secret | None, Doc("Password of the key, e.g. env:COSIGN_PASSWORD")] = None,
        tlog: TlogArg = True,
    ) -> Self:
        """Sign with a cosign key pair (verification uses its public key).

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        self._signing_mode("key")
        return dataclasses.replace(self, signing_mode="key", cosign_key=key, cosign_password=password, tlog=tlog)

    @function(cache="session")  # type: ignore[call-overload]
    def with_keyless(
        self,
        identity_token: Annotated[
            dagger.Secret | None, Doc("OIDC token (GitLab: env:SIGSTORE_ID_TOKEN from id_tokens)")
        ] = None,
        oidc_request_url: Annotated[
            dagger.Secret | None, Doc("GitHub: env:ACTIONS_ID_TOKEN_REQUEST_URL (id-token: write)")
        ] = None,
        oidc_request_token: Annotated[dagger.Secret | None, Doc("GitHub: env:ACTIONS_ID_TOKEN_REQUEST_TOKEN")] = None,
        identity: Annotated[
            str,
            Doc(
                "The certificate identity verification expects, e.g. "
                "https://github.com/ORG/REPO/.github/workflows/ship.yml@refs/heads/main"
            ),
        ] = "",
        issuer: Annotated[
            str, Doc("The OIDC issuer verification expects (default for GitHub tokens; GitLab: https://gitlab.com)")
        ] = "",
        tlog: TlogArg = True,
    ) -> Self:
        """Sign keyless with Sigstore (Fulcio certificate from a GitHub or GitLab OIDC token).

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        self._signing_mode("keyless")
        if identity_token is None and oidc_request_url is None and oidc_request_token is None:
            raise InputError(
                "with-keyless needs an OIDC token: --identity-token=env:SIGSTORE_ID_TOKEN (GitLab) or "
                "--oidc-request-url=env:ACTIONS_ID_TOKEN_REQUEST_URL --oidc-request-token="
                "env:ACTIONS_ID_TOKEN_REQUEST_TOKEN (GitHub)"
            )
        # the token combination is checked here, before anything runs
        api.Signing.from_args(
            identity_token=identity_token,
            oidc_request_url=oidc_request_url,
            oidc_request_token=oidc_request_token,
            tlog=tlog,
        )
        return dataclasses.replace(
            self,
            signing_mode="keyless",
            identity_token=identity_token,
            oidc_request_url=oidc_request_url,
            oidc_request_token=oidc_request_token,
            keyless_identity=identity,
            keyless_issuer=issuer,
            tlog=tlog,
        )

    @function(cache="session")  # type: ignore[call-overload]
    def with_kms(
        self,
        key: Annotated[str, Doc("KMS key URI: awskms://, gcpkms://, azurekms://, hashivault://")],
        credentials: Annotated[
            dagger.Secret | None,
            Doc("KMS credentials: a NAME=value file (AWS_*, AZURE_*, VAULT_*) or GCP's JSON key"),
        ] = None,
        tlog: TlogArg = True,
    ) -> Self:
        """Sign with a key held in a KMS (verification uses the same key).

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        self._signing_mode("kms")
        if "://" not in key:
            raise InputError(f"--key {key!r} is not a KMS key URI; write it like awskms:///alias/NAME")
        return dataclasses.replace(self, signing_mode="kms", kms_key=key, kms_credentials=credentials, tlog=tlog)

    @function(cache="session")  # type: ignore[call-overload]
    def with_build_arg(
        self,
        name: Annotated[str, Doc("Build argument name (ARG in the Dockerfile)")],
        value: Annotated[str, Doc("Its value (never a secret: use with-build-secret)")],
    ) -> Self:
        """A build argument (repeatable; the same name again replaces it; over seaworthy.toml's).

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        if not name.strip() or "=" in name:
            raise InputError(f"--name {name!r} is not a build argument name; give one like VERSION (no '=')")
        pairs = {n: v for n, v in zip(self.build_arg_names, self.build_arg_values, strict=True) if n != name}
        pairs[name.strip()] = value
        return dataclasses.replace(self, build_arg_names=list(pairs), build_arg_values=list(pairs.values()))

    @function(cache="session")  # type: ignore[call-overload]
    def with_build_secret(
        self,
        id: Annotated[str, Doc("The Dockerfile secret id (RUN --mount=type=secret,id=…)")],
        secret: Annotated[dagger.Secret, Doc("The secret, e.g. env:NPM_TOKEN or file:./pip.conf")],
    ) -> Self:
        """A build secret under the id the Dockerfile mounts (repeatable; the same id again replaces it).

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        api.check_secret_id(id)
        kept = [(i, s) for i, s in zip(self.build_secret_ids, self.build_secrets, strict=True) if i != id]
        kept.append((id, secret))
        return dataclasses.replace(self, build_secret_ids=[i for i, _ in kept], build_secrets=[s for _, s in kept])

    @function(cache="session")  # type: ignore[call-overload]
    def with_provenance(
        self,
        source_repository: Annotated[
            str, Doc("Source repository URL (e.g. $GITHUB_SERVER_URL/$GITHUB_REPOSITORY or $CI_PROJECT_URL)")
        ],
        revision: Annotated[str, Doc("Source revision (commit SHA)")],
    ) -> Self:
        """Where the source comes from, recorded in ship's SLSA provenance.

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        return dataclasses.replace(self, source_repository=source_repository, revision=revision)

    # --- helpers over the state -------------------------------------------------------------------------

    def _registries(self) -> api.Registries:
        return _registries(
            self.registry_addresses,
            self.registry_usernames,
            self.registry_secrets,
            self.insecure_registries,
            self.registry_service,
        )

    def _signing_state(self) -> _SigningState:
        return _SigningState(
            mode=self.signing_mode,
            key=self.cosign_key,
            password=self.cosign_password,
            kms_key=self.kms_key,
            kms_credentials=self.kms_credentials,
            identity_token=self.identity_token,
            oidc_request_url=self.oidc_request_url,
            oidc_request_token=self.oidc_request_token,
            tlog=self.tlog,
        )

    def _secrets(self) -> dict[str, dagger.Secret]:
        return dict(zip(self.build_secret_ids, self.build_secrets, strict=True))

    async def _config(
        self,
        source: dagger.Directory,
        *,
        scanners: list[str] | tuple[str, ...] = (),
        skip: list[str] | tuple[str, ...] = (),
        dockerfile: str = "",
        target: str = "",
        platforms: list[str] | tuple[str, ...] = (),
    ) -> Config:
        return await api.load_config(
            source,
            self.config_file,
            scanners=scanners,
            skip=skip,
            dockerfile=dockerfile,
            target=target,
            build_args=dict(zip(self.build_arg_names, self.build_arg_values, strict=True)),
            platforms=platforms,
            exceptions=self.exceptions_file,
        )

    def _image(self, built: api.Built, source: dagger.Directory | None, dockerfile_text: str) -> Image:
        return Image(
            container=built.variants[0],
            tarball=built.tarball,
            platforms=list(built.platforms),
            variants=list(built.variants),
            dockerfile=built.dockerfile,
            dockerfile_text=dockerfile_text,
            source=source,
            config=self.config_file,
            log_format=self.log_format,
            registry_addresses=self.registry_addresses,
            registry_usernames=self.registry_usernames,
            registry_secrets=self.registry_secrets,
            insecure_registries=self.insecure_registries,
            registry_service=self.registry_service,
        )

    # --- source scanners ------------------------------------------------------------------------------

    @function(cache="session")  # type: ignore[call-overload]
    async def scan(
        self,
        source: SourceArg,
        scanners: ScannersArg = (),  # pyright: ignore[reportArgumentType]
        skip: SkipArg = (),  # pyright: ignore[reportArgumentType]
        dockerfile: DockerfileArg = "",
        strict: StrictArg = True,
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
        on = api.today(today)
        cfg = await self._config(source, scanners=scanners, skip=skip, dockerfile=dockerfile)
        scanned = await api.scan(source, cfg, policy=self.policy, on=on, dockerfile=dockerfile)
        result = _scan_result(scanned)
        if not scanned.passed and strict:
            assert scanned.verdict is not None
            denied = ", ".join(r.rule_id for r in scanned.verdict.denials)
            raise GateFailed(
                f"the policy gate denied the source scan ({denied}). Fix the reasons below or record a reviewed "
                f"exception (owner, reason, expiry) in seaworthy.toml; --strict=false returns the reports "
                f"without failing.\n\n{result.summary}"
            )
        return result

    async def _one(self, name: str, source: dagger.Directory, dockerfile: str = "") -> ScanResult:
        cfg = await self._config(source, dockerfile=dockerfile)
        return _scan_result(await api.scan(source, cfg, names=[name], gated=False, dockerfile=dockerfile))

    @function(cache="session")  # type: ignore[call-overload]
    async def semgrep(self, source: SourceArg) -> ScanResult:
        """SAST with semgrep: the bundled offline rules plus any in seaworthy.toml.

        Cache: per session. The findings depend on live data (the vulnerability DB, rule packs, tool tags that
        move until locked), so a new `dagger call` always scans again.
        """
        return await self._one("semgrep", source)

    @function(cache="session")  # type: ignore[call-overload]
    async def gitleaks(self, source: SourceArg) -> ScanResult:
        """Secrets in the working tree with gitleaks (values are redacted, never reported).

        Cache: per session. The findings depend on live data (rule packs, tool tags that move until locked), so
        a new `dagger call` always scans again.
        """
        return await self._one("gitleaks", source)

    @function(cache="session")  # type: ignore[call-overload]
    async def trivy_fs(self, source: SourceArg) -> ScanResult:
        """Vulnerable dependencies (lock files), IaC/Dockerfile misconfiguration and secrets with trivy fs.

        Cache: per session. The findings depend on the live vulnerability DB, so a new `dagger call` always
        scans again.
        """
        return await self._one("trivy", source)

    @function(cache="session")  # type: ignore[call-overload]
    async def bandit(self, source: SourceArg) -> ScanResult:
        """Python SAST with bandit (run only when the tree has Python files).

        Cache: per session, like every scanner: a new `dagger call` always scans again.
        """
        return await self._one("bandit", source)

    @function(cache="session")  # type: ignore[call-overload]
    async def njsscan(self, source: SourceArg) -> ScanResult:
        """Node.js SAST with njsscan (run only when the tree has JavaScript files).

        Cache: per session, like every scanner: a new `dagger call` always scans again.
        """
        return await self._one("njsscan", source)

    @function(cache="session")  # type: ignore[call-overload]
    async def hadolint(self, source: SourceArg, dockerfile: DockerfileArg = "") -> ScanResult:
        """Dockerfile lint with hadolint: every Dockerfile/Containerfile in the source, plus --dockerfile.

        Cache: per session, like every scanner: a new `dagger call` always scans again.
        """
        return await self._one("hadolint", source, dockerfile)

    # --- image ------------------------------------------------------------------------------------------

    @function(cache="session")  # type: ignore[call-overload]
    async def build(
        self,
        source: SourceArg,
        dockerfile: DockerfileArg = "",
        target: TargetArg = "",
        platforms: PlatformsArg = (),  # pyright: ignore[reportArgumentType]
    ) -> Image:
        """Build the source's Dockerfile once (fails with the build's own message): the image, its tarball, and
        facts, sbom, scan and publish on it. Build arguments and secrets: with-build-arg, with-build-secret.

        Cache: per session. The build resolves base image tags (`FROM python:3.13-slim`) that move; a week-old
        cached result would hide a rebuilt base.
        """
        cfg = await self._config(source, dockerfile=dockerfile, target=target, platforms=platforms)
        built = await api.build(source, cfg, secrets=self._secrets())
        text = await source.file(cfg.build.dockerfile).contents()
        return self._image(built, source, text)

    @function(cache="session")  # type: ignore[call-overload]
    def image(
        self,
        container: Annotated[dagger.Container, Doc("Your own image, e.g. alpine:3.22 or a container you built")],
    ) -> Image:
        """Your own container as an Image: facts, sbom, scan and publish read its one tarball.

        Cache: per session. Pure (a new object, this one unchanged), but what it carries (secrets, services,
        files) belongs to the calling session.
        """
        return self._image(api.image(container), None, "")

    # --- gate -------------------------------------------------------------------------------------------

    @function(cache="24h")  # type: ignore[call-overload]
    async def gate(
        self, input: Annotated[dagger.File, Doc("A gate input document (gate-input.json from a ship report)")]
    ) -> GateResult:
        """Evaluate a saved gate input document with the bundled Rego policies (plus with-policy's) in OPA.

        Cache: 24h. A pure function of the input document, the policies and the pinned OPA image (all part of the
        cache key); 24h rather than the default week so that a re-pinned OPA tag is picked up within a day.
        """
        return _gate_result(await api.gate(await input.contents(), policy=self.policy))

    # --- release ----------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    def registry(self) -> dagger.Service:
        """The ephemeral OCI registry `ship` publishes to when no --repository is given (plain HTTP).

        Cache: never. Each call must start a fresh, empty registry.
        """
        return release_stage.ephemeral_registry(f"seaworthy-registry-{datetime.now(UTC).isoformat()}")

    @function(cache="never")  # type: ignore[call-overload]
    async def sign(self, ref: RefArg) -> str:
        """Sign an image by digest with the chained signer (with-cosign-key, with-keyless or with-kms).

        Cache: never. It changes a registry; a cached result would report a signature that did not happen.
        """
        return await api.sign(ref, self._signing_state().signing(), self._registries())

    @function(cache="never")  # type: ignore[call-overload]
    async def attest(
        self,
        ref: RefArg,
        predicate: Annotated[dagger.File, Doc("The predicate document (JSON)")],
        predicate_type: Annotated[
            str, Doc("Predicate type: cyclonedx, spdxjson, vuln, slsaprovenance1, verdict, or a URI")
        ],
    ) -> str:
        """Attach a signed in-toto attestation (SBOM, vulnerabilities, provenance, verdict…) to an image by digest.

        Cache: never. It changes a registry; a cached result would report an attestation that did not happen.
        """
        return await api.attest(ref, predicate, predicate_type, self._signing_state().signing(), self._registries())

    @function(cache="never")  # type: ignore[call-overload]
    async def verify(
        self,
        ref: RefArg,
        public_key: PublicKeyArg = None,
        identity: IdentityArg = "",
        identity_regexp: IdentityRegexpArg = "",
        issuer: IssuerArg = "",
        require: RequireArg = (),  # pyright: ignore[reportArgumentType]
        max_vuln_age_hours: MaxAgeArg = 24,
        tlog: VerifyTlogArg = True,
    ) -> str:
        """Verify an image's signature, its attestations and policy over them (usable before a deploy).

        Cache: never. It reads the registry's current state and the vulnerability attestation's age.
        """
        verifying = await _verifying(
            self._signing_state(),
            public_key=public_key,
            identity=identity or (self.keyless_identity if public_key is None and not identity_regexp else ""),
            identity_regexp=identity_regexp,
            issuer=issuer or (self.keyless_issuer if public_key is None else ""),
            tlog=tlog,
        )
        return await api.verify(
            ref, verifying, self._registries(), require=tuple(require), max_vuln_age_hours=max_vuln_age_hours
        )

    # --- everything ----------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def ship(
        self,
        source: SourceArg,
        repository: Annotated[
            str, Doc("Where to publish, e.g. ghcr.io/org/app (default: an ephemeral in-engine registry)")
        ] = "",
        tag: Annotated[str, Doc("Tag to push")] = "latest",
        scanners: ScannersArg = (),  # pyright: ignore[reportArgumentType]
        skip: SkipArg = (),  # pyright: ignore[reportArgumentType]
        dockerfile: DockerfileArg = "",
        target: TargetArg = "",
        platforms: PlatformsArg = (),  # pyright: ignore[reportArgumentType]
        strict: Annotated[
            bool, Doc("Fail the call when the gate fails (false: return the release and reports, publish nothing)")
        ] = True,
        today: TodayArg = "",
    ) -> Release:
        """Scan, build once, SBOM and scan the image, gate; if it passes publish, sign, attest and verify.

        Returns the release: its ref, verdict and reasons, reports (`ship --source . reports export --path
        ./reports`) and SBOM. When the gate fails nothing is pushed and the call fails with the reasons (unless
        --strict=false: then ref is "" and verdict.json in the reports says passed=false).

        Cache: never. It scans with live data and changes a registry; every call must do both again.
        """
        on = api.today(today)
        signing_state = self._signing_state()
        plan = api.plan(
            repository,
            tag,
            self._registries(),
            signing_state.signing(ephemeral=not repository),
            source_repository=self.source_repository,
            revision=self.revision,
            verify_identity=self.keyless_identity,
            verify_issuer=self.keyless_issuer,
        )
        cfg = await self._config(
            source, scanners=scanners, skip=skip, dockerfile=dockerfile, target=target, platforms=platforms
        )
        outcome = await api.ship(source, cfg, plan, secrets=self._secrets(), policy=self.policy, on=on)
        if not outcome.verdict.passed and strict:
            raise GateFailed(outcome.failure_message)
        assert outcome.sbom is not None
        return Release(
            ref=outcome.published,
            passed=outcome.verdict.passed,
            verdict=api.verdict_json(outcome.verdict),
            reasons=api.reasons(outcome.verdict),
            summary=outcome.summary,
            reports=outcome.reports,
            sbom=outcome.sbom,
            config_digests=list(outcome.config_digests),
            ephemeral=plan.ephemeral,
            log_format=self.log_format,
            registry_addresses=self.registry_addresses,
            registry_usernames=self.registry_usernames,
            registry_secrets=self.registry_secrets,
            insecure_registries=self.insecure_registries,
            registry_service=self.registry_service,
            signing_mode=self.signing_mode,
            cosign_key=self.cosign_key,
            cosign_password=self.cosign_password,
            kms_key=self.kms_key,
            kms_credentials=self.kms_credentials,
            keyless_identity=self.keyless_identity,
            keyless_issuer=plan.verify_issuer,
            tlog=plan.signing.tlog,
        )

    @function(cache="168h")  # type: ignore[call-overload]
    def version(self) -> str:
        """Seaworthy's version and the pinned tool images.

        Cache: 168h (the engine's maximum). A constant of the module source, which is part of the cache key.
        """
        return release_stage.versions()


__all__ = ["GateResult", "Image", "Release", "ScanResult", "Seaworthy"]
