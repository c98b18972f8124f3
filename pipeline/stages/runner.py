"""Run a tool `Invocation` in its pinned image with Dagger, and read its report back.

This is the only place that turns the pure `Invocation` of a tool module into a container. Everything is
lazy until `collect` awaits the exit code; the branches that decide what an exit code means live in
`pipeline.tools.base.ExitCodes`, which the contract tests exercise against the real tools.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import attrs
import dagger
from dagger import dag

from pipeline.errors import ToolOutputError
from pipeline.tools.base import OUT, Invocation

Mountable = dagger.Directory | dagger.File


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
    secret_env: Mapping[str, dagger.Secret] | None = None,
    secret_files: Mapping[str, dagger.Secret] | None = None,
    caches: Mapping[str, dagger.CacheVolume] | None = None,
    services: Mapping[str, dagger.Service] | None = None,
    buster: str = "",
    platform: str = "",
    user: str = "",
) -> dagger.Container:
    """The container that runs `inv`: image, mounts (read-only inputs), secrets, caches, then the exec.

    `mounts` must provide every container path the invocation lists in `inv.mounts`.
    """
    missing = sorted(set(inv.mounts) - set(mounts) - set(caches or {}) - set(secret_files or {}))
    if missing:
        raise ValueError(f"{inv.tool}: nothing to mount at {', '.join(missing)} (stage wiring bug)")
    ctr = (dag.container(platform=dagger.Platform(platform)) if platform else dag.container()).from_(inv.image.ref)
    for path, value in sorted(mounts.items()):
        if isinstance(value, dagger.Directory):
            ctr = ctr.with_mounted_directory(path, value, read_only=True)
        else:
            ctr = ctr.with_mounted_file(path, value)
    for path, volume in sorted((caches or {}).items()):
        ctr = ctr.with_mounted_cache(path, volume, sharing=dagger.CacheSharingMode.LOCKED)
    for alias, svc in sorted((services or {}).items()):
        ctr = ctr.with_service_binding(alias, svc)
    for name, value in sorted(inv.env.items()):
        ctr = ctr.with_env_variable(name, value)
    for name, secret in sorted((secret_env or {}).items()):
        ctr = ctr.with_secret_variable(name, secret)
    for path, secret in sorted((secret_files or {}).items()):
        ctr = ctr.with_mounted_secret(path, secret, owner="0", mode=0o444)
    # OUT must be writable by the image's user: owned by it when the stage names a non-root user (cosign
    # runs as 65532), and world-writable in any case.
    ctr = ctr.with_directory(OUT, dag.directory(), owner=user or None, permissions=0o777).with_workdir(inv.workdir)
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
