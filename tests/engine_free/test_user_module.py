"""Engine-free checks of the example user module (examples/user-module), like test_module.py for the root.

The example builds its image without a Dockerfile and composes Seaworthy's steps through `pipeline.api`. No
engine runs here, so these tests check what the engine would be given: the module layout and registration,
the build's lazily built query chain, that every step reads the one image the build made (build once), and
that the gate input it composes is valid and decided by the real bundled Rego policies (regorus, in-process).
The `pipeline.api` steps that need an engine are replaced by recorders in `test_check_*`; the gate they call
is the real policy set.
"""

from __future__ import annotations

import ast
import fnmatch
import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
import typing
from datetime import date
from pathlib import Path
from typing import Any

import attrs
import dagger
import pytest
from dagger import dag
from dagger.mod._converter import to_typedef  # pyright: ignore[reportPrivateUsage]

from pipeline import api
from pipeline import config as config_mod
from pipeline.errors import ConfigError, GateFailed
from pipeline.formats.dockerfile import classify_pin
from pipeline.formats.json_report import image_to_json
from pipeline.model import BasePin, Category, ImageFacts, Severity, ToolRun
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.schema import validate_gate_input
from pipeline.policy.verdict import read_verdict
from pipeline.stages.report import facts_json
from tests.factories import finding, vuln

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "user-module"
DIGEST = "sha256:" + "ab" * 32
OTHER_DIGEST = "sha256:" + "cd" * 32
TODAY = date(2026, 11, 27)


def _example(name: str) -> Any:
    src = str(EXAMPLE / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    return importlib.import_module(f"my_pipeline.{name}")


main: Any = _example("main")
gating: Any = _example("gating")


def ops(obj: Any) -> list[tuple[str, str]]:
    return [(s.type_name, s.name) for s in obj._ctx.selections]


def selections(obj: Any, name: str) -> list[dict[str, Any]]:
    return [dict(s.args) for s in obj._ctx.selections if s.name == name]


def object_type() -> Any:
    return main.MyPipeline.__dagger_object_type__


def lock_versions(path: Path) -> dict[str, str]:
    return {p["name"]: p["version"] for p in tomllib.loads(path.read_text())["package"] if "version" in p}


# --- the module as the engine loads it -------------------------------------------------------------------


def test_layout_matches_dagger_json_and_pyproject() -> None:
    meta = json.loads((EXAMPLE / "dagger.json").read_text())
    root_meta = json.loads((ROOT / "dagger.json").read_text())
    assert meta["engineVersion"] == root_meta["engineVersion"]
    assert meta["sdk"]["source"] == "python"
    assert main.MyPipeline.__name__ == "".join(p.capitalize() for p in meta["name"].split("-"))
    py = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())
    assert py["project"]["entry-points"]["dagger.mod"]["main_object"] == "my_pipeline.main:MyPipeline"
    assert "dagger-io" in py["project"]["dependencies"], "dagger-io must stay unpinned (runtime SDK is 0.0.0)"
    assert py["tool"]["uv"]["sources"]["dagger-io"] == {"path": "sdk", "editable": True}
    assert "/sdk" in (EXAMPLE / ".gitignore").read_text().split()
    # Seaworthy comes as the `pipeline` package inside this module's own wheel (as for modules/): the root
    # distribution would bring a second `dagger.mod` entry point. Same runtime dependencies, same versions.
    root_py = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert py["project"]["dependencies"] == root_py["project"]["dependencies"]
    assert py["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"] == {"../../pipeline": "pipeline"}
    assert (EXAMPLE / "../../pipeline").resolve() == ROOT / "pipeline"
    assert "../../pipeline/**" in meta["include"]
    root_lock = lock_versions(ROOT / "uv.lock")
    differ = {k: (v, root_lock[k]) for k, v in lock_versions(EXAMPLE / "uv.lock").items() if root_lock.get(k, v) != v}
    assert not differ, f"examples/user-module/uv.lock differs from the root's: {differ}"
    assert not (EXAMPLE / "pipeline").exists() and not (EXAMPLE / "src" / "pipeline").exists(), "no copy committed"
    # uv must rebuild the wheel when any file of the package changes (it watches only what cache-keys name)
    watched = [k["file"] for k in py["tool"]["uv"]["cache-keys"]]
    tracked = subprocess.run(["git", "ls-files", "pipeline"], cwd=ROOT, capture_output=True, text=True, check=True)
    unwatched = [
        f
        for f in tracked.stdout.splitlines()
        if not any(fnmatch.fnmatch("../../" + f, w.replace("**/", "*")) for w in watched)
    ]
    assert not unwatched, f"pipeline files uv does not watch: {unwatched}"
    # the default source is the bundled example app, named from the context root
    default = object_type().functions["check"].parameters["source"].default_path
    assert default.startswith("/") and (ROOT / default.lstrip("/") / "app.py").is_file()


def test_the_root_module_leaves_the_example_out_of_its_context() -> None:
    # an edit here must not change the root module's digest (and invalidate its function caches)
    include = json.loads((ROOT / "dagger.json").read_text())["include"]
    assert "!examples/user-module/**" in include
    assert not any(p.startswith("!examples/**") or p == "!examples/app/**" for p in include)  # the default source


def test_every_function_and_field_is_registrable_and_small() -> None:
    ot = object_type()
    assert set(ot.functions) == {"build", "check"}
    for fn in [*ot.functions.values(), ot.get_constructor()]:
        to_typedef(fn.return_type)
        assert len(fn.parameters) <= 10, fn.name
        for p in fn.parameters.values():
            to_typedef(p.resolved_type)
    sub = main.Checked.__dagger_object_type__
    hints = typing.get_type_hints(main.Checked)
    assert set(sub.fields) == {"container", "passed", "verdict", "summary", "reports", "sbom"}
    for name in sub.fields:
        to_typedef(hints[name])


def test_functions_that_read_live_data_are_cached_per_session_only() -> None:
    ot = object_type()
    for name in ("build", "check"):
        assert ot.functions[name].cache_policy == "session", name


def test_the_module_imports_no_other_main_object() -> None:
    # pipeline.main registers Seaworthy's object types; a user module must build on pipeline.api only
    text = (EXAMPLE / "src" / "my_pipeline" / "main.py").read_text()
    assert "pipeline.main" not in text and "pipeline.stages" not in text
    assert "from pipeline import api" in text


# --- its own build ---------------------------------------------------------------------------------------


def test_build_is_not_a_dockerfile_build_and_carries_what_the_gate_checks() -> None:
    src = dag.directory()
    ctr = main.MyPipeline().build(src, "https://github.com/org/app", "0123abc")
    chain = ops(ctr)
    assert ("Directory", "dockerBuild") not in chain
    (frm,) = selections(ctr, "from")
    assert frm["address"] == main.BASE_IMAGE
    assert classify_pin(main.BASE_IMAGE) in (BasePin.TAG, BasePin.DIGEST)  # an exact base, never latest
    (copied,) = selections(ctr, "withDirectory")
    assert copied["path"] == main.APP and copied["source"] is src
    (install,) = selections(ctr, "withExec")
    assert "pip install --no-cache-dir -r requirements.txt" in install["args"][-1]
    labels = {a["name"]: a["value"] for a in selections(ctr, "withLabel")}
    assert labels == {
        "org.opencontainers.image.source": "https://github.com/org/app",
        "org.opencontainers.image.revision": "0123abc",
    }
    (user,) = selections(ctr, "withUser")
    assert user["name"] == main.USER and not ImageFacts(DIGEST, user=user["name"]).runs_as_root
    # the user is set after the install (which needs root) and before the image is used
    names = [n for _, n in chain]
    assert names.index("withExec") < names.index("withUser")
    assert chain[-1] == ("Container", "withDefaultArgs")


# --- check: every step reads the one build ----------------------------------------------------------------


CYCLONEDX = json.dumps(
    {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"tools": {"components": [{"type": "application", "name": "trivy"}]}},
        "components": [
            {"type": "library", "name": "pip", "version": "25.3", "purl": "pkg:pypi/pip@25.3", "licenses": []}
        ],
    }
)


class Recorder:
    """Stands in for the `pipeline.api` steps that need an engine; records what each was given."""

    def __init__(self, *, image_findings: tuple[Any, ...] = (), scanned_digest: str = DIGEST) -> None:
        self.calls: dict[str, tuple[Any, ...]] = {}
        self.image_findings = image_findings
        self.scanned_digest = scanned_digest
        self.gate_inputs: list[str] = []

    def install(self, monkeypatch: pytest.MonkeyPatch, cfg: config_mod.Config) -> None:
        async def load_config(source: dagger.Directory, *args: Any, **kw: Any) -> config_mod.Config:
            self.calls["load_config"] = (source,)
            return cfg

        async def scan(source: dagger.Directory, cfg: config_mod.Config, **kw: Any) -> api.Scanned:
            self.calls["scan"] = (source, kw)
            run = ToolRun("semgrep", "1.185.0", (finding(Category.SAST, "py.rule", Severity.LOW),))
            return api.Scanned((run,), run.findings, None, {})

        async def scan_image(built: api.Built, cfg: config_mod.Config) -> api.Scanned:
            self.calls["scan_image"] = (built,)
            run = ToolRun("trivy", "0.76.0", self.image_findings, subject=self.scanned_digest)
            return api.Scanned((run,), run.findings, None, {})

        async def sbom(built: api.Built, cfg: config_mod.Config) -> dagger.Directory:
            self.calls["sbom"] = (built,)
            return dag.directory().with_new_file("sbom.cdx.json", CYCLONEDX)

        async def facts(built: api.Built, dockerfile_text: str = "") -> str:
            self.calls["facts"] = (built, dockerfile_text)
            # what the image config of the build says (user and labels as the build chain set them)
            (ctr,) = built.variants
            labels = {a["name"]: a["value"] for a in selections(ctr, "withLabel")}
            (user,) = selections(ctr, "withUser")
            return facts_json([ImageFacts(DIGEST, user=user["name"], labels=tuple(sorted(labels.items())))])

        async def gate(input_text: str, *, policy: dagger.Directory | None = None) -> Any:
            self.gate_inputs.append(input_text)
            return read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], input_text))

        async def contents(file: dagger.File) -> str:  # the SBOM file this recorder's sbom() made
            (made,) = selections(file, "withNewFile")
            return made["contents"]

        for name, fn in {
            "load_config": load_config,
            "scan": scan,
            "scan_image": scan_image,
            "sbom": sbom,
            "facts": facts,
            "gate": gate,
        }.items():
            monkeypatch.setattr(api, name, fn)
        monkeypatch.setattr(dagger.File, "contents", contents)


def _cfg(extra: str = "") -> config_mod.Config:
    return config_mod.load((ROOT / "examples" / "app" / "seaworthy.toml").read_text() + extra)


@pytest.mark.anyio
async def test_check_builds_once_and_feeds_that_image_to_every_step(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    rec.install(monkeypatch, _cfg())
    src = dag.directory()
    checked = await main.MyPipeline().check(src, "https://github.com/org/app", "0123abc", True, "2026-11-27")

    built = rec.calls["scan_image"][0]
    assert rec.calls["sbom"][0] is built and rec.calls["facts"][0] is built  # one Built for every image step
    assert built.variants == (checked.container,)  # the very container the build made
    assert ops(built.tarball)[:-1] == ops(checked.container) and ops(built.tarball)[-1] == ("Container", "asTarball")
    assert [n for _, n in ops(built.tarball)].count("from") == 1
    assert rec.calls["scan"][0] is src and rec.calls["load_config"][0] is src
    assert rec.calls["scan"][1]["gated"] is False  # one gate, over source and image together

    assert checked.passed is True
    assert json.loads(checked.verdict)["passed"] is True
    names = {a["path"] for a in selections(checked.reports, "withNewFile")}
    assert names == {"seaworthy.sarif", "junit.xml", "summary.md", "report.json", "gate-input.json", "verdict.json"}
    assert checked.sbom is not None


@pytest.mark.anyio
async def test_check_gates_source_and_image_findings_in_one_valid_input(monkeypatch: pytest.MonkeyPatch) -> None:
    critical = vuln(
        "CVE-2026-0001", "openssl", "3.0.0", "3.0.1", Severity.CRITICAL, category=Category.IMAGE_VULNERABILITY
    )
    rec = Recorder(image_findings=(critical,))
    rec.install(monkeypatch, _cfg())
    with pytest.raises(GateFailed, match=r"threshold\.image-vulnerability"):
        await main.MyPipeline().check(dag.directory(), "https://github.com/org/app", "0123abc", True, "2026-11-27")
    checked = await main.MyPipeline().check(
        dag.directory(), "https://github.com/org/app", "0123abc", False, "2026-11-27"
    )
    assert checked.passed is False

    doc = json.loads(rec.gate_inputs[-1])
    validate_gate_input(doc, where="test")
    assert doc["today"] == "2026-11-27"
    assert {f["rule_id"] for f in doc["findings"]} == {"py.rule", "CVE-2026-0001"}
    (img,) = doc["images"]
    assert img["base_image"] == main.BASE_IMAGE and img["base_pin"] == "tag" and img["runs_as_root"] is False
    assert doc["build"]["config_digests"] == {img["platform"]: DIGEST}
    assert doc["sbom"]["components_count"] == 1


@pytest.mark.anyio
async def test_check_fails_when_the_scanned_image_is_not_the_built_one(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder(scanned_digest=OTHER_DIGEST)
    rec.install(monkeypatch, _cfg())
    with pytest.raises(GateFailed, match=r"image\.digest-mismatch"):
        await main.MyPipeline().check(dag.directory(), "https://github.com/org/app", "0123abc", True, "2026-11-27")


@pytest.mark.anyio
async def test_check_applies_reviewed_exceptions_and_fails_on_expired_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    critical = vuln(
        "CVE-2026-0001", "openssl", "3.0.0", "3.0.1", Severity.CRITICAL, category=Category.IMAGE_VULNERABILITY
    )
    waiver = (
        '\n[[exceptions]]\ntarget = ["CVE-2026-0001"]\nowner = "sec@example.com"\n'
        'reason = "fixed in the next base image"\nexpires = 2026-12-31\n'
    )
    rec = Recorder(image_findings=(critical,))
    rec.install(monkeypatch, _cfg(waiver))
    checked = await main.MyPipeline().check(
        dag.directory(), "https://github.com/org/app", "0123abc", True, "2026-11-27"
    )
    assert checked.passed is True
    with pytest.raises(GateFailed, match=r"exception"):
        await main.MyPipeline().check(dag.directory(), "https://github.com/org/app", "0123abc", True, "2027-01-01")


@pytest.mark.anyio
async def test_check_refuses_a_bad_date_before_anything_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    rec.install(monkeypatch, _cfg())
    with pytest.raises(Exception, match=r"--today '27/11/2026' is not a date"):
        await main.MyPipeline().check(dag.directory(), "", "", True, "27/11/2026")
    assert rec.calls == {}


@pytest.mark.anyio
async def test_a_missing_exception_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    async def exists(self: dagger.Directory, path: str, **kw: Any) -> bool:
        return False

    monkeypatch.setattr(dagger.Directory, "exists", exists)
    cfg = config_mod.load('[gate]\nexceptions_file = "waivers.toml"\n')
    with pytest.raises(ConfigError, match=r"gate\.exceptions_file 'waivers\.toml' does not exist"):
        await main.exceptions_of(dag.directory(), cfg)


# --- the pure part ---------------------------------------------------------------------------------------


def test_facts_from_json_reads_what_api_facts_returns() -> None:
    facts = ImageFacts(
        DIGEST,
        platform="linux/arm64",
        user="10001:10001",
        entrypoint=("python3",),
        cmd=("/app/app.py",),
        exposed_ports=("8080/tcp",),
        labels=(("a", "1"), ("b", "2")),
        size=123,
        layers=4,
    )
    text = json.dumps([image_to_json(facts)])
    (got,) = gating.facts_from_json(text, base_image="python:3.13.15-slim-trixie")
    assert got == attrs.evolve(facts, base_image="python:3.13.15-slim-trixie", base_pin=BasePin.TAG)
    (unpinned,) = gating.facts_from_json(text, base_image="python")
    assert unpinned.base_pin is BasePin.NONE  # the gate's image.base-unpinned then denies


def test_gate_document_is_deterministic_and_valid() -> None:
    cfg = _cfg()
    facts = (ImageFacts(DIGEST, user="10001", labels=(("org.opencontainers.image.source", "x"),)),)
    run = ToolRun("trivy", "0.76.0", (), subject=DIGEST)
    kw: dict[str, Any] = {
        "source_runs": (),
        "image_runs": (run,),
        "facts": facts,
        "sbom": None,
        "exceptions": (),
        "today": TODAY,
    }
    one = gating.dumps(gating.gate_document(cfg, **kw))
    assert one == gating.dumps(gating.gate_document(cfg, **kw))
    validate_gate_input(json.loads(one), where="test")
    verdict = read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], one))
    # no base image named: unknown counts as unpinned; the revision label is missing
    assert [r.rule_id for r in verdict.denials] == ["image.base-unpinned", "image.labels"]


# --- type checking ---------------------------------------------------------------------------------------


def test_the_example_is_pyright_strict_clean() -> None:
    pyright = Path(sys.executable).parent / "pyright"
    got = subprocess.run(
        [str(pyright), "--outputjson", "-p", str(EXAMPLE), "--pythonpath", sys.executable],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
    )
    report = json.loads(got.stdout)
    problems = [f"{d['file']}:{d['range']['start']['line'] + 1}: {d['message']}" for d in report["generalDiagnostics"]]
    assert report["summary"]["filesAnalyzed"] >= 3
    assert problems == []


# --- the environment the Python runtime builds -------------------------------------------------------------

PROBE = """
import importlib.metadata as md, json, sys
from pathlib import Path
from dagger.mod.cli import get_entry_point
ep = get_entry_point()
cls = ep.load()
import pipeline
ot = cls.__dagger_object_type__
print(json.dumps({
    "entry_points": sorted([e.name, e.value] for e in md.entry_points(group="dagger.mod")),
    "main": cls.__name__,
    "functions": sorted(ot.functions),
    "pipeline": pipeline.__file__,
    "pipeline_main_imported": "pipeline.main" in sys.modules,
    "dists": sorted(d.metadata["Name"] for d in md.distributions()),
}))
"""


def _uv() -> str:
    found = shutil.which("uv") or str(ROOT / ".cache" / "uv" / "bin" / "uv")
    assert Path(found).exists(), "uv is missing: run scripts/setup.sh (it installs uv into .cache/uv)"
    return found


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "VIRTUAL_ENV", "PYTHON", "DAGGER_"))}
    return {**env, **extra}


def _tree(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_the_runtime_environment_loads_this_module_with_the_repositorys_pipeline(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    # --reinstall-package rebuilds the wheel: uv reuses its cached build of a path project while the project's
    # own files are unchanged, and the wheel takes in ../../pipeline, which uv does not watch
    rebuild = ("--reinstall-package", "my-pipeline")
    sync = subprocess.run(
        [_uv(), "sync", "--no-sources", "--locked", "--no-dev", *rebuild, "--python", sys.executable, "-q"],
        cwd=EXAMPLE,
        env=_clean_env(UV_PROJECT_ENVIRONMENT=str(venv)),
        capture_output=True,
        text=True,
        check=False,
    )
    assert sync.returncode == 0, f"uv sync --locked failed:\n{sync.stderr[-3000:]}"
    run = subprocess.run(
        [str(venv / "bin" / "python"), "-c", PROBE],
        cwd=EXAMPLE,
        env=_clean_env(DAGGER_MODULE="my-pipeline", DAGGER_MAIN_OBJECT="MyPipeline"),
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, f"the module does not load:\n{run.stderr[-3000:]}"
    got = json.loads(run.stdout)
    assert got["entry_points"] == [["main_object", "my_pipeline.main:MyPipeline"]]
    assert got["main"] == "MyPipeline" and got["functions"] == ["build", "check"]
    assert "seaworthy" not in got["dists"] and not got["pipeline_main_imported"]
    files = subprocess.run(["git", "ls-files", "pipeline"], cwd=ROOT, capture_output=True, text=True, check=True)
    shared = {
        f.removeprefix("pipeline/"): hashlib.sha256((ROOT / f).read_bytes()).hexdigest()
        for f in files.stdout.splitlines()
    }
    assert _tree(Path(got["pipeline"]).parent) == shared, f"{got['pipeline']} is not the repository's pipeline/"


# --- the engine test module calls it ---------------------------------------------------------------------


def test_the_engine_test_module_depends_on_the_example_and_calls_what_it_has() -> None:
    deps = json.loads((ROOT / "tests" / "dagger" / "dagger.json").read_text())["dependencies"]
    assert {"name": "my-pipeline", "source": "../../examples/user-module"} in deps
    calls = ROOT / "tests" / "dagger" / "src" / "seaworthy_tests" / "example_calls.py"
    tree = ast.parse(calls.read_text())
    check_params = set(object_type().functions["check"].parameters)
    fields = set(main.Checked.__dagger_object_type__.fields)
    used: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "check":
            assert {k.arg for k in node.keywords} <= check_params, ast.unparse(node)
        if isinstance(node, ast.Name) and node.id in ("checked", "relaxed"):
            used.add(node.id)
    read = {
        n.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id in ("checked", "relaxed")
    }
    assert used and read and read <= fields, read - fields
