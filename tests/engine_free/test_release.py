"""cosign runs in the release stage: retried with a fresh exec on a retryable failure, stopped with an
actionable error otherwise (dagger-python.md §7: no engine, the async leaves are stubbed).

The leaves `collect` awaits (`Container.exit_code`, `.stderr`, `.exists`, `File.contents`) answer from the
recorded query chain of the container, so each test decides what the one cosign exec "printed" by looking
at the cache buster it was built with — the only thing that tells two attempts apart for the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dagger
import pytest
from dagger import dag

from pipeline.errors import InputError, ToolFailed
from pipeline.formats import intoto
from pipeline.stages import release
from pipeline.stages.runner import Mountable, file_of
from pipeline.tools import cosign
from pipeline.tools.skopeo import FailureKind, RegistryFailure

REGISTRY = "registry.example.com"
REF = f"{REGISTRY}/team/app@sha256:{'a' * 64}"
MANIFEST_URL = f"https://{REGISTRY}/v2/team/app/manifests/sha256:{'a' * 64}"
BUSTER = "SEAWORTHY_CACHE_BUSTER"

# go-containerregistry transport errors as cosign prints them (see tests/unit/test_cosign_failures.py)
E503 = f"Error: signing [{REF}]: accessing image: GET {MANIFEST_URL}: unexpected status code 503 Service Unavailable\n"
E401 = (
    f"Error: signing [{REF}]: accessing image: GET {MANIFEST_URL}: UNAUTHORIZED: authentication required; "
    "[map[Action:pull Class: Name:team/app Type:repository]]\n"
)
WRONG_PASSWORD = f"Error: signing [{REF}]: getting signer: reading key: decrypt: encrypted: decryption failed\n"


def selections(obj: Any, name: str) -> list[dict[str, Any]]:
    return [dict(s.args) for s in obj._ctx.selections if s.name == name]


def buster_of(obj: Any) -> str:
    values = [a["value"] for a in selections(obj, "withEnvVariable") if a["name"] == BUSTER]
    return values[-1] if values else ""


def argv_of(obj: Any) -> list[str]:
    return [a for e in selections(obj, "withExec") for a in e["args"]]


Outcome = Callable[[int], tuple[int, str]]
"""attempt number (1, 2, …, in the order the execs were awaited) -> (exit code, stderr)."""


def stub_cosign(monkeypatch: pytest.MonkeyPatch, outcome: Outcome, report: str = "") -> list[Any]:
    """Stub the leaves; returns the containers whose exit code was awaited (one per cosign exec)."""
    awaited: list[Any] = []
    attempt_of: dict[str, int] = {}

    def result(ctr: Any) -> tuple[int, str]:
        buster = buster_of(ctr)
        return outcome(attempt_of[buster])

    async def _exit_code(self: Any) -> int:
        awaited.append(self)
        attempt_of.setdefault(buster_of(self), len(attempt_of) + 1)
        return result(self)[0]

    async def _stderr(self: Any) -> str:
        return result(self)[1]

    async def _exists(self: Any, path: str, **_: Any) -> bool:
        return True

    async def _contents(self: Any) -> str:
        return report

    monkeypatch.setattr(dagger.Container, "exit_code", _exit_code)
    monkeypatch.setattr(dagger.Container, "stderr", _stderr)
    monkeypatch.setattr(dagger.Container, "exists", _exists)
    monkeypatch.setattr(dagger.File, "contents", _contents)
    monkeypatch.setattr(release, "COSIGN_BACKOFF", 0.0)  # the schedule itself is tested in test_retry.py
    return awaited


def key_signing() -> release.Signing:
    return release.Signing.from_args(key=dag.set_secret("k", "pem"), key_password=dag.set_secret("p", "pw"))


@pytest.mark.anyio
async def test_a_503_is_retried_with_a_fresh_buster_until_it_succeeds(monkeypatch: pytest.MonkeyPatch) -> None:
    awaited = stub_cosign(monkeypatch, lambda attempt: (1, E503) if attempt == 1 else (0, ""))
    await release.sign(REF, key_signing(), release.RegistryAccess())
    assert len(awaited) == 2
    first, second = (buster_of(c) for c in awaited)
    assert first and second and first != second  # else the engine would hand back the cached 503
    assert first.rsplit("-", 1)[0] == second.rsplit("-", 1)[0]  # one run, two attempts
    assert all(argv_of(c)[:2] == ["cosign", "sign"] and argv_of(c)[-1] == REF for c in awaited)


@pytest.mark.anyio
async def test_a_503_that_persists_is_raised_after_every_attempt(monkeypatch: pytest.MonkeyPatch) -> None:
    awaited = stub_cosign(monkeypatch, lambda _attempt: (1, E503))
    with pytest.raises(RegistryFailure) as info:
        await release.sign(REF, key_signing(), release.RegistryAccess())
    assert info.value.kind is FailureKind.SERVER_ERROR and info.value.retryable
    assert len(awaited) == release.COSIGN_ATTEMPTS
    assert len({buster_of(c) for c in awaited}) == release.COSIGN_ATTEMPTS


@pytest.mark.anyio
async def test_a_401_stops_at_once_with_the_classified_error(monkeypatch: pytest.MonkeyPatch) -> None:
    awaited = stub_cosign(monkeypatch, lambda _attempt: (1, E401))
    with pytest.raises(RegistryFailure) as info:
        await release.sign(REF, key_signing(), release.RegistryAccess())
    assert info.value.kind is FailureKind.UNAUTHORIZED and not info.value.retryable
    assert info.value.registry == REGISTRY
    assert "with-registry-auth" in str(info.value).splitlines()[0]
    assert len(awaited) == 1


@pytest.mark.anyio
async def test_a_wrong_key_password_is_an_input_error_and_attest_does_not_report_success(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    awaited = stub_cosign(monkeypatch, lambda _attempt: (1, WRONG_PASSWORD))
    predicate = release.predicate_file("p.json", {"a": 1})
    with pytest.raises(InputError, match="with-cosign-key --password"):
        await release.attest(REF, predicate, intoto.VERDICT_V1, key_signing(), release.RegistryAccess())
    assert len(awaited) == 1 and argv_of(awaited[0])[:2] == ["cosign", "attest"]


@pytest.mark.anyio
async def test_an_unrecognised_failure_is_cosigns_own_message(monkeypatch: pytest.MonkeyPatch) -> None:
    stub_cosign(monkeypatch, lambda _attempt: (1, "Error: signing [x]: payload: unexpected end of JSON input\n"))
    with pytest.raises(ToolFailed, match="unexpected end of JSON input"):
        await release.sign(REF, key_signing(), release.RegistryAccess())


@pytest.mark.anyio
async def test_verify_attestation_registry_failure_is_not_read_as_unverified(monkeypatch: pytest.MonkeyPatch) -> None:
    # verify-attestation exits 1 both for "no matching attestations" and for a registry failure
    call = cosign.verify_attestation(REF, intoto.VERDICT_V1, key=cosign.PUBLIC_KEY)
    mounts: dict[str, Mountable] = {cosign.PUBLIC_KEY: file_of("cosign.pub", "pub")}
    awaited = stub_cosign(monkeypatch, lambda _attempt: (1, E401.replace("signing", "verifying")))
    with pytest.raises(RegistryFailure):
        await release._run_cosign(call, {}, release.RegistryAccess(), mounts, what="verify-attestation")  # pyright: ignore[reportPrivateUsage]
    assert len(awaited) == 1
    unverified = "Error: no matching attestations: no signatures found\n"
    stub_cosign(monkeypatch, lambda _attempt: (1, unverified))
    got = await release._run_cosign(call, {}, release.RegistryAccess(), mounts, what="verify-attestation")  # pyright: ignore[reportPrivateUsage]
    check = cosign.read_verify_attestation(intoto.VERDICT_V1, got.exit_code, got.report, got.stderr)
    assert not check.verified and "no matching attestations" in check.message


@pytest.mark.anyio
async def test_public_key_is_read_once_and_must_be_a_public_key(monkeypatch: pytest.MonkeyPatch) -> None:
    pem = "-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n"
    awaited = stub_cosign(monkeypatch, lambda _attempt: (0, ""), report=pem)
    key = await release.public_key_of(key_signing())
    assert isinstance(key, dagger.File) and len(awaited) == 1
    stub_cosign(monkeypatch, lambda _attempt: (1, WRONG_PASSWORD))
    with pytest.raises(InputError, match="with-cosign-key --password"):
        await release.public_key_of(key_signing())
