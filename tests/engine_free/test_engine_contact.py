"""Issue 10, "first contact with a real engine": one engine-free test per decision a read of the Dagger
source settled (dagger/dagger at v0.21.x: core/modfunc.go, core/typedef.go, core/container.go).

Each test pins what the engine is given (query-chain shape, argument, cache policy); the matching case
that would catch the same mistake with a real engine is named in the test's docstring (tests/dagger).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from dagger import dag

from pipeline.main import Seaworthy
from pipeline.stages import release
from pipeline.stages.runner import tool_container
from pipeline.tools import cosign, skopeo
from pipeline.tools.base import OUT, SRC, Invocation

DIGEST = "sha256:" + "a" * 64


def selections(obj: Any, name: str) -> list[dict[str, Any]]:
    return [dict(s.args) for s in obj._ctx.selections if s.name == name]


def functions() -> dict[str, Any]:
    ot = Seaworthy.__dagger_object_type__  # pyright: ignore[reportAttributeAccessIssue]
    return {name: fn for name, fn in ot.functions.items() if name}


class Stop(Exception):
    """Raised by a stubbed leaf: the chain was built, nothing more is needed."""


# --- item 1: every function states its cache policy -------------------------------------------------------

_GO_DURATION = re.compile(r"^(\d+(h|m|s))+$")
_UNIT = {"h": 3600, "m": 60, "s": 1}
MAX_TTL_SECONDS = 7 * 24 * 60 * 60  # dagger core/modfunc.go MaxFunctionCacheTTLSeconds
LIVE_DATA = {"scan", "semgrep", "gitleaks", "trivy_fs", "hadolint", "scan_image", "build", "sbom", "facts"}
SIDE_EFFECTS = {"registry", "publish", "sign", "attest", "verify", "ship"}


def _seconds(ttl: str) -> int:
    return sum(int(n) * _UNIT[u] for n, u in re.findall(r"(\d+)(h|m|s)", ttl))


def test_every_function_states_its_cache_policy_and_why() -> None:
    """No function is left on the engine's default (up to 7 days, core/modfunc.go); the docstring says why.

    Engine case: `scan_is_fresh_per_call` (two `scan` calls in separate sessions both run the scanners)."""
    fns = functions()
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
    fns = functions()
    for name in LIVE_DATA:
        assert fns[name].cache_policy == "session", name
    for name in SIDE_EFFECTS:
        assert fns[name].cache_policy == "never", name


# --- item 2: the registry user name is plain, the password a secret --------------------------------------


@pytest.mark.anyio
async def test_cosign_gets_the_registry_user_as_plain_env_and_only_the_password_as_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A secret user name would be scrubbed from cosign's base64 output (engine: `sign_with_short_username`)."""
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
    fail here with ClientConnectionError, there is no engine). Engine case: `publish_to_local_registry`."""
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
