"""OPA: evaluates the Rego gate in its official image (`opa eval`).

The stage mounts the bundled policy folder at POLICY_BUNDLED, each user policy folder at
`user_policy_mount(i)`, and the gate input document (pipeline.policy.input.build_input, as JSON) at INPUT.
OPA writes the evaluation result (JSON) on stdout; `parse` returns the value of `data.seaworthy.gate`,
which `pipeline.policy.verdict.read_verdict` turns into a Verdict. The same policy files are evaluated by
regorus in the tests (pipeline.policy.engine), so keep policies to built-ins both engines have.
"""

from __future__ import annotations

from typing import Any, cast

from pipeline.errors import ToolOutputError
from pipeline.tools.base import IN, OUT, ExitCodes, Invocation, expect_dict, expect_list, load_json, pinned

NAME = "opa"

IMAGE = pinned(NAME)
"""Pinned in images.toml: official image, static variant (the binary is /opa; no shell)."""

BINARY = "/opa"
USER = "1000:1000"
"""The user OPA's official images run as (``USER 1000:1000`` since 0.58): its output folder must be its own."""
QUERY = "data.seaworthy.gate"
EVAL_TIMEOUT = "60s"
"""`opa eval --timeout`: an evaluation that takes longer is cancelled (an error, never a verdict); the same
limit as pipeline.policy.engine.POLICY_TIMEOUT_SECONDS for regorus."""
POLICY_BUNDLED = f"{IN}/policy/bundled"
INPUT = f"{IN}/gate-input.json"
REPORT = f"{OUT}/opa-gate.json"


def user_policy_mount(index: int) -> str:
    return f"{IN}/policy/user-{index}"


def eval_gate(user_policy_dirs: int = 0, *, query: str = QUERY) -> Invocation:
    """`opa eval --format json --timeout 60s --data <bundled> [--data <user-i> …] --input <input.json> <query>`.

    `user_policy_dirs` is how many user folders the stage mounts (at `user_policy_mount(0..n-1)`).
    Mount keys: POLICY_BUNDLED -> "policy:bundled", user_policy_mount(i) -> f"policy:user:{i}",
    INPUT -> "gate-input".
    """
    mounts = {POLICY_BUNDLED: "policy:bundled", INPUT: "gate-input"}
    argv = [BINARY, "eval", "--format", "json", "--timeout", EVAL_TIMEOUT, "--data", POLICY_BUNDLED]
    for i in range(user_policy_dirs):
        mounts[user_policy_mount(i)] = f"policy:user:{i}"
        argv += ["--data", user_policy_mount(i)]
    argv += ["--input", INPUT, query]
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=tuple(argv),
        report=REPORT,
        exit_codes=ExitCodes(clean=frozenset({0})),
        mounts=mounts,
        stdout_to_report=True,
    )


def parse(text: str, *, query: str = QUERY) -> dict[str, Any]:
    """The value of the gate query from `opa eval --format json` output; fails closed.

    Errors OPA reports (`{"errors": [...]}`: parse/compile/eval errors), an undefined result (`{}`: the gate
    package was not loaded) and empty or truncated output are all ToolOutputError, never a pass.
    """
    doc = expect_dict(NAME, load_json(NAME, text), "the eval output")
    errors = expect_list(NAME, doc.get("errors"), "errors")
    if errors:
        raise ToolOutputError(NAME, "policy errors: " + "; ".join(_error_text(e) for e in errors[:5]))
    results = expect_list(NAME, doc.get("result"), "result")
    if not results:
        raise ToolOutputError(NAME, f"{query} is undefined (no result); the bundled policy folder is missing")
    first = expect_dict(NAME, results[0], "result[0]")
    expressions = expect_list(NAME, first.get("expressions"), "result[0].expressions")
    if not expressions:
        raise ToolOutputError(NAME, "result[0] has no expressions")
    value = expect_dict(NAME, expressions[0], "result[0].expressions[0]").get("value")
    return expect_dict(NAME, value, f"the value of {query}")


def _error_text(err: Any) -> str:
    if not isinstance(err, dict):
        return str(err)  # pyright: ignore[reportUnknownArgumentType]
    entry = cast(dict[str, Any], err)
    loc: Any = entry.get("location") or {}
    where = ""
    if isinstance(loc, dict):
        place = cast(dict[str, Any], loc)
        where = f"{place.get('file', '')}:{place.get('row', '')}: "
    return f"{where}{entry.get('message', entry)}"
