"""GitLab security reports: routing, identifiers, locations, limits, determinism, our 15.0 schema, and the shape
of GitLab's own public sample reports."""

from __future__ import annotations

import datetime
import json
import random
from pathlib import Path
from typing import Any

import attrs
import jsonschema
import pytest

from pipeline.errors import InputError
from pipeline.formats import gitlab
from pipeline.formats.gitlab import ReportType, ScanContext, render_all, render_gitlab
from pipeline.model import Category, Finding, Location, Package, Severity
from tests.unit.report_factories import finding, misconfig, secret, vuln

SCHEMA_PATH = Path(gitlab.__file__).parent / "schemas" / "gitlab-security-report-15.0.json"
START = datetime.datetime(2026, 11, 27, 10, 0, 0, tzinfo=datetime.UTC)
END = datetime.datetime(2026, 11, 27, 10, 3, 7, 500000, tzinfo=datetime.UTC)
IMAGE = "registry.example.com/team/app@sha256:" + "a" * 64


def ctx(**kw: Any) -> ScanContext:
    base: dict[str, Any] = {
        "start_time": START,
        "end_time": END,
        "tools": {"semgrep": "1.185.0", "trivy": "0.76.0", "gitleaks": "8.30.1", "hadolint": "2.15.1"},
        "analyzer_version": "0.1.0",
        "image": IMAGE,
        "operating_system": "debian:12",
        "commit_sha": "4f1d2c3b",
    }
    base.update(kw)
    return ScanContext(**base)


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def all_findings() -> list[Finding]:
    return [
        finding(tags=("CWE-78", "security")),
        misconfig(),
        secret(),
        vuln(),
        vuln("GHSA-jfh8-c2jp-5v3q", "log4j", "2.14.0", "2.15.0", Severity.CRITICAL, ecosystem="maven", path="pom.xml"),
        vuln(
            "CVE-2023-4911",
            "libc6",
            "2.36-9",
            "2.36-9+deb12u3",
            path="image:var/lib/dpkg/status",
            category=Category.IMAGE_VULNERABILITY,
        ),
        finding(
            Category.LICENSE,
            "GPL-3.0-only",
            Severity.MEDIUM,
            tools=("trivy",),
            locations=(),
            package=Package("readline", "8.2", "deb"),
            message="readline 8.2 is GPL-3.0-only",
        ),
    ]


def docs(findings: list[Finding], **kw: Any) -> dict[ReportType, dict[str, Any]]:
    return {k: json.loads(render_gitlab(k, findings, ctx(**kw))) for k in ReportType}


def test_every_report_validates_against_our_schema_with_and_without_findings() -> None:
    v = validator()
    for findings in (all_findings(), []):
        for kind, doc in docs(findings).items():
            errors = sorted(v.iter_errors(doc), key=str)
            assert not errors, (kind, [e.message for e in errors])
            assert doc["version"] == gitlab.SCHEMA_VERSION
            assert doc["scan"]["type"] == kind.value


def test_the_schema_refuses_what_gitlab_refuses() -> None:
    v = validator()
    good = docs(all_findings())
    bad_cases: list[tuple[ReportType, Any]] = [
        (ReportType.SAST, lambda d: d["vulnerabilities"][0].update(severity="high")),  # wrong case
        (ReportType.SAST, lambda d: d["scan"].update(start_time="2026-11-27T10:00:00Z")),  # zone not allowed
        (ReportType.SAST, lambda d: d["vulnerabilities"][0].update(identifiers=[])),
        (ReportType.SAST, lambda d: d["vulnerabilities"][0].update(name="x" * 256)),
        (ReportType.SAST, lambda d: d["vulnerabilities"][0].update(cve="removed in 15")),
        (ReportType.SAST, lambda d: d["scan"].pop("analyzer")),
        (ReportType.SECRET_DETECTION, lambda d: d["vulnerabilities"][0]["location"].pop("commit")),
        (ReportType.DEPENDENCY_SCANNING, lambda d: d.pop("dependency_files")),
        (ReportType.DEPENDENCY_SCANNING, lambda d: d["vulnerabilities"][0]["location"].pop("file")),
        (ReportType.CONTAINER_SCANNING, lambda d: d["vulnerabilities"][0]["location"].pop("image")),
        (ReportType.CONTAINER_SCANNING, lambda d: d.update(version="14.1.2")),
        (ReportType.DEPENDENCY_SCANNING, lambda d: d["vulnerabilities"][0]["location"]["dependency"].pop("version")),
        (ReportType.SAST, lambda d: d["vulnerabilities"][0]["identifiers"][0].update(url="file:///etc/passwd")),
        (ReportType.SAST, lambda d: d["scan"].update(messages=[{"level": "warn", "value": ""}])),
    ]
    for kind, mutate in bad_cases:
        doc = json.loads(json.dumps(good[kind]))
        mutate(doc)
        assert list(v.iter_errors(doc)), (kind, doc)


def test_findings_go_to_the_report_of_their_category() -> None:
    by_kind = {k: [v["identifiers"][0]["value"] for v in d["vulnerabilities"]] for k, d in docs(all_findings()).items()}
    assert sorted(by_kind[ReportType.SAST]) == ["DL3007", "python.lang.security.audit.subprocess-shell-true"]
    assert by_kind[ReportType.SECRET_DETECTION] == ["aws-access-token"]
    assert sorted(by_kind[ReportType.DEPENDENCY_SCANNING]) == ["CVE-2019-10906", "GHSA-jfh8-c2jp-5v3q", "GPL-3.0-only"]
    assert by_kind[ReportType.CONTAINER_SCANNING] == ["CVE-2023-4911"]
    assert sum(len(v) for v in by_kind.values()) == len(all_findings())  # nothing dropped, nothing twice


def test_identifiers_primary_first_then_cwe() -> None:
    d = docs(all_findings())
    sast = {v["identifiers"][0]["value"]: v for v in d[ReportType.SAST]["vulnerabilities"]}
    semgrep = sast["python.lang.security.audit.subprocess-shell-true"]["identifiers"]
    assert [i["type"] for i in semgrep] == ["semgrep_rule_id", "cwe"]
    assert semgrep[1] == {
        "type": "cwe",
        "name": "CWE-78",
        "value": "78",
        "url": "https://cwe.mitre.org/data/definitions/78.html",
    }
    hadolint = sast["DL3007"]["identifiers"][0]
    assert hadolint["type"] == "hadolint_rule_id"
    assert hadolint["url"] == "https://github.com/hadolint/hadolint/wiki/DL3007"
    deps = {
        v["identifiers"][0]["value"]: v["identifiers"][0] for v in d[ReportType.DEPENDENCY_SCANNING]["vulnerabilities"]
    }
    assert deps["CVE-2019-10906"]["type"] == "cve"
    assert deps["CVE-2019-10906"]["url"] == "https://nvd.nist.gov/vuln/detail/CVE-2019-10906"
    assert deps["GHSA-jfh8-c2jp-5v3q"]["type"] == "ghsa"
    assert deps["GPL-3.0-only"]["type"] == "seaworthy_license"


def test_locations_per_report_type() -> None:
    d = docs(all_findings())
    sast = {v["identifiers"][0]["value"]: v["location"] for v in d[ReportType.SAST]["vulnerabilities"]}
    assert sast["python.lang.security.audit.subprocess-shell-true"] == {
        "file": "app.py",
        "start_line": 12,
        "end_line": 12,
    }
    assert sast["DL3007"] == {"file": "Dockerfile", "start_line": 1, "end_line": 1}
    (sec,) = d[ReportType.SECRET_DETECTION]["vulnerabilities"]
    assert sec["location"] == {"file": "config.py", "start_line": 3, "end_line": 3, "commit": {"sha": "4f1d2c3b"}}
    deps = {v["identifiers"][0]["value"]: v for v in d[ReportType.DEPENDENCY_SCANNING]["vulnerabilities"]}
    assert deps["CVE-2019-10906"]["location"] == {
        "file": "requirements.txt",
        "dependency": {"package": {"name": "jinja2"}, "version": "2.10"},
    }
    assert deps["CVE-2019-10906"]["solution"] == "Upgrade jinja2 from 2.10 to 2.10.1."
    assert deps["GPL-3.0-only"]["location"]["file"] == "readline"  # no lock file: the package names the place
    (cs,) = d[ReportType.CONTAINER_SCANNING]["vulnerabilities"]
    assert cs["location"] == {
        "image": IMAGE,
        "operating_system": "debian:12",
        "dependency": {"package": {"name": "libc6"}, "version": "2.36-9"},
    }
    assert cs["solution"] == "Upgrade libc6 from 2.36-9 to 2.36-9+deb12u3."
    unfixed = vuln("CVE-2023-4911", "libc6", "2.36-9", "", path="", category=Category.IMAGE_VULNERABILITY)
    doc = json.loads(render_gitlab(ReportType.CONTAINER_SCANNING, [unfixed], ctx()))
    assert "solution" not in doc["vulnerabilities"][0]  # no fix known: no invented advice


def test_secret_without_a_commit_uses_gitlabs_placeholder() -> None:
    doc = json.loads(render_gitlab(ReportType.SECRET_DETECTION, [secret()], ctx(commit_sha="")))
    assert doc["vulnerabilities"][0]["location"]["commit"] == {"sha": "0000000"}


def test_severities_map_to_gitlabs_enum() -> None:
    got = {}
    for sev in Severity:
        doc = json.loads(render_gitlab(ReportType.SAST, [finding(severity=sev)], ctx()))
        got[sev] = doc["vulnerabilities"][0]["severity"]
    assert got == {
        Severity.CRITICAL: "Critical",
        Severity.HIGH: "High",
        Severity.MEDIUM: "Medium",
        Severity.LOW: "Low",
        Severity.INFO: "Info",
        Severity.UNKNOWN: "Unknown",
    }


def test_scan_block_times_and_analyzer() -> None:
    scan = docs(all_findings())[ReportType.SAST]["scan"]
    assert scan["start_time"] == "2026-11-27T10:00:00"
    assert scan["end_time"] == "2026-11-27T10:03:07"
    assert scan["status"] == "success"
    assert scan["analyzer"] == {
        "id": "seaworthy",
        "name": "Seaworthy",
        "version": "0.1.0",
        "vendor": {"name": "Seaworthy"},
    }
    assert scan["scanner"]["id"] == "seaworthy-sast"
    assert scan["scanner"]["name"] == "Seaworthy (hadolint, semgrep)"
    # the id does not depend on which tools found something this time (GitLab tracks findings by scanner)
    empty = json.loads(render_gitlab(ReportType.SAST, [], ctx(tools={"semgrep": "1"})))["scan"]["scanner"]
    assert empty["id"] == "seaworthy-sast" and empty["name"] == "Seaworthy (semgrep)"
    assert scan["scanner"]["version"] == "hadolint 2.15.1, semgrep 1.185.0"
    # another zone is converted to UTC, a naive time is taken as UTC
    cet = datetime.timezone(datetime.timedelta(hours=1))
    other = ctx(
        start_time=datetime.datetime(2026, 11, 27, 11, 0, tzinfo=cet), end_time=datetime.datetime(2026, 11, 27, 10, 5)
    )
    scan = json.loads(render_gitlab(ReportType.SAST, [], other))["scan"]
    assert (scan["start_time"], scan["end_time"]) == ("2026-11-27T10:00:00", "2026-11-27T10:05:00")


def test_a_failed_scan_says_so() -> None:
    doc = json.loads(render_gitlab(ReportType.SAST, [], ctx(failed=True, messages=("semgrep timed out",))))
    assert doc["scan"]["status"] == "failure"
    assert [m["level"] for m in doc["scan"]["messages"]] == ["fatal", "warn"]
    assert doc["scan"]["messages"][1]["value"] == "semgrep timed out"
    assert not list(validator().iter_errors(doc))


def test_bad_context_is_a_clear_input_error() -> None:
    with pytest.raises(InputError, match="container_scanning report needs the scanned image"):
        render_gitlab(ReportType.CONTAINER_SCANNING, [], ctx(image=" "))
    with pytest.raises(InputError, match="end time is before its start time"):
        render_gitlab(ReportType.SAST, [], ctx(start_time=END, end_time=START))


def test_limits_are_respected() -> None:
    long = finding(title="T" * 400, message="M" * 2_000_000, rule_id="r" * 300)
    doc = json.loads(render_gitlab(ReportType.SAST, [long], ctx()))
    (v,) = doc["vulnerabilities"]
    assert len(v["name"]) == 255 and v["name"].endswith("…")
    assert len(v["description"]) == 1_048_576
    assert all(len(i["name"]) <= 255 and len(i["value"]) <= 255 for i in v["identifiers"])
    assert not list(validator().iter_errors(doc))


def test_deterministic_ids_and_order() -> None:
    items = all_findings()
    first = render_all(items, ctx())
    for seed in range(5):
        shuffled = items[:]
        random.Random(seed).shuffle(shuffled)
        assert render_all(shuffled, ctx()) == first
    sast = json.loads(first["gl-sast-report.json"])
    ids = [v["id"] for v in sast["vulnerabilities"]]
    assert len(set(ids)) == len(ids)
    # the id is derived from the fingerprint (the finding's identity), not from its presentation
    again = attrs.evolve(items[0], title="reworded title", help_uri="https://example.invalid/other")
    assert again.fingerprint == items[0].fingerprint
    assert gitlab.report_id(ReportType.SAST, again) == gitlab.report_id(ReportType.SAST, items[0])
    other = finding(tags=("CWE-78", "security"), message="another problem on the same line")
    assert other.fingerprint != items[0].fingerprint
    assert gitlab.report_id(ReportType.SAST, other) != gitlab.report_id(ReportType.SAST, items[0])
    assert gitlab.report_id(ReportType.SAST, items[0]) != gitlab.report_id(ReportType.SECRET_DETECTION, items[0])
    assert set(first) == {
        "gl-sast-report.json",
        "gl-dependency-scanning-report.json",
        "gl-container-scanning-report.json",
        "gl-secret-detection-report.json",
    }


def test_image_locations_lose_their_prefix_and_odd_lines_are_dropped() -> None:
    f = finding(locations=(Location("image:etc/app.conf", 0, None),))
    doc = json.loads(render_gitlab(ReportType.SAST, [f], ctx()))
    assert doc["vulnerabilities"][0]["location"] == {"file": "etc/app.conf"}
    f = finding(locations=(Location("a.py", 9, 4),))
    doc = json.loads(render_gitlab(ReportType.SAST, [f], ctx()))
    assert doc["vulnerabilities"][0]["location"] == {"file": "a.py", "start_line": 9, "end_line": 9}


# --- field by field against GitLab's public sample reports ------------------------------------------------
# Key paths transcribed from GitLab analyzer outputs as kept in DefectDojo's unittests/scans/gitlab_*/*_v15.json
# (container-scanning by GitLab's trivy analyzer, dependency scanning by gemnasium, secret detection by gitleaks).
# Not copied files: only which fields exist where. Fields removed in schema 15 (cve, message, category,
# confidence, scanner per vulnerability) are left out; `raw_source_code_extract` we never write (secret values).

GITLAB_SAMPLE_PATHS: dict[ReportType, set[str]] = {
    ReportType.CONTAINER_SCANNING: {
        "version",
        "remediations",
        "scan.type",
        "scan.start_time",
        "scan.end_time",
        "scan.status",
        "scan.scanner.id",
        "scan.scanner.name",
        "scan.scanner.url",
        "scan.scanner.vendor.name",
        "scan.scanner.version",
        "vulnerabilities[].id",
        "vulnerabilities[].description",
        "vulnerabilities[].severity",
        "vulnerabilities[].solution",
        "vulnerabilities[].location.dependency.package.name",
        "vulnerabilities[].location.dependency.version",
        "vulnerabilities[].location.operating_system",
        "vulnerabilities[].location.image",
        "vulnerabilities[].identifiers[].type",
        "vulnerabilities[].identifiers[].name",
        "vulnerabilities[].identifiers[].value",
        "vulnerabilities[].identifiers[].url",
        "vulnerabilities[].links[].url",
    },
    ReportType.DEPENDENCY_SCANNING: {
        "version",
        "remediations",
        "dependency_files",
        "scan.type",
        "scan.start_time",
        "scan.end_time",
        "scan.status",
        "scan.scanner.id",
        "scan.scanner.name",
        "scan.scanner.url",
        "scan.scanner.vendor.name",
        "scan.scanner.version",
        "vulnerabilities[].id",
        "vulnerabilities[].name",
        "vulnerabilities[].description",
        "vulnerabilities[].severity",
        "vulnerabilities[].solution",
        "vulnerabilities[].location.file",
        "vulnerabilities[].location.dependency.package.name",
        "vulnerabilities[].location.dependency.version",
        "vulnerabilities[].identifiers[].type",
        "vulnerabilities[].identifiers[].name",
        "vulnerabilities[].identifiers[].value",
        "vulnerabilities[].identifiers[].url",
        "vulnerabilities[].links[].url",
    },
    ReportType.SECRET_DETECTION: {
        "version",
        "remediations",
        "scan.type",
        "scan.start_time",
        "scan.end_time",
        "scan.status",
        "scan.scanner.id",
        "scan.scanner.name",
        "scan.scanner.url",
        "scan.scanner.vendor.name",
        "scan.scanner.version",
        "vulnerabilities[].id",
        "vulnerabilities[].name",
        "vulnerabilities[].description",
        "vulnerabilities[].severity",
        "vulnerabilities[].location.file",
        "vulnerabilities[].location.commit.sha",
        "vulnerabilities[].location.commit.date",
        "vulnerabilities[].location.start_line",
        "vulnerabilities[].location.end_line",
        "vulnerabilities[].identifiers[].type",
        "vulnerabilities[].identifiers[].name",
        "vulnerabilities[].identifiers[].value",
    },
}

OPTIONAL_IN_GITLAB = {"scan.scanner.url", "vulnerabilities[].location.commit.date"}
"""In the samples but optional in the schema, and nothing Seaworthy knows: left out."""

OURS_ONLY = {
    # required since schema 15 (the samples predate it)
    "scan.analyzer.id",
    "scan.analyzer.name",
    "scan.analyzer.version",
    "scan.analyzer.vendor.name",
    # present in other GitLab samples (sast: name, links) and allowed by the schema
    "vulnerabilities[].name",
    "vulnerabilities[].links[].url",
    "vulnerabilities[].solution",
    "vulnerabilities[].identifiers[].url",
}


def key_paths(value: Any, prefix: str = "") -> set[str]:
    out: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            path = f"{prefix}.{k}" if prefix else k
            sub = key_paths(v, path)
            out |= sub or {path}
    elif isinstance(value, list):
        for item in value:
            out |= key_paths(item, f"{prefix}[]")
        if not value:
            out.add(prefix)
    return out


@pytest.mark.parametrize("kind", sorted(GITLAB_SAMPLE_PATHS))
def test_fields_match_gitlabs_own_reports(kind: ReportType) -> None:
    doc = docs(all_findings())[kind]
    ours = key_paths(doc)
    theirs = GITLAB_SAMPLE_PATHS[kind]
    assert theirs - OPTIONAL_IN_GITLAB - ours == set(), "GitLab writes fields we do not"
    assert ours - theirs - OURS_ONLY == set(), "we write fields GitLab's reports do not have"


def test_undecodable_names_and_odd_text_still_give_valid_utf8_json() -> None:
    odd = finding(locations=(Location("src/bad\udcff name.py", 3, 3),), message="line1\nline2\u202e", title="x\udc80")
    data = render_gitlab(ReportType.SAST, [odd], ctx())
    doc = json.loads(data.decode("utf-8"))  # strict decoding: no lone surrogate reached the bytes
    (v,) = doc["vulnerabilities"]
    assert v["location"]["file"] == "src/bad\ufffd name.py"
    assert v["name"] == "x\ufffd"
    assert not list(validator().iter_errors(doc))
