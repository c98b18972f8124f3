"""Seaworthy's own data folders (semgrep rules, trivy checks, Rego policies) as Dagger directories.

They are read from the `pipeline` package that runs, not from the current module's source directory: that
is the source folder of whichever module is executing (dagger core/schema/module.go `currentModuleSource`:
the context directory at the module's source subpath). For the root module it is this repository's root, but for
a module under `modules/` it is `modules/<name>`, and for a user's own module its own folder: neither has a
`pipeline/` there, while the package they run carries every data file (its wheel is built from this
repository's `pipeline/`). Reading the package's own files makes every module evaluate the very rules and
policies it ships, and needs no module at all (a plain `dagger run` program).
"""

from __future__ import annotations

from pathlib import Path

import dagger
from dagger import dag

PACKAGE = Path(__file__).resolve().parents[1]
"""The `pipeline` package directory, as installed."""


def files(relative: str) -> dict[str, str]:
    """Every file under `relative` (a folder of the package), by '/'-separated path inside that folder."""
    root = PACKAGE / relative
    if not root.is_dir():
        raise FileNotFoundError(
            f"the installed pipeline package has no {relative}/ ({root}); it was packaged without its data "
            "files: reinstall Seaworthy from its repository (a module's wheel must carry all of pipeline/)"
        )
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.relative_to(root).parts
    }


def directory(relative: str) -> dagger.Directory:
    """The package folder `relative` (e.g. ``rules/semgrep``) as a Directory holding the same files."""
    out = dag.directory()
    for name, text in files(relative).items():
        out = out.with_new_file(name, text)
    return out
