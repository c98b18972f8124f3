"""Engine-free checks of the Dagger modules under modules/ (issue 11), like test_module.py for the root.

Each module is its own Dagger module (dagger.json + pyproject.toml + src/<pkg>/main.py) whose wheel carries
the core package `pipeline` from the repository's own pipeline/ (hatchling `force-include`; dagger.json
`include` brings ../../pipeline into the module's context). These tests check what the engine would be given:
- the files: names, engine version, include patterns (rebased the way the engine rebases them) that cover
  every file `pipeline` reads, dependencies and lock versions equal to the root's, no committed copy;
- the environment the Python runtime builds (`uv sync --no-dev`, here with `--no-sources --locked` against
  PyPI's dagger-io): exactly one `dagger.mod` entry point, the one that loads the module's own main object,
  `pipeline` installed from the shared source (data files included) and `pipeline.main` never imported;
- the registration, in that environment, in a fresh interpreter: every function and field converts to a
  type definition, at most 10 arguments each, side effects never cached, state kept out of the constructor.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULES = ROOT / "modules"
NAMES = ("scan", "sbom", "gate", "publish", "sign")
MAX_ARGS = 10

# the functions each module offers, and those that change something outside (never cached)
FUNCTIONS = {
    "scan": {"with_config", "with_exceptions", "with_policy", "scan"},
    "sbom": {"with_config", "sbom", "scan", "facts"},
    "gate": {"with_policy", "gate"},
    "publish": {"with_registry_auth", "with_insecure_registry", "with_registry_service", "publish"},
    "sign": {
        "with_registry_auth", "with_insecure_registry", "with_registry_service",
        "with_cosign_key", "with_keyless", "with_kms", "sign", "attest", "verify",
    },
}  # fmt: skip
SIDE_EFFECTS = {"publish": {"publish"}, "sign": {"sign", "attest", "verify"}}
# functions that take the caller's own objects
CALLER_OBJECTS = {
    ("scan", "scan"): ("source", "Directory"),
    ("sbom", "sbom"): ("container", "Container"),
    ("sbom", "scan"): ("container", "Container"),
    ("sbom", "facts"): ("container", "Container"),
    ("gate", "gate"): ("input", "File"),
    ("publish", "publish"): ("container", "Container"),
}


def pascal(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("-"))


def meta(name: str) -> dict[str, Any]:
    return json.loads((MODULES / name / "dagger.json").read_text())


def project(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text())


def lock_versions(path: Path) -> dict[str, str]:
    return {p["name"]: p["version"] for p in tomllib.loads(path.read_text())["package"] if "version" in p}


def shared_files() -> list[str]:
    """Every file of the core package, relative to the repository root (git's view, no caches)."""
    out = subprocess.run(["git", "ls-files", "pipeline"], cwd=ROOT, capture_output=True, text=True, check=True)
    return sorted(line for line in out.stdout.splitlines() if "__pycache__" not in line)


# --- the include patterns, the way the engine reads them ------------------------------------------------------


def rebase(patterns: list[str], base: str) -> list[str]:
    """core/schema/modulesource.go rebasePatterns: relative to dagger.json, rebased onto the context (git root);
    a pattern escaping the context is refused."""
    out = []
    for pattern in patterns:
        negated = pattern.startswith("!")
        rel = posixpath.normpath(posixpath.join(base, pattern.removeprefix("!")))
        if rel == ".." or rel.startswith("../") or rel.startswith("/"):
            raise ValueError(f"include/exclude path {rel!r} escapes context")
        out.append(("!" if negated else "") + rel)
    return out


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A gitignore-style path pattern (`**` any depth, `*` within a segment), matching the path or a parent."""
    parts = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            parts.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            parts.append(".*")
            i += 2
        elif pattern[i] == "*":
            parts.append("[^/]*")
            i += 1
        else:
            parts.append(re.escape(pattern[i]))
            i += 1
    return re.compile("(?:.*/)?" * (not pattern.count("/")) + "".join(parts) + "(?:/.*)?")


def loaded(path: str, name: str) -> bool:
    """Whether the engine loads `path` (relative to the git root) into the context of module `name`:
    the module's own folder and dagger.json always, then the include patterns in order (last match wins)."""
    sub = f"modules/{name}"
    keep = path == sub or path.startswith(sub + "/")
    for pattern in rebase(meta(name).get("include", []), sub):
        negated = pattern.startswith("!")
        if glob_regex(pattern.removeprefix("!")).fullmatch(path):
            keep = not negated
    return keep


def test_the_include_matcher_reads_patterns_like_the_engine() -> None:
    assert rebase(["../../pipeline/**", "!**/.venv"], "modules/scan") == ["pipeline/**", "!modules/scan/**/.venv"]
    with pytest.raises(ValueError, match="escapes context"):
        rebase(["../../../etc/**"], "modules/scan")
    assert glob_regex("pipeline/**").fullmatch("pipeline/rules/semgrep/x.yaml")
    assert not glob_regex("pipeline/**").fullmatch("pipelines/x.py")
    assert glob_regex("modules/scan/**/.venv").fullmatch("modules/scan/.venv/lib/x.py")
    assert glob_regex("pipeline/**/__pycache__").fullmatch("pipeline/stages/__pycache__/scan.pyc")


# --- the files -------------------------------------------------------------------------------------------------


def test_every_module_is_listed_and_nothing_else_sits_in_modules() -> None:
    assert sorted(p.name for p in MODULES.iterdir() if p.is_dir()) == sorted(NAMES)
    index = (MODULES / "README.md").read_text()
    for name in NAMES:
        assert f"[modules/{name}]({name}/README.md)" in index, name


@pytest.mark.parametrize("name", NAMES)
def test_dagger_json_names_the_module_and_loads_the_core_package(name: str) -> None:
    m = meta(name)
    root = json.loads((ROOT / "dagger.json").read_text())
    assert m["name"] == f"seaworthy-{name}"
    assert m["engineVersion"] == root["engineVersion"]
    assert m["sdk"] == {"source": "python"}
    assert m["source"] == "."
    assert "dependencies" not in m  # the core package comes by include, not as a Dagger dependency
    rebase(m["include"], f"modules/{name}")  # nothing escapes the context
    # every file of the core package (code, rules, policies, schemas, pins) reaches the runtime...
    missing = [f for f in shared_files() if not loaded(f, name)]
    assert not missing, f"modules/{name}/dagger.json does not load {missing[:5]}"
    for data in ("pipeline/rules/semgrep", "pipeline/rules/trivy", "pipeline/policy/rego", "pipeline/tools"):
        assert any(f.startswith(data + "/") for f in shared_files()), data
    # ...and nothing else of the repository does (its digest is the module's cache key)
    for other in ("README.md", "pyproject.toml", "uv.lock", "tests/conftest.py", "examples/app/Dockerfile"):
        assert not loaded(other, name), other
    assert not loaded(f"modules/{name}/.venv/lib/x.py", name)
    assert not loaded("pipeline/stages/__pycache__/scan.cpython-311.pyc", name)
    assert (MODULES / name / ".gitignore").read_text().split() == ["/sdk", "/.venv", "**/__pycache__"]


@pytest.mark.parametrize("name", NAMES)
def test_pyproject_carries_the_core_package_and_one_entry_point(name: str) -> None:
    py = project(MODULES / name / "pyproject.toml")
    root = project(ROOT / "pyproject.toml")
    pkg = f"seaworthy_{name}"
    assert py["project"]["name"] == f"seaworthy-{name}"
    # the main class is the PascalCase of the module name, or registration fails
    assert py["project"]["entry-points"] == {"dagger.mod": {"main_object": f"{pkg}.main:{pascal(meta(name)['name'])}"}}
    assert "scripts" not in py["project"]
    assert py["project"]["requires-python"] == root["project"]["requires-python"]
    # the same runtime dependencies as the root (the wheel carries `pipeline`, not the root distribution)
    assert py["project"]["dependencies"] == root["project"]["dependencies"]
    assert not any(d.split("[")[0].split(">")[0].strip() == "seaworthy" for d in py["project"]["dependencies"])
    assert py["tool"]["uv"]["sources"] == {"dagger-io": {"path": "sdk", "editable": True}}
    wheel = py["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert wheel["packages"] == [f"src/{pkg}"]
    (source,) = wheel["force-include"]
    assert wheel["force-include"][source] == "pipeline"
    assert (MODULES / name / source).resolve() == ROOT / "pipeline"
    assert (MODULES / name / "src" / pkg / "main.py").is_file()
    # uv (here, and in a developer's module folder) rebuilds the wheel whenever any file of the core changes;
    # by default it would only watch pyproject.toml and keep installing a stale copy of pipeline/
    keys = [k["file"] for k in py["tool"]["uv"]["cache-keys"]]
    assert "pyproject.toml" in keys
    watched = [glob_regex(k) for k in rebase(keys, f"modules/{name}")]
    unwatched = [f for f in shared_files() if not any(w.fullmatch(f) for w in watched)]
    assert not unwatched, f"modules/{name}: [tool.uv] cache-keys miss {unwatched}"


@pytest.mark.parametrize("name", NAMES)
def test_the_lock_pins_what_the_root_pins(name: str) -> None:
    root = lock_versions(ROOT / "uv.lock")
    mod = lock_versions(MODULES / name / "uv.lock")
    assert "seaworthy" not in mod
    differ = {p: (v, root[p]) for p, v in mod.items() if p in root and v != root[p]}
    assert not differ, f"modules/{name}/uv.lock differs from the root's: {differ}"
    assert {f"seaworthy-{name}", "dagger-io", "attrs", "structlog", "cyclonedx-python-lib"} <= set(mod)


def test_no_copy_of_the_core_package_is_committed() -> None:
    out = subprocess.run(["git", "ls-files", "-s", "modules"], cwd=ROOT, capture_output=True, text=True, check=True)
    for line in out.stdout.splitlines():
        mode, _, _, path = line.split(maxsplit=3)
        assert mode != "120000", f"{path} is a symlink"
        assert "/pipeline/" not in path and not path.endswith("/pipeline"), path
        assert Path(path).suffix not in (".rego", ".yaml", ".yml") or "/src/" not in path, path


@pytest.mark.parametrize("name", NAMES)
def test_main_calls_only_the_python_api(name: str) -> None:
    """`pipeline.main` registers the root's object types wherever it is imported: the modules use `pipeline.api`."""
    tree = ast.parse((MODULES / name / "src" / f"seaworthy_{name}" / "main.py").read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
    assert {i for i in imported if i.startswith("pipeline")} == {"pipeline.api"}


@pytest.mark.parametrize("name", NAMES)
def test_readme_shows_install_and_a_call_from_python_go_and_typescript(name: str) -> None:
    text = (MODULES / name / "README.md").read_text()
    assert re.search(rf"dagger install github\.com/[\w.-]+/seaworthy/modules/{name}@v\d", text)
    blocks = dict(re.findall(r"```(\w+)\n(.*?)```", text, flags=re.S))
    # the bindings' names as Dagger derives them from the module name "seaworthy-<name>"
    for lang, binding in (("python", f"seaworthy_{name}"), ("go", pascal(f"seaworthy-{name}")),
                          ("typescript", f"seaworthy{name.capitalize()}")):  # fmt: skip
        assert re.search(rf"\bdag\s*\.{binding}\(\)", blocks[lang]), (lang, binding)
    for fn in FUNCTIONS[name] - {"with_config", "with_exceptions", "with_policy"}:
        assert fn in text, fn


# --- the environment the runtime builds, and the registration in it -----------------------------------------

PROBE = r"""
import importlib.metadata as md, json, sys, typing
from dagger.mod.cli import get_entry_point, load_module
from dagger.mod._converter import to_typedef

eps = [(e.name, e.value, e.dist.name if e.dist else "") for e in md.entry_points(group="dagger.mod")]
ep = get_entry_point()
mod = load_module()
errors = []
objects = {}
for name, ot in sorted(mod._objects.items()):
    fns = {}
    for fn in ot.functions.values():
        try:
            to_typedef(fn.return_type)
            for p in fn.parameters.values():
                to_typedef(p.resolved_type)
        except Exception as e:
            errors.append(f"{name}.{fn.name}: {e}")
        fns[fn.name] = {
            "cache": fn.cache_policy,
            "params": {p.name: str(p.resolved_type) for p in fn.parameters.values()},
            "doc": fn.doc or "",
        }
    hints = typing.get_type_hints(ot.cls)
    for f in ot.fields:
        try:
            to_typedef(hints[ot.fields[f].original_name])
        except Exception as e:
            errors.append(f"{name}.{f}: {e}")
    ctor = ot.get_constructor() if mod.is_main(ot) else None
    objects[name] = {
        "functions": fns,
        "fields": sorted(ot.fields),
        "constructor": sorted(ctor.parameters) if ctor else None,
        "module": ot.cls.__module__,
    }
import pipeline
print(json.dumps({
    "entry_points": eps,
    "entry_point": ep.value,
    "main": mod.main_cls.__name__,
    "objects": objects,
    "errors": errors,
    "pipeline": pipeline.__file__,
    "pipeline_dists": md.packages_distributions().get("pipeline", []),
    "pipeline_main_imported": "pipeline.main" in sys.modules,
    "dists": sorted(d.metadata["Name"] for d in md.distributions()),
}))
"""


def uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".cache" / "uv" / "bin" / "uv")
    assert Path(found).exists(), "uv is missing: run scripts/setup.sh (it installs uv into .cache/uv)"
    return found


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV", "PYTHON", "DAGGER_"))}
    return {**env, **extra}


@pytest.fixture(scope="module")
def envs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name → the module's environment, built like the runtime's `uv sync --no-dev` (PyPI's dagger-io)."""
    base = tmp_path_factory.mktemp("module-envs")
    out = {}
    for name in NAMES:
        venv = base / name
        run = subprocess.run(
            [uv(), "sync", "--no-sources", "--locked", "--no-dev", "--python", sys.executable, "-q"],
            cwd=MODULES / name,
            env=clean_env(UV_PROJECT_ENVIRONMENT=str(venv)),
            capture_output=True,
            text=True,
            check=False,
        )
        assert run.returncode == 0, f"modules/{name}: uv sync --locked failed:\n{run.stderr[-3000:]}"
        out[name] = venv
    return out


@functools.cache
def probe(venv: Path, name: str) -> dict[str, Any]:
    """Load the module in its own environment, in a fresh interpreter, the way the runtime's entry script does."""
    run = subprocess.run(
        [str(venv / "bin" / "python"), "-c", PROBE],
        cwd=MODULES / name,
        env=clean_env(
            DAGGER_MODULE=f"seaworthy-{name}",
            DAGGER_MAIN_OBJECT=pascal(f"seaworthy-{name}"),
            DAGGER_DEFAULT_PYTHON_PACKAGE=f"seaworthy_{name}",
        ),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, f"modules/{name} does not load:\n{run.stderr[-3000:]}"
    return json.loads(run.stdout)


def digest_tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.parametrize("name", NAMES)
def test_the_runtime_environment_has_one_entry_point_and_loads_the_modules_own_object(
    envs: dict[str, Path], name: str
) -> None:
    got = probe(envs[name], name)
    pkg = f"seaworthy_{name}"
    main = pascal(f"seaworthy-{name}")
    assert got["entry_points"] == [["main_object", f"{pkg}.main:{main}", f"seaworthy-{name}"]]
    assert got["entry_point"] == f"{pkg}.main:{main}" and got["main"] == main
    # the root distribution (and its entry point) is not there; `pipeline` comes with the module's own wheel
    assert "seaworthy" not in got["dists"]
    assert got["pipeline_dists"] == [f"seaworthy-{name}"]
    assert not got["pipeline_main_imported"], "pipeline.main was imported: the root's object types registered"
    # only the module's own object types register
    assert {o["module"] for o in got["objects"].values()} == {f"{pkg}.main"}
    installed = Path(got["pipeline"]).parent
    assert digest_tree(installed) == {
        f.removeprefix("pipeline/"): hashlib.sha256((ROOT / f).read_bytes()).hexdigest() for f in shared_files()
    }, "the installed core package is not the repository's pipeline/"


@pytest.mark.parametrize("name", NAMES)
def test_every_function_registers_with_at_most_ten_arguments(envs: dict[str, Path], name: str) -> None:
    got = probe(envs[name], name)
    assert got["errors"] == []
    main = got["objects"][pascal(f"seaworthy-{name}")]
    assert set(main["functions"]) == FUNCTIONS[name]
    assert main["constructor"] == [], "state belongs to the with_* chain, not the constructor"
    assert main["fields"] == []
    for obj in got["objects"].values():
        for fn_name, fn in obj["functions"].items():
            assert len(fn["params"]) <= MAX_ARGS, fn_name
            assert fn["doc"], f"{fn_name} has no docstring"
    for fn_name, fn in main["functions"].items():
        if fn_name.startswith("with_"):
            continue
        if fn_name in SIDE_EFFECTS.get(name, set()):
            assert fn["cache"] == "never", fn_name
        else:
            assert fn["cache"] not in (None, "never"), f"{fn_name} must state its cache policy"
            assert "Cache:" in fn["doc"], fn_name
    for (mod, fn_name), (arg, kind) in CALLER_OBJECTS.items():
        if mod == name:
            assert kind in main["functions"][fn_name]["params"][arg], (fn_name, arg)


@pytest.mark.parametrize("name", NAMES)
def test_secrets_are_only_ever_secret_typed(envs: dict[str, Path], name: str) -> None:
    got = probe(envs[name], name)
    for obj in got["objects"].values():
        for fn_name, fn in obj["functions"].items():
            for arg, kind in fn["params"].items():
                secretish = any(w in arg for w in ("secret", "password", "token", "credentials")) or arg == "key"
                if secretish and (fn_name, arg) != ("with_kms", "key"):  # a KMS key is a URI, not key material
                    assert "Secret" in kind, f"{fn_name}.{arg} must be a dagger.Secret"


@pytest.mark.parametrize("name", NAMES)
def test_the_wheel_carries_the_core_package_and_its_data(tmp_path: Path, name: str) -> None:
    run = subprocess.run(
        [uv(), "build", "--wheel", "--no-sources", "-q", "-o", str(tmp_path)],
        cwd=MODULES / name,
        env=clean_env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(shared_files()) <= names
    assert f"seaworthy_{name}/main.py" in names
    (eps,) = [n for n in names if n.endswith("entry_points.txt")]
    text = zipfile.ZipFile(wheel).read(eps).decode()
    assert text.count("main_object") == 1 and f"seaworthy_{name}.main:" in text


# --- the core package's data folders, wherever the package is installed ----------------------------------------


def recorded(obj: Any) -> list[tuple[str, str, dict[str, Any]]]:
    return [(s.type_name, s.name, dict(s.args)) for s in obj._ctx.selections]


@pytest.mark.parametrize("rel", ["rules/semgrep", "rules/trivy", "rules/inventory", "policy/rego"])
def test_in_the_root_module_the_data_folders_are_the_module_sources_own(rel: str) -> None:
    from pipeline.stages import bundled

    chain = recorded(bundled.directory(rel, cwd=ROOT))
    assert [(t, n) for t, n, _ in chain] == [("Query", "currentModule"), ("CurrentModule", "source"),
                                             ("Directory", "directory")]  # fmt: skip
    assert chain[-1][2] == {"path": f"pipeline/{rel}"}


@pytest.mark.parametrize("rel", ["rules/semgrep", "rules/trivy", "rules/inventory", "policy/rego"])
def test_elsewhere_the_data_folders_are_built_from_the_installed_files(tmp_path: Path, rel: str) -> None:
    """A module under modules/ runs in modules/<name>: `current_module().source()` has no pipeline/ there."""
    from pipeline.stages import bundled

    chain = recorded(bundled.directory(rel, cwd=MODULES / "scan"))
    assert chain[0][:2] == ("Query", "directory")
    assert not any(n in ("currentModule", "source") for _, n, _ in chain)
    written = {a["path"]: a["contents"] for _, n, a in chain if n == "withNewFile"}
    on_disk = {
        f.removeprefix(f"pipeline/{rel}/"): (ROOT / f).read_text(encoding="utf-8")
        for f in shared_files()
        if f.startswith(f"pipeline/{rel}/")
    }
    assert written == on_disk and written
    # a folder that is not on this disk is never silently an empty rule set
    with pytest.raises(FileNotFoundError, match="has no rules/nothing-here files"):
        bundled.directory("rules/nothing-here", cwd=tmp_path)


def test_every_stage_reads_its_data_folders_through_bundled() -> None:
    for path in sorted((ROOT / "pipeline").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.name != "bundled.py":
            assert "current_module()" not in text, f"{path.relative_to(ROOT)}: use pipeline.stages.bundled"


# --- the chained configuration of publish and sign (pure Python, in a fresh interpreter per module) --------

CHAIN_PROBE = r"""
import asyncio, json, sys
from dagger import dag
from pipeline.errors import InputError

def fails(fn, *needles):
    try:
        fn()
    except InputError as e:
        text = str(e)
        assert all(n in text for n in needles), (needles, text)
        assert "\n" not in text, text
        return text
    raise AssertionError(f"no InputError naming {needles}")

out = {}
"""


def run_chain_probe(name: str, body: str) -> dict[str, Any]:
    """Run `body` with the module's main object importable (its own registry: a fresh interpreter)."""
    code = CHAIN_PROBE + f"from seaworthy_{name}.main import {pascal('seaworthy-' + name)} as Main\n" + body
    code += "\nprint(json.dumps(out))\n"
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean_env(PYTHONPATH=str(MODULES / name / "src")),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name", ["publish", "sign"])
def test_registry_auth_chains_per_registry_and_is_checked_when_chained(name: str) -> None:
    got = run_chain_probe(
        name,
        """
s1, s2, s3 = dag.set_secret("a", "1"), dag.set_secret("b", "2"), dag.set_secret("c", "3")
base = Main()
one = base.with_registry_auth("ghcr.io", "me", s1).with_registry_auth("quay.io", "bot", s2)
two = one.with_registry_auth("https://GHCR.io/", "other", s3)  # the same registry: replaced
out["base"] = base.auth_addresses
out["one"] = list(zip(one.auth_addresses, one.auth_usernames))
out["two"] = list(zip(two.auth_addresses, two.auth_usernames))
out["secret_kept"] = two.auth_secrets[0] is s2 and two.auth_secrets[1] is s3
out["ghcr"] = two.registries().for_ref("ghcr.io/org/app").username
out["bad"] = fails(lambda: base.with_registry_auth("ghcr.io/org", "me", s1), "--address", "host")
out["empty_user"] = fails(lambda: base.with_registry_auth("ghcr.io", " ", s1), "--username")
ins = base.with_insecure_registry("Registry.Local:5000").with_insecure_registry("registry.local:5000")
out["insecure"] = ins.insecure
out["insecure_used"] = ins.registries().for_ref("registry.local:5000/app").insecure
""",
    )
    assert got["base"] == []
    assert got["one"] == [["ghcr.io", "me"], ["quay.io", "bot"]]
    assert got["two"] == [["quay.io", "bot"], ["ghcr.io", "other"]]
    assert got["secret_kept"] and got["ghcr"] == "other"
    assert got["insecure"] == ["registry.local:5000"] and got["insecure_used"] is True


def test_sign_takes_one_way_to_sign_and_checks_it_when_chained() -> None:
    got = run_chain_probe(
        "sign",
        """
key, pw = dag.set_secret("k", "KEY"), dag.set_secret("p", "PW")
url, tok = dag.set_secret("u", "U"), dag.set_secret("t", "T")
base = Main()
out["none"] = fails(lambda: base.signing(), "no way to sign was chained", "with-cosign-key")
keyed = base.with_cosign_key(key, pw, tlog=False)
out["key_mode"] = [base.mode, keyed.mode, keyed.tlog]
signing = keyed.signing()
out["key_secrets"] = sorted(signing.secrets) == ["COSIGN_PASSWORD", "COSIGN_PRIVATE_KEY"] and not signing.tlog
out["twice"] = fails(lambda: keyed.with_kms("awskms:///alias/x"), "with-kms after with-cosign-key")
out["same_again"] = keyed.with_cosign_key(key).key_password is None
out["keyless_none"] = fails(lambda: base.with_keyless(), "needs an OIDC token")
out["keyless_half"] = fails(lambda: base.with_keyless(oidc_request_url=url), "needs both")
gh = base.with_keyless(oidc_request_url=url, oidc_request_token=tok, identity="https://id", issuer="https://iss")
out["gh_secrets"] = sorted(gh.signing().secrets)
out["kms_bad"] = fails(lambda: base.with_kms("alias/x"), "--key", "awskms:///alias/NAME")
kms = base.with_kms("awskms:///alias/x")
# verify: the arguments first, else what the chain implies; nothing to check against is refused
out["verify_key_mode"] = fails(lambda: keyed.verifying(None, "", "", "", True), "nothing to check")
v = kms.verifying(None, "", "", "", True)
out["verify_kms"] = [v.kms_key, v.public_key is None]
v = gh.verifying(None, "", "", "", False)
out["verify_keyless"] = [v.identity, v.issuer, v.identity_regexp, v.tlog]
v = gh.verifying(None, "", "^https://.*$", "", True)
out["verify_regexp"] = [v.identity, v.identity_regexp]
pub = dag.directory().with_new_file("cosign.pub", "x").file("cosign.pub")
v = kms.verifying(pub, "", "", "", True)
out["verify_public_key_wins"] = [v.kms_key, v.public_key is pub]
# the state survives the engine's round trip of the object (init=False fields included)
mod = Main.__dagger_module__
state = asyncio.run(mod.unstructure(kms, Main))
back = asyncio.run(mod.structure(state, Main))
out["roundtrip"] = [back.mode, back.kms_key, back.tlog, back.auth_addresses]
""",
    )
    assert got["key_mode"] == ["", "key", False] and got["key_secrets"] and got["same_again"]
    assert got["gh_secrets"] == ["ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL"]
    assert got["verify_kms"] == ["awskms:///alias/x", True]
    assert got["verify_keyless"] == ["https://id", "https://iss", False, False]
    assert got["verify_regexp"] == ["^https://.*$", True]
    assert got["verify_public_key_wins"] == ["", True]
    assert got["roundtrip"] == ["kms", "awskms:///alias/x", True, []]


def test_scan_and_sbom_keep_their_chained_files() -> None:
    for name in ("scan", "sbom"):
        got = run_chain_probe(
            name,
            """
f = dag.directory().with_new_file("seaworthy.toml", "").file("seaworthy.toml")
base = Main()
chained = base.with_config(f)
out["config"] = [base.config is None, chained.config is f]
""",
        )
        assert got["config"] == [True, True], name


# --- the engine test module calls every module ------------------------------------------------------------


def test_the_engine_test_module_depends_on_and_calls_every_module_function() -> None:
    tests_module = ROOT / "tests" / "dagger"
    deps = {d["name"]: d["source"] for d in json.loads((tests_module / "dagger.json").read_text())["dependencies"]}
    text = (tests_module / "src" / "seaworthy_tests" / "modules_calls.py").read_text()
    for name in NAMES:
        assert deps[f"seaworthy-{name}"] == f"../../modules/{name}"
        assert (tests_module / deps[f"seaworthy-{name}"] / "dagger.json").resolve() == MODULES / name / "dagger.json"
        assert f"dag.seaworthy_{name}()" in text, name
        for fn in FUNCTIONS[name]:
            assert re.search(rf"\.{fn}\(", text), f"tests/dagger never calls seaworthy-{name}'s {fn}"
    cases = set(re.findall(r"^async def (\w+)\(", text, flags=re.M)) - {"expect_failure", "throwaway_keys"}
    listed = text[text.index("def module_cases(") :]
    assert cases and all(c in listed for c in cases), "module_cases does not run every case"
