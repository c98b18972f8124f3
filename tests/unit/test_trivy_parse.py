"""trivy.parse: the mapping of trivy 0.76's JSON report onto findings, and failing closed on bad output."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from pipeline.errors import ToolOutputError
from pipeline.model import Category, Location, Package, Severity, merge_findings, sort_key
from pipeline.tools import trivy

AWS_KEY = "AKIAQYLPMN5HHHFPZAM2"
GH_TOKEN = "ghp_R8x1mNq4ZpL7vT2wK9sY3cB6dF0gH5jE2aUo"


def vuln(
    vid: str = "CVE-2019-10906",
    name: str = "Jinja2",
    version: str = "2.10",
    fixed: str = "2.10.1",
    severity: str = "HIGH",
    purl: str | None = "pkg:pypi/jinja2@2.10",
    uid: str = "acb40a136af6983f",
) -> dict[str, Any]:
    """A vulnerability entry shaped like trivy 0.76's."""
    v: dict[str, Any] = {
        "VulnerabilityID": vid,
        "PkgName": name,
        "InstalledVersion": version,
        "Status": "fixed",
        "SeveritySource": "ghsa",
        "PrimaryURL": f"https://avd.aquasec.com/nvd/{vid.lower()}",
        "DataSource": {
            "ID": "ghsa",
            "Name": "GitHub Security Advisory pip",
            "URL": "https://github.com/advisories",
        },
        "Fingerprint": "sha256:c541",
        "Title": f"{name}: something bad",
        "Description": "Long text.",
        "Severity": severity,
        "CweIDs": ["CWE-693"],
        "VendorSeverity": {"ghsa": 3},
        "References": ["https://github.com/advisories/GHSA-462w-v97r-4m45"],
    }
    if fixed:
        v["FixedVersion"] = fixed
    if purl is not None:
        v["PkgIdentifier"] = {"PURL": purl, "UID": uid}
    return v


def fs_report() -> dict[str, Any]:
    return {
        "SchemaVersion": 2,
        "Trivy": {"Version": "0.76.0"},
        "ReportID": "01a21c7a-b3a5-7b2a-abb1-229b96b4292b",
        "CreatedAt": "2026-11-27T10:08:53.157734491Z",
        "ArtifactName": "/src",
        "ArtifactType": "filesystem",
        "Results": [
            {
                "Target": "requirements.txt",
                "Class": "lang-pkgs",
                "Type": "pip",
                "Packages": [
                    {
                        "Name": "Jinja2",
                        "Identifier": {"PURL": "pkg:pypi/jinja2@2.10", "UID": "acb40a136af6983f"},
                        "Version": "2.10",
                        "Locations": [{"StartLine": 2, "EndLine": 2}],
                    },
                    {
                        "Name": "requests",
                        "Identifier": {"PURL": "pkg:pypi/requests@2.19.0", "UID": "8f5650d71772d3a0"},
                        "Version": "2.19.0",
                        "Locations": [{"StartLine": 1, "EndLine": 1}],
                    },
                ],
                "Vulnerabilities": [
                    vuln(),
                    vuln(
                        "CVE-2018-18074",
                        "requests",
                        "2.19.0",
                        "2.20.0",
                        "MEDIUM",
                        "pkg:pypi/requests@2.19.0",
                        "8f5650d71772d3a0",
                    ),
                ],
            },
            {
                "Target": "Dockerfile",
                "Class": "config",
                "Type": "dockerfile",
                "MisconfSummary": {"Successes": 24, "Failures": 2},
                "Misconfigurations": [
                    {
                        "Type": "Dockerfile Security Check",
                        "ID": "DS-0001",
                        "Title": "':latest' tag used",
                        "Message": "Specify a tag in the 'FROM' statement for image 'python'",
                        "Resolution": "Add a tag to the image in the 'FROM' statement",
                        "Severity": "MEDIUM",
                        "PrimaryURL": "https://avd.aquasec.com/misconfig/ds-0001",
                        "Status": "FAIL",
                        "CauseMetadata": {"Provider": "Dockerfile", "StartLine": 1, "EndLine": 1},
                    },
                    {
                        "ID": "DS-0002",
                        "Title": "Image user should not be 'root'",
                        "Message": "Specify at least 1 USER command in Dockerfile with non-root user",
                        "Severity": "HIGH",
                        "Status": "FAIL",
                        "CauseMetadata": {"Provider": "Dockerfile", "Service": "general"},
                    },
                    {
                        "ID": "DS-0026",
                        "Title": "No HEALTHCHECK defined",
                        "Severity": "LOW",
                        "Status": "PASS",
                        "CauseMetadata": {"StartLine": 3},
                    },
                ],
            },
            {
                "Target": "config.py",
                "Class": "secret",
                "Secrets": [
                    {
                        "RuleID": "aws-access-key-id",
                        "Category": "AWS",
                        "Severity": "CRITICAL",
                        "Title": "AWS Access Key ID",
                        "StartLine": 1,
                        "EndLine": 1,
                        "Code": {"Lines": [{"Number": 1, "Content": f'KEY = "{AWS_KEY}"', "IsCause": True}]},
                        "Match": f'KEY = "{AWS_KEY}"',
                        "Offset": 21,
                    },
                    {
                        "RuleID": "github-pat",
                        "Category": "GitHub",
                        "Severity": "CRITICAL",
                        "Title": "GitHub Personal Access Token",
                        "StartLine": 3,
                        "EndLine": 3,
                        "Code": {"Lines": [{"Number": 3, "Content": f'T = "{GH_TOKEN}"', "Highlighted": GH_TOKEN}]},
                        "Match": f'T = "{GH_TOKEN}"',
                    },
                ],
            },
        ],
    }


def image_report() -> dict[str, Any]:
    libc = vuln(
        "CVE-2099-0001",
        "libc6",
        "2.36-9+deb12u14",
        "2.36-9+deb12u99",
        "HIGH",
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12.15",
    )
    requests = vuln("CVE-2018-18074", "requests", "2.19.0", "2.20.0", "MEDIUM", "pkg:pypi/requests@2.19.0")
    requests["PkgPath"] = "opt/venv/lib/python3.11/site-packages/requests-2.19.0.dist-info/METADATA"
    return {
        "SchemaVersion": 2,
        "Trivy": {"Version": "0.76.0"},
        "ArtifactName": "/in/image.tar",
        "ArtifactType": "container_image",
        "Metadata": {"OS": {"Family": "debian", "Name": "12.15"}, "ImageID": "sha256:0aab"},
        "Results": [
            {
                "Target": "/in/image.tar (debian 12.15)",
                "Class": "os-pkgs",
                "Type": "debian",
                "Vulnerabilities": [libc],
            },
            {"Target": "Python", "Class": "lang-pkgs", "Type": "python-pkg", "Vulnerabilities": [requests]},
        ],
    }


def dump(doc: Any) -> str:
    return json.dumps(doc)


# ---------------------------------------------------------------------------------------------- mapping


def test_fs_vulnerabilities_become_dependency_findings_with_package_and_lock_file_line() -> None:
    run = trivy.parse(dump(fs_report()), mode="fs")
    assert run.tool == "trivy"
    assert run.version == "0.76.0"
    deps = {f.rule_id: f for f in run.findings if f.category is Category.DEPENDENCY}
    assert set(deps) == {"CVE-2019-10906", "CVE-2018-18074"}
    jinja = deps["CVE-2019-10906"]
    assert jinja.severity is Severity.HIGH
    assert jinja.package == Package("Jinja2", "2.10", "pypi", "pkg:pypi/jinja2@2.10", "2.10.1")
    assert jinja.locations == (Location("requirements.txt", 2, 2),)
    assert jinja.tools == ("trivy",)
    assert jinja.title == "Jinja2: something bad"
    assert jinja.help_uri == "https://avd.aquasec.com/nvd/cve-2019-10906"
    assert "2.10.1" in jinja.message
    assert jinja.tags == ("CWE-693",)
    assert deps["CVE-2018-18074"].severity is Severity.MEDIUM
    assert deps["CVE-2018-18074"].locations == (Location("requirements.txt", 1, 1),)
    assert deps["CVE-2018-18074"].fixable


def test_fs_misconfigurations_only_failures_with_cause_lines() -> None:
    run = trivy.parse(dump(fs_report()), mode="fs")
    mis = {f.rule_id: f for f in run.findings if f.category is Category.MISCONFIGURATION}
    assert set(mis) == {"DS-0001", "DS-0002"}  # DS-0026 passed
    assert mis["DS-0001"].locations == (Location("Dockerfile", 1, 1),)
    assert mis["DS-0001"].severity is Severity.MEDIUM
    assert "Add a tag" in mis["DS-0001"].message
    assert mis["DS-0002"].locations == (Location("Dockerfile"),)  # no cause line: file only
    assert mis["DS-0002"].severity is Severity.HIGH
    assert mis["DS-0002"].package is None


def test_fs_secrets_have_rule_file_and_line() -> None:
    run = trivy.parse(dump(fs_report()), mode="fs")
    secrets = {f.rule_id: f for f in run.findings if f.category is Category.SECRET}
    assert set(secrets) == {"aws-access-key-id", "github-pat"}
    assert secrets["aws-access-key-id"].locations == (Location("config.py", 1, 1),)
    assert secrets["github-pat"].locations == (Location("config.py", 3, 3),)
    assert secrets["github-pat"].severity is Severity.CRITICAL
    assert secrets["github-pat"].title == "GitHub Personal Access Token"


def test_secret_values_never_reach_a_finding() -> None:
    run = trivy.parse(dump(fs_report()), mode="fs")
    text = repr(run)
    assert AWS_KEY not in text
    assert GH_TOKEN not in text
    assert "Match" not in text


def test_image_vulnerabilities_locations_and_ecosystems() -> None:
    run = trivy.parse(dump(image_report()), mode="image")
    by_id = {f.rule_id: f for f in run.findings}
    assert {f.category for f in run.findings} == {Category.IMAGE_VULNERABILITY}
    libc = by_id["CVE-2099-0001"]
    assert libc.package is not None
    assert libc.package.ecosystem == "deb"
    assert libc.package.fixed_version == "2.36-9+deb12u99"
    # the OS target's artifact path (host- or container-specific) is dropped
    assert libc.locations == (Location("image:debian 12.15"),)
    req = by_id["CVE-2018-18074"]
    assert req.locations == (
        Location("image:opt/venv/lib/python3.11/site-packages/requests-2.19.0.dist-info/METADATA"),
    )
    assert req.package is not None
    assert req.package.ecosystem == "pypi"


def test_image_location_does_not_depend_on_where_the_tarball_was() -> None:
    a = image_report()
    b = image_report()
    b["ArtifactName"] = "/tmp/pytest-7/in/image.tar"
    b["Results"][0]["Target"] = "/tmp/pytest-7/in/image.tar (debian 12.15)"
    fa = trivy.parse(dump(a), mode="image").findings
    fb = trivy.parse(dump(b), mode="image").findings
    assert fa == fb
    assert [f.fingerprint for f in fa] == [f.fingerprint for f in fb]


def test_ecosystem_falls_back_to_result_type_without_purl() -> None:
    doc = fs_report()
    doc["Results"][0]["Vulnerabilities"] = [vuln(purl=None)]
    (f,) = [f for f in trivy.parse(dump(doc), mode="fs").findings if f.category is Category.DEPENDENCY]
    assert f.package is not None
    assert f.package.ecosystem == "pypi"
    assert f.package.purl == ""
    assert f.locations == (Location("requirements.txt"),)  # no UID: no line


def test_unfixed_vulnerability_has_empty_fixed_version() -> None:
    doc = fs_report()
    doc["Results"][0]["Vulnerabilities"] = [vuln(fixed="")]
    (f,) = [f for f in trivy.parse(dump(doc), mode="fs").findings if f.category is Category.DEPENDENCY]
    assert f.package is not None
    assert f.package.fixed_version == ""
    assert not f.fixable
    assert "no fixed version" in f.message


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("CRITICAL", Severity.CRITICAL),
        ("HIGH", Severity.HIGH),
        ("MEDIUM", Severity.MEDIUM),
        ("LOW", Severity.LOW),
        ("UNKNOWN", Severity.UNKNOWN),
        ("high", Severity.HIGH),
    ],
)
def test_severity_mapping(word: str, expected: Severity) -> None:
    doc = fs_report()
    doc["Results"][0]["Vulnerabilities"] = [vuln(severity=word)]
    findings = trivy.parse(dump(doc), mode="fs").findings
    assert [f.severity for f in findings if f.category is Category.DEPENDENCY] == [expected]


def test_missing_severity_is_unknown_and_a_strange_one_is_an_error() -> None:
    doc = fs_report()
    v = vuln()
    del v["Severity"]
    doc["Results"][0]["Vulnerabilities"] = [v]
    findings = trivy.parse(dump(doc), mode="fs").findings
    assert [f.severity for f in findings if f.category is Category.DEPENDENCY] == [Severity.UNKNOWN]
    doc["Results"][0]["Vulnerabilities"] = [vuln(severity="NEGLIGIBLE")]
    with pytest.raises(ToolOutputError, match="NEGLIGIBLE"):
        trivy.parse(dump(doc), mode="fs")


def test_findings_keep_the_reports_order_and_merge_the_same_whatever_it_is() -> None:
    # the parser does not sort (a 100k-entry report would be sorted twice): merge_findings gives every report's
    # order, the same whatever order trivy wrote its results and entries in
    doc = fs_report()
    run1 = trivy.parse(dump(doc), mode="fs")
    assert [f.rule_id for f in run1.findings] == [
        *(v["VulnerabilityID"] for v in doc["Results"][0]["Vulnerabilities"]),
        *(m["ID"] for m in doc["Results"][1]["Misconfigurations"] if m["Status"] == "FAIL"),
        *(s["RuleID"] for s in doc["Results"][2]["Secrets"]),
    ]
    doc["Results"].reverse()
    for res in doc["Results"]:
        for entries in res.values():
            if isinstance(entries, list):
                entries.reverse()
    run2 = trivy.parse(dump(doc), mode="fs")
    assert run1.findings != run2.findings
    assert sorted(run1.findings, key=sort_key) == sorted(run2.findings, key=sort_key)
    assert merge_findings(run1.findings) == merge_findings(run2.findings)
    sev = [int(f.severity) for f in merge_findings(run1.findings)]
    assert sev == sorted(sev, reverse=True)


def test_overlapping_secrets_merge_the_same_whatever_the_reports_order() -> None:
    # two rules at line 1 of a key file (one over the whole block, 1-15) and a key at line 5: one secret, whichever
    # rule trivy listed first (the span of line 1 is taken from every report of it, not from the first)
    def report(secrets: list[dict[str, Any]]) -> str:
        doc = {
            "SchemaVersion": 2,
            "ArtifactName": "/src",
            "ArtifactType": "filesystem",
            "Results": [{"Target": "k.pem", "Class": "secret", "Secrets": secrets}],
        }
        return dump(doc)

    block = {
        "RuleID": "private-key",
        "Category": "AsymmetricPrivateKey",
        "Severity": "HIGH",
        "StartLine": 1,
        "EndLine": 15,
    }
    token = {"RuleID": "generic-token", "Category": "Generic", "Severity": "HIGH", "StartLine": 1, "EndLine": 1}
    aws = {"RuleID": "aws-access-key-id", "Category": "AWS", "Severity": "CRITICAL", "StartLine": 5, "EndLine": 5}
    first = merge_findings(trivy.parse(report([block, token, aws]), mode="fs").findings)
    second = merge_findings(trivy.parse(report([token, block, aws]), mode="fs").findings)
    assert first == second
    assert [(f.severity, f.rule_id) for f in first] == [(Severity.CRITICAL, "aws-access-key-id")]


# ---------------------------------------------------------------------------------------------- tolerance


def test_unknown_fields_are_ignored() -> None:
    doc = fs_report()
    expected = trivy.parse(dump(doc), mode="fs").findings
    doc["FutureTopLevel"] = {"x": [1, 2]}
    doc["Results"][0]["NewResultField"] = "y"
    doc["Results"][0]["Vulnerabilities"][0]["Exploitability"] = {"EPSS": 0.9}
    doc["Results"][0]["Vulnerabilities"][0]["CweIDs"] = ["CWE-693", {"odd": True}]
    doc["Results"][1]["Misconfigurations"][0]["Frameworks"] = ["cis"]
    doc["Results"][2]["Secrets"][0]["Layer"] = {"Digest": "sha256:1"}
    assert trivy.parse(dump(doc), mode="fs").findings == expected


def test_report_without_results_means_nothing_was_scanned() -> None:
    doc = fs_report()
    del doc["Results"]
    run = trivy.parse(dump(doc), mode="fs")
    assert run.findings == ()
    assert any("no Results" in n for n in run.notes)


# ---------------------------------------------------------------------------------------------- fail closed


def _without(path: tuple[Any, ...]) -> dict[str, Any]:
    doc = copy.deepcopy(fs_report())
    node: Any = doc
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return doc


@pytest.mark.parametrize(
    ("path", "field"),
    [
        (("SchemaVersion",), "SchemaVersion"),
        (("ArtifactType",), "ArtifactType"),
        (("Results", 0, "Vulnerabilities", 0, "VulnerabilityID"), "VulnerabilityID"),
        (("Results", 0, "Vulnerabilities", 1, "PkgName"), "PkgName"),
        (("Results", 0, "Vulnerabilities", 0, "InstalledVersion"), "InstalledVersion"),
        (("Results", 1, "Misconfigurations", 0, "ID"), "ID"),
        (("Results", 1, "Misconfigurations", 1, "Status"), "Status"),
        (("Results", 2, "Secrets", 0, "RuleID"), "RuleID"),
    ],
)
def test_missing_required_field_is_an_error_naming_it(path: tuple[Any, ...], field: str) -> None:
    with pytest.raises(ToolOutputError) as err:
        trivy.parse(dump(_without(path)), mode="fs")
    assert field in str(err.value)
    assert "trivy" in str(err.value)


def test_a_result_without_target_keeps_its_findings_without_a_place_and_says_so() -> None:
    run = trivy.parse(dump(_without(("Results", 0, "Target"))), mode="fs")
    assert run.notes == (
        "trivy: 1 result(s) named no Target (Results[0]); their findings are kept without a file location",
    )
    vulns = [f for f in run.findings if f.package is not None]
    assert vulns and all(f.locations == () for f in vulns)
    assert any(f.locations for f in run.findings)  # the other results keep their places


def test_error_names_where_the_bad_entry_is() -> None:
    with pytest.raises(ToolOutputError, match=r"Results\[0\]\.Vulnerabilities\[1\] has no PkgName"):
        trivy.parse(dump(_without(("Results", 0, "Vulnerabilities", 1, "PkgName"))), mode="fs")


@pytest.mark.parametrize(
    "mutate",
    [
        lambda d: d.__setitem__("SchemaVersion", 1),
        lambda d: d.__setitem__("Results", {"Target": "x"}),
        lambda d: d["Results"][0].__setitem__("Vulnerabilities", "none"),
        lambda d: d["Results"][0]["Vulnerabilities"].__setitem__(0, "CVE-1"),
        lambda d: d["Results"].__setitem__(0, []),
        lambda d: d["Results"][0]["Vulnerabilities"][0].__setitem__("PkgName", 3),
        lambda d: d["Results"][1]["Misconfigurations"][0].__setitem__("Severity", ["HIGH"]),
    ],
    ids=["schema-1", "results-object", "vulns-string", "vuln-string", "result-list", "pkgname-int", "sev-list"],
)
def test_wrong_shapes_are_errors(mutate: Any) -> None:
    doc = fs_report()
    mutate(doc)
    with pytest.raises(ToolOutputError):
        trivy.parse(dump(doc), mode="fs")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ('{"SchemaVersion": 2, "ArtifactType": "filesystem", "Results": [{"Target": "r.txt",', "truncated"),
        ("<html>502 Bad Gateway</html>", "not JSON"),
        ("[]", "expected an object"),
        ("null", "expected an object"),
    ],
)
def test_empty_truncated_or_non_json_output_is_an_error(text: str, problem: str) -> None:
    with pytest.raises(ToolOutputError, match=problem):
        trivy.parse(text, mode="fs")


def test_truncated_real_report_is_an_error() -> None:
    text = json.dumps(fs_report(), indent=2)
    for cut in (len(text) // 3, len(text) // 2, len(text) - 2):
        with pytest.raises(ToolOutputError):
            trivy.parse(text[:cut], mode="fs")


def test_unknown_mode_is_rejected() -> None:
    with pytest.raises(ValueError, match="mode"):
        trivy.parse(dump(fs_report()), mode="sbom")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------------------------- scale


def test_a_100k_vulnerability_report_parses_completely() -> None:
    """Correctness at scale; the time budget is measured in benchmarks/bench_trivy_parse.py."""
    n = 100_000
    vulns = [
        {
            "VulnerabilityID": f"CVE-2024-{i:06d}",
            "PkgName": f"pkg{i % 500}",
            "InstalledVersion": "1.0",
            "FixedVersion": "1.1",
            "Severity": "HIGH",
            "PkgIdentifier": {"PURL": f"pkg:pypi/pkg{i % 500}@1.0"},
        }
        for i in range(n)
    ]
    doc = {
        "SchemaVersion": 2,
        "ArtifactType": "container_image",
        "ArtifactName": "/in/image.tar",
        "Results": [{"Target": "Python", "Type": "python-pkg", "Vulnerabilities": vulns}],
    }
    run = trivy.parse(json.dumps(doc), mode="image")
    assert len(run.findings) == n
    assert len({f.rule_id for f in run.findings}) == n
    assert run.findings[0].rule_id == "CVE-2024-000000"
    assert run.findings[-1].rule_id == f"CVE-2024-{n - 1:06d}"
    assert {f.package.fixed_version for f in run.findings if f.package} == {"1.1"}


def test_licence_entries_are_findings_never_dropped() -> None:
    doc = {
        "SchemaVersion": 2,
        "ArtifactName": "src",
        "ArtifactType": "filesystem",
        "Results": [
            {"Target": "LICENSE", "Class": "license-file", "Licenses": [{"Name": "MIT", "Category": "notice"}]},
            {
                "Target": "requirements.txt",
                "Class": "license",
                "Licenses": [{"Name": "GPL-2.0-only", "Category": "restricted", "PkgName": "foo"}],
            },
            {"Target": "x", "Class": "license", "Licenses": [{"Category": "notice"}]},
        ],
    }
    with pytest.raises(ToolOutputError, match=r"Results\[2\]\.Licenses\[0\] has no Name"):
        trivy.parse(json.dumps(doc), mode="fs")
    doc["Results"].pop()
    run = trivy.parse(json.dumps(doc), mode="fs")
    by_rule = {f.rule_id: f for f in run.findings}
    assert by_rule["MIT"].category is Category.LICENSE
    assert by_rule["MIT"].severity is Severity.LOW  # classification when trivy gives no Severity
    assert by_rule["MIT"].package is None and by_rule["MIT"].locations[0].path == "LICENSE"
    gpl = by_rule["GPL-2.0-only"]
    assert gpl.severity is Severity.HIGH
    assert gpl.package is not None and (gpl.package.name, gpl.package.version) == ("foo", "")


@pytest.mark.parametrize(
    "ident",
    [["pkg:pypi/jinja2@2.10"], "pkg:pypi/jinja2@2.10", {"PURL": 7, "UID": ["acb40a136af6983f"]}, {}],
)
def test_an_unreadable_package_identifier_gives_no_purl_and_keeps_the_finding(ident: Any) -> None:
    """PkgIdentifier not an object, or PURL/UID not strings: no purl, no lock-file line (no UID to look
    up), the ecosystem from the result's type; the finding itself is kept."""
    doc = fs_report()
    doc["Results"][0]["Vulnerabilities"] = [dict(vuln(), PkgIdentifier=ident)]
    (f,) = [f for f in trivy.parse(json.dumps(doc), mode="fs").findings if f.rule_id == "CVE-2019-10906"]
    assert f.package == Package("Jinja2", "2.10", "pypi", "", "2.10.1")
    assert f.locations == (Location("requirements.txt"),)
