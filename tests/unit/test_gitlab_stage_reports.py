"""GitLab's security reports in every run's reports (`pipeline.reports.gitlab_reports`, written by
`pipeline.stages.report.render` for `scan`, the single scanners, the image scan and `ship`)."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import jsonschema
import pytest

from pipeline.formats import gitlab
from pipeline.model import Category, Finding, ToolRun, Verdict, merge_findings
from pipeline.reports import GITLAB_FILES, GitlabScan, gitlab_reports, gitlab_types, write_reports
from pipeline.stages import report as report_stage
from tests.unit.report_factories import finding, realistic, secret, vuln

SCHEMA = json.loads(
    (Path(gitlab.__file__).parent / "schemas" / "gitlab-security-report-15.0.json").read_text(encoding="utf-8")
)
START = datetime.datetime(2026, 11, 27, 10, 0, 0, tzinfo=datetime.UTC)
END = START + datetime.timedelta(minutes=3, seconds=7)
SCAN = GitlabScan(START, END, "0.1.0", image="ghcr.io/octo/app:1.0", operating_system="debian:13.1")
Rt = gitlab.ReportType


def _valid(data: bytes) -> dict[str, object]:
    doc = json.loads(data)
    errors = [e.message for e in jsonschema.Draft202012Validator(SCHEMA).iter_errors(doc)]
    assert not errors, errors
    return doc


def _image_run(*findings: Finding) -> ToolRun:
    return ToolRun("trivy", "0.76.0", findings, subject="sha256:" + "cd" * 32)


def test_a_full_run_writes_the_four_reports_every_finding_in_exactly_one() -> None:
    runs, findings, verdict = realistic()
    files = write_reports(runs, findings, verdict, gitlab_scan=SCAN)
    assert set(GITLAB_FILES) <= set(files)
    assert GITLAB_FILES == (
        "gl-sast-report.json",
        "gl-dependency-scanning-report.json",
        "gl-container-scanning-report.json",
        "gl-secret-detection-report.json",
    )
    docs = {name: _valid(files[name]) for name in GITLAB_FILES}
    ids = [v["id"] for d in docs.values() for v in d["vulnerabilities"]]  # type: ignore[union-attr]
    assert len(ids) == len(set(ids)) == len(findings)
    for doc in docs.values():
        scan = doc["scan"]
        assert isinstance(scan, dict)
        assert (scan["start_time"], scan["end_time"]) == ("2026-11-27T10:00:00", "2026-11-27T10:03:07")
        assert scan["analyzer"]["version"] == "0.1.0"
    container = docs["gl-container-scanning-report.json"]["vulnerabilities"]
    assert isinstance(container, list) and container
    assert {v["location"]["image"] for v in container} == {"ghcr.io/octo/app:1.0"}
    assert {v["location"]["operating_system"] for v in container} == {"debian:13.1"}
    # what the user must read reaches GitLab as warnings: the verdict's notes, the tools' notes
    messages = {m["value"] for m in docs["gl-sast-report.json"]["scan"]["messages"]}  # type: ignore[index]
    assert {"exception EX-1 (CVE-2000-0001) matched nothing", "skipped 2 files larger than 10 MB"} <= messages


def test_only_the_times_differ_between_two_runs() -> None:
    runs, findings, verdict = realistic()
    one = write_reports(runs, findings, verdict, gitlab_scan=SCAN)
    later = GitlabScan(
        START + datetime.timedelta(days=1),
        END + datetime.timedelta(days=1, hours=1),
        "0.1.0",
        image=SCAN.image,
        operating_system=SCAN.operating_system,
    )
    two = write_reports(runs, tuple(reversed(findings)), verdict, gitlab_scan=later)
    assert one == write_reports(runs, findings, verdict, gitlab_scan=SCAN)  # byte-identical
    for name in GITLAB_FILES:
        a, b = json.loads(one[name]), json.loads(two[name])
        assert a != b
        for doc in (a, b):
            del doc["scan"]["start_time"], doc["scan"]["end_time"]
        assert a == b, name
    assert {k: v for k, v in one.items() if k not in GITLAB_FILES} == {
        k: v for k, v in two.items() if k not in GITLAB_FILES
    }


def test_a_report_type_no_tool_covered_is_left_out_not_written_empty() -> None:
    # an empty report would tell GitLab "nothing found" and resolve what an earlier pipeline recorded
    only_gitleaks = (ToolRun("gitleaks", "8.30.1", ()),)
    assert gitlab_types(only_gitleaks, ()) == (Rt.SECRET_DETECTION,)
    files = gitlab_reports(only_gitleaks, (), Verdict(passed=True), SCAN)
    assert list(files) == ["gl-secret-detection-report.json"]
    assert json.loads(files["gl-secret-detection-report.json"])["vulnerabilities"] == []

    semgrep = (ToolRun("semgrep", "1.185.0", ()),)
    assert gitlab_types(semgrep, ()) == (Rt.SAST,)
    source = (ToolRun("trivy", "0.76.0", ()), ToolRun("hadolint", "2.15.1", ()))
    assert gitlab_types(source, ()) == (Rt.SAST, Rt.DEPENDENCY_SCANNING, Rt.SECRET_DETECTION)
    assert gitlab_types((_image_run(),), ()) == (Rt.CONTAINER_SCANNING,)


def test_a_finding_is_never_left_out_even_from_a_tool_seaworthy_does_not_know() -> None:
    odd = finding(Category.SECRET, "x-key", tools=("newtool",))
    runs = (ToolRun("newtool", "1.0", (odd,)),)
    files = gitlab_reports(runs, (odd,), Verdict(passed=True), SCAN)
    assert list(files) == ["gl-secret-detection-report.json"]
    assert len(json.loads(files["gl-secret-detection-report.json"])["vulnerabilities"]) == 1


def test_an_image_scan_without_a_name_is_located_by_the_digest_it_scanned() -> None:
    f = vuln("CVE-2023-4911", "libc6", "2.36-9", "", category=Category.IMAGE_VULNERABILITY, ecosystem="deb")
    runs = (_image_run(f),)
    files = gitlab_reports(runs, (f,), Verdict(passed=True), GitlabScan(START, END))
    (v,) = _valid(files["gl-container-scanning-report.json"])["vulnerabilities"]  # type: ignore[misc]
    assert v["location"]["image"] == "sha256:" + "cd" * 32
    assert v["location"]["operating_system"] == gitlab.UNKNOWN_OS


def test_secret_values_never_reach_the_gitlab_reports() -> None:
    value = "AKIAQYLPMN5HHHFPZAM2"
    leaky = finding(Category.SECRET, "aws-access-token", tools=("gitleaks",), message=f"found {value} here")
    runs = [ToolRun("gitleaks", "8.30.1", (leaky,), scrub=(value,))]
    files = write_reports(runs, merge_findings(runs[0].findings), Verdict(passed=False), gitlab_scan=SCAN)
    assert value.encode() not in files["gl-secret-detection-report.json"]


def test_the_stage_measures_the_end_and_takes_the_start() -> None:
    runs = [ToolRun("gitleaks", "8.30.1", (secret(),))]
    before = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    files = report_stage.render(runs, runs[0].findings, verdict=None, started=START, commit_sha="0123abcd" * 5)
    after = datetime.datetime.now(datetime.UTC)
    doc = _valid(files["gl-secret-detection-report.json"])
    scan = doc["scan"]
    assert isinstance(scan, dict)
    assert scan["start_time"] == "2026-11-27T10:00:00"
    end = datetime.datetime.fromisoformat(scan["end_time"]).replace(tzinfo=datetime.UTC)
    assert before <= end <= after
    (v,) = doc["vulnerabilities"]  # type: ignore[misc]
    assert v["location"]["commit"] == {"sha": "0123abcd" * 5}
    # no start given: the report was rendered at once (start = end); a revision that is not a sha is not used
    files = report_stage.render(runs, runs[0].findings, verdict=None, commit_sha="main")
    doc = _valid(files["gl-secret-detection-report.json"])
    assert doc["scan"]["start_time"] == doc["scan"]["end_time"]  # type: ignore[index]
    assert doc["vulnerabilities"][0]["location"]["commit"] == {"sha": gitlab.NO_COMMIT}  # type: ignore[index]


@pytest.mark.parametrize(
    ("sbom", "expected"),
    [
        (
            {
                "components": [
                    {"type": "library", "name": "x"},
                    {"type": "operating-system", "name": "debian", "version": "13.1"},
                ]
            },
            "debian:13.1",
        ),
        ({"components": [{"type": "operating-system", "name": "alpine"}]}, "alpine"),
        ({"components": [{"type": "library", "name": "x"}]}, gitlab.UNKNOWN_OS),
        ({"components": "nope"}, gitlab.UNKNOWN_OS),
        ([], gitlab.UNKNOWN_OS),
    ],
)
def test_operating_system_from_the_cyclonedx_sbom(sbom: object, expected: str) -> None:
    assert gitlab.operating_system_of(json.dumps(sbom)) == expected


def test_operating_system_of_garbage_is_unknown() -> None:
    assert gitlab.operating_system_of("{not json") == gitlab.UNKNOWN_OS
