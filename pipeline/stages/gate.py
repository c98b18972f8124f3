"""The policy gate stage: the bundled Rego policies (plus the user's) evaluated by OPA in its image."""

from __future__ import annotations

from collections.abc import Sequence

import dagger
from dagger import dag

from pipeline.model import Verdict
from pipeline.policy.engine import check_user_policy_texts
from pipeline.policy.verdict import read_verdict
from pipeline.stages.runner import Mountable, collect, file_of, tool_container
from pipeline.tools import opa

BUNDLED_POLICY = "pipeline/policy/rego"
"""The bundled policies, relative to the module source."""


def bundled_policy() -> dagger.Directory:
    return dag.current_module().source().directory(BUNDLED_POLICY)


async def check_user_policy(policy: dagger.Directory, where: str) -> None:
    """A user policy folder must hold .rego files, none of which reuses a bundled package name."""
    names = await policy.glob("**/*.rego")
    texts = {name: await policy.file(name).contents() for name in sorted(names)}
    check_user_policy_texts(texts, where=where)


async def evaluate(input_text: str, *, user_policies: Sequence[tuple[str, dagger.Directory]] = ()) -> Verdict:
    """Evaluate a gate input document (JSON text) with OPA; returns the verdict (never raises on deny)."""
    for where, policy in user_policies:
        await check_user_policy(policy, where)
    inv = opa.eval_gate(len(user_policies))
    mounts: dict[str, Mountable] = {
        opa.POLICY_BUNDLED: bundled_policy(),
        opa.INPUT: file_of("gate-input.json", input_text),
    }
    for i, (_, policy) in enumerate(user_policies):
        mounts[opa.user_policy_mount(i)] = policy
    got = await collect(tool_container(inv, mounts), inv)
    return read_verdict(opa.parse(got.report))
