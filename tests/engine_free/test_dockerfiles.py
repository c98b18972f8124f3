"""Engine-free: what the scan stage gives hadolint and trivy for a tree with several Dockerfiles (leaves stubbed)."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import Any

import dagger
import pytest
from dagger import dag

from pipeline.config import BuildConfig, Config
from pipeline.errors import InputError
from pipeline.main import Image, Seaworthy
from pipeline.model import Category, Severity
from pipeline.stages import scan
from pipeline.tools import trivy
from tests.engine_free.test_module import _stub_tree, argv_of, selections, stub_leaves  # pyright: ignore[reportPrivateUsage]

TREE = [
    "Dockerfile.app",
    "Dockerfile.db",
    "docker/worker.Dockerfile",
    "docker/.dockerignore",
    "vendor/Dockerfile",
    "README.md",
]
TRIVY_REPORT = {
    "SchemaVersion": 2,
    "ArtifactType": "filesystem",
    "ArtifactName": "/src",
    "Results": [
        {
            "Target": "Dockerfile.db",
            "Class": "config",
            "Type": "dockerfile",
            "Misconfigurations": [
                {
                    "ID": "DS-0001",
                    "Title": "':latest' tag used",
                    "Message": "Specify a tag in the 'FROM' statement for image 'postgres'",
                    "Severity": "MEDIUM",
                    "Status": "FAIL",
                    "CauseMetadata": {"StartLine": 2, "EndLine": 2},
                }
            ],
        }
    ],
}
HADOLINT_REPORT = [
    {"code": "DL3007", "level": "warning", "message": "Using latest", "file": "Dockerfile.db", "line": 2, "column": 1},
    {"code": "DL3008", "level": "warning", "message": "Pin versions", "file": "Dockerfile.app", "line": 5, "column": 1},
]


def report_for(f: Any) -> str:
    return json.dumps(HADOLINT_REPORT if "/bin/hadolint" in argv_of(f) else TRIVY_REPORT)


@pytest.mark.anyio
async def test_hadolint_lints_every_dockerfile_and_trivy_gets_the_checks_and_their_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    awaited = stub_leaves(monkeypatch, exit_code=lambda _c: 0, contents=report_for)
    _stub_tree(monkeypatch, TREE)
    cfg = Config(scanners=("trivy", "hadolint"), skip_paths=("vendor",))
    t, h = await scan.run_scanners(dag.directory(), cfg, refresh_db=False)  # in the order asked for
    (hctr,) = [c for c in awaited if "/bin/hadolint" in argv_of(c)]
    assert argv_of(hctr)[-3:] == ["Dockerfile.app", "Dockerfile.db", "docker/worker.Dockerfile"]
    (tctr,) = [c for c in awaited if argv_of(c)[:2] == ["trivy", "fs"]]
    mounts = {a["path"] for a in selections(tctr, "withMountedDirectory")}
    assert {trivy.CHECKS_DIR, trivy.CHECK_DATA_DIR} <= mounts
    (data,) = [a for a in _new_files(tctr) if a["path"] == trivy.CHECK_DATA_FILE]
    doc = json.loads(data["contents"])
    assert doc["seaworthy_input"]["dockerignore"] == ["docker/.dockerignore"]
    # the same problem on the same line from both tools is one finding, with trivy's severity
    assert [f.rule_id for f in h.findings] == ["DL3008"]
    (ds,) = t.findings
    assert ds.tools == ("hadolint", "trivy") and ds.severity is Severity.MEDIUM
    assert ds.category is Category.MISCONFIGURATION and "hadolint:DL3007" in ds.tags


def _new_files(ctr: Any) -> list[dict[str, Any]]:
    """withNewFile selections anywhere in the chain, including the mounted data directory's own chain."""
    found: list[dict[str, Any]] = []
    for mount in selections(ctr, "withMountedDirectory"):
        source = mount["source"]
        found += [dict(s.args) for s in source._ctx.selections if s.name == "withNewFile"]
    return found


@pytest.mark.anyio
async def test_a_tree_without_dockerfiles_says_nothing_was_linted(monkeypatch: pytest.MonkeyPatch) -> None:
    awaited = stub_leaves(monkeypatch, exit_code=lambda _c: 0, contents=report_for)
    _stub_tree(monkeypatch, ["app.py"])
    (h,) = await scan.run_scanners(dag.directory(), Config(scanners=("hadolint",)), refresh_db=False)
    assert h.findings == () and awaited == []
    assert h.notes == ("the source has no Dockerfile or Containerfile outside the skip paths: nothing was linted",)


@pytest.mark.anyio
async def test_the_built_dockerfile_is_linted_whatever_its_name_and_a_missing_one_names_the_flag(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _stub_tree(monkeypatch, ["build/app.df", "Dockerfile.db"])
    cfg = Config(build=BuildConfig(dockerfile="build/app.df"))
    assert await scan.find_dockerfiles(dag.directory(), cfg) == ("Dockerfile.db", "build/app.df")

    async def entries(self: dagger.Directory, **_: object) -> list[str]:
        return ["Dockerfile.db", "build"]

    monkeypatch.setattr(dagger.Directory, "entries", entries)
    with pytest.raises(InputError, match=r"no Dockerfile at 'nope/Dockerfile'; pass --dockerfile="):
        await scan.find_dockerfiles(dag.directory(), Config(), explicit="nope/Dockerfile")


def test_every_function_whose_errors_name_dockerfile_has_that_flag() -> None:
    """check_source, the build and the scan stage tell the user to pass --dockerfile: the function must have it."""
    uses = ("api.scan(", "api.build(", "api.ship(", "check_source(", 'self._one("hadolint"')
    checked: list[str] = []
    for name, fn in inspect.getmembers(Seaworthy, inspect.isfunction):
        if name.startswith("_"):
            continue
        if any(u in inspect.getsource(fn) for u in uses):
            assert "dockerfile" in inspect.signature(fn).parameters, f"{name} has no --dockerfile"
            checked.append(name)
    assert {"scan", "hadolint", "build", "ship"} <= set(checked)
    # the Image's own functions read the one built tarball: no source, no Dockerfile to name
    for name in Image.__dagger_object_type__.functions:  # pyright: ignore[reportAttributeAccessIssue]
        assert "dockerfile" not in inspect.signature(getattr(Image, name)).parameters, name


def test_the_stage_mounts_the_checks_the_contract_tests_run() -> None:
    (directory,) = selections(scan.bundled_trivy_checks(), "directory")
    root = Path(__file__).resolve().parents[2]
    assert root / directory["path"] == trivy.BUNDLED_CHECKS
    assert any(trivy.BUNDLED_CHECKS.glob("*.rego"))
