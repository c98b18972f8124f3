"""An ungated run (a single scanner, an image scan) never reads as a pass, in any report or result field."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from pipeline.errors import InputError
from pipeline.formats.json_report import parse_report, render_report
from pipeline.formats.junit import GATE_SUITE
from pipeline.reports import GitlabScan, write_reports
from tests.unit.report_factories import realistic
from tests.unit.test_junit import check_structure

SCAN = GitlabScan(start_time=datetime(2026, 1, 1, tzinfo=UTC), end_time=datetime(2026, 1, 1, tzinfo=UTC))


def ungated() -> dict[str, bytes]:
    runs, findings, _ = realistic()
    return write_reports(runs, findings, None, gitlab_scan=SCAN)


def test_junit_gate_suite_is_one_skipped_case_never_a_pass() -> None:
    root = ET.fromstring(ungated()["junit.xml"])
    check_structure(root)
    gate = root[0]
    assert gate.get("name") == GATE_SUITE
    (case,) = gate.findall("testcase")
    skipped = case.find("skipped")
    assert skipped is not None and skipped.get("message") == "not gated: no policy was evaluated"
    assert (gate.get("tests"), gate.get("failures"), gate.get("skipped")) == ("1", "0", "1")
    assert "passed" not in ET.tostring(gate, encoding="unicode")
    # no finding of an ungated run is a failure: nothing blocked it, nothing let it through
    assert root.get("failures") == "0"


def test_junit_of_a_gated_run_keeps_its_passing_verdict_case() -> None:
    runs, findings, verdict = realistic()
    gated = ET.fromstring(write_reports(runs, findings, verdict)["junit.xml"])
    assert "verdict" not in [c.get("name") for c in gated[0]]  # realistic() denies: failures, no verdict case
    assert [c.get("name") for c in gated[0] if c.find("skipped") is not None] == ["base-image.pinned"]


def test_summary_first_line_says_not_gated() -> None:
    summary = ungated()["summary.md"].decode()
    first, _, rest = summary.partition("\n")
    assert first == "## Seaworthy: not gated"
    assert "no policy was evaluated" in rest.split("###")[0]
    assert "✅" not in summary and "passed" not in summary.split("###")[0]


def test_report_json_is_gated_false_with_a_null_verdict() -> None:
    doc = json.loads(ungated()["report.json"])
    assert doc["gated"] is False and doc["verdict"] is None
    assert parse_report(ungated()["report.json"]).verdict is None


def test_report_json_of_a_gated_run_says_gated() -> None:
    runs, findings, verdict = realistic()
    doc = json.loads(render_report(runs, findings, verdict))
    assert doc["gated"] is True and doc["verdict"]["passed"] is False
    assert parse_report(render_report(runs, findings, verdict)).verdict == verdict


def test_gitlab_reports_say_not_gated() -> None:
    for name, data in ungated().items():
        if name.startswith("gl-"):
            messages = [m["value"] for m in json.loads(data)["scan"].get("messages", [])]
            assert "not gated: no policy was evaluated" in messages, name


def test_an_older_ungated_report_is_read_as_ungated() -> None:
    """Before `gated`, ungated reports carried a stand-in verdict (passed, policy "none"): it decided nothing."""
    doc = json.loads(ungated()["report.json"])
    del doc["gated"]
    doc["verdict"] = {"passed": True, "policy": "none", "denials": [], "warnings": [], "notes": ["Scan only"]}
    assert parse_report(json.dumps(doc)).verdict is None
    doc["verdict"]["policy"] = "seaworthy"
    back = parse_report(json.dumps(doc)).verdict
    assert back is not None and back.passed


@pytest.mark.parametrize(
    ("gated", "verdict", "problem"),
    [
        (False, {"passed": True, "policy": "p", "denials": [], "warnings": [], "notes": []}, "verdict is not null"),
        (True, None, "report.verdict is missing"),
        ("no", None, "report.gated is not true or false"),
    ],
)
def test_inconsistent_gated_and_verdict_are_refused(gated: object, verdict: object, problem: str) -> None:
    doc = json.loads(ungated()["report.json"])
    doc["gated"], doc["verdict"] = gated, verdict
    with pytest.raises(InputError, match=problem):
        parse_report(json.dumps(doc))
