"""Each bundled rule, both ways, on the real policy files evaluated by the real regorus."""

from __future__ import annotations

import pytest

from pipeline.model import BasePin, Category, Component, Severity
from pipeline.policy.config import GateConfig
from tests.policy_helpers import (
    DIGEST,
    evaluate,
    finding,
    good_build,
    good_image,
    ids,
    sbom,
    vuln,
)


def test_nothing_at_all_passes_and_absent_inputs_do_not_fire() -> None:
    verdict, result = evaluate()
    assert verdict.passed
    assert verdict.reasons == ()
    assert verdict.policy == "rego"
    assert result["schema"] == "seaworthy.gate-result/v1"


def test_clean_image_with_clean_sbom_passes() -> None:
    verdict, _ = evaluate(
        [finding(severity=Severity.MEDIUM)],
        sbom_summary=sbom(Component("requests", "2.32.3", "pkg:pypi/requests@2.32.3", "pypi", ("Apache-2.0",))),
        facts=[good_image()],
        build=good_build(),
    )
    assert verdict.passed, verdict.reasons
    assert verdict.reasons == ()


@pytest.mark.parametrize(
    ("category", "threshold_hit", "below"),
    [
        (Category.SAST, Severity.HIGH, Severity.MEDIUM),
        (Category.DEPENDENCY, Severity.CRITICAL, Severity.MEDIUM),
        (Category.MISCONFIGURATION, Severity.HIGH, Severity.LOW),
        (Category.IMAGE_VULNERABILITY, Severity.HIGH, Severity.MEDIUM),
        (Category.LICENSE, Severity.HIGH, Severity.MEDIUM),
    ],
)
def test_threshold_per_category(category: Category, threshold_hit: Severity, below: Severity) -> None:
    hit = finding(category, "R1", threshold_hit, path="a.txt")
    low = finding(category, "R2", below, path="b.txt")
    verdict, _ = evaluate([hit, low])
    assert not verdict.passed
    assert ids(verdict.denials) == [f"threshold.{category.value}"]
    reason = verdict.denials[0]
    assert reason.findings == (hit.fingerprint,)
    assert "1 " in reason.message and "R1 at a.txt" in reason.message
    assert reason.remedy

    verdict, _ = evaluate([low])
    assert verdict.passed


def test_threshold_is_configuration_not_code() -> None:
    f = finding(Category.SAST, "R1", Severity.MEDIUM)
    assert evaluate([f])[0].passed
    stricter = GateConfig(thresholds={Category.SAST: Severity.LOW})
    assert ids(evaluate([f], config=stricter)[0].denials) == ["threshold.sast"]
    off = GateConfig(thresholds={Category.SAST: None})
    assert evaluate([finding(severity=Severity.CRITICAL)], config=off)[0].passed


def test_any_secret_fails_whatever_its_severity() -> None:
    for sev in (Severity.UNKNOWN, Severity.INFO, Severity.CRITICAL):
        s = finding(Category.SECRET, "aws-access-key-id", sev, tool="gitleaks", path="config.py", line=13)
        verdict, _ = evaluate([s])
        assert ids(verdict.denials) == ["threshold.secret"], sev
        assert verdict.denials[0].findings == (s.fingerprint,)
        assert "rotate" in verdict.denials[0].remedy
    assert evaluate([finding(Category.SAST, severity=Severity.LOW)])[0].passed


def test_fixable_only_ignores_unfixable_vulnerabilities_but_not_other_categories() -> None:
    unfixable = vuln("CVE-2099-0001", "libc6", "2.36", fixed="", category=Category.IMAGE_VULNERABILITY)
    fixable = vuln("CVE-2018-18074")
    sast = finding(severity=Severity.HIGH)
    cfg = GateConfig(fixable_only=True)
    verdict, _ = evaluate([unfixable, fixable, sast], config=cfg)
    assert ids(verdict.denials) == ["threshold.dependency", "threshold.sast"]
    assert "with a fix available" in next(r for r in verdict.denials if r.rule_id == "threshold.dependency").message
    verdict, _ = evaluate([unfixable], config=GateConfig())
    assert ids(verdict.denials) == ["threshold.image-vulnerability"]


def test_image_must_not_run_as_root() -> None:
    for user in ("", "root", "0", "0:0"):
        verdict, _ = evaluate(facts=[good_image(user=user)], build=good_build())
        assert ids(verdict.denials) == ["image.root-user"], user
    assert evaluate(facts=[good_image(user="app")], build=good_build())[0].passed


def test_base_image_pinning() -> None:
    unpinned = good_image(base_image="python:latest", base_pin=BasePin.NONE)
    verdict, _ = evaluate(facts=[unpinned], build=good_build())
    assert ids(verdict.denials) == ["image.base-unpinned"]
    assert "python:latest" in verdict.denials[0].message

    tag_only = good_image(base_image="python:3.12-slim", base_pin=BasePin.TAG)
    verdict, _ = evaluate(facts=[tag_only], build=good_build())
    assert verdict.passed
    assert ids(verdict.warnings) == ["image.base-no-digest"]

    for ok in (good_image(), good_image(base_image="scratch", base_pin=BasePin.SCRATCH)):
        verdict, _ = evaluate(facts=[ok], build=good_build())
        assert verdict.reasons == ()


def test_required_labels() -> None:
    only_source = good_image(labels=(("org.opencontainers.image.source", "https://git.example/app"),))
    verdict, _ = evaluate(facts=[only_source], build=good_build())
    assert ids(verdict.denials) == ["image.labels"]
    assert "org.opencontainers.image.revision" in verdict.denials[0].message
    assert "org.opencontainers.image.source" not in verdict.denials[0].message.split(":", 1)[1]

    blank = good_image(labels=(("org.opencontainers.image.revision", " "), *only_source.labels))
    assert ids(evaluate(facts=[blank], build=good_build())[0].denials) == ["image.labels"]
    custom = GateConfig(required_labels=("com.example.team",))
    verdict, _ = evaluate(facts=[good_image()], build=good_build(), config=custom)
    assert "com.example.team" in verdict.denials[0].message


def test_scanned_digest_must_equal_built_digest() -> None:
    other = "sha256:" + "ef" * 32
    verdict, _ = evaluate(facts=[good_image(config_digest=other)], build=good_build())
    assert ids(verdict.denials) == ["image.digest-mismatch"]
    assert other in verdict.denials[0].message and DIGEST in verdict.denials[0].message

    two = good_build(
        config_digests=(("linux/amd64", DIGEST), ("linux/arm64", other)),
        platforms=("linux/amd64", "linux/arm64"),
    )
    verdict, _ = evaluate(facts=[good_image()], build=two)
    assert ids(verdict.denials) == ["image.digest-mismatch"]
    assert "linux/arm64" in verdict.denials[0].message
    both = [good_image(), good_image(platform="linux/arm64", config_digest=other)]
    assert evaluate(facts=both, build=two)[0].passed
    # no build facts: nothing to compare with, nothing fires
    assert evaluate(facts=[good_image(config_digest=other)])[0].passed


def test_sbom_must_not_be_empty() -> None:
    verdict, _ = evaluate(sbom_summary=sbom())
    assert ids(verdict.denials) == ["sbom.empty"]
    assert evaluate(sbom_summary=sbom(Component("a", "1")))[0].passed


def test_license_deny_list_and_copyleft_warning() -> None:
    comps = sbom(
        Component("readline", "8.2", "pkg:deb/debian/readline@8.2", "deb", ("GPL-3.0-only",)),
        Component("dual", "1.0", licenses=("MIT OR GPL-2.0-only",)),
        Component("both", "1.0", licenses=("Apache-2.0 AND (BUSL-1.1 OR GPL-2.0-or-later)",)),
        Component("ok", "1.0", licenses=("MIT",)),
    )
    verdict, _ = evaluate(sbom_summary=comps)
    assert verdict.passed
    assert ids(verdict.warnings) == ["license.copyleft"]
    msg = verdict.warnings[0].message
    assert "readline 8.2" in msg and "dual" not in msg and "both" not in msg

    cfg = GateConfig(license_deny=("gpl-3.0-only", "BUSL-1.1"))
    verdict, _ = evaluate(sbom_summary=comps, config=cfg)
    assert ids(verdict.denials) == ["license.denied"]
    assert "readline 8.2" in verdict.denials[0].message
    assert "both" not in verdict.denials[0].message  # GPL-2.0-or-later remains a choice, and is only warned
    assert ids(verdict.warnings) == []

    strict = GateConfig(license_deny=("BUSL-1.1", "GPL-2.0-or-later"))
    verdict, _ = evaluate(sbom_summary=comps, config=strict)
    assert "both 1.0" in verdict.denials[0].message
    assert evaluate(sbom_summary=comps, config=GateConfig(license_warn=()))[0].reasons == ()


def test_source_only_scan_never_fires_image_rules() -> None:
    verdict, _ = evaluate([finding(severity=Severity.LOW)], build=good_build())
    assert verdict.reasons == ()
