"""Run a tool `Invocation` in its pinned image with Dagger, and read its report back.

This is the only place that turns the pure `Invocation` of a tool module into a container. Everything is
lazy until `collect` awaits the exit code; the branches that decide what an exit code means live in
`pipeline.tools.base.ExitCodes`, which the contract tests exercise against the real tools.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import attrs
import dagger
from dagger import dag

from pipeline.errors import ToolFailed, ToolOutputError
from pipeline.tools.base import OUT, Invocation

Mountable = dagger.Directory | dagger.File

ROOT = "0"
"""The user a tool container runs as unless the stage names the image's own non-root user."""


@attrs.frozen
class Collected:
    """What came back from one tool run."""

    exit_code: int
    found: bool
    """The exit code said "found something"."""
    report: str
    stderr: str


def day_buster(now: datetime | None = None) -> str:
    """A cache buster that changes once a day (UTC): live data is refreshed daily, not every minute."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-%d")


def tool_container(
    inv: Invocation,
    mounts: Mapping[str, Mountable],
    *,
    env: Mapping[str, str] | None = None,
    secret_env: Mapping[str, dagger.Secret] | None = None,
    secret_files: Mapping[str, dagger.Secret] | None = None,
    caches: Mapping[str, dagger.CacheVolume] | None = None,
    services: Mapping[str, dagger.Service] | None = None,
    buster: str = "",
    platform: str = "",
    user: str = "",
    temps: Sequence[str] = (),
) -> dagger.Container:
    """The container that runs `inv`: image, mounts (read-only inputs), secrets, caches, then the exec.

    `mounts` must provide every container path the invocation lists in `inv.mounts` (or a folder of
    `temps` holding it: an in-memory mount the exec itself fills, never part of a layer or cache key).
    `env` adds plain variables the stage knows (a registry user name: not a secret, see
    dagger-python.md §10) to the invocation's own.
    """
    missing = sorted(
        p
        for p in set(inv.mounts) - set(mounts) - set(caches or {}) - set(secret_files or {})
        if not any(p.startswith(t.rstrip("/") + "/") for t in temps)
    )
    if missing:
        raise ValueError(f"{inv.tool}: nothing to mount at {', '.join(missing)} (stage wiring bug)")
    ctr = (dag.container(platform=dagger.Platform(platform)) if platform else dag.container()).from_(inv.image.ref)
    if inv.image.install:
        ctr = ctr.with_exec(list(inv.image.install))
    for path, value in sorted(mounts.items()):
        if isinstance(value, dagger.Directory):
            ctr = ctr.with_mounted_directory(path, value, read_only=True)
        else:
            ctr = ctr.with_mounted_file(path, value)
    for path, volume in sorted((caches or {}).items()):
        ctr = ctr.with_mounted_cache(path, volume, sharing=dagger.CacheSharingMode.LOCKED)
    for alias, svc in sorted((services or {}).items()):
        ctr = ctr.with_service_binding(alias, svc)
    for path in sorted(temps):
        ctr = ctr.with_mounted_temp(path)
    for name, value in sorted({**inv.env, **(env or {})}.items()):
        ctr = ctr.with_env_variable(name, value)
    for name, secret in sorted((secret_env or {}).items()):
        ctr = ctr.with_secret_variable(name, secret)
    for path, secret in sorted((secret_files or {}).items()):
        ctr = ctr.with_mounted_secret(path, secret, owner="0", mode=0o444)
    # OUT must be writable by the user the tool runs as. The engine ignores `permissions` on
    # `with_directory` (dagger core/container.go `WithDirectory(ctx, parent,
    # subdir, src, filter, owner)` has no mode: the copy keeps only the owner), so a world-writable OUT cannot be
    # asked for: OUT is owned by `run_as`, and the container runs as `run_as` explicitly, whatever USER
    # the image declares (gitleaks' image says `USER gitleaks`, cosign's 65532, OPA's 1000:1000).
    run_as = user or ROOT
    ctr = ctr.with_directory(OUT, dag.directory(), owner=run_as).with_user(run_as).with_workdir(inv.workdir)
    if buster:
        ctr = ctr.with_env_variable("SEAWORTHY_CACHE_BUSTER", buster)
    return ctr.with_exec(
        list(inv.argv),
        expect=dagger.ReturnType.ANY,
        redirect_stdout=inv.report if inv.stdout_to_report else "",
    )


async def collect(ctr: dagger.Container, inv: Invocation, *, report: bool = True) -> Collected:
    """Run the exec, classify its exit code (raising ToolFailed), then read the report.

    A missing or empty report after a clean/finding exit is a ToolOutputError, never "no findings".
    """
    code = await ctr.exit_code()
    stderr = await ctr.stderr()
    found = inv.exit_codes.check(inv.tool, code, stderr)
    if not report:
        return Collected(code, found, "", stderr)
    if not await ctr.exists(inv.report):
        raise ToolOutputError(inv.tool, f"it exited {code} but wrote no report at {inv.report}")
    text = await ctr.file(inv.report).contents()
    return Collected(code, found, text, stderr)


RERUN = "rerun"
"""Marker in the cache buster of a run repeated after a failure (see `collect_fresh`)."""


def rerun_buster(buster: str) -> str:
    """A buster no earlier exec can have had: `buster` plus a unique rerun token."""
    return f"{buster}+{RERUN}-{uuid.uuid4().hex[:12]}" if buster else f"{RERUN}-{uuid.uuid4().hex[:12]}"


async def collect_fresh(
    build: Callable[[str], dagger.Container], inv: Invocation, *, buster: str = "", report: bool = True
) -> tuple[dagger.Container, Collected]:
    """`collect(build(buster))`; on a tool failure run once more, uncached, before raising.

    Every exec runs with `expect=ANY`, so for the engine a failed run is a *successful* exec whose result it
    caches like any other: the same inputs (same day buster, or none) would hand the failure back on every
    call without running the tool again, and a transient failure (a DB or rule download, an OOM kill)
    would stick for the day or for good. The second run gets a buster no earlier exec had, so it really
    runs. Returns the container that produced the result (to read more files from it) and the result.
    """
    ctr = build(buster)
    try:
        return ctr, await collect(ctr, inv, report=report)
    except (ToolFailed, ToolOutputError):
        ctr = build(rerun_buster(buster))
        return ctr, await collect(ctr, inv, report=report)


def as_directory(files: Mapping[str, str | bytes]) -> dagger.Directory:
    """A directory holding the given files (reports, input documents)."""
    d = dag.directory()
    for name, content in sorted(files.items()):
        text = content.decode() if isinstance(content, bytes) else content
        d = d.with_new_file(name, text)
    return d


def file_of(name: str, content: str) -> dagger.File:
    return dag.directory().with_new_file(name, content).file(name)


def unwrap(group: BaseExceptionGroup[BaseException]) -> BaseException:
    """The first leaf exception of a (nested) exception group, so users see the real error."""
    leaves: list[BaseException] = list(group.exceptions)
    while leaves and isinstance(leaves[0], BaseExceptionGroup):
        nested: BaseExceptionGroup[BaseException] = leaves[0]  # pyright: ignore[reportUnknownVariableType]
        leaves = list(nested.exceptions)
    return leaves[0] if leaves else group
