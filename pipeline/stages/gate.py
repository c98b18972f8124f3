"""The policy gate stage: the bundled Rego policies (plus the user's) evaluated by OPA in its image."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

import anyio
import anyio.lowlevel
import anyio.to_thread
import dagger

from pipeline.errors import ToolFailed, ToolOutputError
from pipeline.model import Verdict
from pipeline.policy.engine import DATA_FILE_PATTERNS, check_no_data_files, check_user_policy_texts
from pipeline.policy.schema import load_gate_input, validate_gate_input
from pipeline.policy.verdict import read_verdict
from pipeline.stages.bundled import directory as bundled_directory
from pipeline.stages.runner import Mountable, collect, file_of, tool_container
from pipeline.tools import opa

BUNDLED_POLICY = "pipeline/policy/rego"
"""The bundled policies, relative to the module source."""
OPA_USER = opa.USER

T = TypeVar("T")


def bundled_policy() -> dagger.Directory:
    return bundled_directory(BUNDLED_POLICY.removeprefix("pipeline/"))


async def check_user_policy(policy: dagger.Directory, where: str) -> None:
    """A user policy folder must hold .rego files only, each passing `check_user_policy_texts`."""
    check_no_data_files(sorted({n for pattern in DATA_FILE_PATTERNS for n in await policy.glob(pattern)}), where=where)
    names = await policy.glob("**/*.rego")
    texts = {name: await policy.file(name).contents() for name in sorted(names)}
    check_user_policy_texts(texts, where=where)


async def evaluate(
    input_text: str, *, user_policies: Sequence[tuple[str, dagger.Directory]] = (), where: str = "--input"
) -> Verdict:
    """Evaluate a gate input document (JSON text) with OPA; returns the verdict (never raises on deny).

    The document is validated against pipeline/policy/gate-input.schema.json first (PolicyError naming
    `where`, the JSON path and the fix): `{}`, a misspelt category or a rank that disagrees with its
    severity never reaches the policies.
    """
    load_gate_input(input_text, where=where)
    return await _evaluate_valid(input_text, user_policies)


async def evaluate_built(
    doc: Mapping[str, Any], input_text: str, *, user_policies: Sequence[tuple[str, dagger.Directory]] = ()
) -> Verdict:
    """`evaluate` for the document `ship` has just built: `doc` is validated, `input_text` (its JSON) evaluated.

    The validation (pure Python, 0.2 s at 100k findings) runs in a worker thread while OPA evaluates in its
    container (`validated_while`): an invalid document gives its error and no verdict, whatever OPA answered.
    """
    return await validated_while(
        lambda: validate_gate_input(doc, where="built by ship"), lambda: _evaluate_valid(input_text, user_policies)
    )


async def validated_while(validate: Callable[[], None], evaluate: Callable[[], Awaitable[T]]) -> T:
    """`evaluate()`'s result, computed while `validate()` runs in a worker thread, and returned only once
    `validate()` has passed: fail closed. When `validate()` raises, `evaluate()` is cancelled and the
    validation's error is raised (not wrapped in an exception group), whatever `evaluate()` did; otherwise
    `evaluate()`'s own error, if any. The same order as validating first: the document's error comes before
    anything the policies or the engine make of it. A caller's own cancellation or deadline reaches it as such
    (once the validation thread is done); an evaluation cancelled on its own is an error, never a verdict."""
    outcome: list[T] = []
    evaluate_error: list[Exception] = []
    invalid: list[Exception] = []

    async def run_evaluate() -> None:
        try:
            outcome.append(await evaluate())
        except Exception as exc:  # kept for after the validation: its error comes first
            evaluate_error.append(exc)

    async with anyio.create_task_group() as tg:
        tg.start_soon(run_evaluate)
        try:
            await anyio.to_thread.run_sync(validate)
        except Exception as exc:  # raised below, after the task group, so that it is not wrapped
            invalid.append(exc)
            tg.cancel_scope.cancel()
    if invalid:
        raise invalid[0]
    if evaluate_error:
        raise evaluate_error[0]
    if not outcome:  # the evaluation was cancelled: by the caller (raised here), or by itself
        await anyio.lowlevel.checkpoint()
        raise RuntimeError("the policy evaluation was cancelled before it gave a verdict")
    return outcome[0]


async def _evaluate_valid(input_text: str, user_policies: Sequence[tuple[str, dagger.Directory]]) -> Verdict:
    for where, policy in user_policies:
        await check_user_policy(policy, where)
    inv = opa.eval_gate(len(user_policies))
    mounts: dict[str, Mountable] = {
        opa.POLICY_BUNDLED: bundled_policy(),
        opa.INPUT: file_of("gate-input.json", input_text),
    }
    for i, (_, policy) in enumerate(user_policies):
        mounts[opa.user_policy_mount(i)] = policy
    labels = {opa.user_policy_mount(i): where for i, (where, _) in enumerate(user_policies)}
    try:
        got = await collect(tool_container(inv, mounts, user=OPA_USER), inv)
        result = opa.parse(got.report)
    except ToolOutputError as exc:  # OPA's errors (recursion, timeout, …) name the user's folder, not our mount
        raise ToolOutputError(exc.tool, name_user_folders(exc.problem, labels)) from None
    except ToolFailed as exc:
        raise ToolFailed(exc.tool, exc.exit_code, name_user_folders(exc.tool_message, labels)) from None
    return read_verdict(result)


def name_user_folders(text: str, labels: Mapping[str, str]) -> str:
    """`text` with each user policy mount path replaced by the name the user gave the folder (e.g. --policy)."""
    for mount in sorted(labels, key=len, reverse=True):
        text = text.replace(mount, labels[mount])
    return text


POLICY_FILES = ("**/*.rego", "**/*.json", "**/*.yaml", "**/*.yml")
"""What `opa eval --data <folder>` loads from a policy folder: Rego modules and data documents."""


def digest_of_policies(texts: Sequence[tuple[str, Mapping[str, str]]]) -> str:
    """sha256 over every policy folder's files (label, path, content), in the order OPA is given them."""
    h = hashlib.sha256()
    for label, files in texts:
        for path in sorted(files):
            content = files[path].encode()
            h.update(f"{label}\0{path}\0{len(content)}\0".encode())
            h.update(content)
    return "sha256:" + h.hexdigest()


async def policy_digest(user_policies: Sequence[tuple[str, dagger.Directory]] = ()) -> str:
    """The digest of the policies that decide: the bundled folder, then the user's, by content."""
    folders = [("bundled", bundled_policy()), *user_policies]
    texts: list[tuple[str, dict[str, str]]] = []
    for label, folder in folders:
        names = sorted({n for pattern in POLICY_FILES for n in await folder.glob(pattern)})
        texts.append((label, {n: await folder.file(n).contents() for n in names}))
    return digest_of_policies(texts)
