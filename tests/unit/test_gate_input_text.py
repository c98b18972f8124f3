"""gate-input.json as `ship` writes it (`pipeline.policy.input.gate_input_text`)."""

from __future__ import annotations

import datetime
import json

from pipeline.policy.config import GateConfig
from pipeline.policy.input import build_input, gate_input_text
from tests.unit.report_factories import image_facts, realistic, sbom


def test_the_text_is_the_sorted_compact_json_of_the_document_with_one_newline() -> None:
    _, findings, _ = realistic()
    doc = build_input(
        findings,
        sbom=sbom(),
        facts=[image_facts()],
        build=None,
        config=GateConfig(),
        exceptions=(),
        today=datetime.date(2026, 6, 1),
    )
    text = gate_input_text(doc)
    assert text == json.dumps(doc, sort_keys=True) + "\n"
    assert json.loads(text) == doc
    assert text.count("\n") == 1
    assert doc["findings"], "the document has findings to write"
