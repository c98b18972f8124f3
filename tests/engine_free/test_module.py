"""Engine-free checks of the Dagger module (dagger-python.md §7).

No engine runs here: these tests check what the engine would be given. Every public function and its
arguments must be registrable; side-effecting functions must never be cached; the lazily built query
chains must mount what the tool argv expects, carry secrets only as secrets, and keep the one build.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import tomllib
import typing
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import dagger
import pytest
import structlog
from dagger import dag
from dagger.mod._converter import to_typedef  # pyright: ignore[reportPrivateUsage]

from pipeline import log
from pipeline.config import BuildConfig, Config, SemgrepConfig
from pipeline.errors import PolicyError, ToolFailed, ToolOutputError
from pipeline.main import GateResult, Image, Release, ScanResult, Seaworthy
from pipeline.policy.config import GateConfig
from pipeline.policy.input import build_input
from pipeline.stages import gate as gate_stage
from pipeline.stages import image as image_stage
from pipeline.stages import release, runner, scan, trivydb
from pipeline.stages.runner import tool_container
from pipeline.tools import cosign, skopeo, trivy
from pipeline.tools.base import IN, OUT, SRC

ROOT = Path(__file__).resolve().parents[2]

SIDE_EFFECTS = {"sign", "attest", "verify", "ship"}
NEVER_CACHED = SIDE_EFFECTS | {"registry"}  # a fresh ephemeral registry per call, not last week's
RESULT_OBJECTS = (ScanResult, GateResult, Image, Release)
MAX_ARGUMENTS = 10


def ops(obj: Any) -> list[tuple[str, str]]:
    """The recorded query chain of a lazy Dagger object."""
    return [(s.type_name, s.name) for s in obj._ctx.selections]


def selections(obj: Any, name: str) -> list[dict[str, Any]]:
    return [dict(s.args) for s in obj._ctx.selections if s.name == name]


def object_type() -> Any:
    return Seaworthy.__dagger_object_type__  # pyright: ignore[reportAttributeAccessIssue]


# --- the module as the engine loads it -------------------------------------------------------------------


def test_module_layout_matches_dagger_json_and_pyproject() -> None:
    meta = json.loads((ROOT / "dagger.json").read_text())
    assert meta["name"] == "seaworthy"
    assert meta["engineVersion"] == "v0.21.11"
    assert meta["sdk"]["source"] == "python"
    assert meta["source"] == "."
    py = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert py["project"]["entry-points"]["dagger.mod"]["main_object"] == "pipeline.main:Seaworthy"
    assert "dagger-io" in py["project"]["dependencies"], "dagger-io must stay unpinned (runtime SDK is 0.0.0)"
    assert py["tool"]["uv"]["sources"]["dagger-io"] == {"path": "sdk", "editable": True}
    # the main class name is the PascalCase of the module name, or registration fails
    assert Seaworthy.__name__ == "".join(p.capitalize() for p in meta["name"].split("-"))
    # the files the functions read from the module's own context must not be excluded
    excluded = [p.lstrip("!") for p in meta.get("include", []) if p.startswith("!")]
    for needed in ("examples/app", "pipeline/rules/semgrep", "pipeline/policy/rego"):
        assert (ROOT / needed).is_dir()
        assert not any(needed.startswith(p.rstrip("*").rstrip("/")) for p in excluded), needed


def test_every_function_and_argument_is_registrable() -> None:
    ot = object_type()
    assert set(ot.functions) >= {
        "scan", "semgrep", "gitleaks", "trivy_fs", "hadolint", "bandit", "njsscan", "build", "image", "gate",
        "sign", "attest", "verify", "ship", "registry", "version",
        "with_config", "with_exceptions", "with_policy", "with_log_format", "with_registry_auth",
        "with_insecure_registry", "with_registry_service", "with_cosign_key", "with_keyless", "with_kms",
        "with_build_arg", "with_build_secret", "with_provenance",
    }  # fmt: skip
    assert not ot.get_constructor().parameters, "configuration is chained (with-…), never constructor flags"
    for cls in (Seaworthy, *RESULT_OBJECTS):
        sub = cls.__dagger_object_type__  # pyright: ignore[reportAttributeAccessIssue]
        for fn in sub.functions.values():
            to_typedef(fn.return_type)
            for p in fn.parameters.values():
                to_typedef(p.resolved_type)
        hints = typing.get_type_hints(cls)
        for name in sub.fields:
            to_typedef(hints[name])
    assert set(Image.__dagger_object_type__.functions) >= {"facts", "sbom", "scan", "publish"}  # pyright: ignore[reportAttributeAccessIssue]
    assert set(Image.__dagger_object_type__.fields) == {"container", "tarball", "platforms"}  # pyright: ignore[reportAttributeAccessIssue]
    assert set(Release.__dagger_object_type__.functions) >= {"verify"}  # pyright: ignore[reportAttributeAccessIssue]
    assert set(Release.__dagger_object_type__.fields) == {  # pyright: ignore[reportAttributeAccessIssue]
        "ref", "passed", "verdict", "reasons", "summary", "reports", "sbom", "config_digests",
    }  # fmt: skip
    assert set(ScanResult.__dagger_object_type__.fields) == {  # pyright: ignore[reportAttributeAccessIssue]
        "findings", "count", "gated", "passed", "verdict", "summary", "reports",
    }  # fmt: skip
    assert set(GateResult.__dagger_object_type__.fields) == {"passed", "verdict", "reasons", "summary"}  # pyright: ignore[reportAttributeAccessIssue]


def test_no_function_of_any_object_takes_more_than_ten_arguments() -> None:
    for cls in (Seaworthy, *RESULT_OBJECTS):
        for name, fn in cls.__dagger_object_type__.functions.items():  # pyright: ignore[reportAttributeAccessIssue]
            assert len(fn.parameters) <= MAX_ARGUMENTS, f"{cls.__name__}.{name or 'constructor'}: {len(fn.parameters)}"


def _lower_camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


def test_no_object_has_a_field_or_function_the_engine_reserves() -> None:
    """The engine refuses to load a module with a field or function named `id` (dagger core/module.go,
    "cannot define field/function with reserved name"); an argument may be named id (dagger#6912), as
    with_build_secret's is. Python accepts all of them, so only the engine would notice, at load time."""
    for cls in (Seaworthy, *RESULT_OBJECTS):
        sub = cls.__dagger_object_type__  # pyright: ignore[reportAttributeAccessIssue]
        assert "id" not in {_lower_camel(n) for n in sub.fields}, cls.__name__
        assert "id" not in {_lower_camel(n) for n in sub.functions}, cls.__name__


def test_side_effecting_functions_are_never_cached() -> None:
    ot = object_type()
    for name in NEVER_CACHED:
        assert ot.functions[name].cache_policy == "never", name
    for cls, name in ((Image, "publish"), (Release, "verify")):
        assert cls.__dagger_object_type__.functions[name].cache_policy == "never", f"{cls.__name__}.{name}"  # pyright: ignore[reportAttributeAccessIssue]
    for name in ("scan", "build", "gate", "version"):
        assert ot.functions[name].cache_policy != "never", name
    for name in (n for n in ot.functions if n.startswith("with_")):
        assert ot.functions[name].cache_policy == "session", name  # pure, but carries the session's secrets


def test_source_defaults_to_the_bundled_example_and_ignores_vcs_and_venvs() -> None:
    ot = object_type()
    for name in ("scan", "semgrep", "gitleaks", "trivy_fs", "hadolint", "bandit", "njsscan", "build", "ship"):
        p = ot.functions[name].parameters["source"]
        assert p.default_path == "examples/app", name
        assert ".git" in p.ignore and "**/.venv" in p.ignore, name


def test_secrets_are_only_ever_secret_typed() -> None:
    secretish = ("password", "key", "token", "oidc_request_url", "secret", "credentials")
    for cls in (Seaworthy, *RESULT_OBJECTS):
        for fn in cls.__dagger_object_type__.functions.values():  # pyright: ignore[reportAttributeAccessIssue]
            for p in fn.parameters.values():
                plain = (fn.name == "with_kms" and p.name == "key") or p.name == "public_key"  # a URI, a file
                if any(w in p.name for w in secretish) and not plain:
                    assert "Secret" in str(p.resolved_type), f"{fn.name}.{p.name} must be a dagger.Secret"
        # no exposed field is a secret: state that holds one stays private
        hints = typing.get_type_hints(cls)
        for name in cls.__dagger_object_type__.fields:  # pyright: ignore[reportAttributeAccessIssue]
            assert "Secret" not in str(hints[name]), f"{cls.__name__}.{name} exposes a secret"


def test_version_runs_without_an_engine() -> None:
    text = Seaworthy().version()
    assert text.startswith("seaworthy ")
    for tool in ("trivy aquasec/trivy:0.76.0", "cosign ghcr.io/sigstore/cosign/cosign:v3.1.2", "opa "):
        assert tool in text


@pytest.mark.anyio
async def test_awaiting_a_leaf_without_an_engine_fails_fast() -> None:
    with pytest.raises(dagger.ClientConnectionError):
        await dag.container().from_("alpine:3.22").stdout()


# --- query chains ---------------------------------------------------------------------------------------


def test_semgrep_container_mounts_source_and_rules_where_the_argv_expects_them() -> None:
    src = dag.directory()
    rules = dag.directory()
    inv, ctr = scan.scanner_container("semgrep", Config(), src, rules=rules)
    chain = ops(ctr)
    assert chain[0] == ("Query", "container")
    assert ("Container", "from") in chain
    mounts = {a["path"]: a for a in selections(ctr, "withMountedDirectory")}
    assert mounts[SRC]["source"] is src and mounts[SRC]["readOnly"] is True
    assert mounts[scan.RULES_DIR]["source"] is rules
    (exec_args,) = selections(ctr, "withExec")
    assert exec_args["args"] == list(inv.argv)
    assert exec_args["expect"] in (dagger.ReturnType.ANY, "ANY")
    assert scan.RULES_DIR in inv.argv
    # semgrep scans "." from the source mount (paths in its report are then relative to the source root)
    assert SRC in inv.argv or [a["path"] for a in selections(ctr, "withWorkdir")] == [SRC]
    assert chain[-1] == ("Container", "withExec")


def test_trivy_fs_container_shares_the_db_cache_and_busts_daily() -> None:
    inv, ctr = scan.scanner_container("trivy", Config(), dag.directory())
    (cache,) = selections(ctr, "withMountedCache")
    assert cache["path"] == trivy.DEFAULT_CACHE_DIR
    assert cache["sharing"] in (dagger.CacheSharingMode.LOCKED, "LOCKED")
    envs = {a["name"]: a["value"] for a in selections(ctr, "withEnvVariable")}
    assert len(envs["SEAWORTHY_CACHE_BUSTER"]) == len("2026-11-27")
    assert inv.argv[:2] == ("trivy", "fs")


def test_hadolint_reads_its_report_from_stdout_redirect() -> None:
    inv, ctr = scan.scanner_container(
        "hadolint", Config(build=BuildConfig(dockerfile="docker/Dockerfile")), dag.directory()
    )
    (exec_args,) = selections(ctr, "withExec")
    assert exec_args["redirectStdout"] == inv.report
    assert any("docker/Dockerfile" in a for a in inv.argv)


def test_tool_container_refuses_missing_mounts() -> None:
    inv = scan.invocation("semgrep", Config())
    with pytest.raises(ValueError, match="nothing to mount"):
        tool_container(inv, {})


def test_build_once_one_tarball_for_every_platform() -> None:
    cfg = Config(
        build=BuildConfig(
            dockerfile="app.Dockerfile",
            target="runtime",
            platforms=("linux/amd64", "linux/arm64"),
            build_args=(("VERSION", "1"),),
        )
    )
    src = dag.directory()
    built = image_stage.build_variants(src, cfg)
    assert len(built.variants) == 2
    for ctr, platform in zip(built.variants, ("linux/amd64", "linux/arm64"), strict=True):
        (args,) = selections(ctr, "dockerBuild")
        assert args["dockerfile"] == "app.Dockerfile"
        assert args["target"] == "runtime"
        assert str(args["platform"]) == platform
        assert [(b["name"], b["value"]) for b in args["buildArgs"]] == [("VERSION", "1")]
    (tar,) = selections(built.tarball, "asTarball")
    assert tar["platformVariants"] == [built.variants[1]]
    # the tarball is made from the first variant: no second build hides anywhere in the chain
    assert sum(1 for t, n in ops(built.tarball) if n == "dockerBuild") == 1


def test_image_scan_reads_the_built_tarball() -> None:
    built = image_stage.build_variants(dag.directory(), Config())
    inv = trivy.image_scan(input_path=image_stage.TARBALL, db=trivydb.scan_options(Config()))
    ctr = tool_container(
        inv, {image_stage.TARBALL: built.tarball}, caches={trivy.DEFAULT_CACHE_DIR: dag.cache_volume("x")}
    )
    (mount,) = selections(ctr, "withMountedFile")
    assert mount["path"] == f"{IN}/image.tar" and mount["source"] is built.tarball


def test_push_container_gets_credentials_only_as_a_secret_variable() -> None:
    ref = skopeo.normalize_reference("ghcr.io/org/app:1")
    inv = skopeo.push(ref, authfile=skopeo.AUTHFILE)
    access = release.RegistryAccess("ci", dag.set_secret("pw", "x"))
    run_inv, secret_env, temps = release.skopeo_auth(inv, access, ref.registry)
    ctr = tool_container(run_inv, {skopeo.TARBALL: dag.directory().file("x")}, secret_env=secret_env, temps=temps)
    assert not selections(ctr, "withMountedSecret")
    (secret,) = selections(ctr, "withSecretVariable")
    assert secret["name"] == skopeo.AUTH_PASSWORD_ENV and secret["secret"] is access.password
    (exec_args,) = selections(ctr, "withExec")
    assert not any("creds" in a and a != "--dest-no-creds" for a in exec_args["args"])


def test_cosign_secrets_are_secret_variables_never_argv_or_env() -> None:
    key = dag.set_secret("k", "PRIVATE")
    pw = dag.set_secret("p", "PW")
    signing = release.Signing.from_args(key=key, key_password=pw)
    call = cosign.sign("ghcr.io/org/app@sha256:" + "a" * 64, signing.signer, tlog=False)
    ctr = tool_container(call.invocation, {}, secret_env={k: signing.secrets[k] for k in call.secret_env})
    names = {a["name"] for a in selections(ctr, "withSecretVariable")}
    assert names == {"COSIGN_PRIVATE_KEY", "COSIGN_PASSWORD"}
    plain = {a["name"] for a in selections(ctr, "withEnvVariable")}
    assert not plain & names
    (exec_args,) = selections(ctr, "withExec")
    assert "--tlog-upload=false" in exec_args["args"] and "--use-signing-config=false" in exec_args["args"]
    assert exec_args["args"][-1].endswith("@sha256:" + "a" * 64)


def test_ephemeral_registry_is_a_pinned_service_with_its_own_storage() -> None:
    svc = release.ephemeral_registry("seaworthy-registry-test")
    chain = ops(svc)
    assert ("Container", "from") in chain and chain[-1] == ("Container", "asService")
    (frm,) = selections(svc, "from")
    assert frm["address"].startswith("registry:3.")
    (port,) = selections(svc, "withExposedPort")
    assert port["port"] == 5000
    (cache,) = selections(svc, "withMountedCache")
    assert cache["path"] == "/var/lib/registry"


def test_out_dir_is_writable_for_non_root_tools() -> None:
    call = cosign.generate_key_pair()
    ctr = tool_container(call.invocation, {}, secret_env={"COSIGN_PASSWORD": dag.set_secret("p", "")}, user="65532")
    (out,) = [a for a in selections(ctr, "withDirectory") if a["path"] == OUT]
    assert "permissions" not in out  # ignored by the engine for directories (issue 10, item 6)
    assert out["owner"] == "65532"
    assert selections(ctr, "withUser") == [{"name": "65532"}]


# --- argument validation that happens before anything runs ---------------------------------------------


def test_signing_arguments_are_checked_before_anything_runs() -> None:
    with pytest.raises(release.InputError, match="chain one way to sign"):
        release.Signing.from_args(key=dag.set_secret("k", "x"), kms_key="awskms:///alias/a")
    with pytest.raises(release.InputError, match="no way to sign was given"):
        release.Signing.from_args()
    eph = release.Signing.from_args(ephemeral=True)
    assert eph.generate_key and not eph.tlog
    with pytest.raises(release.InputError, match="needs both with-keyless --oidc-request-url"):
        release.Signing.from_args(oidc_request_url=dag.set_secret("u", "x"))


def test_publish_target_rejects_tags_and_digests_in_repository() -> None:
    with pytest.raises(release.InputError, match="carries a tag; give the tag with --tag"):
        release.Target.parse("ghcr.io/org/app:1.0", "latest")
    with pytest.raises(release.InputError, match="carries a digest"):
        release.Target.parse("ghcr.io/org/app@sha256:" + "a" * 64, "latest")
    target = release.Target.parse("GHCR.io/Org/App", "v1")
    assert str(target.reference) == "ghcr.io/org/app:v1"
    with pytest.raises(release.InputError, match="credentials are half given"):
        release.Target.parse("ghcr.io/org/app", "v1", username="me")


def test_build_args_parse() -> None:
    assert image_stage.build_args(["B=2", "A=x=y"]) == (("A", "x=y"), ("B", "2"))
    with pytest.raises(image_stage.InputError, match="is not KEY=VALUE"):
        image_stage.build_args(["NOVALUE"])


def test_every_trivy_scan_reads_the_db_offline_from_the_shared_volume() -> None:
    cfg = Config()
    fs_inv, fs_ctr = scan.scanner_container("trivy", cfg, dag.directory())
    assert "--skip-db-update" in fs_inv.argv
    assert trivydb.scan_options(cfg).offline and not trivydb.options(cfg).offline
    (cache,) = selections(fs_ctr, "withMountedCache")
    assert cache["path"] == trivy.DEFAULT_CACHE_DIR


# --- what the engine is given when a leaf is awaited (leaves stubbed, §7) --------------------------------
#
# No engine: the async leaves (exit code, stderr, exists, file contents, stdout) are stubbed with functions
# that answer from the recorded query chain, so these tests check which chain each step awaits.

BUSTER = "SEAWORTHY_CACHE_BUSTER"


def buster_of(obj: Any) -> str:
    """The last cache buster set on the chain behind `obj` ("" when none)."""
    values = [a["value"] for a in selections(obj, "withEnvVariable") if a["name"] == BUSTER]
    return values[-1] if values else ""


def argv_of(obj: Any) -> list[str]:
    return [a for e in selections(obj, "withExec") for a in e["args"]]


def stub_leaves(
    monkeypatch: pytest.MonkeyPatch,
    *,
    exit_code: Any,
    contents: Any = lambda _f: "[]",
    stdout: Any = lambda _c: "",
) -> list[Any]:
    """Stub the leaves `collect` awaits; returns the list of containers whose exit code was awaited."""
    awaited: list[Any] = []

    async def _exit_code(self: Any) -> int:
        awaited.append(self)
        return exit_code(self)

    async def _stderr(self: Any) -> str:
        return "boom: transient failure"

    async def _exists(self: Any, path: str, **_: Any) -> bool:
        return True

    async def _contents(self: Any) -> str:
        return contents(self)

    async def _stdout(self: Any) -> str:
        return stdout(self)

    monkeypatch.setattr(dagger.Container, "exit_code", _exit_code)
    monkeypatch.setattr(dagger.Container, "stderr", _stderr)
    monkeypatch.setattr(dagger.Container, "exists", _exists)
    monkeypatch.setattr(dagger.Container, "stdout", _stdout)
    monkeypatch.setattr(dagger.File, "contents", _contents)
    return awaited


def fails_until_rerun(ctr: Any) -> int:
    """A failure the engine would serve from its cache (expect=ANY) until the buster is fresh."""
    return 0 if runner.RERUN in buster_of(ctr) else 1


@pytest.mark.anyio
async def test_a_failed_run_is_run_again_with_a_fresh_buster_not_served_from_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    awaited = stub_leaves(monkeypatch, exit_code=fails_until_rerun)
    inv = scan.invocation("hadolint", Config())
    built: list[str] = []

    def build(buster: str) -> dagger.Container:
        built.append(buster)
        return tool_container(inv, {SRC: dag.directory()}, buster=buster)

    ctr, got = await runner.collect_fresh(build, inv, buster="2026-11-27")
    assert got.exit_code == 0 and got.report == "[]"
    assert len(awaited) == 2 and buster_of(awaited[0]) == "2026-11-27"
    assert built[1].startswith("2026-11-27+" + runner.RERUN) and buster_of(ctr) == built[1]
    # a failure that persists is raised after the one fresh run, not retried forever
    awaited.clear()
    stub_leaves(monkeypatch, exit_code=lambda _c: 1)
    with pytest.raises(ToolFailed):
        await runner.collect_fresh(build, inv)
    assert built[-1].startswith(runner.RERUN) and built[-2] == ""


@pytest.mark.anyio
async def test_source_scanners_rerun_a_cached_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    awaited = stub_leaves(monkeypatch, exit_code=fails_until_rerun)
    _stub_tree(monkeypatch, ["Dockerfile"])  # hadolint lints the Dockerfiles it finds
    (run,) = await scan.run_scanners(dag.directory(), Config(), names=["hadolint"], refresh_db=False)
    assert run.exit_code == 0
    assert [runner.RERUN in buster_of(c) for c in awaited] == [False, True]


@pytest.mark.anyio
async def test_trivy_db_download_failure_is_not_remembered_for_the_day(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    meta = json.dumps({"Version": 2, "UpdatedAt": "2026-11-27T06:00:00Z", "NextUpdate": "2026-11-28T06:00:00Z"})
    awaited = stub_leaves(monkeypatch, exit_code=fails_until_rerun, stdout=lambda _c: meta)
    status = await trivydb.refresh(Config(), now=now)
    assert not status.needs_download
    downloads = [c for c in awaited if "--download-db-only" in argv_of(c)]
    assert len(downloads) == 2
    assert buster_of(downloads[0]) == trivy.cache_buster(now) and runner.RERUN in buster_of(downloads[1])


@pytest.mark.anyio
async def test_syft_spdx_is_read_from_the_run_that_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_leaves(
        monkeypatch,
        exit_code=fails_until_rerun,
        contents=lambda f: "rerun" if runner.RERUN in buster_of(f) else "cached failure",
    )
    built = image_stage.build_variants(dag.directory(), Config())
    files = await image_stage.sbom(built, Config(sbom_generator="syft"))
    assert (files.cyclonedx, files.spdx) == ("rerun", "rerun")


def test_semgrep_registry_packs_are_live_data_and_bust_daily() -> None:
    now = datetime(2026, 11, 27, tzinfo=UTC)
    _, local = scan.scanner_container("semgrep", Config(), dag.directory(), rules=dag.directory(), now=now)
    assert buster_of(local) == ""  # the bundled rules and the source are the only inputs
    packs = Config(semgrep=SemgrepConfig(packs=("p/python",)))
    _, live = scan.scanner_container("semgrep", packs, dag.directory(), rules=dag.directory(), now=now)
    assert buster_of(live) == "2026-11-27"


def test_out_dir_belongs_to_the_tools_user_and_never_sends_a_null_owner() -> None:
    inv = scan.invocation("hadolint", Config())
    root_ctr = tool_container(inv, {SRC: dag.directory()})
    (root_out,) = selections(root_ctr, "withDirectory")
    assert root_out["owner"] == "0"  # explicit root, never None (that would go out as an explicit null)
    assert selections(root_ctr, "withUser") == [{"name": "0"}]
    call = cosign.generate_key_pair()
    ctr = tool_container(call.invocation, {}, secret_env={"COSIGN_PASSWORD": dag.set_secret("p", "")}, user="65532")
    (out,) = [a for a in selections(ctr, "withDirectory") if a["path"] == OUT]
    assert out["owner"] == "65532"


@pytest.mark.anyio
async def test_opa_runs_as_its_images_user_and_owns_the_output_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    async def capture(ctr: Any, inv: Any, **_: Any) -> Any:
        seen.append(ctr)
        raise RuntimeError("stop here")

    monkeypatch.setattr(gate_stage, "collect", capture)
    # an invalid document never reaches OPA: refused before any container is made
    with pytest.raises(PolicyError, match=r"^gate input --input is not a Seaworthy gate input"):
        await gate_stage.evaluate("{}")
    assert seen == []
    valid = build_input([], sbom=None, facts=[], build=None, config=GateConfig(), exceptions=[], today=date(2026, 1, 1))
    with pytest.raises(RuntimeError, match="stop here"):
        await gate_stage.evaluate(json.dumps(valid))
    (out,) = [a for a in selections(seen[0], "withDirectory") if a["path"] == OUT]
    assert out["owner"] == gate_stage.OPA_USER == "1000:1000"


@pytest.mark.anyio
async def test_the_verdicts_policy_digest_is_of_the_policy_content(monkeypatch: pytest.MonkeyPatch) -> None:
    rego = {"gate.rego": "package seaworthy.gate\n", "rules/x.rego": "package seaworthy.rules.x\n"}

    async def glob(self: Any, pattern: str) -> list[str]:
        return sorted(n for n in rego if pattern.endswith("*.rego"))

    monkeypatch.setattr(dagger.Directory, "glob", glob)
    stub_leaves(monkeypatch, exit_code=lambda _c: 0, contents=lambda f: rego[selections(f, "file")[-1]["path"]])
    first = await gate_stage.policy_digest()
    assert first == gate_stage.digest_of_policies([("bundled", rego)])
    assert first != "sha256:" + hashlib.sha256(gate_stage.BUNDLED_POLICY.encode()).hexdigest()
    rego["rules/x.rego"] += "deny contains 1 if true\n"
    assert await gate_stage.policy_digest() != first
    assert await gate_stage.policy_digest([("--policy", dag.directory())]) != await gate_stage.policy_digest()


@pytest.mark.anyio
async def test_a_user_policy_folder_with_data_files_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"m.rego": "package seaworthy.rules.m\n\nx := 1\n", "sub/data.json": '{"deny": []}'}

    async def glob(self: Any, pattern: str) -> list[str]:
        return sorted(n for n in files if n.endswith(pattern.rsplit("*", 1)[-1]))

    monkeypatch.setattr(dagger.Directory, "glob", glob)
    stub_leaves(monkeypatch, exit_code=lambda _c: 0, contents=lambda f: files[selections(f, "file")[-1]["path"]])
    with pytest.raises(PolicyError, match=r"^--policy/sub/data\.json: a data file in a policy folder, which OPA"):
        await gate_stage.check_user_policy(dag.directory(), "--policy")
    del files["sub/data.json"]
    await gate_stage.check_user_policy(dag.directory(), "--policy")
    files["m.rego"] = "package seaworthy.rules.m\n\nx := http.send({})\n"
    with pytest.raises(PolicyError, match=r"^--policy/m\.rego:3: package seaworthy\.rules\.m calls http\.send"):
        await gate_stage.check_user_policy(dag.directory(), "--policy")


@pytest.mark.anyio
async def test_opa_errors_name_the_users_policy_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    files = {"m.rego": "package seaworthy.rules.m\n\nx := 1\n"}

    async def glob(self: Any, pattern: str) -> list[str]:
        return sorted(n for n in files if n.endswith(pattern.rsplit("*", 1)[-1]))

    async def opa_refuses(ctr: Any, inv: Any, **_: Any) -> Any:
        raise ToolOutputError(
            "opa", "policy errors: /in/policy/user-0/m.rego:3: rego_recursion_error: rule x is recursive"
        )

    monkeypatch.setattr(dagger.Directory, "glob", glob)
    stub_leaves(monkeypatch, exit_code=lambda _c: 0, contents=lambda f: files[selections(f, "file")[-1]["path"]])
    monkeypatch.setattr(gate_stage, "collect", opa_refuses)
    valid = build_input([], sbom=None, facts=[], build=None, config=GateConfig(), exceptions=[], today=date(2026, 1, 1))
    with pytest.raises(ToolOutputError, match=r"policy errors: --policy/m\.rego:3: rego_recursion_error"):
        await gate_stage.evaluate(json.dumps(valid), user_policies=[("--policy", dag.directory())])
    assert (
        gate_stage.name_user_folders(
            "/in/policy/user-1/a /in/policy/user-10/b", {"/in/policy/user-1": "p1", "/in/policy/user-10": "p10"}
        )
        == "p1/a p10/b"
    )


def test_log_format_argument_configures_the_logger() -> None:
    try:
        Seaworthy(log_format="json")
        assert isinstance(structlog.get_config()["processors"][-1], structlog.processors.JSONRenderer)
        Seaworthy()
        assert not isinstance(structlog.get_config()["processors"][-1], structlog.processors.JSONRenderer)
    finally:
        log.configure("console")


def test_source_sbom_is_trivy_fs_of_the_source_in_cyclonedx() -> None:
    inv = trivy.source_sbom()
    assert inv.argv[:2] == ("trivy", "fs") and inv.argv[-1] == SRC and "cyclonedx" in inv.argv
    assert inv.mounts[SRC] == "source"


# --- source checks with the engine's answers stubbed (dagger-python.md §7: stub the leaves) -------------


def _stub_tree(monkeypatch: pytest.MonkeyPatch, paths: list[str]) -> None:
    """Stub the Directory leaves that list a tree (exists, glob) with these file paths."""

    async def exists(self: dagger.Directory, path: str, **_: object) -> bool:
        return path in paths

    async def glob(self: dagger.Directory, pattern: str, **_: object) -> list[str]:
        return sorted(p for p in paths if fnmatch.fnmatchcase(p, pattern))

    monkeypatch.setattr(dagger.Directory, "exists", exists)
    monkeypatch.setattr(dagger.Directory, "glob", glob)


def _stub_source(monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> dagger.Directory:
    async def entries(self: dagger.Directory, **_: object) -> list[str]:
        return sorted({name.split("/", 1)[0] for name in files})

    async def exists(self: dagger.Directory, path: str, **_: object) -> bool:
        return path in files

    async def contents(self: dagger.File, **_: object) -> str:
        path = [s for s in self._ctx.selections if s.name == "file"][-1].args["path"]  # pyright: ignore[reportPrivateUsage, reportAttributeAccessIssue]
        return files[path]

    monkeypatch.setattr(dagger.Directory, "entries", entries)
    monkeypatch.setattr(dagger.Directory, "exists", exists)
    _stub_tree(monkeypatch, list(files))
    monkeypatch.setattr(dagger.File, "contents", contents)
    return dag.directory()


@pytest.mark.anyio
async def test_check_source_names_the_missing_dockerfile_and_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    src = _stub_source(monkeypatch, {"app.py": "print(1)\n"})
    with pytest.raises(image_stage.InputError, match=r"--source has no Dockerfile at 'Dockerfile'; pass --dockerfile="):
        await image_stage.check_source(src, "Dockerfile")
    empty = _stub_source(monkeypatch, {})
    with pytest.raises(image_stage.InputError, match=r"--source is empty"):
        await image_stage.check_source(empty, "Dockerfile")
    ok = _stub_source(monkeypatch, {"docker/Dockerfile": "FROM scratch\n"})
    assert await image_stage.check_source(ok, "docker/Dockerfile") == "FROM scratch\n"


@pytest.mark.anyio
async def test_config_comes_from_the_source_root_and_bad_config_fails_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.api import load_config
    from pipeline.errors import ConfigError

    src = _stub_source(monkeypatch, {"seaworthy.toml": "[scan]\nscanners = ['trivy']\n"})
    cfg = await load_config(src, None)
    assert cfg.scanners == ("trivy",)
    bad = _stub_source(monkeypatch, {"seaworthy.toml": "[scan]\nscaners = ['trivy']\n"})
    with pytest.raises(ConfigError, match=r"unknown key scan\.scaners; remove it \(did you mean scan\.scanners\?\)"):
        await load_config(bad, None)
    none = _stub_source(monkeypatch, {"app.py": ""})
    assert (await load_config(none, None)).scanners == ("semgrep", "gitleaks", "trivy", "hadolint", "bandit", "njsscan")
