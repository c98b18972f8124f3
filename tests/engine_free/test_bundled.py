"""Seaworthy's data folders reach the tool containers from the installed package, in every kind of module.

`dag.current_module().source()` is the running module's own source folder (the repository root only for the
root module): a module under modules/ or a user's module has no pipeline/ there. The stages therefore build
each folder from the package's own files (`pipeline.stages.bundled`); these tests check the chains carry
exactly those files and that nothing reads the module source any more.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.policy.engine import BUNDLED_POLICY_DIR
from pipeline.stages import bundled, gate, scan
from pipeline.tools import semgrep, trivy

ROOT = Path(__file__).resolve().parents[2]


def written(directory: Any) -> dict[str, str]:
    chain = [(s.type_name, s.name) for s in directory._ctx.selections]
    assert chain[0] == ("Query", "directory")
    assert {n for _, n in chain[1:]} == {"withNewFile"}
    return {s.args["path"]: s.args["contents"] for s in directory._ctx.selections if s.name == "withNewFile"}


def on_disk(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8")
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize(
    ("make", "folder"),
    [
        (scan.bundled_rules, semgrep.BUNDLED_RULES),
        (scan.inventory_rules, semgrep.INVENTORY_RULES),
        (scan.bundled_trivy_checks, trivy.BUNDLED_CHECKS),
        (gate.bundled_policy, BUNDLED_POLICY_DIR),
    ],
)
def test_each_data_folder_is_the_packages_own_files(make: Any, folder: Path) -> None:
    files = written(make())
    assert files == on_disk(folder)
    assert files, folder
    assert list(files) == sorted(files)  # a deterministic chain: the same query, the same cache key


def test_the_policy_folder_keeps_its_subfolders() -> None:
    files = written(gate.bundled_policy())
    assert any(name.startswith("rules/") for name in files) and "gate.rego" in files


def test_nothing_reads_the_running_modules_source() -> None:
    offenders = [
        str(p.relative_to(ROOT)) for p in (ROOT / "pipeline").rglob("*.py") if "current_module()" in p.read_text()
    ]
    assert offenders == [], "a module under modules/ or a user's module has no pipeline/ in its source"


def test_a_package_without_its_data_says_so(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(bundled, "PACKAGE", tmp_path)
    with pytest.raises(FileNotFoundError, match=r"no rules/semgrep/.*packaged without its data files"):
        scan.bundled_rules()
