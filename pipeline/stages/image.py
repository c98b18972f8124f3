"""The image half: build once, one OCI tarball, then SBOM, vulnerability scan and facts of that tarball.

`build_variants` is the only place an image is built. Everything after it receives the `Built` value:
the platform containers and the one tarball made from them. The engine computes each lazily built
object once, so every stage that reads the tarball reads the very same bytes that `publish` pushes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

import anyio
import attrs
import dagger
from dagger import dag

from pipeline.config import Config, validate_platform
from pipeline.errors import InputError, ToolOutputError
from pipeline.formats import dockerfile as dockerfile_format
from pipeline.formats import oci
from pipeline.model import ImageFacts, ToolRun
from pipeline.stages import trivydb
from pipeline.stages.runner import collect, collect_fresh, day_buster, tool_container, unwrap
from pipeline.tools import skopeo, syft, trivy
from pipeline.tools.base import IN, Invocation

TARBALL = f"{IN}/image.tar"


class BuildFailed(InputError):
    """The Dockerfile did not build. Carries the build's own message."""


@attrs.frozen
class Built:
    """The one build of a source tree: a container per platform and the single tarball of all of them."""

    variants: tuple[dagger.Container, ...]
    platforms: tuple[str, ...]
    """The requested platforms ("" = the engine's native one)."""
    tarball: dagger.File
    dockerfile: str


def build_args(pairs: Sequence[str]) -> tuple[tuple[str, str], ...]:
    """Parse `KEY=VALUE` build arguments from the command line."""
    out: list[tuple[str, str]] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--build-args: {pair!r} is not KEY=VALUE; write it like VERSION=1.2.3")
        out.append((key.strip(), value))
    return tuple(sorted(out))


_SECRET_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def secret_ids(ids: Sequence[str], count: int) -> tuple[str, ...]:
    """Check the Dockerfile secret ids given for `count` build secrets (one each, in the same order)."""
    if len(ids) != count:
        raise InputError(
            f"--secret-ids names {len(ids)} secret(s) but --secrets gives {count}: give each secret the id its "
            "Dockerfile uses, in the same order, e.g. --secrets=env://NPM_TOKEN --secret-ids=npm "
            "(for RUN --mount=type=secret,id=npm)"
        )
    seen: set[str] = set()
    for sid in ids:
        if not _SECRET_ID.match(sid):
            raise InputError(
                f"--secret-ids: {sid!r} is not a Dockerfile secret id; use letters, digits, '.', '_' or '-', "
                "as in RUN --mount=type=secret,id=npm"
            )
        if sid in seen:
            raise InputError(f"--secret-ids: {sid!r} is given twice; each build secret needs its own id")
        seen.add(sid)
    return tuple(ids)


async def named_secrets(secrets: Sequence[dagger.Secret], ids: Sequence[str]) -> list[dagger.Secret]:
    """The build secrets under the ids the Dockerfile uses (`RUN --mount=type=secret,id=…`).

    `docker_build` mounts each secret at /run/secrets/<its name> and refuses one without a name ("secret
    has no name and cannot be referenced from Dockerfile secret id", dagger core/container.go): secrets
    from `env://`, `file://`, `cmd://`… have none. Dagger 0.21 names a secret only through
    `dag.set_secret(name, plaintext)`, so each value passes through this function's memory once, and is
    re-wrapped at once as a Secret (scrubbed from logs, never on argv or in a layer). See README,
    "Secrets".
    """
    checked = secret_ids(ids, len(secrets))
    return [dag.set_secret(sid, await secret.plaintext()) for sid, secret in zip(checked, secrets, strict=True)]


def build_variants(
    source: dagger.Directory,
    cfg: Config,
    *,
    secrets: Sequence[dagger.Secret] = (),
) -> Built:
    """Build the Dockerfile once per platform (lazily) and make the one tarball every stage reads."""
    platforms = tuple(validate_platform(p) for p in cfg.build.platforms) or ("",)
    args = [dagger.BuildArg(name=k, value=v) for k, v in cfg.build.build_args]
    variants = tuple(
        source.docker_build(
            dockerfile=cfg.build.dockerfile,
            platform=dagger.Platform(p) if p else None,
            build_args=args or None,
            target=cfg.build.target,
            secrets=list(secrets) or None,
        )
        for p in platforms
    )
    first, *rest = variants
    tarball = first.as_tarball(
        platform_variants=list(rest) or None,
        forced_compression=dagger.ImageLayerCompression.Gzip,
    )
    return Built(variants, platforms, tarball, cfg.build.dockerfile)


def from_container(image: dagger.Container) -> Built:
    """A `Built` for an image given by the caller (`--image`): its tarball is what every step reads."""
    return Built((image,), ("",), image.as_tarball(), "")


async def ensure_built(built: Built) -> None:
    """Run the builds now so that a broken Dockerfile fails here, with the build's own message."""

    async def one(ctr: dagger.Container, platform: str) -> None:
        try:
            await ctr.sync()
        except dagger.ExecError as exc:
            raise BuildFailed(
                f"{built.dockerfile} does not build{f' for {platform}' if platform else ''}: "
                f"`{' '.join(exc.command)}` exited {exc.exit_code}; fix the Dockerfile and run again.\n"
                f"{(exc.stderr or exc.stdout)[-3000:]}"
            ) from None
        except dagger.QueryError as exc:
            raise BuildFailed(
                f"{built.dockerfile} does not build{f' for {platform}' if platform else ''}: "
                f"{str(exc).splitlines()[0] if str(exc) else 'the engine gave no reason'}; "
                "fix the Dockerfile (or choose another with --dockerfile, or another stage with [build] target in "
                "seaworthy.toml) and run again."
            ) from None

    try:
        async with anyio.create_task_group() as tg:
            for ctr, platform in zip(built.variants, built.platforms, strict=True):
                tg.start_soon(one, ctr, platform)
    except BaseExceptionGroup as group:
        raise unwrap(group) from None


async def check_source(source: dagger.Directory, dockerfile: str) -> str:
    """Fail early, in one line, when the source tree lacks what the pipeline needs. Returns the Dockerfile."""
    entries = await source.entries()
    if not entries:
        raise InputError("--source is empty; pass the root of the project to scan, e.g. --source=.")
    if not await source.exists(dockerfile, expected_type=dagger.ExistsType.REGULAR_TYPE):
        raise InputError(
            f"--source has no Dockerfile at {dockerfile!r}; pass --dockerfile=<path inside the source> "
            "or add one (seaworthy.toml [build] dockerfile also sets it)."
        )
    return await source.file(dockerfile).contents()


async def image_facts(
    built: Built,
    dockerfile_text: str,
    *,
    build_args: Mapping[str, str] | None = None,
) -> tuple[ImageFacts, ...]:
    """Facts of every platform variant, read from the tarball's own config blobs."""
    base = (
        dockerfile_format.final_base(dockerfile_text, build_args=build_args or {}, path=built.dockerfile)
        if dockerfile_text
        else None
    )
    size = await built.tarball.size()
    facts: list[ImageFacts] = []
    for platform in built.platforms:
        inv = skopeo.inspect_archive_config(TARBALL, platform=platform or None)
        ctr = tool_container(inv, {TARBALL: built.tarball})
        got = await collect(ctr, inv)
        fact = oci.facts_from_config(got.report.encode(), size=size)
        if base is not None:
            fact = attrs.evolve(fact, base_image=base.ref, base_pin=base.pin)
        facts.append(fact)
    return tuple(facts)


def platform_tarballs(built: Built) -> tuple[dagger.File, ...]:
    """One tarball per platform variant for the image scan: the one build's tarball when there is one
    platform, else each variant's own (the same containers the multi-platform tarball is made of)."""
    if len(built.variants) == 1:
        return (built.tarball,)
    return tuple(v.as_tarball(forced_compression=dagger.ImageLayerCompression.Gzip) for v in built.variants)


async def scan_image(
    built: Built, cfg: Config, *, ignorefile: dagger.File | None = None, now: datetime | None = None
) -> tuple[ToolRun, ...]:
    """Vulnerabilities of every platform variant, one run each, in `built.platforms` order.

    Each run's `subject` is the config digest trivy scanned (its ``Metadata.ImageID``), which the gate
    compares with the digest the build produced.
    """
    db = trivydb.scan_options(cfg)  # the DB was refreshed (or checked) just before by trivydb.refresh
    ignore_path = f"{IN}/trivyignore.yaml" if ignorefile is not None else None
    inv = trivy.image_scan(
        input_path=TARBALL,
        ignorefile=ignore_path,
        db=db,
    )
    runs: list[ToolRun] = []
    for tarball in platform_tarballs(built):
        mounts: dict[str, dagger.Directory | dagger.File] = {TARBALL: tarball}
        if ignorefile is not None and ignore_path is not None:
            mounts[ignore_path] = ignorefile

        def scan(buster: str, mounts: dict[str, dagger.Directory | dagger.File] = mounts) -> dagger.Container:
            return tool_container(inv, mounts, caches={db.cache_dir: trivydb.cache()}, buster=buster)

        _, got = await trivydb.collect_trivy(scan, inv, cfg, buster=day_buster(now), now=now)
        runs.append(attrs.evolve(trivy.parse(got.report, mode="image"), exit_code=got.exit_code))
    return tuple(runs)


@attrs.frozen
class SbomFiles:
    cyclonedx: str
    spdx: str
    tool: str


async def sbom(built: Built, cfg: Config) -> SbomFiles:
    """CycloneDX and SPDX documents of the image tarball, by trivy (default) or syft."""
    if cfg.sbom_generator == "syft":
        syft_inv = syft.sbom(input_path=TARBALL, source_kind="oci-archive")
        ctr, got = await collect_fresh(lambda b: tool_container(syft_inv, {TARBALL: built.tarball}, buster=b), syft_inv)
        spdx_text = await ctr.file(syft.SPDX_REPORT).contents()  # the SPDX of the very run that passed
        return SbomFiles(got.report, spdx_text, "syft")
    texts: dict[str, str] = {}
    for fmt in ("cyclonedx", "spdx-json"):
        inv = trivy.sbom(input_path=TARBALL, fmt=fmt)  # pyright: ignore[reportArgumentType]

        def run(buster: str, inv: Invocation = inv) -> dagger.Container:
            caches = {trivy.DEFAULT_CACHE_DIR: trivydb.cache()}
            return tool_container(inv, {TARBALL: built.tarball}, caches=caches, buster=buster)

        _, got = await collect_fresh(run, inv)
        if not got.report.strip():
            raise ToolOutputError("trivy", f"the {fmt} SBOM is empty")
        texts[fmt] = got.report
    return SbomFiles(texts["cyclonedx"], texts["spdx-json"], "trivy")
