"""The core package's own data folders (rules, policies) as Directories, wherever `pipeline` is installed.

In the root module the engine loads the repository as the module's source, so ``pipeline/rules/semgrep`` is
`dag.current_module().source()`'s own subfolder. A module that carries `pipeline` in its wheel (modules/*, a
user's module) has another source folder: there the folder is built from the installed package's files, which
are the same files (docs/architecture.md, "Modules under modules/: how they share the core").
"""

from __future__ import annotations

from pathlib import Path

import dagger
from dagger import dag

PACKAGE = Path(__file__).resolve().parents[1]
"""The installed `pipeline` package."""


def in_module_source(rel: str, cwd: Path | None = None) -> bool:
    """Whether the module's source (the runtime's working directory) holds this package's `rel` folder."""
    here = (cwd or Path.cwd()) / PACKAGE.name / rel
    return here.is_dir() and here.resolve() == (PACKAGE / rel).resolve()


def directory(rel: str, cwd: Path | None = None) -> dagger.Directory:
    """`pipeline/<rel>` (e.g. ``rules/semgrep``) as a Directory, the same files in any module."""
    if in_module_source(rel, cwd):
        return dag.current_module().source().directory(f"{PACKAGE.name}/{rel}")
    root = PACKAGE / rel
    files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    if not files:
        # a packaging defect, never an empty rule set that would scan or gate with nothing
        raise FileNotFoundError(f"{root}: the installed pipeline package has no {rel} files; reinstall it")
    out = dag.directory()
    for path in files:
        out = out.with_new_file(path.relative_to(root).as_posix(), path.read_text(encoding="utf-8"))
    return out
