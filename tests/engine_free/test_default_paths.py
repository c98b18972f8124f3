"""Engine-free check that every `DefaultPath` of every module names a folder that exists, read the way the
engine of v0.21 reads it (dagger/dagger tag v0.21.8, core/modulesource.go `loadContextFromSource`): a
relative path is relative to the folder of the module's dagger.json, an absolute one to the context directory
(the git root), and a path that leaves the context is refused."""

from __future__ import annotations

import ast
import posixpath
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def modules() -> list[Path]:
    """Every folder with a tracked dagger.json (the root, modules/*, tests/dagger, examples/user-module)."""
    out = subprocess.run(
        ["git", "ls-files", "dagger.json", "*/dagger.json"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return sorted((ROOT / line).parent for line in out.stdout.splitlines())


def default_paths(module: Path) -> list[tuple[str, int, str]]:
    """(file, line, path) of each DefaultPath("…") in the module's own Python sources."""
    sources = [ROOT / "pipeline"] if module == ROOT else [module / "src"]
    found = []
    for folder in sources:
        for path in sorted(folder.rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "id", getattr(node.func, "attr", "")) == "DefaultPath"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    found.append((str(path.relative_to(ROOT)), node.lineno, str(node.args[0].value)))
    return found


def resolve(module: Path, path: str) -> str:
    """The path relative to the git root, as the engine resolves it; ValueError when it leaves the context."""
    base = "" if path.startswith("/") else module.relative_to(ROOT).as_posix()
    rel = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
    if rel == ".." or rel.startswith("../"):
        raise ValueError(f"{path!r} is outside of the context directory")
    return rel


def test_the_resolver_reads_paths_like_the_engine() -> None:
    assert resolve(ROOT / "tests" / "dagger", "../fixtures/bad-project") == "tests/fixtures/bad-project"
    assert resolve(ROOT / "examples" / "user-module", "/examples/app") == "examples/app"
    assert resolve(ROOT, "examples/app") == "examples/app"
    with pytest.raises(ValueError, match="outside of the context"):
        resolve(ROOT / "modules" / "scan", "../../../x")


def test_every_module_is_found() -> None:
    names = {m.relative_to(ROOT).as_posix() for m in modules()}
    assert {".", "tests/dagger", "examples/user-module", "modules/scan", "modules/sign"} <= names


def test_the_modules_with_default_paths_are_read() -> None:
    # a reader that finds nothing would pass every check below
    for module in (ROOT, ROOT / "tests" / "dagger", ROOT / "examples" / "user-module"):
        assert default_paths(module), module


@pytest.mark.parametrize("module", modules(), ids=lambda m: m.relative_to(ROOT).as_posix())
def test_every_default_path_names_a_folder_in_the_repository(module: Path) -> None:
    for file, line, path in default_paths(module):
        rel = resolve(module, path)
        assert (ROOT / rel).is_dir(), f"{file}:{line}: DefaultPath({path!r}) resolves to {rel}, which is missing"
