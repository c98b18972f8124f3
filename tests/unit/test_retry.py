"""Retry with exponential backoff (skopeo.with_retries / with_retries_async / backoff_delays)."""

from __future__ import annotations

import anyio
import pytest

from pipeline.tools.skopeo import (
    FailureKind,
    RegistryFailure,
    backoff_delays,
    is_retryable,
    with_retries,
    with_retries_async,
)


def _failure(kind: FailureKind) -> RegistryFailure:
    return RegistryFailure("127.0.0.1:5000", kind, f"push to registry 127.0.0.1:5000 failed: {kind}; fix it")


class Flaky:
    """Raises the given exceptions in order, then returns "ok"."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_backoff_schedule_is_exponential_and_capped() -> None:
    assert backoff_delays(1) == ()
    assert backoff_delays(4, backoff=0.5) == (0.5, 1.0, 2.0)
    assert backoff_delays(6, backoff=1, factor=3, max_delay=10) == (1, 3, 9, 10, 10)
    with pytest.raises(ValueError, match="attempts"):
        backoff_delays(0)
    with pytest.raises(ValueError, match="factor"):
        backoff_delays(2, factor=0.5)


def test_retries_retryable_failures_then_succeeds() -> None:
    slept: list[float] = []
    seen: list[tuple[int, FailureKind, float]] = []
    fn = Flaky(_failure(FailureKind.UNREACHABLE), _failure(FailureKind.SERVER_ERROR))
    result = with_retries(
        fn,
        attempts=3,
        backoff=0.25,
        sleep=slept.append,
        on_retry=lambda n, exc, d: seen.append((n, exc.kind, d)) if isinstance(exc, RegistryFailure) else None,
    )
    assert result == "ok"
    assert fn.calls == 3
    assert slept == [0.25, 0.5]
    assert seen == [(1, FailureKind.UNREACHABLE, 0.25), (2, FailureKind.SERVER_ERROR, 0.5)]


def test_gives_up_after_attempts_with_the_last_error() -> None:
    slept: list[float] = []
    last = _failure(FailureKind.UNREACHABLE)
    fn = Flaky(_failure(FailureKind.UNREACHABLE), _failure(FailureKind.RATE_LIMITED), last, last)
    with pytest.raises(RegistryFailure) as info:
        with_retries(fn, attempts=3, backoff=1, sleep=slept.append)
    assert info.value is last
    assert fn.calls == 3
    assert slept == [1, 2]


@pytest.mark.parametrize(
    "error",
    [
        _failure(FailureKind.UNAUTHORIZED),
        _failure(FailureKind.DENIED),
        _failure(FailureKind.TLS),
        _failure(FailureKind.NOT_FOUND),
        _failure(FailureKind.UNKNOWN_HOST),
        ValueError("a bug, not a registry problem"),
    ],
)
def test_does_not_retry_permanent_errors(error: Exception) -> None:
    slept: list[float] = []
    fn = Flaky(error)
    with pytest.raises(type(error)) as info:
        with_retries(fn, attempts=5, sleep=slept.append)
    assert info.value is error
    assert fn.calls == 1
    assert slept == []


def test_retryable_kinds() -> None:
    assert {k for k in FailureKind if _failure(k).retryable} == {
        FailureKind.UNREACHABLE,
        FailureKind.RATE_LIMITED,
        FailureKind.SERVER_ERROR,
    }
    assert is_retryable(_failure(FailureKind.SERVER_ERROR))
    assert not is_retryable(OSError("not a registry failure"))


def test_custom_retry_predicate() -> None:
    fn = Flaky(OSError("boom"), OSError("boom"))
    slept: list[float] = []
    assert with_retries(fn, attempts=3, retry_if=lambda e: isinstance(e, OSError), sleep=slept.append) == "ok"
    assert fn.calls == 3


def test_async_variant_same_schedule() -> None:
    slept: list[float] = []

    async def fake_sleep(delay: float) -> None:
        slept.append(delay)

    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise _failure(FailureKind.SERVER_ERROR)
        return "ok"

    async def main() -> str:
        return await with_retries_async(flaky, attempts=3, backoff=2, sleep=fake_sleep)

    assert anyio.run(main) == "ok"
    assert calls == 3
    assert slept == [2, 4]

    async def denied() -> str:
        raise _failure(FailureKind.DENIED)

    async def main2() -> str:
        return await with_retries_async(denied, attempts=3, sleep=fake_sleep)

    with pytest.raises(RegistryFailure):
        anyio.run(main2)
    assert slept == [2, 4]
