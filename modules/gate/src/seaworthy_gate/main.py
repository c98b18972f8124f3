"""The `seaworthy-gate` module: Seaworthy's policy gate over a gate input document.

Thin by design: every function calls `pipeline.api` (never `pipeline.main`, whose object types would register
here too). See docs/architecture.md, "Modules under modules/: how they share the core".
"""

from __future__ import annotations

import copy
from dataclasses import field as state
from typing import Annotated, Self

import dagger
from dagger import Doc, field, function, object_type

from pipeline import api


@object_type
class GateResult:
    """The policy gate's verdict."""

    passed: bool = field()
    verdict: str = field()
    """The verdict document (JSON)."""
    reasons: list[str] = field()
    """"rule_id: message" of each denial."""
    summary: str = field()
    """Markdown summary of the verdict."""


@object_type
class SeaworthyGate:
    """Seaworthy's policy gate: the bundled Rego policies (plus yours) over a gate input document in OPA."""

    policy: dagger.Directory | None = state(default=None, init=False)

    @function
    def with_policy(
        self, directory: Annotated[dagger.Directory, Doc("Your Rego policy folder (adds/overrides rules by id)")]
    ) -> Self:
        """Gate with your own Rego policies as well as the bundled ones."""
        new = copy.copy(self)
        new.policy = directory
        return new

    @function(cache="24h")  # type: ignore[call-overload]
    async def gate(
        self, input: Annotated[dagger.File, Doc("A gate input document (gate-input.json of a scan or ship report)")]
    ) -> GateResult:
        """Evaluate the gate input with the bundled policies (and yours); a denial is passed=false, not an error.

        Cache: 24h. A pure function of the document, the policies and the pinned OPA image (all in the cache
        key); a day rather than the default week so a re-pinned OPA tag is picked up within a day.
        """
        verdict = await api.gate(await input.contents(), policy=self.policy)
        return GateResult(
            passed=verdict.passed,
            verdict=api.verdict_json(verdict),
            reasons=api.reasons(verdict),
            summary=api.verdict_summary(verdict),
        )
