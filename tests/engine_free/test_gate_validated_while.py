"""`ship`'s gate validates its document while OPA evaluates it (`pipeline.stages.gate.validated_while`), and
still fails closed: no verdict unless the validation passed, the validation's error first, unwrapped.

`evaluate` here is a plain coroutine standing for the OPA run (what it returns or raises is all
`validated_while` sees); the validation is the real `validate_gate_input` where a document is involved.
"""

from __future__ import annotations

import datetime
import threading
import time
from collections.abc import Awaitable, Callable

import anyio
import pytest

from pipeline.errors import PolicyError
from pipeline.policy.config import GateConfig
from pipeline.policy.input import build_input
from pipeline.policy.schema import validate_gate_input
from pipeline.stages.gate import validated_while


def run(validate: Callable[[], None], evaluate: Callable[[], Awaitable[str]]) -> str:
    return anyio.run(validated_while, validate, evaluate)


def test_the_result_comes_back_when_the_document_is_valid() -> None:
    doc = build_input(
        (), sbom=None, facts=(), build=None, config=GateConfig(), exceptions=(), today=datetime.date(2026, 6, 1)
    )

    async def evaluate() -> str:
        return "verdict"

    assert run(lambda: validate_gate_input(doc, where="built by ship"), evaluate) == "verdict"


def test_the_validation_runs_while_the_evaluation_does() -> None:
    """Validation waits (in its thread) until the evaluation has started: a gate that validated first, then
    evaluated, would see the evaluation start only after the validation gave up."""
    started = threading.Event()
    seen: list[bool] = []

    def validate() -> None:
        seen.append(started.wait(10))

    async def evaluate() -> str:
        started.set()
        await anyio.sleep(0.05)
        return "verdict"

    assert run(validate, evaluate) == "verdict"
    assert seen == [True]


def test_an_invalid_document_gives_its_error_and_no_verdict_even_when_the_evaluation_answered_first() -> None:
    answered: list[str] = []

    def validate() -> None:
        time.sleep(0.2)  # the evaluation is done before the validation is
        validate_gate_input({}, where="built by ship")

    async def evaluate() -> str:
        answered.append("pass")
        return "verdict: passed"

    with pytest.raises(PolicyError, match="built by ship") as caught:
        run(validate, evaluate)
    assert type(caught.value) is PolicyError  # not an exception group around it
    assert answered == ["pass"]


def test_an_invalid_document_cancels_the_evaluation() -> None:
    finished: list[bool] = []

    async def evaluate() -> str:
        await anyio.sleep(30)
        finished.append(True)
        return "verdict"

    t0 = time.monotonic()
    with pytest.raises(PolicyError, match="built by ship"):
        run(lambda: validate_gate_input({}, where="built by ship"), evaluate)
    assert finished == [] and time.monotonic() - t0 < 10


def test_the_documents_error_comes_before_the_evaluations() -> None:
    async def evaluate() -> str:
        raise RuntimeError("opa: rego_parse_error in the user's policy")

    def validate() -> None:
        time.sleep(0.1)  # the evaluation fails first
        validate_gate_input({}, where="built by ship")

    with pytest.raises(PolicyError, match="built by ship"):
        run(validate, evaluate)


def test_the_evaluations_error_when_the_document_is_valid() -> None:
    async def evaluate() -> str:
        raise RuntimeError("opa: rego_parse_error in the user's policy")

    with pytest.raises(RuntimeError, match="rego_parse_error") as caught:
        run(lambda: None, evaluate)
    assert type(caught.value) is RuntimeError


def test_a_caller_that_gives_up_gets_its_cancellation_not_a_verdict() -> None:
    """The caller's deadline passes while the (valid) document is being validated: the evaluation is cancelled,
    and the caller sees its own timeout or cancellation, never a verdict nor an internal error."""

    def validate() -> None:
        time.sleep(0.3)

    async def evaluate() -> str:
        await anyio.sleep(30)
        return "verdict"

    async def moved_on() -> list[str]:
        got: list[str] = []
        with anyio.move_on_after(0.1) as scope:
            got.append(await validated_while(validate, evaluate))
        assert scope.cancelled_caught
        return got

    async def timed_out() -> str:
        with anyio.fail_after(0.1):
            return await validated_while(validate, evaluate)

    assert anyio.run(moved_on) == []
    with pytest.raises(TimeoutError):
        anyio.run(timed_out)


def test_an_evaluation_cancelled_on_its_own_is_an_error_not_a_verdict() -> None:
    async def evaluate() -> str:
        raise anyio.get_cancelled_exc_class()()

    with pytest.raises(RuntimeError, match="cancelled before it gave a verdict"):
        run(lambda: None, evaluate)
