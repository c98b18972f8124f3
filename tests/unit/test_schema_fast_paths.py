"""The gate input validator's shortcuts accept exactly what the full checks accept, and fail the same way.

Two shortcuts were added for speed (issue 8: 100k findings validated on every `ship`): a finding's rank is
compared with the rank its severity pins by one lookup (`_switch` with `_pinned` cases), and an array of
non-empty strings (tools, targets) is checked without a call per item. Each only lets through values the
full check passes and leaves everything else to it. Checked here on mutated gate inputs against the same
schema compiled without the shortcuts, and against the `jsonschema` package.
"""

from __future__ import annotations

import datetime
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.policy import schema
from pipeline.policy.config import GateConfig
from pipeline.policy.exceptions import parse_exceptions
from pipeline.policy.input import build_input
from tests.fuzz.strategies import keys_of, mutated
from tests.unit.report_factories import image_facts, realistic, sbom


def _base() -> dict[str, Any]:
    _, findings, _ = realistic()
    tables = [{"target": "image.root-user", "owner": "o", "reason": "r", "expires": datetime.date(2030, 1, 1)}]
    return build_input(
        findings,
        sbom=sbom(),
        facts=[image_facts()],
        build=None,
        config=GateConfig(),
        exceptions=parse_exceptions(tables),
        today=datetime.date(2026, 6, 1),
    )


BASE = _base()
ROOT = schema.gate_input_schema()
JSONSCHEMA = jsonschema.Draft202012Validator(dict(ROOT))


def _without_shortcuts() -> schema.Check:
    plain_array = schema._array  # pyright: ignore[reportPrivateUsage]

    def array(items: Any, min_items: int, *, typed: bool, fast: Any = None) -> schema.Check:
        return plain_array(items, min_items, typed=typed)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(schema, "_pinned", lambda then: None)
        patch.setattr(schema, "_array", array)
        return schema._Compiler(ROOT).compile(ROOT, "#")  # pyright: ignore[reportPrivateUsage]


FULL = _without_shortcuts()
FAST = schema._Compiler(ROOT).compile(ROOT, "#")  # pyright: ignore[reportPrivateUsage]


def _outcome(check: schema.Check, doc: Any) -> tuple[str, str] | None:
    try:
        check(doc, None)
    except schema._Invalid as exc:  # pyright: ignore[reportPrivateUsage]
        return exc.path, exc.problem
    return None


RANK_VALUES = st.sampled_from([0, 1, 2, 3, 4, 5, 6, -1, 4.0, 5.0, True, False, "5", None, [5]])
SEVERITIES = st.sampled_from(["UNKNOWN", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL", "critical", 5, None])
TOOLS = st.lists(st.sampled_from(["trivy", "", 1, None, ["x"], "semgrep"]), max_size=3)


@st.composite
def findings_edits(draw: st.DrawFn) -> dict[str, Any]:
    """The base document with its findings' rank, severity and tools set to valid and invalid values."""
    doc = {**BASE, "findings": [dict(f) for f in BASE["findings"]]}
    for f in doc["findings"]:
        for key, values in (("rank", RANK_VALUES), ("severity", SEVERITIES), ("tools", TOOLS)):
            choice = draw(st.sampled_from(["keep", "keep", "set", "drop"]))
            if choice == "set":
                f[key] = draw(values)
            elif choice == "drop":
                f.pop(key, None)
    return doc


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(findings_edits() | mutated(BASE, keys_of(BASE)))
def test_the_shortcuts_change_no_outcome(doc: Any) -> None:
    fast, full = _outcome(FAST, doc), _outcome(FULL, doc)
    assert fast == full
    assert (fast is None) == JSONSCHEMA.is_valid(doc)


def test_the_reference_has_no_shortcuts() -> None:
    """FULL really is compiled without them: a wrong rank makes it raise from the case's own check."""
    doc = {**BASE, "findings": [{**BASE["findings"][0], "rank": 4.0 if BASE["findings"][0]["rank"] != 4 else 3.0}]}
    assert _outcome(FULL, doc) is not None
    assert _outcome(FAST, doc) == _outcome(FULL, doc)
    assert _outcome(FAST, BASE) is None
