"""Which language-specific analyzers a source tree needs: decided by its files, with the skip paths applied.

bandit runs when the tree has a Python file (``*.py``), njsscan when it has a JavaScript file (``*.js``,
what njsscan reads; TypeScript is covered by the bundled semgrep rules). Files under dependency and tool
folders (`VENDORED`) do not count: they are not the project's code and neither analyzer reads them.
Skip paths are the gitignore-like globs of ``scan.skip_paths`` (as gitleaks reads them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pipeline.tools.gitleaks import glob_regex

ANALYZER_FILES: dict[str, tuple[str, ...]] = {"bandit": (".py",), "njsscan": (".js",)}
"""Analyzer -> file suffixes that make the tree need it."""
ANALYZER_LANGUAGE = {"bandit": "Python", "njsscan": "JavaScript"}
VENDORED = ("node_modules", "bower_components", ".venv", "venv", "site-packages", ".git", "__pycache__")


def needed(analyzer: str, paths: Iterable[str], skip: Sequence[str] = ()) -> bool:
    """True when one of `paths` (relative to the tree) is a file the analyzer reads and is not skipped."""
    suffixes = ANALYZER_FILES[analyzer]
    skips = [re.compile(glob_regex(p)) for p in (*VENDORED, *skip)]
    for path in paths:
        rel = path.lstrip("./") if path.startswith("./") else path
        if rel.endswith(suffixes) and not any(s.search(rel) for s in skips):
            return True
    return False


def not_run_note(analyzer: str) -> str:
    """What the report says when an analyzer was not run because the tree has none of its files."""
    return f"{analyzer} not run: no {ANALYZER_LANGUAGE[analyzer]} files in the scanned tree (after skip paths)"
