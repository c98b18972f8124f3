"""Engine-free check of the names other modules' generated bindings are made from (issue 11 review).

A module's functions, fields and arguments reach its callers through the SDKs' code generators, which the
engine runs on the module's GraphQL schema. What those generators do with a name, read in the Dagger source
(branch backport-0.21, the same at tag v0.21.8):

- Go (cmd/codegen/generator/go/templates/functions.go `fieldFunction`): a required argument becomes a Go
  parameter under its GraphQL name as is (`fmt.Sprintf("%s %s", arg.Name, inType)`), so an argument named
  after a Go keyword (`type`, `func`, `range`…) makes the whole generated client fail to compile for every Go
  module that installs ours. Escaping (`formatParamName`, keyword or predeclared name → `type_`) only came
  with the 1.0 betas (commit ba4829cd82, first in v1.0.0-beta.6). A scalar field is a struct field under its
  name as is, with the same limit.
- Python (sdk/python/codegen/src/codegen/generator.py `format_name`): a Python keyword or one of
  str, int, float, bool, list, type gets a trailing `_` (`type` → `type_`), so a caller's `type=` fails.
- TypeScript (cmd/codegen/generator/typescript/templates/functions.go `formatName`, `jsKeywords`,
  case-insensitive): a method or field named after a keyword gets a trailing `_`; an argument keeps its name
  where a caller writes it (the opts object, templates/src/types.ts.gtpl), so only names of members count.

So no function, field or argument of any of our modules may carry such a name, and the engine test module
(which calls ours through the Python bindings) never passes one as a keyword argument.
"""

from __future__ import annotations

import ast
import json
import keyword
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

GO_KEYWORDS = frozenset(
    [
        "break",
        "case",
        "chan",
        "const",
        "continue",
        "default",
        "defer",
        "else",
        "fallthrough",
        "for",
        "func",
        "go",
        "goto",
        "if",
        "import",
        "interface",
        "map",
        "package",
        "range",
        "return",
        "select",
        "struct",
        "switch",
        "type",
        "var",
    ]
)
# predeclared identifiers (go/types Universe) a generated body may reference ("error" is exempt upstream too)
GO_PREDECLARED = frozenset(
    [
        "any",
        "append",
        "bool",
        "byte",
        "cap",
        "clear",
        "close",
        "comparable",
        "complex",
        "complex128",
        "complex64",
        "copy",
        "delete",
        "false",
        "float32",
        "float64",
        "imag",
        "int",
        "int16",
        "int32",
        "int64",
        "int8",
        "iota",
        "len",
        "make",
        "max",
        "min",
        "new",
        "nil",
        "panic",
        "print",
        "println",
        "real",
        "recover",
        "rune",
        "string",
        "true",
        "uint",
        "uint16",
        "uint32",
        "uint64",
        "uint8",
        "uintptr",
    ]
)
PY_RESERVED_BUILTINS = frozenset({"str", "int", "float", "bool", "list", "type"})
TS_KEYWORDS = frozenset(
    [
        "await",
        "break",
        "case",
        "catch",
        "class",
        "const",
        "continue",
        "debugger",
        "default",
        "delete",
        "do",
        "else",
        "enum",
        "extends",
        "false",
        "finally",
        "for",
        "function",
        "if",
        "implements",
        "import",
        "in",
        "instanceof",
        "interface",
        "new",
        "null",
        "package",
        "private",
        "protected",
        "public",
        "return",
        "super",
        "switch",
        "this",
        "throw",
        "true",
        "try",
        "typeof",
        "var",
        "void",
        "while",
        "yield",
        "as",
        "let",
        "static",
        "any",
        "boolean",
        "constructor",
        "declare",
        "module",
        "require",
        "number",
        "set",
        "string",
        "symbol",
        "type",
        "async",
        "namespace",
    ]
)

SUBMODULES = ("scan", "sbom", "gate", "publish", "sign")
# each module, as the Python module that registers its objects and the folder it is imported from
MODULES: dict[str, tuple[str, Path | None]] = {
    "seaworthy": ("pipeline.main", None),
    **{f"seaworthy-{n}": (f"seaworthy_{n}.main", ROOT / "modules" / n / "src") for n in SUBMODULES},
    "my-pipeline": ("my_pipeline.main", ROOT / "examples" / "user-module" / "src"),
}

LIST = """
import importlib, json, sys
from dagger.mod import _default_mod as mod
importlib.import_module(sys.argv[1])
out = {}
for name, ot in mod._objects.items():
    out[name] = {
        "functions": {f: sorted(fn.parameters) for f, fn in ot.functions.items()},
        "fields": sorted(ot.fields),
    }
print(json.dumps(out))
"""


def lower_camel(name: str) -> str:
    """The GraphQL name the engine gives a Python name (strcase.ToLowerCamel of the SDK's `normalize_name`)."""
    head, *rest = name.rstrip("_").split("_")
    return head + "".join(p.capitalize() for p in rest)


def problems(name: str, *, argument: bool) -> list[str]:
    gql = lower_camel(name)
    out = []
    if not argument and gql == "id":
        out.append("the engine (a field or function named id is refused at load, core/module.go)")
    if gql in GO_KEYWORDS or (argument and gql in GO_PREDECLARED):
        out.append("Go (engine v0.21's generated client does not compile)")
    if keyword.iskeyword(name) or name in PY_RESERVED_BUILTINS:
        out.append(f"Python (renamed {name}_)")
    # TypeScript keeps an argument's name where a caller writes it (the opts object), renames methods and fields
    if not argument and gql.lower() in TS_KEYWORDS:
        out.append(f"TypeScript (renamed {gql}_)")
    return out


def objects(module: str) -> dict[str, dict[str, object]]:
    package, path = MODULES[module]
    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGGER_")}
    if path is not None:
        env["PYTHONPATH"] = str(path)
    run = subprocess.run(
        [sys.executable, "-c", LIST, package], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, f"{package} does not import:\n{run.stderr[-3000:]}"
    return json.loads(run.stdout)


def test_the_checks_know_the_names_the_generators_rename() -> None:
    assert problems("type", argument=True) == [
        "Go (engine v0.21's generated client does not compile)",
        "Python (renamed type_)",
    ]
    assert problems("type", argument=False)[-1] == "TypeScript (renamed type_)"
    assert problems("require", argument=True) == [] and problems("require", argument=False) != []
    assert problems("string", argument=True)[0].startswith("Go")
    assert problems("from_", argument=True) == []  # the SDK strips the `_`: API name "from", Python's from_
    assert problems("input", argument=True) == problems("format", argument=True) == problems("id", argument=True)
    assert problems("id", argument=True) == []
    assert problems("id", argument=False)[0].startswith("the engine")
    assert problems("predicate_type", argument=True) == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_name_is_one_the_bindings_rename_or_cannot_compile(module: str) -> None:
    bad = []
    for obj, members in objects(module).items():
        functions: dict[str, list[str]] = members["functions"]  # type: ignore[assignment]
        fields: list[str] = members["fields"]  # type: ignore[assignment]
        for fn, params in functions.items():
            bad += [f"{obj}.{fn}: {p}" for p in problems(fn, argument=False) if fn]
            for arg in params:
                bad += [f"{obj}.{fn}({arg}): {p}" for p in problems(arg, argument=True)]
        for field in fields:
            bad += [f"{obj}.{field}: {p}" for p in problems(field, argument=False)]
    assert bad == [], "names the generated bindings rename or cannot use:\n" + "\n".join(bad)


def test_the_engine_test_module_passes_no_keyword_the_python_bindings_renamed() -> None:
    """tests/dagger calls every module through its generated Python bindings, where `type` is `type_`."""
    bad = []
    for path in sorted((ROOT / "tests" / "dagger" / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                bad += [
                    f"{path.relative_to(ROOT)}:{node.lineno}: {kw.arg}="
                    for kw in node.keywords
                    if kw.arg is not None and (keyword.iskeyword(kw.arg) or kw.arg in PY_RESERVED_BUILTINS)
                ]
    assert bad == []
