"""The README's function reference is generated from the module; this keeps the two in step."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _reference_module():
    spec = importlib.util.spec_from_file_location("function_reference", ROOT / "scripts" / "function_reference.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_function_reference_matches_the_module() -> None:
    from pipeline.main import Seaworthy

    Seaworthy.__dagger_object_type__.get_constructor()  # pyright: ignore[reportAttributeAccessIssue]  # as other tests do
    ref = _reference_module()
    readme = (ROOT / "README.md").read_text()
    assert ref.START in readme and ref.END in readme, "README.md lost its generated function reference"
    section = ref.START + readme.split(ref.START, 1)[1].split(ref.END, 1)[0] + ref.END
    assert section == ref.reference(), "README is stale: run .venv/bin/python scripts/function_reference.py --write"


def test_readme_quick_start_names_the_two_commands_and_ci_calls_the_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "dagger call ship" in readme
    assert "bash scripts/test.sh" in readme
    assert "scripts/test.sh" in (ROOT / ".ci" / "run").read_text()
