from __future__ import annotations

import attrs
import pytest

from pipeline.model import (
    Category,
    Finding,
    ImageFacts,
    Location,
    Severity,
    merge_findings,
)
from tests.factories import finding, vuln


def test_severity_scale_is_ordered_and_parses_case_insensitively() -> None:
    assert Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW > Severity.INFO > Severity.UNKNOWN
    assert Severity.parse(" high ") is Severity.HIGH
    with pytest.raises(ValueError, match="unknown severity 'SEVERE'; use one of UNKNOWN, INFO"):
        Severity.parse("SEVERE")


def test_category_parse_names_the_choices() -> None:
    assert Category.parse("Image-Vulnerability") is Category.IMAGE_VULNERABILITY
    with pytest.raises(ValueError, match="use one of sast, secret"):
        Category.parse("vulns")


def test_fingerprint_is_stable_and_tells_sast_results_apart_by_message_and_column() -> None:
    a = finding(message="one wording")
    assert finding(message="one wording").fingerprint == a.fingerprint
    assert len(a.fingerprint) == 32
    assert finding(line=2, message="one wording").fingerprint != a.fingerprint
    assert finding(message="another wording").fingerprint != a.fingerprint
    # a known value pins the algorithm: changing it would break users' baselines and exceptions
    assert finding().fingerprint == "8bc9e1d099f91c818a519f7d231790b2"
    col = Finding(Category.SAST, "rule", Severity.HIGH, "problem", ("x",), (Location("app.py", 1, 1, 5),))
    col2 = Finding(Category.SAST, "rule", Severity.HIGH, "problem", ("x",), (Location("app.py", 1, 1, 9),))
    assert col.fingerprint != col2.fingerprint
    assert len(merge_findings([col, col2, col])) == 2


def test_secret_and_misconfiguration_fingerprints_ignore_message_so_tools_merge() -> None:
    one = finding(Category.SECRET, "aws-key", tool="gitleaks", message="AWS key")
    two = finding(Category.SECRET, "detected-aws", tool="semgrep", message="Possible hard-coded secret")
    assert one.fingerprint == two.fingerprint
    (merged,) = merge_findings([one, two])
    assert merged.tools == ("gitleaks", "semgrep")
    dl = finding(Category.MISCONFIGURATION, "DS-0005", tool="hadolint", path="Dockerfile", message="use COPY")
    ds = finding(Category.MISCONFIGURATION, "DS-0005", tool="trivy", path="Dockerfile", message="ADD used")
    assert len(merge_findings([dl, ds])) == 1


def test_tool_fingerprint_decides_identity_and_location_less_results_stay_distinct() -> None:
    base = Finding(Category.SAST, "r", Severity.LOW, "same", ("x",), (Location("a.py", 3, 1),), identity="fp1")
    other = attrs.evolve(base, identity="fp2", fingerprint="")
    moved = attrs.evolve(base, locations=(Location("a.py", 9),), message="moved", fingerprint="")
    assert len(merge_findings([base, other])) == 2
    assert len(merge_findings([base, moved])) == 1  # the tool says it is the same result
    nowhere = [Finding(Category.SAST, "r", Severity.LOW, m, ("x",)) for m in ("in module a", "in module b")]
    assert len(merge_findings([*nowhere, nowhere[0]])) == 2


def test_same_cve_same_package_from_two_tools_and_places_still_merges() -> None:
    a = vuln(tool="trivy", path="package-lock.json")
    b = vuln(tool="grype", path="image:usr/lib/node_modules", category=Category.IMAGE_VULNERABILITY)
    (m,) = merge_findings([a, b])
    assert m.tools == ("grype", "trivy")
    assert len(m.locations) == 2


def test_dev_marker_survives_merge_only_when_every_report_says_dev() -> None:
    dev = attrs.evolve(vuln(), dev=True)
    assert merge_findings([dev, dev])[0].dev is True
    assert merge_findings([dev, attrs.evolve(vuln(category=Category.IMAGE_VULNERABILITY), dev=False)])[0].dev is False


def test_finding_requires_a_tool() -> None:
    with pytest.raises(ValueError, match="at least one tool"):
        Finding(Category.SAST, "r", Severity.LOW, "m", ())


def test_same_cve_in_lock_file_and_image_merges_into_one_finding_with_two_locations() -> None:
    src = vuln(severity=Severity.MEDIUM, path="requirements.txt")
    img = vuln(
        severity=Severity.HIGH,
        category=Category.IMAGE_VULNERABILITY,
        path="image:app/venv/lib/python3.11/site-packages",
    )
    merged = merge_findings([img, src])
    assert len(merged) == 1
    (m,) = merged
    assert m.severity is Severity.HIGH
    assert m.category is Category.DEPENDENCY
    assert [loc.path for loc in m.locations] == ["image:app/venv/lib/python3.11/site-packages", "requirements.txt"]
    assert m.tools == ("trivy",)


def test_same_secret_at_same_place_from_two_tools_merges() -> None:
    a = finding(Category.SECRET, "aws-access-token", Severity.HIGH, tool="gitleaks", path="config.py", line=3)
    b = finding(Category.SECRET, "aws-access-key-id", Severity.CRITICAL, tool="trivy", path="config.py", line=3)
    c = finding(Category.SECRET, "github-pat", Severity.CRITICAL, tool="trivy", path="config.py", line=5)
    merged = merge_findings([a, b, c])
    assert len(merged) == 2
    first = merged[0]
    assert first.tools in (("gitleaks", "trivy"), ("trivy",))
    both = next(m for m in merged if m.locations[0].start_line == 3)
    assert both.tools == ("gitleaks", "trivy")
    assert both.severity is Severity.CRITICAL


def test_different_rules_at_same_place_stay_apart_and_order_is_deterministic() -> None:
    items = [
        finding(rule_id="b", severity=Severity.LOW),
        finding(rule_id="a", severity=Severity.LOW),
        finding(rule_id="c", severity=Severity.CRITICAL),
    ]
    one = merge_findings(items)
    two = merge_findings(list(reversed(items)))
    assert one == two
    assert [f.rule_id for f in one] == ["c", "a", "b"]


def test_image_facts_root_detection() -> None:
    assert ImageFacts(config_digest="sha256:x").runs_as_root
    assert ImageFacts(config_digest="sha256:x", user="0:0").runs_as_root
    assert ImageFacts(config_digest="sha256:x", user="root").runs_as_root
    assert not ImageFacts(config_digest="sha256:x", user="10001:10001").runs_as_root


def test_merge_sorts_locations_with_missing_lines_and_columns() -> None:
    a = Finding(Category.SECRET, "x", Severity.HIGH, "m", ("a",), (Location("a.py", 3, 3, 1, None),))
    b = Finding(Category.SECRET, "y", Severity.HIGH, "m", ("b",), (Location("a.py", 3, 3, 5, 9),))
    (merged,) = merge_findings([a, b])
    assert merged.locations == (Location("a.py", 3, 3, 1, None), Location("a.py", 3, 3, 5, 9))


def test_fingerprint_survives_undecodable_file_names() -> None:
    f = finding(path="bad\udcff\ud800name.py")
    assert len(f.fingerprint) == 32


def test_as_scanned_takes_each_platforms_scanned_digest() -> None:
    from pipeline.model import ToolRun, as_scanned

    amd = ImageFacts(config_digest="sha256:" + "a" * 64, platform="linux/amd64")
    arm = ImageFacts(config_digest="sha256:" + "b" * 64, platform="linux/arm64")
    runs = (ToolRun("trivy", "", (), subject="sha256:" + "c" * 64), ToolRun("trivy", "", ()))
    out = as_scanned((amd, arm), runs)
    assert out[0].config_digest == "sha256:" + "c" * 64 and out[0].platform == "linux/amd64"
    assert out[1] == arm  # no subject reported: the built digest stands
    with pytest.raises(ValueError):
        as_scanned((amd,), runs)


def test_secrets_whose_line_ranges_overlap_in_one_file_are_one_secret() -> None:
    # gitleaks reports a PEM private key at 1-15 (BEGIN..END), trivy at 2-14 (the body): one secret
    def secret(tool: str, rule: str, start: int, end: int, path: str = "server.key") -> Finding:
        return Finding(Category.SECRET, rule, Severity.HIGH, "key", (tool,), (Location(path, start, end),))

    key_g = secret("gitleaks", "private-key", 1, 15)
    key_t = secret("trivy", "private-key", 2, 14)
    other = secret("gitleaks", "generic-api-key", 20, 20)
    elsewhere = secret("trivy", "private-key", 2, 14, path="other.key")
    merged = merge_findings([key_t, other, elsewhere, key_g])
    assert len(merged) == 3
    (key,) = [f for f in merged if f.locations[0].path == "server.key" and f.tools == ("gitleaks", "trivy")]
    assert [(loc.start_line, loc.end_line) for loc in key.locations] == [(1, 15), (2, 14)]
    assert merge_findings([key_g, key_t]) == merge_findings([key_t, key_g])
