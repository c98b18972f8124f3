"""Verification policy: every check passes on a fully signed and attested image, and each fails on its own
defect with a message that says what to do."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from pipeline.errors import InputError
from pipeline.formats import intoto
from pipeline.policy import attestations as pol
from pipeline.tools.cosign import SignatureCheck, SignedPayload
from tests.unit import _attestation_data as data

NOW = data.SCAN_END + timedelta(hours=2)
SIGNED = SignatureCheck(True, "1 valid signature(s)", (SignedPayload(data.REPO, data.MANIFEST),))


def decoded(docs: list[dict[str, Any]]) -> list[intoto.Statement]:
    return [intoto.parse_statement(intoto.canonical_json(d)) for d in docs]


def ours() -> list[dict[str, Any]]:
    """Our statements minus trivy's raw report (its scan time is when the fixture was made)."""
    return [d for i, d in enumerate(data.all_statements()) if i != 2]


def run(
    docs: list[dict[str, Any]] | None = None,
    signature: SignatureCheck = SIGNED,
    now: datetime = NOW,
    **policy: Any,
) -> pol.VerificationResult:
    return pol.evaluate(
        data.MANIFEST,
        signature,
        decoded(ours() if docs is None else docs),
        now=now,
        policy=pol.VerificationPolicy(**policy),
    )


def check(result: pol.VerificationResult, name: str) -> pol.Check:
    found = [c for c in result.checks if c.name == name]
    assert len(found) == 1, [c.name for c in result.checks]
    return found[0]


def test_a_fully_attested_image_passes_every_check() -> None:
    result = run(expected_config_digest=data.CONFIG)
    assert result.passed, result.failures
    names = [c.name for c in result.checks]
    assert names[:5] == [
        "signature",
        "attestation:sbom",
        "attestation:vulnerabilities",
        "attestation:provenance",
        "attestation:verdict",
    ]
    assert sum(n.startswith("subject:") for n in names) == 5
    assert names[-3:] == ["vulnerability-scan-age", "verdict", "provenance-config-digest"]


# ---------------------------------------------------------------------------------------------- signature


def test_unsigned_image_fails_with_cosigns_message_and_the_fix() -> None:
    result = run(signature=SignatureCheck(False, "no signatures found"))
    c = check(result, "signature")
    assert not c.passed and not result.passed
    assert "no signatures found" in c.message and "seaworthy sign" in c.message
    assert [f.name for f in result.failures] == ["signature"]


def test_signature_over_another_digest_fails() -> None:
    other = SignatureCheck(True, "ok", (SignedPayload(data.REPO, data.OTHER),))
    c = check(run(signature=other), "signature")
    assert not c.passed and data.OTHER in c.message and "re-sign" in c.message
    assert not check(run(signature=SignatureCheck(True, "ok", ())), "signature").passed


# ---------------------------------------------------------------------------------------------- presence


@pytest.mark.parametrize(
    ("drop", "name"),
    [
        ({intoto.CYCLONEDX_BOM, intoto.SPDX_DOCUMENT}, "attestation:sbom"),
        ({intoto.COSIGN_VULN_V1}, "attestation:vulnerabilities"),
        ({intoto.SLSA_PROVENANCE_V1}, "attestation:provenance"),
        ({intoto.VERDICT_V1}, "attestation:verdict"),
    ],
)
def test_each_missing_attestation_fails(drop: set[str], name: str) -> None:
    result = run([d for d in ours() if d["predicateType"] not in drop])
    c = check(result, name)
    assert not c.passed and not result.passed
    assert "no signed" in c.message and data.MANIFEST in c.message and "attest" in c.message


def test_one_sbom_format_is_enough() -> None:
    only_spdx = [d for d in ours() if d["predicateType"] != intoto.CYCLONEDX_BOM]
    assert check(run(only_spdx), "attestation:sbom").passed


def test_requirements_are_configurable() -> None:
    no_verdict = [d for d in ours() if d["predicateType"] != intoto.VERDICT_V1]
    required = (pol.SBOM, pol.VULNERABILITIES, pol.PROVENANCE)
    result = run(no_verdict, required=required)
    assert result.passed, result.failures
    assert "verdict" not in [c.name for c in result.checks]


def test_nothing_attested_fails_every_presence_check() -> None:
    result = run([])
    failed = {c.name for c in result.failures}
    assert {
        "attestation:sbom",
        "attestation:vulnerabilities",
        "attestation:provenance",
        "attestation:verdict",
    } <= failed
    assert {"vulnerability-scan-age", "verdict"} <= failed


# ---------------------------------------------------------------------------------------------- subject


def test_statement_about_another_image_fails() -> None:
    docs = ours()
    docs[0] = intoto.provenance_statement(data.REPO, data.OTHER, data.BUILD, data.FACTS)
    result = run(docs)
    failing = [c for c in result.failures if c.name.startswith("subject:")]
    assert len(failing) == 1
    assert intoto.SLSA_PROVENANCE_V1 in failing[0].name
    assert data.OTHER in failing[0].message and "attest this digest again" in failing[0].message


# ---------------------------------------------------------------------------------------------- scan age


def test_scan_younger_than_the_limit_passes_and_older_fails() -> None:
    assert check(run(now=data.SCAN_END + timedelta(hours=23, minutes=59)), "vulnerability-scan-age").passed
    c = check(run(now=data.SCAN_END + timedelta(hours=25)), "vulnerability-scan-age")
    assert not c.passed and "25.0 h old" in c.message and "re-scan" in c.message
    assert not check(run(now=NOW, max_scan_age=timedelta(hours=1)), "vulnerability-scan-age").passed


def test_newest_of_several_scans_counts() -> None:
    old = intoto.vuln_statement(
        data.REPO,
        data.MANIFEST,
        attrs.evolve(
            data.SCAN,
            started_on=data.SCAN_START - timedelta(days=9),
            finished_on=data.SCAN_END - timedelta(days=9),
        ),
        intoto.findings_summary(data.FINDINGS),
    )
    assert check(run([*ours(), old]), "vulnerability-scan-age").passed


def test_scan_from_the_future_fails() -> None:
    c = check(run(now=data.SCAN_END - timedelta(hours=1)), "vulnerability-scan-age")
    assert not c.passed and "clocks" in c.message


def test_trivys_own_report_with_nanosecond_times_is_read() -> None:
    trivy = data.all_statements()[2]
    finished = intoto.parse_time(trivy["predicate"]["metadata"]["scanFinishedOn"], "t")
    docs = [d for d in ours() if d["predicateType"] != intoto.COSIGN_VULN_V1] + [trivy]
    assert check(run(docs, now=finished + timedelta(hours=1)), "vulnerability-scan-age").passed
    assert not check(run(docs, now=finished + timedelta(days=2)), "vulnerability-scan-age").passed


def test_unreadable_scan_time_fails() -> None:
    docs = ours()
    docs[1]["predicate"]["metadata"]["scanFinishedOn"] = "soon"
    c = check(run(docs), "vulnerability-scan-age")
    assert not c.passed and "RFC 3339" in c.message


def test_naive_now_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no timezone"):
        run(now=datetime(2026, 11, 27, 12, 0))  # naive on purpose


# ---------------------------------------------------------------------------------------------- verdict


def test_failed_verdict_fails_naming_the_denials() -> None:
    docs = data.all_statements(verdict=data.FAILED)
    c = check(run([d for i, d in enumerate(docs) if i != 2]), "verdict")
    assert not c.passed and "vuln.critical" in c.message
    assert check(run(), "verdict").passed


def test_any_failed_verdict_among_several_fails() -> None:
    failed = intoto.verdict_statement(
        data.REPO,
        data.MANIFEST,
        data.FAILED,
        policy_digest=data.POLICY_DIGEST,
        input_digest=data.INPUT_DIGEST,
    )
    assert not check(run([*ours(), failed]), "verdict").passed


def test_verdict_without_a_boolean_passed_fails() -> None:
    docs = ours()
    verdict = next(d for d in docs if d["predicateType"] == intoto.VERDICT_V1)
    verdict["predicate"]["passed"] = "true"
    assert not check(run(docs), "verdict").passed


# ---------------------------------------------------------------------------------------------- config digest


def test_provenance_config_digest_must_match_when_given() -> None:
    assert check(run(expected_config_digest=data.CONFIG), "provenance-config-digest").passed
    c = check(run(expected_config_digest=data.OTHER), "provenance-config-digest")
    assert not c.passed and data.CONFIG in c.message and data.OTHER in c.message
    assert "provenance-config-digest" not in [x.name for x in run().checks]
    no_prov = [d for d in ours() if d["predicateType"] != intoto.SLSA_PROVENANCE_V1]
    assert not check(run(no_prov, expected_config_digest=data.CONFIG), "provenance-config-digest").passed
    with pytest.raises(InputError, match="expected image config digest"):
        run(expected_config_digest="latest")


def test_result_lists_failures_and_a_result_without_checks_never_passes() -> None:
    result = run(signature=SignatureCheck(False, "no signatures found"), now=NOW.astimezone(UTC))
    assert result.failures == tuple(c for c in result.checks if not c.passed)
    assert not pol.VerificationResult(data.MANIFEST, ()).passed
