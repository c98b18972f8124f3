"""Engine-free checks of the chained surface (pipeline/main.py): every with-… returns a new object and keeps
the earlier state, bad chained input fails in one line, the state survives the engine's serialisation, and
the result objects' side effects build query chains that carry secrets only as secrets."""

from __future__ import annotations

import dataclasses
from typing import Any

import anyio
import dagger
import pytest
import structlog
from dagger import dag
from dagger.mod import _default_mod  # pyright: ignore[reportPrivateUsage]

from pipeline import log
from pipeline.errors import InputError
from pipeline.main import Image, Release, Seaworthy
from pipeline.stages import release
from pipeline.tools import skopeo
from pipeline.tools.base import Invocation

DIGEST = "sha256:" + "a" * 64
MOD: Any = _default_mod  # the module's own converter, as the runtime uses it


class Stop(Exception):
    """Raised by a stubbed leaf: the chain was built, nothing more is needed."""


def selections(obj: Any, name: str) -> list[dict[str, Any]]:
    return [dict(s.args) for s in obj._ctx.selections if s.name == name]


def secret(name: str) -> dagger.Secret:
    return dag.set_secret(name, f"plain-{name}")


# --- chaining -------------------------------------------------------------------------------------------


def test_every_with_returns_a_new_object_and_keeps_the_earlier_state() -> None:
    base = Seaworthy()
    token, key, build = secret("gh"), secret("key"), secret("npm")
    policy, config = dag.directory(), dag.directory().file("seaworthy.toml")
    chained = (
        base.with_registry_auth("ghcr.io", "me", token)
        .with_insecure_registry("registry.local:5000")
        .with_policy(policy)
        .with_config(config)
        .with_cosign_key(key)
        .with_build_arg("VERSION", "1")
        .with_build_secret("npm", build)
        .with_provenance("https://example.com/app", "abc")
        .with_log_format("json")
    )
    try:
        assert base == Seaworthy() and chained is not base
        assert chained.registry_addresses == ["ghcr.io"] and chained.registry_secrets == [token]
        assert chained.insecure_registries == ["registry.local:5000"]
        assert chained.policy is policy and chained.config_file is config
        assert chained.signing_mode == "key" and chained.cosign_key is key
        assert (chained.build_arg_names, chained.build_arg_values) == (["VERSION"], ["1"])
        assert chained.build_secret_ids == ["npm"] and chained.build_secrets == [build]
        assert (chained.source_repository, chained.revision) == ("https://example.com/app", "abc")
        # a later link changes only its own part
        more = chained.with_registry_auth("quay.io", "robot", secret("q"))
        assert chained.registry_addresses == ["ghcr.io"] and more.registry_addresses == ["ghcr.io", "quay.io"]
        assert more.cosign_key is key and more.policy is policy
    finally:
        log.configure("console")


def test_with_log_format_configures_the_logger_and_refuses_others() -> None:
    try:
        Seaworthy().with_log_format("json")
        assert isinstance(structlog.get_config()["processors"][-1], structlog.processors.JSONRenderer)
    finally:
        log.configure("console")
    with pytest.raises(InputError, match=r"--format 'xml' is not a log format; use console or json"):
        Seaworthy().with_log_format("xml")


@pytest.mark.parametrize(
    ("chain", "message"),
    [
        (lambda s: s.with_cosign_key(secret("k")).with_kms("awskms:///alias/a"), "with-kms after with-cosign-key"),
        (
            lambda s: s.with_kms("awskms:///alias/a").with_keyless(identity_token=secret("t")),
            "with-keyless after with-kms",
        ),
        (lambda s: s.with_keyless(identity="me"), "with-keyless needs an OIDC token"),
        (lambda s: s.with_keyless(oidc_request_url=secret("u")), "needs both with-keyless --oidc-request-url"),
        (lambda s: s.with_kms("alias/a"), "is not a KMS key URI"),
        (lambda s: s.with_registry_auth("ghcr.io/org", "me", secret("x")), "is not a registry address"),
        (lambda s: s.with_registry_auth("ghcr.io", "", secret("x")), "--username is empty"),
        (lambda s: s.with_insecure_registry("http://x/y"), "is not a registry address"),
        (lambda s: s.with_build_arg("A=B", "1"), "is not a build argument name"),
        (lambda s: s.with_build_secret("../npm", secret("x")), "not a Dockerfile secret id"),
    ],
)
def test_bad_chained_input_fails_in_one_line_naming_it(chain: Any, message: str) -> None:
    with pytest.raises(InputError, match=message) as info:
        chain(Seaworthy())
    assert "\n" not in str(info.value)


def test_the_same_key_again_replaces_and_a_repeated_mode_is_allowed() -> None:
    one, two = secret("k1"), secret("k2")
    sw = Seaworthy().with_cosign_key(one).with_cosign_key(two, tlog=False)
    assert sw.cosign_key is two and not sw.tlog
    args = Seaworthy().with_build_arg("A", "1").with_build_arg("B", "2").with_build_arg("A", "3")
    assert dict(zip(args.build_arg_names, args.build_arg_values, strict=True)) == {"B": "2", "A": "3"}


# --- the state as the engine keeps it -------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_chained_state_survives_the_engines_serialisation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Between calls the engine stores an object as JSON (Dagger objects by ID) and rebuilds it: every piece of
    chained state must come back (the `id` leaf is stubbed: there is no engine)."""

    async def fake_id(self: Any) -> str:
        return f"{type(self).__name__}-{id(self)}"

    for t in (dagger.Secret, dagger.Service, dagger.File, dagger.Directory, dagger.Container):
        monkeypatch.setattr(t, "id", fake_id)
    sw = (
        Seaworthy()
        .with_registry_auth("ghcr.io", "me", secret("a"))
        .with_registry_auth("quay.io", "robot", secret("b"))
        .with_keyless(identity_token=secret("t"), identity="me@example.com", issuer="https://gitlab.com")
        .with_build_secret("npm", secret("n"))
        .with_registry_service(dag.container().as_service())
    )
    state = await MOD.unstructure(sw, Seaworthy)
    assert all(not isinstance(v, dagger.Secret) for v in state.values())  # secrets travel as IDs
    assert "plain-a" not in str(state)  # and never as plaintext
    back = await MOD.structure(state, Seaworthy)
    assert back.registry_addresses == ["ghcr.io", "quay.io"] and back.registry_usernames == ["me", "robot"]
    assert [type(s) for s in back.registry_secrets] == [dagger.Secret, dagger.Secret]
    assert back.signing_mode == "keyless" and back.keyless_issuer == "https://gitlab.com"
    assert isinstance(back.identity_token, dagger.Secret) and isinstance(back.registry_service, dagger.Service)
    assert back.build_secret_ids == ["npm"]
    image = sw.image(dag.container())
    image_state = await MOD.unstructure(image, Image)
    image_back = await MOD.structure(image_state, Image)
    assert image_back.registry_addresses == ["ghcr.io", "quay.io"] and len(image_back.registry_secrets) == 2


# --- result objects: side effects and secrets ------------------------------------------------------------


@pytest.mark.anyio
async def test_image_publish_pushes_with_the_repositorys_credentials_as_a_secret_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[Any, Invocation]] = []

    async def capture(ctr: Any, inv: Invocation, **_: Any) -> Any:
        seen.append((ctr, inv))
        raise Stop

    monkeypatch.setattr(release, "collect", capture)
    ghcr, quay = secret("ghcr"), secret("quay")
    sw = Seaworthy().with_registry_auth("quay.io", "robot", quay).with_registry_auth("ghcr.io", "me", ghcr)
    image = sw.image(dag.container().from_("alpine:3.22"))
    with pytest.raises(Stop):
        await image.publish("ghcr.io/Octo-Org/App", "v1")
    ctr, inv = seen[0]
    assert "ghcr.io/octo-org/app:v1" in " ".join(inv.argv)  # the mixed-case owner lower-cased
    (variable,) = selections(ctr, "withSecretVariable")
    assert variable["name"] == skopeo.AUTH_PASSWORD_ENV and variable["secret"] is ghcr
    plain = {a["name"]: a["value"] for a in selections(ctr, "withEnvVariable")}
    assert plain[skopeo.AUTH_USERNAME_ENV] == "me"
    assert not any("plain-" in a for e in selections(ctr, "withExec") for a in e["args"])


@pytest.mark.anyio
async def test_sign_uses_the_chained_key_and_the_refs_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    async def capture(ctr: Any, inv: Invocation, **_: Any) -> Any:
        seen.append(ctr)
        raise Stop

    monkeypatch.setattr(release, "collect", capture)
    key, token = secret("key"), secret("token")
    sw = Seaworthy().with_cosign_key(key).with_registry_auth("ghcr.io", "me", token)
    with pytest.raises(Stop):
        await sw.sign(f"ghcr.io/org/app@{DIGEST}")
    (ctr,) = seen
    secrets = {a["name"]: a["secret"] for a in selections(ctr, "withSecretVariable")}
    assert secrets["COSIGN_PRIVATE_KEY"] is key and secrets["COSIGN_REGISTRY_PASSWORD"] is token


@pytest.mark.anyio
async def test_sign_without_a_chained_signer_says_how_to_chain_one() -> None:
    with pytest.raises(InputError, match="no way to sign was chained: add with-cosign-key"):
        await Seaworthy().sign(f"ghcr.io/org/app@{DIGEST}")


def _release(**changes: Any) -> Release:
    base = Release(
        ref=f"ghcr.io/org/app@{DIGEST}",
        passed=True,
        verdict="{}",
        reasons=[],
        summary="",
        reports=dag.directory(),
        sbom=dag.directory(),
        config_digests=[DIGEST],
    )
    return dataclasses.replace(base, **changes)


@pytest.mark.anyio
async def test_release_verify_says_why_it_cannot_run() -> None:
    with pytest.raises(InputError, match="nothing was published"):
        await _release(ref="", passed=False).verify()
    with pytest.raises(InputError, match="ephemeral in-engine registry"):
        await _release(ephemeral=True).verify()
    with pytest.raises(InputError, match="verify has nothing to check the signature against"):
        await _release().verify()


@pytest.mark.anyio
async def test_release_verify_uses_the_keyless_identity_chained_before_ship(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    async def capture(ctr: Any, inv: Invocation, **_: Any) -> Any:
        seen.append(inv)
        raise Stop

    monkeypatch.setattr(release, "collect", capture)
    token = secret("reg")
    rel = _release(
        signing_mode="keyless",
        keyless_identity="https://github.com/o/r/.github/workflows/ship.yml@refs/heads/main",
        keyless_issuer="https://token.actions.githubusercontent.com",
        registry_addresses=["ghcr.io"],
        registry_usernames=["me"],
        registry_secrets=[token],
    )
    with pytest.raises(Stop):
        await rel.verify()
    argv = " ".join(seen[0].argv)
    assert "--certificate-identity https://github.com/o/r/.github/workflows/ship.yml@refs/heads/main" in argv
    assert "--certificate-oidc-issuer https://token.actions.githubusercontent.com" in argv


def test_ship_checks_the_plan_before_anything_runs() -> None:
    async def go(sw: Seaworthy, **kw: Any) -> Any:
        return await sw.ship(dag.directory(), **kw)

    with pytest.raises(InputError, match="no way to sign was chained"):
        anyio.run(lambda: go(Seaworthy(), repository="ghcr.io/org/app"))
    with pytest.raises(InputError, match="keyless signing needs with-keyless --identity"):
        anyio.run(lambda: go(Seaworthy().with_keyless(identity_token=secret("t")), repository="ghcr.io/org/app"))
    with pytest.raises(InputError, match="with-registry-service needs --repository"):
        anyio.run(lambda: go(Seaworthy().with_registry_service(dag.container().as_service())))
    with pytest.raises(InputError, match="not expanded"):
        anyio.run(lambda: go(Seaworthy().with_cosign_key(secret("k")), repository="ghcr.io/${OWNER}/app"))


@pytest.mark.anyio
async def test_verify_with_a_public_key_does_not_mix_in_the_chained_keyless_identity(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[Invocation] = []

    async def capture(ctr: Any, inv: Invocation, **_: Any) -> Any:
        seen.append(inv)
        raise Stop

    monkeypatch.setattr(release, "collect", capture)
    sw = Seaworthy().with_keyless(identity_token=secret("t"), identity="me@example.com", issuer="https://gitlab.com")
    with pytest.raises(Stop):
        await sw.verify(f"ghcr.io/org/app@{DIGEST}", public_key=dag.directory().file("cosign.pub"))
    argv = list(seen[0].argv)
    assert "--key" in argv and "--certificate-identity" not in argv and "--certificate-oidc-issuer" not in argv
    seen.clear()
    with pytest.raises(Stop):
        await sw.verify(f"ghcr.io/org/app@{DIGEST}")
    argv = list(seen[0].argv)
    assert argv[argv.index("--certificate-identity") + 1] == "me@example.com" and "--key" not in argv
