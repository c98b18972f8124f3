"""Every code block of docs/python-api.md is checked against the code (a doc that drifts from the API fails here).

- signature blocks (only `def …: ...` stubs, possibly inside a `class`) must equal the definitions in
  pipeline/api.py, compared as syntax trees; every public function of the API is documented by one;
- every other Python block: each name it imports from `pipeline` exists, each call of an API function (or of
  a name imported from `pipeline`) binds to that function's signature, and the blocks type-check (pyright);
- blocks whose first line is `# no engine needed` run, and their asserts hold;
- the JSON and TOML blocks parse.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from markdown_it import MarkdownIt

from pipeline import api

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "python-api.md"
API = ROOT / "pipeline" / "api.py"
RUNNABLE = "# no engine needed"


def blocks(lang: str) -> list[tuple[int, str]]:
    """(line in the doc, text) of every fenced block in `lang`."""
    tokens = MarkdownIt().parse(DOC.read_text(encoding="utf-8"))
    return [(t.map[0] + 1 if t.map else 0, t.content) for t in tokens if t.type == "fence" and t.info.strip() == lang]


def _is_stub(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return len(node.body) == 1 and isinstance(node.body[0], ast.Expr) and node.body[0].value.value is Ellipsis  # type: ignore[attr-defined]
    if isinstance(node, ast.ClassDef):
        return all(_is_stub(n) and not isinstance(n, ast.ClassDef) for n in node.body)
    return False


def python_blocks() -> Iterator[tuple[int, str, ast.Module]]:
    for line, text in blocks("python"):
        yield line, text, ast.parse(text, filename=f"{DOC.name}:{line}")


def stub_blocks() -> list[tuple[int, ast.Module]]:
    return [(line, tree) for line, _, tree in python_blocks() if tree.body and all(_is_stub(n) for n in tree.body)]


def code_blocks() -> list[tuple[int, str, ast.Module]]:
    return [(line, text, tree) for line, text, tree in python_blocks() if not all(_is_stub(n) for n in tree.body)]


def signature(node: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The definition without its body, docstring and decorators, as a normalized one-liner."""
    stub = ast.parse(ast.unparse(node)).body[0]
    assert isinstance(stub, ast.FunctionDef | ast.AsyncFunctionDef)
    stub.body = [ast.Expr(ast.Constant(...))]
    stub.decorator_list = []
    return ast.unparse(stub)


def api_definitions() -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """`name` or `Class.name` → its definition in pipeline/api.py (public ones only)."""
    out: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
    for node in ast.parse(API.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and not node.name.startswith("_"):
            out[node.name] = node
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if not isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef) or sub.name.startswith("_"):
                    continue
                if not any(isinstance(d, ast.Name) and d.id == "property" for d in sub.decorator_list):
                    out[f"{node.name}.{sub.name}"] = sub
    return out


# --- signatures -----------------------------------------------------------------------------------------


def documented_signatures() -> dict[str, tuple[int, str]]:
    out: dict[str, tuple[int, str]] = {}
    for line, tree in stub_blocks():
        for node in tree.body:
            defs = (
                [
                    (f"{node.name}.{d.name}", d)
                    for d in node.body
                    if isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef)
                ]
                if isinstance(node, ast.ClassDef)
                else [(node.name, node)]  # type: ignore[union-attr]
            )
            for name, d in defs:
                assert name not in out, f"{DOC.name}:{line}: {name} is documented twice"
                out[name] = (line, signature(d))  # type: ignore[arg-type]
    return out


def test_every_documented_signature_is_the_apis_own() -> None:
    code = api_definitions()
    for name, (line, text) in documented_signatures().items():
        assert name in code, f"{DOC.name}:{line}: {name} is not a public definition of pipeline/api.py"
        assert text == signature(code[name]), f"{DOC.name}:{line}: {name} differs from pipeline/api.py"


def test_every_public_function_of_the_api_is_documented() -> None:
    documented = documented_signatures()
    functions = {n for n in api.__all__ if inspect.isfunction(getattr(api, n))}
    missing = sorted(functions - set(documented))
    assert not missing, f"functions of pipeline.api missing from {DOC.name}: {missing}"
    missing_methods = sorted(n for n in api_definitions() if n.startswith("Registries.") and n not in documented)
    assert not missing_methods, missing_methods
    text = DOC.read_text(encoding="utf-8")
    types = sorted(n for n in api.__all__ if inspect.isclass(getattr(api, n)) and f"`{n}`" not in text)
    assert not types, f"types of pipeline.api missing from {DOC.name}: {types}"


def test_the_types_table_names_every_field() -> None:
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    for name in ("Scanned", "Built", "Registries", "RegistryAccess", "Outcome"):
        (row,) = [r for r in rows if f"`{name}`" in r.split("|")[1]]
        missing = [f.name for f in attrs.fields(getattr(api, name)) if f"`{f.name}`" not in row]
        assert not missing, f"{DOC.name}: the {name} row does not name {missing}"


# --- examples ------------------------------------------------------------------------------------------


def _imported(tree: ast.Module) -> dict[str, Any]:
    """Names the block imports from `pipeline`, resolved (ImportError/AttributeError when one does not exist)."""
    out: dict[str, Any] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "pipeline":
            module = importlib.import_module(node.module)
            for alias in node.names:
                if hasattr(module, alias.name):
                    out[alias.asname or alias.name] = getattr(module, alias.name)
                else:  # a submodule: `from pipeline import config`
                    out[alias.asname or alias.name] = importlib.import_module(f"{node.module}.{alias.name}")
    return out


def _resolve(func: ast.expr, names: dict[str, Any]) -> Any:
    """The object a call's target names, when it is a chain of attributes on an imported name; else None."""
    parts: list[str] = []
    while isinstance(func, ast.Attribute):
        parts.append(func.attr)
        func = func.value
    if not isinstance(func, ast.Name) or func.id not in names:
        return None
    obj = names[func.id]
    for part in reversed(parts):
        obj = getattr(obj, part, None)
        if obj is None:
            return None
    return obj


def _binds(target: Callable[..., Any], call: ast.Call) -> None:
    try:
        sig = inspect.signature(target)
    except ValueError:  # a builtin without a signature (an exception class): any arguments
        return
    args = [None] * len(call.args)
    kwargs = {k.arg: None for k in call.keywords if k.arg is not None}
    sig.bind(*args, **kwargs)


@pytest.mark.parametrize(("line", "text", "tree"), code_blocks(), ids=lambda v: str(v) if isinstance(v, int) else "")
def test_example_imports_exist_and_calls_bind(line: int, text: str, tree: ast.Module) -> None:
    names = _imported(tree)
    checked = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or any(isinstance(a, ast.Starred) for a in node.args):
            continue
        if any(k.arg is None for k in node.keywords):
            continue
        target = _resolve(node.func, names)
        if target is None or not callable(target) or inspect.ismodule(target):
            continue
        try:
            _binds(target, node)
        except TypeError as exc:
            pytest.fail(f"{DOC.name}:{line + node.lineno}: {ast.unparse(node.func)}(…) does not bind: {exc}")
        checked += 1
    if "pipeline" in text:
        assert checked, f"{DOC.name}:{line}: a block that uses pipeline calls none of its functions"


@pytest.mark.parametrize(
    ("line", "text"),
    [(line, text) for line, text, _ in code_blocks() if text.startswith(RUNNABLE)],
    ids=lambda v: str(v) if isinstance(v, int) else "",
)
def test_engine_free_examples_run(line: int, text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    exec(compile(text, f"{DOC.name}:{line}", "exec"), {"__name__": "__doc_example__"})


def test_there_are_engine_free_examples_and_engine_examples() -> None:
    runnable = [t for _, t, _ in code_blocks() if t.startswith(RUNNABLE)]
    assert len(runnable) >= 4
    assert len(code_blocks()) - len(runnable) >= 8


def test_examples_type_check(tmp_path: Path) -> None:
    for line, text, _ in code_blocks():
        (tmp_path / f"block_{line}.py").write_text(text, encoding="utf-8")
    (tmp_path / "pyrightconfig.json").write_text(
        json.dumps({"pythonVersion": "3.11", "typeCheckingMode": "standard", "reportMissingModuleSource": False})
    )
    pyright = Path(sys.executable).parent / "pyright"
    got = subprocess.run(
        [str(pyright), "--outputjson", "-p", str(tmp_path), "--pythonpath", sys.executable],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    report = json.loads(got.stdout)
    problems = [
        f"{DOC.name}:{int(Path(d['file']).stem.split('_')[1]) + d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    assert report["summary"]["filesAnalyzed"] == len(code_blocks())
    assert problems == []


def test_configuration_blocks_parse() -> None:
    assert blocks("json") and blocks("toml")
    for line, text in blocks("json"):
        assert isinstance(json.loads(text), dict), line
    for _line, text in blocks("toml"):
        tomllib.loads(text)
