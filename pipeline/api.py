"""Seaworthy's Python API: the steps a Dagger module composes (the root module, modules/, your own).

Undecorated on purpose (no `@function`, no `@object_type`): importing it registers nothing, so any module may
build its own surface on it. Every function takes the caller's objects (`dagger.Directory`, `dagger.Container`,
`dagger.Secret`) and returns plain values or lazily built Dagger objects; errors are the project's own types
(pipeline/errors.py), one line naming the input and the fix.

    cfg = await api.load_config(source)
    scanned = await api.scan(source, cfg)            # gated: scanned.passed, scanned.verdict
    built = await api.build(source, cfg)             # or api.image(my_container)
    sboms = await api.sbom(built, cfg)
    verdict = await api.gate(gate_input_text)
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

import attrs
import dagger

from pipeline import config as config_mod
from pipeline.config import Config
from pipeline.errors import InputError
from pipeline.formats import sbom_pair
from pipeline.model import Finding, ToolRun, Verdict
from pipeline.policy.exceptions import load_exception_file
from pipeline.reports import merged_findings
from pipeline.stages import gate as gate_stage
from pipeline.stages import image as image_stage
from pipeline.stages import release as release_stage
from pipeline.stages import report as report_stage
from pipeline.stages import scan as scan_stage
from pipeline.stages import scan_gate as scan_gate_stage
from pipeline.stages import ship as ship_stage
from pipeline.stages import trivydb
from pipeline.stages.image import Built
from pipeline.stages.release import RegistryAccess, Signing, Verifying
from pipeline.stages.ship import Plan
from pipeline.stages.ship import ShipOutcome as Outcome
from pipeline.tools import registry as registry_tool
from pipeline.tools.image_name import ci_image_name, ci_reference

# --- dates ----------------------------------------------------------------------------------------------


def today(value: str = "") -> date:
    """The date exceptions expire against: `value` as YYYY-MM-DD, or today (UTC) when empty."""
    if not value:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"--today {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-27") from None


# --- configuration --------------------------------------------------------------------------------------


def check_scanners(names: Sequence[str], *, where: str = "--scanners") -> tuple[str, ...]:
    """`names` if each is a known source scanner; InputError naming `where` otherwise."""
    for name in names:
        if name not in config_mod.SCANNERS:
            raise InputError(f"{where}: unknown scanner {name!r}; use any of {', '.join(config_mod.SCANNERS)}")
    return tuple(names)


async def load_config(
    source: dagger.Directory,
    config: dagger.File | None = None,
    *,
    scanners: Sequence[str] = (),
    skip: Sequence[str] = (),
    dockerfile: str = "",
    target: str = "",
    build_args: Mapping[str, str] | None = None,
    platforms: Sequence[str] = (),
    exceptions: dagger.File | None = None,
) -> Config:
    """seaworthy.toml (`config`, else the one at the source root, else the defaults) with the arguments over it.

    `scanners` replaces the configured list, `skip` adds to it, the build settings replace the file's (build
    arguments merge, an argument winning), and `exceptions` is an exception file used instead of
    `[gate] exceptions_file` (its `[[exceptions]]` follow the ones in seaworthy.toml).
    """
    if config is not None:
        cfg = config_mod.load(await config.contents(), source=await config.name())
    elif await source.exists(config_mod.CONFIG_FILE):
        cfg = config_mod.load(await source.file(config_mod.CONFIG_FILE).contents())
    else:
        cfg = config_mod.load(None)
    cfg = cfg.override(scanners=check_scanners(scanners), skip_paths=(*cfg.skip_paths, *skip))
    merged_args = dict(cfg.build.build_args)
    for name, value in (build_args or {}).items():
        if not name.strip() or "=" in name:
            raise InputError(f"build argument name {name!r} is not usable; give a name like VERSION (no '=')")
        merged_args[name.strip()] = value
    build = config_mod.BuildConfig(
        dockerfile=dockerfile or cfg.build.dockerfile,
        target=target or cfg.build.target,
        platforms=tuple(config_mod.validate_platform(p) for p in platforms) or cfg.build.platforms,
        build_args=tuple(sorted(merged_args.items())),
    )
    if build != cfg.build:
        cfg = cfg.override(build=build)
    if exceptions is not None:
        cfg = await _with_exception_file(cfg, exceptions)
    return cfg


async def _with_exception_file(cfg: Config, file: dagger.File) -> Config:
    name = await file.name()
    text = await file.contents()
    load_exception_file(text, source=name)  # every error names the file, the exception and the fix
    tables: Any = config_mod.parse_toml(text, source=name).get("exceptions", [])
    return attrs.evolve(
        cfg,
        exceptions=(*cfg.exceptions, *tables),
        gate=attrs.evolve(cfg.gate, exceptions_file=""),
        arguments=tuple(sorted({*cfg.arguments, "exceptions"})),
    )


# --- findings and their reports -------------------------------------------------------------------------


@attrs.frozen
class Scanned:
    """Findings of one or more scanners, merged, with their reports and (when gated) the verdict."""

    runs: tuple[ToolRun, ...]
    findings: tuple[Finding, ...]
    verdict: Verdict | None
    files: Mapping[str, bytes]
    """seaworthy.sarif, junit.xml, summary.md, report.json (+ gate-input.json and verdict.json when gated)."""

    @property
    def gated(self) -> bool:
        """Whether a policy gate was evaluated (False for the single scanners and the image scan)."""
        return self.verdict is not None

    @property
    def passed(self) -> bool:
        """True only when a gate was evaluated and passed: an ungated scan decided nothing, so it did not pass."""
        return self.verdict.passed if self.verdict is not None else False

    @property
    def summary(self) -> str:
        return self.files["summary.md"].decode()

    def findings_json(self) -> str:
        return report_stage.findings_json(self.findings)

    def directory(self) -> dagger.Directory:
        return report_stage.directory(self.files)


def scanned(
    runs: Sequence[ToolRun],
    verdict: Verdict | None = None,
    extra: Mapping[str, str] | None = None,
    *,
    started: datetime | None = None,
) -> Scanned:
    """`runs` merged once (scrubbed of every secret value any run marked), with their reports.

    `started`: when the scan began (GitLab's reports carry it; default: when the reports are rendered)."""
    findings = merged_findings(runs)
    files = report_stage.render(runs, findings, verdict=verdict, started=started)
    files.update({name: text.encode() for name, text in (extra or {}).items()})
    return Scanned(tuple(runs), tuple(findings), verdict, files)


def verdict_json(verdict: Verdict) -> str:
    return report_stage.verdict_json(verdict)


def verdict_summary(verdict: Verdict) -> str:
    return report_stage.verdict_markdown(verdict)


def reasons(verdict: Verdict) -> list[str]:
    """Each denial as ``rule_id: message`` (warnings are not reasons: they do not fail the gate)."""
    return [f"{r.rule_id}: {r.message}" for r in verdict.denials]


async def scan(
    source: dagger.Directory,
    cfg: Config,
    *,
    names: Sequence[str] | None = None,
    gated: bool = True,
    policy: dagger.Directory | None = None,
    on: date | None = None,
    dockerfile: str = "",
) -> Scanned:
    """Run the source scanners (`names`, default: the configured ones), merge, and (when `gated`) evaluate the
    gate over what a source has: the same Rego policies as `ship` without the image rules.

    The verdict is returned, never raised: the caller decides whether a denial fails its call. `dockerfile`
    is a Dockerfile the caller named explicitly (it must exist; hadolint lints it with every other one).
    """
    chosen = check_scanners(names, where="scanners") if names is not None else None
    started = datetime.now(UTC)
    runs = await scan_stage.run_scanners(source, cfg, names=chosen, dockerfile=dockerfile)
    if not gated:
        return scanned(runs, started=started)
    gated_verdict = await scan_gate_stage.evaluate(
        source, cfg, runs, merged_findings(runs), today=on or today(), user_policy=policy
    )
    return scanned(
        runs,
        gated_verdict.verdict,
        {"gate-input.json": gated_verdict.input_text, "verdict.json": verdict_json(gated_verdict.verdict)},
        started=started,
    )


# --- the image ------------------------------------------------------------------------------------------


async def build(source: dagger.Directory, cfg: Config, *, secrets: Mapping[str, dagger.Secret] | None = None) -> Built:
    """Build the source's Dockerfile once (every configured platform) and run it now, so that a broken
    Dockerfile fails here with the build's own message. `secrets`: Dockerfile secret id → Secret."""
    await image_stage.check_source(source, cfg.build.dockerfile)
    named = await build_secrets(secrets)
    built = image_stage.build_variants(source, cfg, secrets=named)
    await image_stage.ensure_built(built)
    return built


async def build_secrets(secrets: Mapping[str, dagger.Secret] | None) -> list[dagger.Secret]:
    """The build secrets under the ids the Dockerfile uses (`RUN --mount=type=secret,id=…`)."""
    items = sorted((secrets or {}).items())
    return await image_stage.named_secrets([s for _, s in items], [i for i, _ in items])


_SECRET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def check_secret_id(value: str, *, where: str = "with-build-secret --id") -> str:
    """`value` if it is a usable Dockerfile secret id; InputError naming `where` otherwise."""
    if not _SECRET_ID.match(value):
        raise InputError(
            f"{where} {value!r} is not a Dockerfile secret id; use letters, digits, '.', '_' or '-', as in "
            "RUN --mount=type=secret,id=npm"
        )
    return value


def image(container: dagger.Container) -> Built:
    """The caller's own container as the one image every later step reads (its tarball)."""
    return image_stage.from_container(container)


async def sbom(built: Built, cfg: Config) -> dagger.Directory:
    """sbom.cdx.json (CycloneDX 1.6) and sbom.spdx.json (SPDX 2.3) of the image, finalized as a pair."""
    if cfg.sbom_generator not in config_mod.SBOM_GENERATORS:
        raise InputError(f"SBOM generator {cfg.sbom_generator!r} is not supported; use trivy or syft")
    files = await image_stage.sbom(built, cfg)
    return report_stage.sbom_directory(sbom_pair.finalize(files.cyclonedx, files.spdx, tool=files.tool))


async def scan_image(built: Built, cfg: Config) -> Scanned:
    """Vulnerabilities of the image with trivy (the DB refreshed at most once a day in a cache volume)."""
    started = datetime.now(UTC)
    await trivydb.refresh(cfg)
    return scanned(await image_stage.scan_image(built, cfg), started=started)


async def facts(built: Built, dockerfile_text: str = "") -> str:
    """The image facts the gate reads, as JSON (one entry per platform)."""
    return report_stage.facts_json(await image_stage.image_facts(built, dockerfile_text))


# --- the gate -------------------------------------------------------------------------------------------


async def gate(input_text: str, *, policy: dagger.Directory | None = None) -> Verdict:
    """Evaluate a gate input document (gate-input.json) with the bundled policies plus `policy`."""
    return await gate_stage.evaluate(
        input_text, user_policies=[("--policy", policy)] if policy is not None else [], where="--input"
    )


# --- registries -----------------------------------------------------------------------------------------

DOCKER_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io")
_HOST = re.compile(r"^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?$")
SERVICE_HOSTS = (*release_stage.LOOPBACK_HOSTS, registry_tool.ALIAS)
"""Hosts that name the caller's registry service (`with_registry_service`): it is bound under the alias."""


def registry_address(address: str, *, where: str = "--address") -> str:
    """A registry address as auth entries are matched: host[:port], lower-case, Docker Hub as docker.io.

    A scheme (``https://``) and a trailing ``/`` are dropped; anything else that is not host[:port] is refused.
    """
    text = address.strip().lower()
    for scheme in ("https://", "http://"):
        text = text.removeprefix(scheme)
    text = text.rstrip("/")
    if text.endswith("/v1") and text.startswith("index.docker.io"):
        text = "index.docker.io"  # docker's legacy auth key https://index.docker.io/v1/
    if not _HOST.match(text):
        raise InputError(
            f"{where} {address!r} is not a registry address; give the host and optional port only, "
            "e.g. ghcr.io, registry.example.com:5000 or docker.io"
        )
    return "docker.io" if text in DOCKER_HUB_ALIASES else text


def _host_of(ref: str) -> str:
    text = ref.strip()
    if "/" not in text.split("@", 1)[0]:
        return "docker.io"
    first = text.split("/", 1)[0].lower()
    if first.split(":", 1)[0] == registry_tool.ALIAS:
        return first  # the bound service, named as the tool containers reach it
    return ci_reference(ref).registry


@attrs.frozen
class Registries:
    """Every registry credential and transport choice (chained on the root object: `with_registry_auth`…)."""

    auths: tuple[tuple[str, str, dagger.Secret], ...] = ()
    """(address, username, secret); address is registry host[:port] as `registry_address` gives it."""
    insecure: tuple[str, ...] = ()
    """Hosts reached over plain HTTP / without TLS verification."""
    service: dagger.Service | None = None
    """A registry the caller runs (e.g. tcp://localhost:5000), reached from the tool containers by alias."""

    def with_auth(self, address: str, username: str, secret: dagger.Secret) -> Registries:
        """These with the auth for `address` set (an earlier auth for the same address is replaced)."""
        host = registry_address(address)
        if not username.strip():
            raise InputError(
                f"--username is empty for registry {host}; give the user name the token belongs to "
                "(for a token-only registry any non-empty name, e.g. oauth2accesstoken or token)"
            )
        kept = tuple(a for a in self.auths if a[0] != host)
        return attrs.evolve(self, auths=(*kept, (host, username.strip(), secret)))

    def with_insecure(self, address: str) -> Registries:
        host = registry_address(address)
        return attrs.evolve(self, insecure=tuple(sorted({*self.insecure, host})))

    def with_service(self, service: dagger.Service) -> Registries:
        return attrs.evolve(self, service=service)

    def for_ref(self, ref: str) -> RegistryAccess:
        """The access the stages take for `ref`: the auth whose address equals the ref's registry host
        (Docker Hub under any of its names), insecure when that host was named insecure, and the caller's
        registry service when the ref names it (localhost, 127.0.0.1 or the alias)."""
        host = _host_of(ref)
        name = host.split(":", 1)[0]
        service = self.service if name in SERVICE_HOSTS else None
        matches = [a for a in self.auths if a[0] == host]
        if not matches and service is not None and name in release_stage.LOOPBACK_HOSTS:
            matches = [a for a in self.auths if a[0].split(":", 1)[0] in release_stage.LOOPBACK_HOSTS]
        insecure = host in self.insecure or name in self.insecure
        if matches:
            _, username, secret = matches[-1]
            return RegistryAccess(username, secret, insecure, service)
        return RegistryAccess("", None, insecure, service)


def repository_name(repository: str) -> str:
    """`repository` as registries accept it: lower-cased (``ghcr.io/Octo-Org/App`` → ``ghcr.io/octo-org/app``),
    refused with one line when a CI variable was left unexpanded or expanded to nothing."""
    if not repository.strip():
        raise InputError("--repository is empty; give where to push, e.g. ghcr.io/org/app")
    return ci_image_name(repository, what="--repository")


def image_ref(ref: str) -> str:
    """An image reference by digest from user input, checked like a repository (lower-cased, no CI leftovers)."""
    if not ref.strip():
        raise InputError("--ref is empty; give the image by digest, e.g. ghcr.io/org/app@sha256:<64 hex>")
    if _host_of(ref).split(":", 1)[0] == registry_tool.ALIAS:
        return ref.strip()
    return ci_image_name(ref, what="--ref")


# --- release --------------------------------------------------------------------------------------------


async def publish(built: Built, repository: str, tag: str, registries: Registries) -> str:
    """Push the image (every platform variant as one index) and return repo@sha256:… after reading it back."""
    name = repository_name(repository)
    access = registries.for_ref(name)
    target = release_stage.Target.parse(
        name,
        tag,
        username=access.username,
        password=access.password,
        insecure=access.insecure,
        service=access.service,
    )
    pushed = await release_stage.publish(built.tarball, built.platforms, target)
    return target.public(pushed.ref)


async def sign(ref: str, signing: Signing, registries: Registries) -> str:
    """Sign the image by digest with cosign; returns `ref`."""
    ref = image_ref(ref)
    access = registries.for_ref(ref)
    await release_stage.sign(release_stage.via_service(ref, access.service), signing, access)
    return ref


async def attest(ref: str, predicate: dagger.File, type: str, signing: Signing, registries: Registries) -> str:
    """Attach a signed in-toto attestation of `type` (cyclonedx, spdxjson, vuln, slsaprovenance1, verdict, or a
    URI) to the image by digest; returns `ref`."""
    ref = image_ref(ref)
    access = registries.for_ref(ref)
    await release_stage.attest(release_stage.via_service(ref, access.service), predicate, type, signing, access)
    return ref


async def verify(
    ref: str,
    verifying: Verifying,
    registries: Registries,
    *,
    require: Sequence[str] = (),
    max_vuln_age_hours: int = 24,
) -> str:
    """Verify the signature, the attestations and the policy over them; the report (JSON). Raises on failure."""
    ref = image_ref(ref)
    access = registries.for_ref(ref)
    return await release_stage.verify(
        release_stage.via_service(ref, access.service),
        verifying,
        access,
        require=tuple(require),
        max_vuln_age_hours=max_vuln_age_hours,
    )


def plan(
    repository: str,
    tag: str,
    registries: Registries,
    signing: Signing,
    *,
    source_repository: str = "",
    revision: str = "",
    verify_identity: str = "",
    verify_issuer: str = "",
) -> Plan:
    """Where and how `ship` releases (checked before anything runs). `repository` "": the ephemeral registry."""
    name = repository_name(repository) if repository else ""
    if registries.service is not None and not name:
        raise InputError(
            "with-registry-service needs --repository (where to push in it), e.g. "
            "with-registry-service --service=tcp://localhost:5000 ship --repository=localhost:5000/team/app"
        )
    access = registries.for_ref(name) if name else RegistryAccess()
    return Plan.from_args(
        repository=name,
        tag=tag,
        username=access.username,
        password=access.password,
        insecure=access.insecure,
        signing=signing,
        source_repository=source_repository,
        revision=revision,
        verify_identity=verify_identity,
        verify_issuer=verify_issuer,
        service=access.service,
    )


async def ship(
    source: dagger.Directory,
    cfg: Config,
    plan: Plan,
    *,
    secrets: Mapping[str, dagger.Secret] | None = None,
    policy: dagger.Directory | None = None,
    on: date | None = None,
) -> Outcome:
    """Scan ∥ build once → SBOM, image scan, facts → gate; only after a pass publish, sign, attest, verify.

    The verdict is returned, never raised: `outcome.verdict.passed` False means nothing was published and
    `outcome.failure_message` says why.
    """
    return await ship_stage.ship(
        source,
        transport_relaxed(cfg, plan),
        plan,
        secrets=await build_secrets(secrets),
        user_policy=policy,
        today=on or today(),
    )


def transport_relaxed(cfg: Config, plan: Plan) -> Config:
    """`cfg` with a `config.relaxed` warning when the release goes to an insecure registry (plain HTTP or no
    TLS verification, `with-insecure-registry`): the verdict says what was pushed unprotected in transit."""
    if not plan.insecure or not plan.repository:
        return cfg
    host = _host_of(plan.repository)
    what = (
        f"{host} is reached over plain HTTP / without TLS verification: the image, its signature and "
        "attestations travel unprotected (the config digests are still compared after the push)"
    )
    return attrs.evolve(cfg, relaxed=(*cfg.relaxed, ("with-insecure-registry", what)))


__all__ = [
    "Built",
    "Outcome",
    "Plan",
    "Registries",
    "RegistryAccess",
    "Scanned",
    "Signing",
    "Verifying",
    "attest",
    "build",
    "build_secrets",
    "check_scanners",
    "check_secret_id",
    "facts",
    "gate",
    "image",
    "image_ref",
    "load_config",
    "plan",
    "publish",
    "reasons",
    "registry_address",
    "repository_name",
    "sbom",
    "scan",
    "scan_image",
    "scanned",
    "ship",
    "sign",
    "today",
    "transport_relaxed",
    "verdict_json",
    "verdict_summary",
    "verify",
]
