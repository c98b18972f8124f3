"""Run a tool `Invocation` on the host: the contract tests' way of executing the exact argv a stage runs.

Container mount points are mapped to temporary folders; argv[0] is resolved by its basename on PATH
(the test command puts the real tool binaries there). Nothing is mocked.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

import attrs

from pipeline.tools.base import Invocation


@attrs.frozen
class HostResult:
    exit_code: int
    report: str
    stdout: str
    stderr: str
    invocation: Invocation


def run_on_host(
    inv: Invocation,
    mapping: Mapping[str, str | Path],
    *,
    extra_env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> HostResult:
    local = inv.localized({k: str(v) for k, v in mapping.items()})
    binary = shutil.which(Path(local.argv[0]).name)
    if binary is None:
        raise AssertionError(f"{local.argv[0]} is not on PATH; run the test command (scripts/test.sh) first")
    out_dir = Path(local.report).parent
    out_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **local.env, **(extra_env or {})}
    cwd = local.workdir if Path(local.workdir).is_dir() else None
    proc = subprocess.run(
        [binary, *local.argv[1:]],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )
    if local.stdout_to_report:
        Path(local.report).write_text(proc.stdout)
    report = Path(local.report).read_text() if Path(local.report).exists() else ""
    return HostResult(proc.returncode, report, proc.stdout, proc.stderr, local)
