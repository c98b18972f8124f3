"""Issue 10, "first contact with a real engine": one engine-free test per decision a read of the Dagger
source settled (dagger/dagger at v0.21.x: core/modfunc.go, core/typedef.go, core/container.go).

Each test pins what the engine is given (query-chain shape, argument, cache policy); the matching case
that would catch the same mistake with a real engine is named in the test's docstring (tests/dagger).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import dagger
import pytest
from dagger import dag

from pipeline.config import Config, TrivyConfig
from pipeline.errors import ConfigError, InputError, ToolFailed
from pipeline.main import Image, Release, Seaworthy
from pipeline.model import ToolRun
from pipeline.stages import image as image_stage
from pipeline.stages import release, runner, trivydb
from pipeline.stages.runner import tool_container
from pipeline.tools import cosign, skopeo, trivy
from pipeline.tools.base import OUT, SRC, Invocation
from tests.engine_free.test_module import argv_of, buster_of, stub_leaves

DIGEST = "sha256:" + "a" * 64


def selections(obj: Any, name: str) -> list[dict[str, Any]]:
    return [dict(s.args) for s in obj._ctx.selections if s.name == name]


def functions(cls: Any = Seaworthy) -> dict[str, Any]:
    ot = cls.__dagger_object_type__
    return {name: fn for name, fn in ot.functions.items() if name}


def every_function() -> dict[str, Any]:
    """Every function of the main object and of the result objects that have functions, as `Object.name`."""
    return {f"{cls.__name__}.{name}": fn for cls in (Seaworthy, Image, Release) for name, fn in functions(cls).items()}


class Stop(Exception):
    """Raised by a stubbed leaf: the chain was built, nothing more is needed."""


# --- item 1: every function states its cache policy -------------------------------------------------------

_GO_DURATION = re.compile(r"^(\d+(h|m|s))+$")
_UNIT = {"h": 3600, "m": 60, "s": 1}
MAX_TTL_SECONDS = 7 * 24 * 60 * 60  # dagger core/modfunc.go MaxFunctionCacheTTLSeconds
LIVE_DATA = {
    *(f"Seaworthy.{n}" for n in ("scan", "semgrep", "gitleaks", "trivy_fs", "hadolint", "bandit", "njsscan", "build")),
    *(f"Image.{n}" for n in ("scan", "sbom", "facts")),
}
SIDE_EFFECTS = {
    *(f"Seaworthy.{n}" for n in ("registry", "sign", "attest", "verify", "ship")),
    "Image.publish",
    "Release.verify",
}


def _seconds(ttl: str) -> int:
    return sum(int(n) * _UNIT[u] for n, u in re.findall(r"(\d+)(h|m|s)", ttl))


def test_every_function_states_its_cache_policy_and_why() -> None:
    """No function is left on the engine's default (up to 7 days, core/modfunc.go); the docstring says why.

    Engine case: `scan_is_fresh_per_call` (the engine accepts every stated policy when it loads the module;
    freshness across sessions cannot be observed from inside one session)."""
    fns = every_function()
    assert fns, "no functions registered"
    for name, fn in fns.items():
        policy = fn.cache_policy
        assert policy is not None, f"{name}: state cache='never', 'session' or a duration"
        if policy not in ("never", "session"):
            assert _GO_DURATION.match(policy), f"{name}: {policy!r} is not a Go duration the engine parses"
            assert 1 <= _seconds(policy) <= MAX_TTL_SECONDS, f"{name}: {policy!r} is outside 1s..168h"
        doc = fn.doc or ""
        assert "Cache:" in doc, f"{name}: the docstring must say why its cache policy is {policy!r}"


def test_live_data_is_never_cached_beyond_the_session_and_side_effects_never() -> None:
    fns = every_function()
    for name in LIVE_DATA:
        assert fns[name].cache_policy == "session", name
    for name in SIDE_EFFECTS:
        assert fns[name].cache_policy == "never", name


# --- item 2: the registry user name is plain, the password a secret --------------------------------------


@pytest.mark.anyio
async def test_cosign_gets_the_registry_user_as_plain_env_and_only_the_password_as_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A secret user name would be scrubbed from cosign's base64 output (engine: `registry_with_a_short_username`)."""
    seen: list[Any] = []

    async def capture(ctr: Any, inv: Invocation, **_: Any) -> Any:
        seen.append(ctr)
        raise Stop

    monkeypatch.setattr(release, "collect", capture)
    access = release.RegistryAccess("ab", dag.set_secret("pw", "hunter2hunter2"))
    signing = release.Signing.from_args(key=dag.set_secret("k", "KEY"), key_password=dag.set_secret("p", "x"))
    with pytest.raises(Stop):
        await release.sign(f"ghcr.io/org/app@{DIGEST}", signing, access)
    (ctr,) = seen
    secret_names = {a["name"] for a in selections(ctr, "withSecretVariable")}
    assert "COSIGN_REGISTRY_PASSWORD" in secret_names
    assert "COSIGN_REGISTRY_USERNAME" not in secret_names
    plain = {a["name"]: a["value"] for a in selections(ctr, "withEnvVariable")}
    assert plain["COSIGN_REGISTRY_USERNAME"] == "ab"


# --- item 8 (and 2): skopeo's auth file is written inside the container -----------------------------------


@pytest.mark.anyio
async def test_push_builds_the_auth_file_in_the_container_without_reading_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The password goes from Secret to secret variable; Python never reads it (a `plaintext()` call would
    fail here with ClientConnectionError, there is no engine). Engine case: `registry_with_a_short_username`."""
    seen: list[Any] = []

    async def capture(ctr: Any, inv: Invocation, **_: Any) -> Any:
        seen.append((ctr, inv))
        raise Stop

    monkeypatch.setattr(release, "collect", capture)
    target = release.Target.parse("ghcr.io/org/app", "1", username="ci", password=dag.set_secret("pw", "x"))
    with pytest.raises(Stop):
        await release.publish(dag.directory().file("image.tar"), [""], target, expected={"": DIGEST})
    ctr, inv = seen[0]
    assert not selections(ctr, "withMountedSecret")
    assert [a["path"] for a in selections(ctr, "withMountedTemp")] == [skopeo.AUTH_DIR]
    assert [a["name"] for a in selections(ctr, "withSecretVariable")] == [skopeo.AUTH_PASSWORD_ENV]
    plain = {a["name"]: a["value"] for a in selections(ctr, "withEnvVariable")}
    assert plain[skopeo.AUTH_USERNAME_ENV] == "ci"
    (exec_args,) = selections(ctr, "withExec")
    argv = exec_args["args"]
    assert argv[:2] == ["sh", "-c"] and argv[3:5] == ["sh", "skopeo"]
    assert "--dest-authfile" in argv and skopeo.AUTHFILE in argv
    assert list(inv.argv) == argv


def test_anonymous_push_has_no_auth_step() -> None:
    inv = skopeo.push(skopeo.normalize_reference("ghcr.io/org/app:1"), tarball=skopeo.TARBALL)
    wrapped, secrets, temps = release.skopeo_auth(inv, release.RegistryAccess(), "ghcr.io")
    assert wrapped is inv and not secrets and not temps


# --- item 6: OUT is owned by the user the tool runs as; no ignored `permissions` ---------------------------


@pytest.mark.parametrize("user", ["", "65532", "1000:1000"])
def test_out_is_owned_by_the_user_the_tool_runs_as(user: str) -> None:
    """The engine ignores `permissions` on a directory copy (core/container.go WithDirectory has no mode).

    Engine case: every scanner case (gitleaks' image declares `USER gitleaks`: its report must be written)."""
    inv = cosign.generate_key_pair().invocation if user == "65532" else Invocation("t", skopeo.IMAGE, ("x",), "")
    ctr = tool_container(inv, {}, user=user, secret_env={"COSIGN_PASSWORD": dag.set_secret("p", "")})
    (out,) = [a for a in selections(ctr, "withDirectory") if a["path"] == OUT]
    assert "permissions" not in out
    expected = user or "0"
    assert out["owner"] == expected
    assert selections(ctr, "withUser") == [{"name": expected}]
    # the user is set before the exec (a later withUser would not apply to it)
    names = [s.name for s in ctr._ctx.selections]  # pyright: ignore[reportAttributeAccessIssue]
    assert names.index("withUser") < names.index("withExec")


def test_no_stage_asks_the_engine_for_directory_permissions() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "pipeline"
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if re.search(r"with_directory\([^)]*permissions=", p.read_text(), re.S)
    ]
    assert offenders == []


def test_temps_satisfy_mounts_below_them() -> None:
    inv = Invocation("t", skopeo.IMAGE, ("x",), "", mounts={f"{skopeo.AUTH_DIR}/a.json": "auth", SRC: "source"})
    with pytest.raises(ValueError, match=SRC):
        tool_container(inv, {}, temps=(skopeo.AUTH_DIR,))
    ctr = tool_container(inv, {SRC: dag.directory()}, temps=(skopeo.AUTH_DIR,))
    assert [a["path"] for a in selections(ctr, "withMountedTemp")] == [skopeo.AUTH_DIR]


@pytest.mark.parametrize(
    ("host", "user", "password"),
    [
        ("127.0.0.1:5443", "ciuser", "s3cr:et\"\\$x'%s\n"),
        ("index.docker.io", "u", "p@ss-W0rd"),
        ("ghcr.io", "a", "b" * 300),
    ],
)
def test_the_auth_step_writes_exactly_the_documented_auth_file(
    tmp_path: Any, host: str, user: str, password: str
) -> None:
    """The shell step run with a real `sh` (the skopeo image's too) writes `auth_config_json`'s bytes."""
    import os
    import subprocess

    target = tmp_path / "auth.json"
    script = skopeo.auth_script(host, user).replace(skopeo.AUTHFILE, str(target))
    env = {**os.environ, skopeo.AUTH_USERNAME_ENV: user, skopeo.AUTH_PASSWORD_ENV: password}
    done = subprocess.run(
        ["sh", "-c", script, "sh", "cat", str(target)], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == skopeo.auth_config_json(host, user, password)
    assert password not in script and (target.stat().st_mode & 0o077) == 0
    empty = subprocess.run(
        ["sh", "-c", script, "sh", "true"],
        env={**env, skopeo.AUTH_PASSWORD_ENV: ""},
        capture_output=True,
        text=True,
        check=False,
    )
    assert empty.returncode == skopeo.AUTH_EMPTY_PASSWORD_EXIT and "password for" in empty.stderr


# --- item 7: a pruned DB volume behind a cached download step ---------------------------------------------

META = '{"Version": 2, "UpdatedAt": "2026-11-27T06:00:00Z", "NextUpdate": "2026-11-28T06:00:00Z"}'
NOW = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.mark.anyio
async def test_a_pruned_db_volume_is_downloaded_again_the_same_day(monkeypatch: pytest.MonkeyPatch) -> None:
    """The day's download is a cached exec; the volume it filled is gone. Downloading again, not blaming
    offline mode (no engine case: a module cannot prune the engine's cache volumes)."""
    downloaded: list[str] = []

    def stdout(ctr: Any) -> str:
        # the volume is empty until a download ran for real (with a buster no earlier exec had)
        return META if any(runner.RERUN in b for b in downloaded) else ""

    awaited = stub_leaves(monkeypatch, exit_code=lambda _c: 0, stdout=stdout)
    real_exit_code = dagger.Container.exit_code

    async def exit_code(self: Any) -> int:
        if "--download-db-only" in argv_of(self):
            downloaded.append(buster_of(self))
        return await real_exit_code(self)

    monkeypatch.setattr(dagger.Container, "exit_code", exit_code)
    status = await trivydb.refresh(Config(), now=NOW)
    assert not status.needs_download and status.updated_at is not None
    assert downloaded[0] == trivy.cache_buster(NOW) and runner.RERUN in downloaded[1] and len(downloaded) == 2
    assert awaited


@pytest.mark.anyio
async def test_a_usable_db_after_the_days_download_is_not_downloaded_twice(monkeypatch: pytest.MonkeyPatch) -> None:
    awaited = stub_leaves(monkeypatch, exit_code=lambda _c: 0, stdout=lambda _c: META)
    await trivydb.refresh(Config(), now=NOW)
    downloads = [c for c in awaited if "--download-db-only" in argv_of(c)]
    assert [buster_of(c) for c in downloads] == [trivy.cache_buster(NOW)]
    assert not [c for c in awaited if "--download-java-db-only" in argv_of(c)], "no Java DB: none fetched"


@pytest.mark.anyio
async def test_a_db_still_missing_after_a_real_download_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_leaves(monkeypatch, exit_code=lambda _c: 0, stdout=lambda _c: "")
    with pytest.raises(ConfigError, match="missing"):
        await trivydb.refresh(Config(), now=NOW)


# --- item 4: the Java DB is fetched when a scan meets a JAR ------------------------------------------------

JAVA_FAILURE = (
    "FATAL Fatal error run error: image scan error: post analysis error: Unable to initialize the Java DB: "
    "Java DB update failed: '--skip-java-db-update' cannot be specified on the first run"
)


def stub_java(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """A scan fails for want of the Java DB until the Java DB was downloaded."""
    awaited = stub_leaves(monkeypatch, exit_code=lambda _c: 0)
    fetched: list[Any] = []

    async def exit_code(self: Any) -> int:
        awaited.append(self)
        if "--download-java-db-only" in argv_of(self):
            fetched.append(self)
            return 0
        return 0 if fetched else 1

    async def stderr(self: Any) -> str:
        return "" if fetched else JAVA_FAILURE

    monkeypatch.setattr(dagger.Container, "exit_code", exit_code)
    monkeypatch.setattr(dagger.Container, "stderr", stderr)
    return awaited


@pytest.mark.anyio
async def test_an_image_with_a_jar_fetches_the_java_db_and_scans_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Engine case: `scan_image_of_an_image_with_a_jar`."""
    awaited = stub_java(monkeypatch)
    built = image_stage.build_variants(dag.directory(), Config())
    monkeypatch.setattr(trivy, "parse", lambda _t, mode: ToolRun(tool="trivy", version="0.76.0", findings=()))
    (run,) = await image_stage.scan_image(built, Config(), now=NOW)
    assert run.exit_code == 0
    kinds = ["java" if "--download-java-db-only" in argv_of(c) else "scan" for c in awaited]
    assert kinds[-2:] == ["java", "scan"] and kinds.count("java") == 1
    java = next(c for c in awaited if "--download-java-db-only" in argv_of(c))
    assert runner.RERUN in buster_of(java), "the Java download must really run (the volume proved empty)"
    assert runner.RERUN in buster_of(awaited[-1])


@pytest.mark.anyio
async def test_offline_mode_refuses_to_fetch_the_java_db(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_java(monkeypatch)
    cfg = Config(trivy=TrivyConfig(offline=True))
    built = image_stage.build_variants(dag.directory(), cfg)
    with pytest.raises(ConfigError, match="Java index DB"):
        await image_stage.scan_image(built, cfg, now=NOW)


@pytest.mark.anyio
async def test_other_trivy_failures_are_raised_not_retried_with_a_java_db(monkeypatch: pytest.MonkeyPatch) -> None:
    awaited = stub_leaves(monkeypatch, exit_code=lambda _c: 1)
    built = image_stage.build_variants(dag.directory(), Config())
    with pytest.raises(ToolFailed):
        await image_stage.scan_image(built, Config(), now=NOW)
    assert not [c for c in awaited if "--download-java-db-only" in argv_of(c)]


# --- item 3: build secrets under the id the Dockerfile uses ---------------------------------------------


@pytest.mark.anyio
async def test_build_secrets_are_renamed_to_their_dockerfile_ids(monkeypatch: pytest.MonkeyPatch) -> None:
    """docker_build refuses an unnamed secret (core/container.go: "secret has no name and cannot be
    referenced from Dockerfile secret id"); env:// secrets have no name. Engine case: `build_with_a_named_secret`."""
    values = {"npm": "NPMTOKEN", "pip": "PIPCONF"}
    given = [dag.secret("env://NPM_TOKEN"), dag.secret("file://pip.conf")]
    plain = iter(values.values())

    async def plaintext(self: Any) -> str:
        return next(plain)

    monkeypatch.setattr(dagger.Secret, "plaintext", plaintext)
    named = await image_stage.named_secrets(given, ["npm", "pip"])
    built = image_stage.build_variants(dag.directory(), Config(), secrets=named)
    (build_args,) = selections(built.variants[0], "dockerBuild")
    passed = build_args["secrets"]
    assert passed == named
    for secret, (sid, value) in zip(passed, values.items(), strict=True):
        (made,) = selections(secret, "setSecret")
        assert made == {"name": sid, "plaintext": value}


@pytest.mark.parametrize(
    ("ids", "count", "words"),
    [
        (["npm"], 2, "names 1 secret(s) but --secrets gives 2"),
        ([], 1, "names 0 secret(s)"),
        (["npm", "npm"], 2, "given twice"),
        (["a b"], 1, "not a Dockerfile secret id"),
        (["../x"], 1, "not a Dockerfile secret id"),
    ],
)
def test_secret_ids_must_name_each_secret_once(ids: list[str], count: int, words: str) -> None:
    with pytest.raises(InputError, match=re.escape(words)):
        image_stage.secret_ids(ids, count)


def test_build_secrets_are_chained_under_their_dockerfile_id() -> None:
    params = functions()["with_build_secret"].parameters
    assert "str" in str(params["id"].resolved_type) and "Secret" in str(params["secret"].resolved_type)
    one, two, three = dag.set_secret("a", "1"), dag.set_secret("b", "2"), dag.set_secret("c", "3")
    sw = Seaworthy().with_build_secret("npm", one).with_build_secret("pip", two)
    again = sw.with_build_secret("npm", three)
    assert sw._secrets() == {"npm": one, "pip": two}  # pyright: ignore[reportPrivateUsage]
    assert again._secrets() == {"pip": two, "npm": three}  # pyright: ignore[reportPrivateUsage]
    with pytest.raises(InputError, match="not a Dockerfile secret id"):
        sw.with_build_secret("a b", one)


# --- item 5: a registry the caller runs -------------------------------------------------------------------


def test_a_localhost_repository_is_reached_through_the_bound_service() -> None:
    """A tool container's localhost is itself: with --registry-service the tools push to the service's
    alias, and the caller gets the reference back with the host they gave. Engine case:
    `ship_to_a_registry_service`."""
    svc = dag.container().from_("registry:3.0.0").with_exposed_port(5000).as_service()
    target = release.Target.parse("localhost:5000/team/app", "1", service=svc)
    assert str(target.reference) == "registry:5000/team/app:1"
    assert target.ephemeral and target.access.service is svc
    assert target.public(f"registry:5000/team/app@{DIGEST}") == f"localhost:5000/team/app@{DIGEST}"
    named = release.Target.parse("registry:5000/team/app", "1", service=svc)
    assert str(named.reference) == "registry:5000/team/app:1" and named.public("x") == "x"
    assert release.via_service(f"127.0.0.1:5000/a@{DIGEST}", svc) == f"registry:5000/a@{DIGEST}"
    assert release.via_service(f"ghcr.io/a@{DIGEST}", None) == f"ghcr.io/a@{DIGEST}"


def test_the_service_is_bound_to_the_push_container_over_plain_http() -> None:
    svc = dag.container().from_("registry:3.0.0").with_exposed_port(5000).as_service()
    target = release.Target.parse("localhost:5000/team/app", "1", service=svc)
    inv = skopeo.push(target.reference, tarball=skopeo.TARBALL, tls_verify=False)
    ctr = tool_container(inv, {skopeo.TARBALL: dag.directory().file("x")}, services=release._services(target.access))  # pyright: ignore[reportPrivateUsage]
    (binding,) = selections(ctr, "withServiceBinding")
    assert binding["alias"] == "registry" and binding["service"] is svc
    (exec_args,) = selections(ctr, "withExec")
    assert "--dest-tls-verify=false" in exec_args["args"]


def test_the_registry_service_is_chained_and_reaches_publish_ship_sign_attest_verify() -> None:
    assert "Service" in str(functions()["with_registry_service"].parameters["service"].resolved_type)
    svc = dag.container().from_("registry:3.0.0").as_service()
    sw = Seaworthy().with_registry_service(svc)
    assert sw._registries().for_ref(f"localhost:5000/a@{DIGEST}").service is svc  # pyright: ignore[reportPrivateUsage]
    image = sw.image(dag.container())
    assert image.registry_service is svc  # Image.publish pushes there


def test_a_registry_service_without_a_repository_is_refused() -> None:
    from pipeline.stages import ship as ship_stage

    svc = dag.container().from_("registry:3.0.0").as_service()
    signing = release.Signing.from_args(ephemeral=True)
    with pytest.raises(InputError, match="with-registry-service needs --repository"):
        ship_stage.Plan.from_args(
            repository="", tag="1", username="", password=None, insecure=False, signing=signing, service=svc
        )


# --- the engine test module calls every function --------------------------------------------------------


def test_the_engine_test_module_calls_every_function_and_runs_every_case() -> None:
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "dagger" / "src" / "seaworthy_tests" / "main.py").read_text()
    for qualified in every_function():
        name = qualified.split(".", 1)[1]
        assert re.search(rf"\.{name}\(", text), f"tests/dagger never calls {qualified}"
    for cls in (Image, Release):
        for name in functions(cls):
            assert re.search(rf"(image|release|alpine|anonymous)\.{name}\(", text), (
                f"tests/dagger never calls {cls.__name__}.{name}"
            )
    cases = set(re.findall(r"async def (\w+)\(self", text)) - {"all"}
    in_all = set(re.findall(r"self\.(\w+)", text[text.index("async def all(") :]))
    assert cases <= in_all, f"cases `all` does not run: {sorted(cases - in_all)}"
    for failure_path in (
        "pushes_nothing",
        "build_failure",
        "verify(ref=unsigned",
        "offline_db_too_old_is_refused",
        "one way to sign",
    ):
        assert failure_path in text, failure_path
