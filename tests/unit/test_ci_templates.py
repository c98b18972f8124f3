"""The CI templates users copy: the GitHub composite action (action.yml), the reusable workflow
(.github/workflows/seaworthy.yml), the GitLab component (templates/seaworthy.yml) and the examples under
examples/ci/, validated offline in the test command.

- actionlint on every workflow; check-jsonschema's vendored schemas (vendor.github-actions on action.yml,
  vendor.github-workflows on every workflow, vendor.gitlab-ci on the component's job document and on the
  example); the component's `spec:` header against a small schema written from GitLab's documentation
  (https://docs.gitlab.com/ci/inputs/: `spec:inputs:<name>` with `default`, `description`, `options`, `regex`,
  `type` string|boolean|number|array).
- Every `dagger … call` in them parses against the module's functions: a chain of functions, each flag an
  argument of the function it follows (kebab-case), each function one of the object the previous one returned.
  Checked against the root module's registered object types (`dagger.mod` registration, so a renamed argument
  breaks the test) and against the surface the templates are written for (docs: issue 11's design, `SURFACE`).
- The scripts run for real (bash for the action, sh for the component) with `dagger` replaced by a recorder:
  the argv Dagger would get is checked with the same parser, and no secret value is ever on it.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pipeline import reports

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ACTION = ROOT / "action.yml"
REUSABLE = ROOT / ".github" / "workflows" / "seaworthy.yml"
COMPONENT = ROOT / "templates" / "seaworthy.yml"
GITHUB_EXAMPLES = ROOT / "examples" / "ci" / "github"
GITLAB_EXAMPLE = ROOT / "examples" / "ci" / "gitlab" / ".gitlab-ci.yml"
WORKFLOWS = sorted([*(ROOT / ".github" / "workflows").glob("*.yml"), *GITHUB_EXAMPLES.glob("*.yml")])
TEMPLATES = [ACTION, *WORKFLOWS, COMPONENT, GITLAB_EXAMPLE, ROOT / "docs" / "ci.md"]
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
DAGGER_VERSION = "0.21.11"
DAGGER_FOR_GITHUB = "dagger/dagger-for-github@27b130bf0f79a7f6fbbbe0fbca6760dc9bb40a77"  # v8.4.1


def tool(name: str) -> str:
    path = BIN / name
    assert path.exists(), f"{name} is not installed in the venv; run scripts/setup.sh (dev group)"
    return str(path)


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, cwd=ROOT, timeout=120)


def load(path: Path) -> dict[Any, Any]:
    return yaml.safe_load(path.read_text())


def component_docs() -> tuple[dict[str, Any], dict[str, Any]]:
    spec, job = yaml.safe_load_all(COMPONENT.read_text())
    return spec, job


# --- the module's functions, as the templates may call them --------------------------------------------------

Signatures = Mapping[str, Mapping[str, tuple[frozenset[str], str]]]
"""object type -> function or field -> (argument names, what it returns: an object type's name or a scalar)."""

SCALAR = "scalar"
CORE: Signatures = {
    "Directory": {
        "export": (frozenset({"path", "wipe"}), SCALAR),
        "entries": (frozenset({"path"}), SCALAR),
        "file": (frozenset({"path"}), "File"),
    },
    "File": {"export": (frozenset({"path"}), SCALAR), "contents": (frozenset(), SCALAR)},
    "Container": {"export": (frozenset({"path"}), SCALAR), "publish": (frozenset({"address"}), SCALAR)},
    "Service": {"up": (frozenset({"ports", "random"}), SCALAR), "endpoint": (frozenset({"port", "scheme"}), SCALAR)},
}


def _fn(*args: str, returns: str = SCALAR) -> tuple[frozenset[str], str]:
    return frozenset(args), returns


_VERIFY = ("public_key", "identity", "identity_regexp", "issuer", "require", "max_vuln_age_hours", "tlog")
SURFACE: Signatures = {
    **CORE,
    # issue 11's root module (surface.md §2), which the templates are written against
    "Seaworthy": {
        "with_config": _fn("file", returns="Seaworthy"),
        "with_exceptions": _fn("file", returns="Seaworthy"),
        "with_policy": _fn("directory", returns="Seaworthy"),
        "with_log_format": _fn("format", returns="Seaworthy"),
        "with_registry_auth": _fn("address", "username", "secret", returns="Seaworthy"),
        "with_insecure_registry": _fn("address", returns="Seaworthy"),
        "with_registry_service": _fn("service", returns="Seaworthy"),
        "with_cosign_key": _fn("key", "password", "tlog", returns="Seaworthy"),
        "with_keyless": _fn(
            "identity_token",
            "oidc_request_url",
            "oidc_request_token",
            "identity",
            "issuer",
            "tlog",
            returns="Seaworthy",
        ),
        "with_kms": _fn("key", "credentials", "tlog", returns="Seaworthy"),
        "with_build_arg": _fn("name", "value", returns="Seaworthy"),
        "with_build_secret": _fn("id", "secret", returns="Seaworthy"),
        "with_provenance": _fn("source_repository", "revision", returns="Seaworthy"),
        "scan": _fn("source", "scanners", "skip", "dockerfile", "strict", "today", returns="ScanResult"),
        **{
            name: _fn("source", returns="ScanResult")
            for name in ("semgrep", "gitleaks", "trivy_fs", "bandit", "njsscan")
        },
        "hadolint": _fn("source", "dockerfile", returns="ScanResult"),
        "build": _fn("source", "dockerfile", "target", "platforms", returns="Image"),
        "image": _fn("container", returns="Image"),
        "gate": _fn("input", returns="GateResult"),
        "registry": _fn(returns="Service"),
        "sign": _fn("ref"),
        "attest": _fn("ref", "predicate", "type"),
        "verify": _fn("ref", *_VERIFY),
        "ship": _fn(
            "source",
            "repository",
            "tag",
            "scanners",
            "skip",
            "dockerfile",
            "target",
            "platforms",
            "strict",
            "today",
            returns="Release",
        ),
        "version": _fn(),
    },
    "ScanResult": {
        **{name: _fn() for name in ("findings", "count", "gated", "passed", "verdict", "summary")},
        "reports": _fn(returns="Directory"),
    },
    "GateResult": {name: _fn() for name in ("passed", "verdict", "reasons", "summary")},
    "Image": {
        "container": _fn(returns="Container"),
        "tarball": _fn(returns="File"),
        "platforms": _fn(),
        "facts": _fn(),
        "sbom": _fn("generator", returns="Directory"),
        "scan": _fn(returns="ScanResult"),
        "publish": _fn("repository", "tag"),
    },
    "Release": {
        **{name: _fn() for name in ("ref", "passed", "verdict", "reasons", "summary", "config_digests")},
        "reports": _fn(returns="Directory"),
        "sbom": _fn(returns="Directory"),
        "verify": _fn(*_VERIFY),
    },
}


Flags = Mapping[str, tuple[frozenset[str], frozenset[str]]]
"""`Type.function` -> (its boolean arguments, its required arguments). The Dagger CLI registers a boolean
argument as a pflag Bool (cmd/dagger/flags.go, modFunctionArg.AddFlag: `flags.Bool`), which takes no separate
value: `--strict=false` sets false, `--strict false` sets true and makes `false` the next function of the chain.
A required argument (no default, not optional) left out is refused ("required flag(s) ... not set")."""

SURFACE_FLAGS: Flags = {
    "Directory.export": (frozenset({"wipe"}), frozenset({"path"})),
    "File.export": (frozenset(), frozenset({"path"})),
    "Service.up": (frozenset({"random"}), frozenset()),
    "Seaworthy.with_keyless": (frozenset({"tlog"}), frozenset()),
    "Seaworthy.with_cosign_key": (frozenset({"tlog"}), frozenset({"key"})),
    "Seaworthy.with_kms": (frozenset({"tlog"}), frozenset({"key"})),
    "Seaworthy.with_registry_auth": (frozenset(), frozenset({"address", "username", "secret"})),
    "Seaworthy.with_provenance": (frozenset(), frozenset({"source_repository", "revision"})),
    "Seaworthy.scan": (frozenset({"strict"}), frozenset()),
    "Seaworthy.ship": (frozenset({"strict"}), frozenset()),
    "Seaworthy.verify": (frozenset({"tlog"}), frozenset({"ref"})),
    "Seaworthy.image": (frozenset(), frozenset({"container"})),
    "Release.verify": (frozenset({"tlog"}), frozenset()),
}


def _type_name(kind: object, namespace: Mapping[str, object]) -> str:
    """An object type's name (registered module object or core type), else SCALAR."""
    if isinstance(kind, str):
        text = kind.replace("dagger.", "").split("|")[0].strip()
        if text in CORE:
            return text
        found = namespace.get(text)
        return _type_name(found, namespace) if found is not None else SCALAR
    if hasattr(kind, "__dagger_object_type__"):
        return kind.__name__  # type: ignore[attr-defined]
    name = getattr(kind, "__name__", "")
    return name if name in CORE else SCALAR


def registered() -> Signatures:
    """The root module's functions and fields, from dagger.mod's registration of pipeline.main's object types."""
    import pipeline.main as main

    namespace = vars(main)
    table: dict[str, dict[str, tuple[frozenset[str], str]]] = {**{k: dict(v) for k, v in CORE.items()}}
    todo = [main.Seaworthy]
    while todo:
        cls = todo.pop()
        if cls.__name__ in table:
            continue
        ot: Any = cls.__dagger_object_type__  # pyright: ignore[reportAttributeAccessIssue]
        members: dict[str, tuple[frozenset[str], str]] = {}
        for name, field in ot.fields.items():
            members[name] = (frozenset(), _type_name(field.return_type, namespace))
        for name, fn in ot.functions.items():
            if name:  # "" is the constructor
                members[name] = (
                    frozenset(p.name for p in fn.parameters.values()),
                    _type_name(fn.return_type, namespace),
                )
        table[cls.__name__] = members
        for _, returns in members.values():
            nested = namespace.get(returns)
            if returns not in table and hasattr(nested, "__dagger_object_type__"):
                todo.append(nested)  # type: ignore[arg-type]
    return table


def registered_flags() -> Flags:
    """The boolean and the required arguments of the root module's functions, from their registration."""
    import pipeline.main as main

    flags: dict[str, tuple[frozenset[str], frozenset[str]]] = {
        k: v for k, v in SURFACE_FLAGS.items() if k.split(".")[0] in CORE
    }
    namespace = vars(main)
    for type_name in registered():
        cls = namespace.get(type_name)
        ot: Any = getattr(cls, "__dagger_object_type__", None)
        if ot is None:
            continue
        for name, fn in ot.functions.items():
            params = list(fn.parameters.values())
            booleans = frozenset(p.name for p in params if p.resolved_type is bool)
            required = frozenset(p.name for p in params if not p.is_optional)
            flags[f"{type_name}.{name}"] = (booleans, required)
    return flags


# --- finding and parsing the `dagger call` lines --------------------------------------------------------------

_STOP = {"|", "||", "&&", ";", ">", ">>", ")", "2>&1"}
_CHAIN = re.compile(r'chain="\$chain ([^"]*)"')


def _logical_lines(text: str) -> Iterator[str]:
    """Lines with their backslash continuations joined (shell scripts, YAML block scalars, Markdown)."""
    yield from re.sub(r"\\\n\s*", " ", text).splitlines()


def dagger_calls(text: str) -> list[tuple[str, list[str]]]:
    """(kind, words): kind "call" for the words after `dagger … call`, "chain" for a `chain="$chain …"` part
    (functions of the root object added before the call: the templates build the chain step by step)."""
    found: list[tuple[str, list[str]]] = []
    for line in _logical_lines(text):
        for m in _CHAIN.finditer(line):
            found.append(("chain", m.group(1).split()))
        m = re.search(r"\bdagger\b(?:\s+(?:--?[\w-]+(?:=\S+)?|\"[^\"]*\"|\S+/\S*))*?\s+call\b(.*)", line)
        if m is None:
            continue
        rest = m.group(1).split("`")[0]
        try:
            words = shlex.split(rest, comments=False)
        except ValueError:
            words = rest.split()
        out: list[str] = []
        for w in words:
            if w in _STOP or w.startswith((">", "#")):
                break
            if w.endswith(";"):
                out.append(w[:-1])
                break
            out.append(w)
        if not out:
            continue  # prose ("a `dagger call` line")
        if out[:1] in (["-m"], ["--mod"]) or (out and out[0].startswith(("-m=", "--mod="))):
            continue  # another module (e.g. the engine test module), not the root module
        found.append(("call", out))
    return found


def check_words(
    words: list[str], table: Signatures, start: str = "Seaworthy", flags: Flags | None = None
) -> tuple[list[str], str]:
    """Problems of one chain of words (empty: it parses), and the type it ends on. Parsed as the Dagger CLI
    does: each function takes the `--flags` that follow it (`--name=value` or `--name value`; a boolean only
    `--name` or `--name=value`), and the next word that is not a flag is the next function, of the object
    the previous one returned."""
    flags = SURFACE_FLAGS if flags is None else flags
    problems: list[str] = []
    current = start
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if word == "$chain":  # the chain built before (checked on its own)
            continue
        if word.startswith("-"):
            problems.append(f"{word}: a flag before any function")
            continue
        if current == SCALAR:
            problems.append(f"{word}: after a function that returns a value, not an object")
            break
        name = word.replace("-", "_")
        members = table.get(current, {})
        if name not in members:
            problems.append(f"{word}: {current} has no such function")
            break
        args, returns = members[name]
        booleans, required = flags.get(f"{current}.{name}", (frozenset[str](), frozenset[str]()))
        given: set[str] = set()
        while i < len(words) and words[i].startswith("--"):
            flag = words[i][2:]
            i += 1
            arg, eq, _ = flag.partition("=")
            key = arg.replace("-", "_")
            given.add(key)
            if key not in args or "_" in arg:
                problems.append(f"--{arg}: not an argument of {current}.{word} (it takes {sorted(args)})")
            if not eq and key not in booleans and i < len(words):
                i += 1  # the value
        for missing in sorted(required - given):
            problems.append(f"{current}.{word} needs --{missing.replace('_', '-')}")
        current = returns
    return problems, current


def check_template(text: str, table: Signatures, flags: Flags | None = None) -> list[str]:
    problems: list[str] = []
    for kind, words in dagger_calls(text):
        wrong, ends = check_words(words, table, flags=flags)
        if kind == "chain" and ends != "Seaworthy" and not wrong:
            wrong = [f"a chain part must configure the root object (it ends on {ends})"]
        problems += [f"{' '.join(words)}: {w}" for w in wrong]
    return problems


def test_the_call_parser_rejects_a_wrong_function_a_wrong_flag_and_a_wrong_object() -> None:
    assert check_words(["ship", "--source", ".", "reports", "export", "--path", "r"], SURFACE) == ([], SCALAR)
    assert check_words(["ship", "--source=.", "--strict=false", "reports", "export", "--path=r"], SURFACE)[0] == []
    assert "has no such function" in check_words(["shipp", "--source", "."], SURFACE)[0][0]
    assert "not an argument" in check_words(["ship", "--sauce", "."], SURFACE)[0][0]
    assert "not an argument" in check_words(["ship", "--source_dir", "."], SURFACE)[0][0]  # kebab-case only
    assert "Release has no such function" in check_words(["ship", "export", "--path", "r"], SURFACE)[0][0]
    assert "returns a value" in check_words(["version", "export"], SURFACE)[0][0]
    text = 'chain="$chain ship --source ."\ndagger -m "$M" call $chain version\n'
    assert any("root object" in p for p in check_template(text, SURFACE))


def test_the_call_parser_reads_boolean_and_required_flags_as_the_dagger_cli_does() -> None:
    # a boolean takes no separate value: `--strict false` is strict=true and then a function named `false`
    assert check_words(["ship", "--strict", "reports", "export", "--path", "r"], SURFACE) == ([], SCALAR)
    assert "Release has no such function" in check_words(["ship", "--strict", "false", "reports"], SURFACE)[0][0]
    assert check_words(["ship", "--strict=false", "reports", "export", "--path=r"], SURFACE) == ([], SCALAR)
    # a string flag takes the next word, whatever it looks like
    assert check_words(["ship", "--tag", "reports", "ref"], SURFACE) == ([], SCALAR)
    # a required argument left out
    assert check_words(["verify"], SURFACE)[0] == ["Seaworthy.verify needs --ref"]
    assert check_words(["ship", "reports", "export"], SURFACE)[0] == ["Directory.export needs --path"]
    assert check_words(["verify", "--ref", "r"], SURFACE) == ([], SCALAR)


def test_the_templates_that_run_dagger_have_calls_to_check() -> None:
    # the parser finds them (a template whose calls it could not read would pass the checks below vacuously)
    for path in (ACTION, COMPONENT, GITHUB_EXAMPLES / "nightly-verify.yml", ROOT / "docs" / "ci.md"):
        kinds = [k for k, _ in dagger_calls(_text(path))]
        assert "call" in kinds, path
    assert [k for k, _ in dagger_calls(_text(ACTION))].count("chain") >= 6
    assert [k for k, _ in dagger_calls(_text(COMPONENT))].count("chain") >= 5


def _text(path: Path) -> str:
    """The file as it runs: the component with its inputs' defaults interpolated."""
    if path != COMPONENT:
        return path.read_text()
    spec, _ = component_docs()
    return _interpolate(COMPONENT.read_text(), {k: v.get("default", "") for k, v in spec["spec"]["inputs"].items()})


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_dagger_call_parses_against_the_surface(path: Path) -> None:
    assert check_template(_text(path), SURFACE) == []


NEW_SURFACE = "with_registry_auth" in registered()["Seaworthy"]


@pytest.mark.xfail(
    not NEW_SURFACE,
    strict=True,
    reason="the root module does not register issue 11's chained surface yet (engineer sdk's branch)",
)
def test_every_dagger_call_parses_against_the_registered_module() -> None:
    table, flags = registered(), registered_flags()
    problems = {str(p.relative_to(ROOT)): check_template(_text(p), table, flags) for p in TEMPLATES}
    assert {k: v for k, v in problems.items() if v} == {}


def test_the_registered_table_is_read_from_the_module() -> None:
    table = registered()
    assert "source" in table["Seaworthy"]["ship"][0]
    assert table["Seaworthy"]["scan"][1] == "ScanResult"
    assert table["ScanResult"]["reports"][1] == "Directory"
    assert check_words(["scan", "--source", ".", "reports", "export", "--path", "r"], table) == ([], SCALAR)
    assert check_words(["scan", "--no-such-flag", "x"], table)[0]
    flags = registered_flags()
    assert flags["Seaworthy.ship"][0] >= {"strict"} and flags["Seaworthy.verify"][1] == {"ref"}
    # the static table agrees with the module where both speak
    for key, (booleans, required) in SURFACE_FLAGS.items():
        if key in flags and not key.startswith(tuple(CORE)):
            assert flags[key] == (booleans, required), key


# --- linters and schemas ------------------------------------------------------------------------------------


def test_actionlint_passes_on_every_workflow_and_example() -> None:
    assert REUSABLE in WORKFLOWS and len(list(GITHUB_EXAMPLES.glob("*.yml"))) == 3
    done = run(tool("actionlint"), "-no-color", *map(str, WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_action_validates_against_the_github_actions_schema() -> None:
    done = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_github_actions_schema_check_can_fail(tmp_path: Path) -> None:
    bad = tmp_path / "action.yml"
    bad.write_text("name: x\ndescription: y\nruns:\n  using: composite\n  steps:\n    - run: echo\n      shell: 3\n")
    done = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(bad))
    assert done.returncode != 0


def test_every_workflow_validates_against_the_github_workflows_schema() -> None:
    done = run(tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS))
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_component_job_and_the_gitlab_example_validate_against_the_gitlab_ci_schema(tmp_path: Path) -> None:
    _, job = component_docs()
    job_file = tmp_path / "job.yml"
    job_file.write_text(yaml.safe_dump(job))
    for path in (job_file, GITLAB_EXAMPLE):
        done = run(tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(path))
        assert done.returncode == 0, (path, done.stdout + done.stderr)


SPEC_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["spec"],
    "additionalProperties": False,
    "properties": {
        "spec": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "inputs": {
                    "type": "object",
                    "propertyNames": {"pattern": "^[a-z][a-z0-9_-]*$"},
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "default": {},
                            "description": {"type": "string", "minLength": 1},
                            "options": {"type": "array", "minItems": 1, "maxItems": 50},
                            "regex": {"type": "string"},
                            "type": {"enum": ["string", "boolean", "number", "array"]},
                        },
                    },
                },
                "include": {"type": "array"},
                "description": {"type": "string"},
            },
        }
    },
}


def test_the_component_spec_header_is_valid() -> None:
    spec, _ = component_docs()
    jsonschema.Draft202012Validator(SPEC_SCHEMA).validate(spec)
    for name, inp in spec["spec"]["inputs"].items():
        assert inp.get("description"), name
        kind = inp.get("type", "string")
        if "default" in inp:
            expected = {"string": str, "boolean": bool, "number": (int, float), "array": list}[kind]
            assert isinstance(inp["default"], expected), name
            if "options" in inp:
                assert inp["default"] in inp["options"], name
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(SPEC_SCHEMA).validate({"spec": {"inputs": {"x": {"type": "text"}}}})


def test_the_component_scripts_read_inputs_only_from_variables() -> None:
    # GitLab pastes an input's text where `$[[ inputs.x ]]` stands: in a script that is shell code chosen by
    # whoever includes the component (GitLab's analogue of GitHub script injection); in `variables:` it is
    # a value the script reads as "$SW_X"
    _, doc = component_docs()
    (job,) = doc.values()
    for key in ("before_script", "script", "after_script"):
        for line in job.get(key, []):
            assert "$[[" not in line, (key, line[:80])
    used = {v for v in job["variables"].values() if "$[[" in str(v)}
    assert used and all(re.fullmatch(r"\$\[\[ inputs\.\w+ \]\]", str(v)) for v in used)


def test_the_component_interpolates_only_inputs_it_declares() -> None:
    spec, _ = component_docs()
    used = set(re.findall(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", COMPONENT.read_text()))
    assert used and used <= set(spec["spec"]["inputs"]), used - set(spec["spec"]["inputs"])
    example = load(GITLAB_EXAMPLE)
    for include in example["include"]:
        assert set(include["inputs"]) <= set(spec["spec"]["inputs"]), include["inputs"]


def test_the_gitlab_example_runs_its_check_in_merge_request_pipelines() -> None:
    # GitLab creates a merge request pipeline only for jobs whose own `rules` (or `workflow: rules`) match
    # CI_PIPELINE_SOURCE == "merge_request_event" (docs.gitlab.com/ci/pipelines/merge_request_pipelines,
    # "Prerequisites"); a job without rules runs in branch and tag pipelines only. `include: rules` decides
    # whether the file is included, not which pipelines its jobs join: an include guarded by the merge
    # request rule and a job without rules is a check that never runs. The example includes the component
    # unconditionally and gives each job its rules (GitLab merges a job of the same name into the included one).
    example = load(GITLAB_EXAMPLE)
    assert all("rules" not in include for include in example["include"])
    names = {include["inputs"]["job_name"] for include in example["include"]}
    assert names == {"seaworthy-check", "seaworthy-release"}
    assert example["seaworthy-check"] == {"rules": [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]}
    release_rules = example["seaworthy-release"]["rules"]
    assert {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"} in release_rules
    assert {"if": "$CI_COMMIT_TAG"} in release_rules
    assert not any("merge_request_event" in str(rule) for rule in release_rules)  # a merge request never pushes
    _, job = component_docs()
    assert "rules" not in job  # nothing in the component to merge with or override


def test_the_component_is_included_by_the_release_tag() -> None:
    # `include: component: <fqdn>/<project>/<component>@<version>` resolves <version> as a ref of the project
    # (a tag, a branch, a SHA, or ~latest); the release tags are v-prefixed (ci.yml: tags "v*", and every
    # GitHub reference @v<version>), so the component is referenced by the same tag
    wanted = f"$CI_SERVER_FQDN/seaworthy-dev/seaworthy/seaworthy@v{VERSION}"
    assert [include["component"] for include in load(GITLAB_EXAMPLE)["include"]] == [wanted, wanted]
    for path in (COMPONENT, ROOT / "docs" / "ci.md", ROOT / "README.md"):
        refs = re.findall(r"\$CI_SERVER_FQDN/\S+?@[\w.~-]+", path.read_text())
        assert refs and set(refs) == {wanted}, path
    spec, _ = component_docs()
    assert spec["spec"]["inputs"]["module"]["default"] == f"github.com/seaworthy-dev/seaworthy@v{VERSION}"
    assert "v*" in load(ROOT / ".github" / "workflows" / "ci.yml")[True]["push"]["tags"]


# --- pins, permissions, secrets --------------------------------------------------------------------------


def test_every_action_is_pinned_by_commit_sha_with_its_version() -> None:
    for path in (ACTION, *WORKFLOWS):
        uses = re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)(.*)", path.read_text(), re.MULTILINE)
        assert uses, path
        for ref, comment in uses:
            if ref.startswith("seaworthy-dev/seaworthy"):
                # our own action and workflow: the release they belong to (a commit cannot name its own SHA)
                assert ref.endswith(f"@v{VERSION}"), (path, ref)
                continue
            assert re.fullmatch(r"[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40}", ref), (path, ref)
            assert re.search(r"#\s*v\d", comment), f"{path}: {ref}: say which version the SHA is"
    assert DAGGER_FOR_GITHUB in ACTION.read_text()


def _run_scripts(doc: Any) -> Iterator[str]:
    if isinstance(doc, dict):
        for key, value in doc.items():  # pyright: ignore[reportUnknownVariableType]
            if key in ("run", "script") and isinstance(value, str):
                yield value
            else:
                yield from _run_scripts(value)
    elif isinstance(doc, list):
        for item in doc:  # pyright: ignore[reportUnknownVariableType]
            yield from _run_scripts(item)


def test_every_run_step_of_the_action_names_its_shell() -> None:
    # a composite action has no default shell: a `run` step without `shell` is refused (GitHub's metadata
    # syntax, runs.steps[*].shell "Required if run is set")
    steps = _action_steps()
    assert [s.get("shell") for s in steps if "run" in s] == ["bash"] * sum("run" in s for s in steps)


def test_the_action_finds_its_module_by_the_variable_not_the_context() -> None:
    # ${{ github.action_path }} is the host's path in a container job (actions/runner#2185, #716, open);
    # the runner sets GITHUB_ACTION_PATH right in both
    assert "github.action_path" not in ACTION.read_text()
    assert '-m "$GITHUB_ACTION_PATH" call' in _ship_script()


def test_no_expression_or_secret_is_ever_expanded_into_a_script() -> None:
    # inputs and secrets reach scripts through env only: no script injection, no secret on a command line
    for path in (ACTION, *WORKFLOWS):
        for script in _run_scripts(load(path)):
            assert "${{" not in script, (path, script[:80])
    text = ACTION.read_text() + COMPONENT.read_text()
    for flag in (
        "--secret",
        "--password",
        "--credentials",
        "--identity-token",
        "--oidc-request-url",
        "--oidc-request-token",
    ):
        for m in re.finditer(rf"{flag}[ =](\S+)", text):
            assert m.group(1).startswith("env:"), (flag, m.group(0))


def _permissions(path: Path) -> dict[str, dict[str, str]]:
    wf = load(path)
    assert wf["permissions"] == {}, f"{path}: the top level grants nothing"
    return {name: job.get("permissions") for name, job in wf["jobs"].items()}


_LEVEL = {"none": 0, "read": 1, "write": 2}


def _granted(permissions: object) -> dict[str, int]:
    """A `permissions:` value as scope -> level (read-all / write-all expanded, absent scopes none)."""
    if permissions in ("read-all", "write-all"):
        level = 1 if permissions == "read-all" else 2
        return dict.fromkeys(("contents", "packages", "security-events", "pull-requests", "id-token"), level)
    assert isinstance(permissions, dict), permissions
    return {str(k): _LEVEL[str(v)] for k, v in permissions.items()}  # pyright: ignore[reportUnknownVariableType]


def nested_permission_errors(caller_job: Mapping[str, Any], called: Mapping[str, Any]) -> list[str]:
    """GitHub's check when a job calls a reusable workflow, as the runner's workflow parser does it
    (actions/runner src/Sdk/WorkflowParser/Conversion/WorkflowTemplateConverter.cs: every job of the called
    workflow that declares `permissions`, and the called workflow's top-level `permissions`, is checked
    against what the calling job grants by PermissionsHelper.ValidateEmbeddedPermissions, while the file is
    parsed, before any `if:` is evaluated; actions/runner#4151). An error here is an "Invalid workflow file"."""
    allowed = _granted(caller_job["permissions"])
    requests = [("the workflow", called.get("permissions"))]
    requests += [(f"the nested job '{name}'", job.get("permissions")) for name, job in called["jobs"].items()]
    errors: list[str] = []
    for who, requested in requests:
        if requested is None:
            continue
        for scope, level in _granted(requested).items():
            if level > allowed.get(scope, 0):
                errors.append(f"{who} is requesting '{scope}' above what the caller allows")
    return errors


def test_the_nested_permission_check_can_fail() -> None:
    called = {"jobs": {"a": {"if": "false", "permissions": {"id-token": "write"}}}}
    assert nested_permission_errors({"permissions": {"contents": "read"}}, called)  # a skipped job counts too
    assert nested_permission_errors({"permissions": {"id-token": "write"}}, called) == []
    assert nested_permission_errors({"permissions": {}}, {"permissions": {"contents": "read"}, "jobs": {}})


def test_every_example_that_calls_the_reusable_workflow_can_start() -> None:
    called = load(REUSABLE)
    callers = [
        (path, job)
        for path in WORKFLOWS
        for job in load(path)["jobs"].values()
        if str(job.get("uses", "")).startswith("seaworthy-dev/seaworthy/.github/workflows/seaworthy.yml@")
    ]
    assert callers
    for path, job in callers:
        assert nested_permission_errors(job, called) == [], path


def test_the_reusable_workflow_runs_with_what_its_caller_grants() -> None:
    # a job's permissions cannot depend on inputs, and GitHub checks every nested job's `permissions` against
    # the caller's before `if:` (above): the called workflow declares none, so its one job gets exactly what
    # the calling job grants (docs: "the GITHUB_TOKEN permissions passed from the caller workflow can be only
    # downgraded"), and each caller grants what its mode needs (docs/ci.md)
    wf = load(REUSABLE)
    assert "permissions" not in wf
    (job,) = wf["jobs"].values()
    assert "permissions" not in job and "if" not in job
    (step,) = [s for s in job["steps"] if str(s.get("uses", "")).startswith("seaworthy-dev/seaworthy@")]
    inputs = wf[True]["workflow_call"]["inputs"]  # YAML 1.1 reads the key `on` as True
    secrets = wf[True]["workflow_call"]["secrets"]
    # every input and secret reaches the action under the same name
    assert step["with"]["signing"] == "${{ inputs.repository == '' && 'none' || inputs.signing }}"
    for name in set(inputs) - {"signing"}:
        assert step["with"][name] == "${{ inputs." + name + " }}", name
    for name in secrets:
        assert f"secrets.{name}" in step["with"][name], name
    assert set(load(ACTION)["inputs"]) >= set(step["with"])


def test_the_examples_grant_what_their_jobs_need_and_no_more() -> None:
    assert _permissions(GITHUB_EXAMPLES / "release.yml") == {
        "ship": {"contents": "read", "packages": "write", "id-token": "write", "security-events": "write"}
    }
    assert _permissions(GITHUB_EXAMPLES / "pull-request.yml") == {
        "seaworthy": {"contents": "read", "security-events": "write", "pull-requests": "write"}
    }
    assert _permissions(GITHUB_EXAMPLES / "nightly-verify.yml") == {"verify": {"contents": "read", "packages": "read"}}
    pr = load(GITHUB_EXAMPLES / "pull-request.yml")["jobs"]["seaworthy"]
    assert pr["uses"] == f"seaworthy-dev/seaworthy/.github/workflows/seaworthy.yml@v{VERSION}"
    assert pr["with"] == {"comment": True} and "repository" not in pr["with"]  # no publish
    nightly = load(GITHUB_EXAMPLES / "nightly-verify.yml")
    assert "schedule" in nightly[True]  # YAML 1.1 reads the key `on` as True
    assert any(" verify --ref " in s for s in _run_scripts(nightly))


def test_the_nightly_verify_pins_the_release_workflow_of_this_repository(tmp_path: Path) -> None:
    steps = load(GITHUB_EXAMPLES / "nightly-verify.yml")["jobs"]["verify"]["steps"]
    (step,) = [s for s in steps if " verify --ref " in s.get("run", "")]
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={
            "GITHUB_REPOSITORY": "Octo-Org/my.app",
            "GITHUB_ACTOR": "octocat",
            "GH_TOKEN": "ghs_tokenvalue",
            "REF": "ghcr.io/octo-org/my.app@sha256:" + "a" * 64,
            **_recorder(tmp_path),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    (argv,) = _recorded(tmp_path)
    assert "ghs_tokenvalue" not in " ".join(argv)
    words = _call_words(argv)
    assert check_words(words, SURFACE) == ([], SCALAR)
    pattern = re.compile(words[words.index("--identity-regexp") + 1])
    signer = "https://github.com/Octo-Org/my.app/.github/workflows/release.yml@refs/tags/v1.2.0"
    assert pattern.match(signer)
    # a dot is a dot: another repository or workflow whose name differs only there does not match
    for other in (
        "https://github.com/Octo-Org/myxapp/.github/workflows/release.yml@refs/tags/v1.2.0",
        "https://github.com/Octo-Org/my.app/.github/workflows/releasexyml@refs/tags/v1.2.0",
        "https://github.com/Octo-Org/my.app/.github/workflows/release.yml@refs/heads/v1",
    ):
        assert not pattern.match(other), other


def test_the_release_example_lower_cases_the_repository() -> None:
    steps = load(GITHUB_EXAMPLES / "release.yml")["jobs"]["ship"]["steps"]
    (name,) = [s for s in steps if s.get("id") == "name"]
    assert "${GITHUB_REPOSITORY,,}" in name["run"]
    (ship,) = [s for s in steps if str(s.get("uses", "")).startswith("seaworthy-dev/seaworthy@")]
    assert ship["with"]["repository"] == "${{ steps.name.outputs.repository }}"
    assert ship["with"]["signing"] == "keyless"
    out = subprocess.run(
        ["bash", "-c", name["run"]],
        env={"GITHUB_REPOSITORY": "Octo-Org/My-App", "GITHUB_OUTPUT": "/dev/stdout", "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "repository=ghcr.io/octo-org/my-app"


# --- the action: what it does, in order ------------------------------------------------------------------


def _action_steps() -> list[dict[str, Any]]:
    return load(ACTION)["runs"]["steps"]


def test_the_action_keeps_the_reports_uploads_one_sarif_and_fails_last() -> None:
    action = load(ACTION)
    assert action["runs"]["using"] == "composite"
    steps = _action_steps()
    (install,) = [s for s in steps if str(s.get("uses", "")).startswith("dagger/dagger-for-github@")]
    assert install["with"]["version"] == "${{ inputs.dagger-version }}"
    assert action["inputs"]["dagger-version"]["default"] == DAGGER_VERSION
    assert {"key", "keyless", "kms", "none"} <= set(re.findall(r"\w+", action["inputs"]["signing"]["description"]))
    (sarif,) = [s for s in steps if "codeql-action/upload-sarif@" in str(s.get("uses", ""))]
    assert sarif["with"]["sarif_file"] == "${{ steps.sarif.outputs.file }}"
    (prepare,) = [s for s in steps if s.get("id") == "sarif"]
    assert prepare["env"]["SW_REPORTS"] == "${{ inputs.reports }}" and reports.SARIF in prepare["run"]
    assert "inputs.upload-sarif == 'true'" in prepare["if"]
    assert sarif["with"]["category"] == "${{ inputs.sarif-category }}"
    (artifact,) = [s for s in steps if "actions/upload-artifact@" in str(s.get("uses", ""))]
    assert artifact["with"]["path"] == "${{ inputs.reports }}"
    for step in steps[2:]:
        assert step["if"].startswith("always() && steps.ship.outcome == 'success'"), step["name"]
    (summary,) = [s for s in steps if "GITHUB_STEP_SUMMARY" in s.get("run", "")]
    assert reports.SUMMARY in summary["run"]
    assert summary["env"]["SW_REPORTS"] == "${{ inputs.reports }}"
    last = steps[-1]
    assert last["id"] == "verdict" and "verdict.json" in last["run"] and "exit 1" in last["run"]
    ship = next(s for s in steps if s.get("id") == "ship")
    assert "--strict=false" in ship["run"] and "reports export --path" in ship["run"]
    # the names the action reads are the ones ship writes
    ship_stage = (ROOT / "pipeline" / "stages" / "ship.py").read_text()
    assert '"verdict.json"' in ship_stage and '"published.json"' in ship_stage


def _code_scanning_sarif(tmp: Path, source: str) -> tuple[dict[str, Any] | None, str]:
    (step,) = [s for s in _action_steps() if s.get("id") == "sarif"]
    workspace = tmp / "work"
    (workspace / "r").mkdir(parents=True)
    located = {"artifactLocation": {"uri": "app%20dir/main.py", "uriBaseId": "%SRCROOT%"}}
    outside = {"artifactLocation": {"uri": "file:///usr/lib/python3/x.py"}}
    log = {
        "runs": [
            {
                "results": [{"locations": [{"physicalLocation": located}, {"physicalLocation": outside}]}],
                "artifacts": [{"location": {"uri": "Dockerfile", "uriBaseId": "%SRCROOT%"}}],
            }
        ]
    }
    (workspace / "r" / reports.SARIF).write_text(json.dumps(log))
    (tmp / "temp").mkdir()
    out = tmp / "out"
    out.write_text("")
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={
            "SW_SOURCE": source,
            "SW_REPORTS": "r",
            "GITHUB_WORKSPACE": str(workspace),
            "RUNNER_TEMP": str(tmp / "temp"),
            "GITHUB_OUTPUT": str(out),
            "PATH": os.environ["PATH"],
        },
        capture_output=True,
        text=True,
        check=True,
        cwd=workspace,
        timeout=60,
    )
    if not out.read_text():
        return None, done.stdout
    (line,) = out.read_text().splitlines()
    return json.loads(Path(line.removeprefix("file=")).read_text()), done.stdout


def _uris(log: dict[str, Any]) -> list[str]:
    run = log["runs"][0]
    return [loc["physicalLocation"]["artifactLocation"]["uri"] for loc in run["results"][0]["locations"]] + [
        a["location"]["uri"] for a in run["artifacts"]
    ]


def test_code_scanning_gets_paths_relative_to_the_repository(tmp_path: Path) -> None:
    # code scanning reads a relative URI from the repository's root; ship's are from the scanned source
    same, _ = _code_scanning_sarif(tmp_path / "1", ".")
    assert same is not None and _uris(same) == ["app%20dir/main.py", "file:///usr/lib/python3/x.py", "Dockerfile"]
    sub, _ = _code_scanning_sarif(tmp_path / "2", "services/my api")
    assert sub is not None
    assert _uris(sub) == [
        "services/my%20api/app%20dir/main.py",
        "file:///usr/lib/python3/x.py",
        "services/my%20api/Dockerfile",
    ]
    # the reports keep ship's own file
    assert "services" not in (tmp_path / "2" / "work" / "r" / reports.SARIF).read_text()
    # a source outside the repository: no upload, said so (the verdict does not depend on it)
    none, stdout = _code_scanning_sarif(tmp_path / "3", "../elsewhere")
    assert none is None and stdout.startswith("::warning::") and "outside the repository" in stdout


def _summary_step(tmp: Path, text: str) -> bytes:
    (step,) = [s for s in _action_steps() if "GITHUB_STEP_SUMMARY" in s.get("run", "")]
    (tmp / "r").mkdir(parents=True)
    (tmp / "r" / reports.SUMMARY).write_text(text, encoding="utf-8")
    target = tmp / "step-summary"
    target.write_bytes(b"before\n")
    subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={"SW_REPORTS": str(tmp / "r"), "GITHUB_STEP_SUMMARY": str(target), "PATH": os.environ["PATH"]},
        check=True,
        timeout=60,
    )
    return target.read_bytes()


def test_the_job_summary_stays_under_githubs_limit(tmp_path: Path) -> None:
    small = "## Seaworthy\n\nPASSED — ünïcode kept\n"
    assert _summary_step(tmp_path / "1", small) == b"before\n" + small.encode()
    # over 1024k GitHub drops the whole summary: cut at a line boundary, and say so
    big = "".join(f"| finding {i} | é |\n" for i in range(80_000))
    out = _summary_step(tmp_path / "2", big)
    assert len(big.encode()) > 1_100_000 and len(out) < 1_000_100
    body = out.removeprefix(b"before\n").decode("utf-8")  # still valid UTF-8
    assert body.startswith("| finding 0 |") and "reports artifact" in body.splitlines()[-1]
    kept = [line for line in body.splitlines() if line.startswith("| finding")]
    assert kept == big.splitlines()[: len(kept)]  # whole lines only


def test_the_comment_is_one_comment_found_by_its_marker_and_updated() -> None:
    (comment,) = [s for s in _action_steps() if "actions/github-script@" in str(s.get("uses", ""))]
    script = comment["with"]["script"]
    assert "<!-- seaworthy-verdict -->" in script
    assert "updateComment" in script and "createComment" in script and "paginate" in script
    assert "inputs.comment == 'true'" in comment["if"] and "pull_request" in comment["if"]


COMMENT_HARNESS = """
const fs = require("fs");
const [scriptFile, stateFile] = process.argv.slice(2);
const state = JSON.parse(fs.readFileSync(stateFile, "utf8"));
const calls = [];
const warnings = [];
function api(name) {
  return async (params) => {
    calls.push([name, params]);
    if (state.fail && state.fail.call === name) {
      const error = new Error(state.fail.message);
      error.status = state.fail.status;
      throw error;
    }
    return { data: {} };
  };
}
// a stand-in for GitHub's REST API (octokit's surface as github-script hands it to the script)
const github = {
  rest: { issues: { listComments: api("listComments"), updateComment: api("updateComment"), createComment: api("createComment") } },
  paginate: async (fn, params) => { await fn(params); return state.pages.flat(); },
};
const context = { repo: { owner: "octo-org", repo: "my-app" }, issue: { number: 7 } };
const core = { warning: (m) => warnings.push(m) };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction("require", "github", "context", "core", fs.readFileSync(scriptFile, "utf8"))(require, github, context, core)
  .then(() => console.log(JSON.stringify({ calls, warnings })))
  .catch((e) => { console.log(JSON.stringify({ calls, warnings, thrown: e.message })); });
"""


def _comment(tmp: Path, pages: list[list[dict[str, Any]]], fail: dict[str, Any] | None = None) -> dict[str, Any]:
    node = shutil.which("node")
    assert node, "node is not installed; run scripts/setup.sh"
    (comment,) = [s for s in _action_steps() if "actions/github-script@" in str(s.get("uses", ""))]
    reports_dir = tmp / "r"
    reports_dir.mkdir(parents=True)
    (reports_dir / "verdict.json").write_text(json.dumps({"passed": False}))
    (reports_dir / "summary.md").write_text("## Seaworthy\n\ndenied: 1 critical\n")
    (tmp / "script.js").write_text(comment["with"]["script"])
    (tmp / "state.json").write_text(json.dumps({"pages": pages, "fail": fail}))
    (tmp / "harness.js").write_text(COMMENT_HARNESS)
    done = subprocess.run(
        [node, str(tmp / "harness.js"), str(tmp / "script.js"), str(tmp / "state.json")],
        env={"SW_REPORTS": str(reports_dir), "PATH": os.environ["PATH"]},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return json.loads(done.stdout)


def test_the_comment_is_created_once_then_updated_in_place(tmp_path: Path) -> None:
    first = _comment(tmp_path / "1", [[{"id": 1, "user": {"type": "User"}, "body": "LGTM"}]])
    (create,) = [params for name, params in first["calls"] if name == "createComment"]
    assert create["issue_number"] == 7
    assert create["body"].startswith("<!-- seaworthy-verdict -->\n**Seaworthy: gate FAILED**")
    assert "denied: 1 critical" in create["body"]
    # on a later push: the marker comment (on the second page of comments) is updated, none is added
    ours = {"id": 42, "user": {"type": "Bot"}, "body": create["body"]}
    someone = {"id": 43, "user": {"type": "User"}, "body": "<!-- seaworthy-verdict --> quoted by a person"}
    later = _comment(tmp_path / "2", [[someone], [ours]])
    names = [name for name, _ in later["calls"]]
    assert names == ["listComments", "updateComment"]
    assert later["calls"][1][1]["comment_id"] == 42


def test_a_read_only_token_warns_instead_of_failing_the_job(tmp_path: Path) -> None:
    # a pull request from a fork (or by Dependabot) gets a read-only token whatever the job grants
    forbidden = {"call": "createComment", "status": 403, "message": "Resource not accessible by integration"}
    done = _comment(tmp_path / "1", [[]], forbidden)
    assert "thrown" not in done
    (warning,) = done["warnings"]
    assert "Resource not accessible by integration" in warning and "job summary" in warning
    # anything else still fails the step
    broken = {"call": "listComments", "status": 500, "message": "Server Error"}
    assert _comment(tmp_path / "2", [[]], broken)["thrown"] == "Server Error"


def test_shellcheck_passes_on_the_action_and_component_scripts() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is not installed; run scripts/setup.sh"
    scripts = [("bash", s["run"]) for s in _action_steps() if "run" in s]
    job = _component_job()
    scripts += [("sh", s) for s in (*job["before_script"], *job["script"])]
    assert len(scripts) >= 6
    for shell, script in scripts:
        done = subprocess.run(
            [shellcheck, "-s", shell, "-"], input=script, capture_output=True, text=True, check=False, timeout=60
        )
        assert done.returncode == 0, done.stdout
    bad = subprocess.run(
        [shellcheck, "-s", "sh", "-"], check=False, input='[ -n "x" ] && echo $1\n', capture_output=True, text=True
    )
    assert bad.returncode != 0  # the check can fail


# --- the scripts, run: the argv Dagger would get --------------------------------------------------------------

RECORDER = """#!/bin/sh
python3 -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" >> "$RECORD"
"""


def _recorder(tmp: Path) -> dict[str, str]:
    bindir = tmp / "bin"
    bindir.mkdir()
    fake = bindir / "dagger"
    fake.write_text(RECORDER)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{bindir}:{os.environ['PATH']}", "RECORD": str(tmp / "argv.jsonl"), "HOME": str(tmp)}


def _recorded(tmp: Path) -> list[list[str]]:
    path = tmp / "argv.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _call_words(argv: list[str]) -> list[str]:
    return argv[argv.index("call") + 1 :]


SECRETS = {
    "SW_REGISTRY_PASSWORD": "ghp_registrysecretvalue123",
    "SW_COSIGN_KEY": "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----abc",
    "SW_COSIGN_PASSWORD": "hunter2-cosign",
    "SW_KMS_CREDENTIALS": "kms-credentials-value",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token-value",
}


def _ship_script() -> str:
    (ship,) = [s for s in _action_steps() if s.get("id") == "ship"]
    return ship["run"]


def _run_action(tmp: Path, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        "SW_SOURCE": ".",
        "SW_REPOSITORY": "",
        "SW_TAG": "latest",
        "SW_SIGNING": "none",
        "SW_IDENTITY": "",
        "SW_REPORTS": "seaworthy-reports",
        "SW_REGISTRY_USERNAME": "",
        "SW_REGISTRY_PASSWORD": "",
        "SW_COSIGN_KEY": "",
        "SW_COSIGN_PASSWORD": "",
        "SW_KMS_KEY": "",
        "SW_KMS_CREDENTIALS": "",
        "GITHUB_ACTION_PATH": "/action",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "Octo-Org/My-App",
        "GITHUB_SHA": "0123456789abcdef0123456789abcdef01234567",
    }
    return subprocess.run(
        ["bash", "-e", "-c", _ship_script()],
        env={**base, **_recorder(tmp), **env},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp,
        timeout=60,
    )


def _assert_clean(argv: list[str]) -> None:
    joined = " ".join(argv)
    for value in SECRETS.values():
        assert value not in joined


@pytest.mark.parametrize(
    ("signing", "env", "expected"),
    [
        ("none", {}, []),
        ("key", {"SW_COSIGN_KEY": SECRETS["SW_COSIGN_KEY"]}, ["with-cosign-key", "--key", "env:SW_COSIGN_KEY"]),
        (
            "key",
            {"SW_COSIGN_KEY": SECRETS["SW_COSIGN_KEY"], "SW_COSIGN_PASSWORD": SECRETS["SW_COSIGN_PASSWORD"]},
            ["with-cosign-key", "--key", "env:SW_COSIGN_KEY", "--password", "env:SW_COSIGN_PASSWORD"],
        ),
        (
            "kms",
            {"SW_KMS_KEY": "awskms:///alias/app", "SW_KMS_CREDENTIALS": SECRETS["SW_KMS_CREDENTIALS"]},
            ["with-kms", "--key", "awskms:///alias/app", "--credentials", "env:SW_KMS_CREDENTIALS"],
        ),
    ],
)
def test_the_action_calls_ship_with_secrets_only_as_env_references(
    tmp_path: Path, signing: str, env: dict[str, str], expected: list[str]
) -> None:
    done = _run_action(
        tmp_path,
        SW_SIGNING=signing,
        SW_REPOSITORY="GHCR.io/Octo-Org/My-App",
        SW_TAG="V1.2",
        SW_REGISTRY_USERNAME="octocat",
        SW_REGISTRY_PASSWORD=SECRETS["SW_REGISTRY_PASSWORD"],
        **env,
    )
    assert done.returncode == 0, done.stderr
    (argv,) = _recorded(tmp_path)
    _assert_clean(argv)
    assert argv[:4] == ["--progress=plain", "-m", "/action", "call"]
    words = _call_words(argv)
    assert check_words(words, SURFACE) == ([], SCALAR)
    auth = [
        "with-registry-auth",
        "--address",
        "ghcr.io",
        "--username",
        "octocat",
        "--secret",
        "env:SW_REGISTRY_PASSWORD",
    ]
    provenance = ["with-provenance", "--source-repository", "https://github.com/Octo-Org/My-App", "--revision"]
    assert words[: len(auth)] == auth
    assert words[len(auth) : len(auth) + len(expected)] == expected
    rest = words[len(auth) + len(expected) :]
    assert rest[: len(provenance)] == provenance
    ship = rest[rest.index("ship") :]
    # the repository lower-cased (the owner's upper case would be refused), the tag kept as it is
    assert ship == [
        "ship", "--source", ".", "--repository", "ghcr.io/octo-org/my-app", "--tag", "V1.2", "--strict=false",
        "reports", "export", "--path", "seaworthy-reports",
    ]  # fmt: skip


@pytest.mark.parametrize("signing", ["keyless", "key", "kms"])
def test_a_check_signs_nothing_outside_the_engine_whatever_signing_says(tmp_path: Path, signing: str) -> None:
    # no repository: the image lives in ship's ephemeral registry; a keyless check would need id-token: write
    # (which a pull request from a fork never gets) and would ask Fulcio for a certificate for nothing
    done = _run_action(tmp_path, SW_SIGNING=signing)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("::notice::no repository") and f"signing: {signing}" in done.stdout
    (argv,) = _recorded(tmp_path)
    words = _call_words(argv)
    assert not {"with-keyless", "with-cosign-key", "with-kms"} & set(words)
    assert words[words.index("--repository") + 1] == ""


def test_the_action_without_a_repository_pushes_nowhere_and_needs_no_registry(tmp_path: Path) -> None:
    done = _run_action(tmp_path)
    assert done.returncode == 0, done.stderr
    (argv,) = _recorded(tmp_path)
    words = _call_words(argv)
    assert "with-registry-auth" not in words
    assert words[words.index("--repository") + 1] == ""


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"SW_SIGNING": "cosign"}, "signing must be key, keyless, kms or none"),
        ({"SW_SIGNING": "key", "SW_REPOSITORY": "ghcr.io/o/a"}, "needs the cosign-key input"),
        ({"SW_SIGNING": "kms", "SW_REPOSITORY": "ghcr.io/o/a"}, "needs the kms-key input"),
        ({"SW_SIGNING": "keyless", "SW_REPOSITORY": "ghcr.io/o/a"}, "id-token: write"),
        ({"SW_REPOSITORY": "ghcr.io/o/a", "SW_REGISTRY_PASSWORD": "x"}, "needs registry-username"),
    ],
)
def test_the_action_refuses_bad_inputs_with_one_line_before_calling_dagger(
    tmp_path: Path, env: dict[str, str], words: str
) -> None:
    done = _run_action(tmp_path, **env)
    assert done.returncode == 2
    assert words in done.stdout and done.stdout.startswith("::error::")
    assert _recorded(tmp_path) == []


@pytest.fixture
def oidc_server() -> Iterator[str]:
    """A stand-in for GitHub's token endpoint (not a tool): answers one request with a token whose payload
    names the workflow, as GitHub's does (job_workflow_ref)."""
    claims = {"job_workflow_ref": "Octo-Org/My-App/.github/workflows/release.yml@refs/tags/v1.2", "aud": "sigstore"}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append(f"{self.path} {self.headers.get('Authorization')}")
            body = json.dumps({"value": f"e30.{payload}.sig"}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/token?api-version=2.0"
    finally:
        server.shutdown()
        assert seen == ["/token?api-version=2.0&audience=sigstore bearer request-token-value"]


def test_keyless_verifies_the_identity_of_the_workflow_that_signs(tmp_path: Path, oidc_server: str) -> None:
    done = _run_action(
        tmp_path,
        SW_SIGNING="keyless",
        SW_REPOSITORY="ghcr.io/octo-org/my-app",
        ACTIONS_ID_TOKEN_REQUEST_URL=oidc_server,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN=SECRETS["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
    )
    assert done.returncode == 0, done.stderr
    (argv,) = _recorded(tmp_path)
    _assert_clean(argv)
    words = _call_words(argv)
    assert check_words(words, SURFACE) == ([], SCALAR)
    keyless = words[words.index("with-keyless") : words.index("with-provenance")]
    assert keyless == [
        "with-keyless",
        "--oidc-request-url", "env:ACTIONS_ID_TOKEN_REQUEST_URL",
        "--oidc-request-token", "env:ACTIONS_ID_TOKEN_REQUEST_TOKEN",
        "--identity", "https://github.com/Octo-Org/My-App/.github/workflows/release.yml@refs/tags/v1.2",
        "--issuer", "https://token.actions.githubusercontent.com",
    ]  # fmt: skip


def _verdict_step(tmp: Path, verdict: dict[str, Any], strict: str, published: str = "") -> tuple[int, str, str]:
    (step,) = [s for s in _action_steps() if s.get("id") == "verdict"]
    reports_dir = tmp / "r"
    reports_dir.mkdir(parents=True)
    (reports_dir / "verdict.json").write_text(json.dumps(verdict))
    if published:
        (reports_dir / "published.json").write_text(json.dumps({"ref": published}))
    out = tmp / "out"
    done = subprocess.run(
        ["bash", "-e", "-c", step["run"]],
        env={
            "SW_REPORTS": str(reports_dir),
            "SW_STRICT": strict,
            "GITHUB_OUTPUT": str(out),
            "PATH": os.environ["PATH"],
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return done.returncode, out.read_text(), done.stdout


def test_the_verdict_step_fails_a_denied_gate_unless_not_strict(tmp_path: Path) -> None:
    ref = "ghcr.io/o/a@sha256:" + "a" * 64
    assert _verdict_step(tmp_path / "1", {"passed": True}, "true", ref)[:2] == (0, f"passed=true\nref={ref}\n")
    code, out, stdout = _verdict_step(tmp_path / "2", {"passed": False}, "true")
    assert (code, out) == (1, "passed=false\nref=\n") and stdout.startswith("::error::")
    assert _verdict_step(tmp_path / "3", {"passed": False}, "false")[:2] == (0, "passed=false\nref=\n")
    # anything but a literal true is a failure
    assert _verdict_step(tmp_path / "4", {"passed": "true"}, "true")[0] == 1


# --- the component's script, run with sh --------------------------------------------------------------------


def _interpolate(text: str, inputs: Mapping[str, object]) -> str:
    def value(m: re.Match[str]) -> str:
        v = inputs[m.group(1)]
        return str(v).lower() if isinstance(v, bool) else str(v)

    return re.sub(r"\$\[\[\s*inputs\.([\w-]+)\s*\]\]", value, text)


def _component_job(**given: object) -> dict[str, Any]:
    spec, _ = component_docs()
    inputs = {name: inp.get("default", "") for name, inp in spec["spec"]["inputs"].items()} | given
    _, job_text = COMPONENT.read_text().split("\n---\n", 1)
    (job,) = yaml.safe_load(_interpolate(job_text, inputs)).values()
    return job


def _run_component(tmp: Path, job: dict[str, Any], **env: str) -> subprocess.CompletedProcess[str]:
    ci = {
        "CI_REGISTRY_IMAGE": "registry.gitlab.com/octo-group/my-app",
        "CI_REGISTRY_USER": "gitlab-ci-token",
        "CI_REGISTRY_PASSWORD": "glcbt-registry-secret",
        "CI_COMMIT_SHORT_SHA": "0123abcd",
        "CI_COMMIT_SHA": "0123abcd" * 5,
        "CI_COMMIT_REF_NAME": "main",
        "CI_SERVER_URL": "https://gitlab.com",
        "CI_PROJECT_PATH": "octo-group/my-app",
        "CI_PROJECT_URL": "https://gitlab.com/octo-group/my-app",
        "CI_CONFIG_PATH": ".gitlab-ci.yml",
        "SIGSTORE_ID_TOKEN": "sigstore-id-token-value",
        "COSIGN_KEY": SECRETS["SW_COSIGN_KEY"],
        "COSIGN_PASSWORD": SECRETS["SW_COSIGN_PASSWORD"],
    }
    full = {**ci, **env}
    # GitLab expands variables in `variables:` values before the script runs
    variables = {
        k: re.sub(r"\$\{?(\w+)\}?", lambda m: full.get(m.group(1), ""), str(v)) for k, v in job["variables"].items()
    }
    return subprocess.run(
        ["sh", "-e", "-c", job["script"][0]],
        env={**full, **variables, **_recorder(tmp)},
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp,
        timeout=60,
    )


def test_the_component_ships_keyless_with_the_job_id_token(tmp_path: Path) -> None:
    job = _component_job()
    assert job["id_tokens"] == {"SIGSTORE_ID_TOKEN": {"aud": "sigstore"}}
    assert any(str(s["name"]).endswith("-dind") for s in job["services"])
    assert re.fullmatch(r"docker:\d+\.\d+\.\d+", job["image"])  # pinned to a release
    done = _run_component(tmp_path, job)
    assert done.returncode == 0, done.stderr
    (argv,) = _recorded(tmp_path)
    assert "glcbt-registry-secret" not in " ".join(argv) and "sigstore-id-token-value" not in " ".join(argv)
    _assert_clean(argv)
    assert argv[:4] == ["--progress=plain", "-m", "github.com/seaworthy-dev/seaworthy@v0.1.0", "call"]
    words = _call_words(argv)
    assert check_words(words, SURFACE) == ([], SCALAR)
    assert words[:7] == [
        "with-registry-auth", "--address", "registry.gitlab.com", "--username", "gitlab-ci-token",
        "--secret", "env:CI_REGISTRY_PASSWORD",
    ]  # fmt: skip
    keyless = words[words.index("with-keyless") : words.index("with-provenance")]
    assert keyless == [
        "with-keyless", "--identity-token", "env:SIGSTORE_ID_TOKEN",
        "--identity", "https://gitlab.com/octo-group/my-app//.gitlab-ci.yml@refs/heads/main",
        "--issuer", "https://gitlab.com",
    ]  # fmt: skip
    ship = words[words.index("ship") :]
    assert ship[ship.index("--repository") + 1] == "registry.gitlab.com/octo-group/my-app"
    assert ship[-4:] == ["reports", "export", "--path", "reports"]


def test_the_component_signs_with_a_key_named_by_its_variable(tmp_path: Path) -> None:
    job = _component_job(signing="key", repository="Registry.Example.com/Team/App", registry_user="")
    done = _run_component(tmp_path, job)
    assert done.returncode == 0, done.stderr
    (argv,) = _recorded(tmp_path)
    _assert_clean(argv)
    words = _call_words(argv)
    assert check_words(words, SURFACE) == ([], SCALAR)
    assert words[:5] == ["with-cosign-key", "--key", "env:COSIGN_KEY", "--password", "env:COSIGN_PASSWORD"]
    assert words[words.index("--repository") + 1] == "registry.example.com/team/app"
    job = _component_job(signing="key", cosign_password_variable="")
    (tmp_path / "x").mkdir()
    done = _run_component(tmp_path / "x", job)
    assert done.returncode == 0, done.stderr
    words = _call_words(_recorded(tmp_path / "x")[0])
    assert "--password" not in words[: words.index("with-provenance")]


def test_the_component_signs_with_kms_and_its_credentials_by_name(tmp_path: Path) -> None:
    job = _component_job(signing="kms", kms_key="awskms:///alias/app", kms_credentials_variable="KMS_CREDS")
    done = _run_component(tmp_path, job, KMS_CREDS="AWS_SECRET_ACCESS_KEY=kms-credentials-value")
    assert done.returncode == 0, done.stderr
    (argv,) = _recorded(tmp_path)
    assert "kms-credentials-value" not in " ".join(argv)
    words = _call_words(argv)
    assert check_words(words, SURFACE) == ([], SCALAR)
    kms = words[words.index("with-kms") : words.index("with-provenance")]
    assert kms == ["with-kms", "--key", "awskms:///alias/app", "--credentials", "env:KMS_CREDS"]
    # no key: refused in one line before Dagger runs (an empty value would make the next word the key)
    (tmp_path / "x").mkdir()
    done = _run_component(tmp_path / "x", _component_job(signing="kms"))
    assert done.returncode == 2 and "needs the kms_key input" in done.stdout
    assert _recorded(tmp_path / "x") == []


def test_the_component_without_a_repository_pushes_nowhere(tmp_path: Path) -> None:
    job = _component_job(repository="", signing="none")
    done = _run_component(tmp_path, job, CI_COMMIT_TAG="v1.0")
    assert done.returncode == 0, done.stderr
    (argv,) = _recorded(tmp_path)
    words = _call_words(argv)
    assert check_words(words, SURFACE) == ([], SCALAR)
    assert words[0] == "with-provenance" and "with-registry-auth" not in words
    assert words[words.index("--repository") + 1] == ""


def test_the_component_verifies_a_tag_pipeline_by_its_tag_ref(tmp_path: Path) -> None:
    done = _run_component(tmp_path, _component_job(), CI_COMMIT_TAG="v1.0", CI_COMMIT_REF_NAME="v1.0")
    assert done.returncode == 0, done.stderr
    words = _call_words(_recorded(tmp_path)[0])
    assert words[words.index("--identity") + 1] == "https://gitlab.com/octo-group/my-app//.gitlab-ci.yml@refs/tags/v1.0"


def test_the_component_fails_a_denied_gate_after_keeping_the_reports(tmp_path: Path) -> None:
    job = _component_job()
    assert job["artifacts"]["when"] == "always"
    check = job["script"][1]
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "summary.md").write_text("denied\n")
    results = {}
    for passed, strict in ((True, "true"), (False, "true"), (False, "false")):
        (tmp_path / "reports" / "verdict.json").write_text(json.dumps({"passed": passed}))
        done = subprocess.run(
            ["sh", "-e", "-c", check],
            env={"SW_STRICT": strict, "PATH": os.environ["PATH"]},
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,
            timeout=60,
        )
        results[(passed, strict)] = done.returncode
    assert results == {(True, "true"): 0, (False, "true"): 1, (False, "false"): 0}


def test_the_component_hands_gitlab_the_reports_ship_writes() -> None:
    job = _component_job()
    assert job["artifacts"]["paths"] == ["reports/"]
    expected = {
        "sast": "gl-sast-report.json",
        "dependency_scanning": "gl-dependency-scanning-report.json",
        "container_scanning": "gl-container-scanning-report.json",
        "secret_detection": "gl-secret-detection-report.json",
        "junit": reports.JUNIT,
        "cyclonedx": "sbom.cdx.json",
    }
    assert job["artifacts"]["reports"] == {k: f"reports/{v}" for k, v in expected.items()}
    assert set(reports.GITLAB_FILES) == {v for k, v in expected.items() if k not in ("junit", "cyclonedx")}
    assert '"sbom.cdx.json"' in (ROOT / "pipeline" / "stages" / "ship.py").read_text()
