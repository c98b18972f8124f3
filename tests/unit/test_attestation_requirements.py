from __future__ import annotations

from datetime import timedelta

import pytest

from pipeline.errors import InputError
from pipeline.policy import attestations as ap


def test_policy_for_defaults_to_all_four_and_keeps_order() -> None:
    policy = ap.policy_for(())
    assert [r.name for r in policy.required] == ["sbom", "vulnerabilities", "provenance", "verdict"]
    assert policy.max_scan_age == timedelta(hours=24)
    only = ap.policy_for(
        ["verdict", "SBOM", "verdict"], max_vuln_age_hours=6, expected_config_digest="sha256:" + "a" * 64
    )
    assert [r.name for r in only.required] == ["verdict", "sbom"]
    assert only.max_scan_age == timedelta(hours=6)
    assert only.expected_config_digest.endswith("a" * 64)


def test_policy_for_rejects_unknown_names_and_bad_ages() -> None:
    with pytest.raises(
        InputError, match="--require 'signature' is unknown; use any of sbom, vuln, provenance, verdict"
    ):
        ap.policy_for(["signature"])
    with pytest.raises(InputError, match="--max-vuln-age-hours must be positive"):
        ap.policy_for((), max_vuln_age_hours=0)


def test_predicate_types_cover_the_requirements() -> None:
    types = ap.predicate_types(ap.policy_for(["sbom", "verdict"]))
    assert types == tuple(sorted(("https://cyclonedx.org/bom", "https://spdx.dev/Document", ap.VERDICT_V1)))


def test_report_and_failure_message() -> None:
    result = ap.VerificationResult(
        "sha256:" + "b" * 64,
        (ap.Check("signature", True, "ok"), ap.Check("verdict", False, "the gate did not pass")),
    )
    doc = ap.to_json(result)
    assert doc["passed"] is False
    assert doc["checks"] == [
        {"name": "signature", "passed": True, "message": "ok"},
        {"name": "verdict", "passed": False, "message": "the gate did not pass"},
    ]
    msg = ap.failure_message("reg/app@sha256:" + "b" * 64, result)
    first, *rest = msg.splitlines()
    assert first.startswith("verification of reg/app@sha256:") and "(verdict)" in first
    assert rest == ["  - verdict: the gate did not pass"]
