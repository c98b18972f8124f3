"""Verification policy for a published image: is it signed, and do its attestations say what we require?

Pure: it reads what cosign verified (`SignatureCheck`, decoded `Statement`s) and an explicit `now`. Every
check is reported with pass/fail and a message that says what to do when it fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import attrs

from pipeline.errors import InputError
from pipeline.formats.intoto import (
    COSIGN_VULN_V1,
    CYCLONEDX_BOM,
    SLSA_PROVENANCE_V1,
    SPDX_DOCUMENT,
    VERDICT_V1,
    Statement,
    as_list,
    as_map,
    parse_time,
    provenance_config_digest,
    sha256_hex,
)
from pipeline.tools.cosign import SignatureCheck


@attrs.frozen
class Requirement:
    """One kind of attestation that must be present: any of `predicate_types` satisfies it."""

    name: str
    predicate_types: tuple[str, ...]


SBOM = Requirement("sbom", (CYCLONEDX_BOM, SPDX_DOCUMENT))
VULNERABILITIES = Requirement("vulnerabilities", (COSIGN_VULN_V1,))
PROVENANCE = Requirement("provenance", (SLSA_PROVENANCE_V1,))
VERDICT = Requirement("verdict", (VERDICT_V1,))
DEFAULT_REQUIREMENTS = (SBOM, VULNERABILITIES, PROVENANCE, VERDICT)


@attrs.frozen
class VerificationPolicy:
    required: tuple[Requirement, ...] = DEFAULT_REQUIREMENTS
    max_scan_age: timedelta = timedelta(hours=24)
    """A vulnerability attestation older than this (scanFinishedOn vs `now`) is stale."""
    expected_config_digest: str = ""
    """When set, the provenance must record this image config digest (the one that was scanned)."""
    clock_skew: timedelta = timedelta(minutes=5)
    """How far in the future a scan time may be before it is rejected."""


@attrs.frozen
class Check:
    name: str
    passed: bool
    message: str


@attrs.frozen
class VerificationResult:
    image_digest: str
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)


def evaluate(
    image_digest: str,
    signature: SignatureCheck,
    statements: Sequence[Statement],
    *,
    now: datetime,
    policy: VerificationPolicy | None = None,
) -> VerificationResult:
    """Run every check. `statements` are the decoded statements cosign verified for this image."""
    policy = policy or VerificationPolicy()
    digest = f"sha256:{sha256_hex(image_digest, 'image digest')}"
    if now.tzinfo is None:
        raise InputError("verification time has no timezone; pass an aware datetime (datetime.now(UTC))")
    checks: list[Check] = [_signature(digest, signature)]
    by_type: dict[str, list[Statement]] = {}
    for st in statements:
        by_type.setdefault(st.predicate_type, []).append(st)

    for req in policy.required:
        found = [st for t in req.predicate_types for st in by_type.get(t, [])]
        if found:
            checks.append(Check(f"attestation:{req.name}", True, f"{len(found)} {req.name} attestation(s)"))
        else:
            types = " or ".join(req.predicate_types)
            checks.append(
                Check(
                    f"attestation:{req.name}",
                    False,
                    f"no signed {req.name} attestation ({types}) on {digest}; run the attest stage for this "
                    "digest (seaworthy attest) and verify with the same key or identity",
                )
            )

    for i, st in enumerate(sorted(statements, key=lambda s: (s.predicate_type, s.subject_digests()))):
        checks.append(_subject(i, st, digest))

    required_types = {t for req in policy.required for t in req.predicate_types}
    if COSIGN_VULN_V1 in required_types or COSIGN_VULN_V1 in by_type:
        checks.append(_freshness(by_type.get(COSIGN_VULN_V1, []), now, policy))
    if VERDICT_V1 in required_types or VERDICT_V1 in by_type:
        checks.append(_verdict(by_type.get(VERDICT_V1, [])))
    if policy.expected_config_digest:
        checks.append(_config_digest(by_type.get(SLSA_PROVENANCE_V1, []), policy.expected_config_digest))
    return VerificationResult(digest, tuple(checks))


def _signature(digest: str, sig: SignatureCheck) -> Check:
    if not sig.verified:
        why = sig.message or "no valid signature"
        return Check(
            "signature",
            False,
            f"{digest} is not signed by the expected key or identity ({why}); sign it (seaworthy sign) and "
            "verify with the matching public key, or the certificate identity and issuer it was signed with",
        )
    if not sig.payloads:
        return Check("signature", False, f"cosign reported no verified signature payload for {digest}")
    others = [d for d in sig.digests if d != digest]
    if others:
        return Check(
            "signature",
            False,
            f"a verified signature names {', '.join(others)}, not {digest}; re-sign the image by its digest",
        )
    return Check("signature", True, f"{len(sig.payloads)} valid signature(s) for {digest}")


def _subject(i: int, st: Statement, digest: str) -> Check:
    name = f"subject:{st.predicate_type}#{i}"
    hexes = st.subject_digests("sha256")
    if digest.removeprefix("sha256:") in hexes:
        return Check(name, True, f"{st.predicate_type} attestation is about {digest}")
    shown = ", ".join(f"sha256:{h}" for h in hexes) or "no sha256 digest"
    return Check(
        name,
        False,
        f"{st.predicate_type} attestation is about {shown}, not {digest}; it was made for another image: "
        "attest this digest again",
    )


def _freshness(vulns: list[Statement], now: datetime, policy: VerificationPolicy) -> Check:
    name = "vulnerability-scan-age"
    if not vulns:
        return Check(name, False, "no vulnerability attestation, so the scan age is unknown; attest a fresh scan")
    times: list[datetime] = []
    for st in vulns:
        metadata = as_map(st.predicate.get("metadata")) or {}
        try:
            times.append(parse_time(metadata.get("scanFinishedOn"), "vulnerability attestation scanFinishedOn"))
        except InputError as exc:
            return Check(name, False, f"{exc}; re-attest the scan with a valid scanFinishedOn")
    newest = max(times)
    if newest > now + policy.clock_skew:
        return Check(
            name,
            False,
            f"newest scan finished at {newest.isoformat()}, after the verification time {now.isoformat()}; "
            "check the clocks of the scanning and verifying machines",
        )
    age = now - newest
    limit_h = policy.max_scan_age.total_seconds() / 3600
    if age > policy.max_scan_age:
        return Check(
            name,
            False,
            f"newest vulnerability scan is {age.total_seconds() / 3600:.1f} h old, older than {limit_h:g} h; "
            "re-scan the image and attest the result (seaworthy scan-image --attest)",
        )
    return Check(
        name,
        True,
        f"newest vulnerability scan is {age.total_seconds() / 3600:.1f} h old (limit {limit_h:g} h)",
    )


def _verdict(verdicts: list[Statement]) -> Check:
    name = "verdict"
    if not verdicts:
        return Check(name, False, "no gate verdict attestation; run the gate and attest its verdict")
    failed = [st for st in verdicts if st.predicate.get("passed") is not True]
    if failed:
        denials: list[str] = []
        for st in failed:
            for raw in as_list(st.predicate.get("denials")) or []:
                reason = as_map(raw) or {}
                denials.append(str(reason.get("ruleId", "?")))
        listed = ", ".join(sorted(set(denials))) or "no reason recorded"
        return Check(
            name,
            False,
            f"the gate verdict attested for this image did not pass (denied by: {listed}); fix the denials "
            "and ship a new build",
        )
    return Check(name, True, f"{len(verdicts)} gate verdict(s), all passed")


def _config_digest(provenances: list[Statement], expected: str) -> Check:
    name = "provenance-config-digest"
    want = f"sha256:{sha256_hex(expected, 'expected image config digest')}"
    if not provenances:
        return Check(name, False, f"no provenance attestation to compare with config digest {want}")
    recorded = sorted({provenance_config_digest(st.predicate) for st in provenances})
    if recorded == [want]:
        return Check(name, True, f"provenance records image config {want}")
    shown = ", ".join(r or "(none)" for r in recorded)
    return Check(
        name,
        False,
        f"provenance records image config {shown}, expected {want}: the pushed image is not the one that was "
        "built and scanned; publish the built container itself",
    )


REQUIREMENT_NAMES: dict[str, Requirement] = {
    "sbom": SBOM,
    "vuln": VULNERABILITIES,
    "provenance": PROVENANCE,
    "verdict": VERDICT,
}
"""The names `verify --require` accepts."""


MAX_VULN_AGE_HOURS = 10 * 366 * 24
"""The largest --max-vuln-age-hours accepted: ten years."""


def policy_for(
    names: Sequence[str], *, max_vuln_age_hours: int = 24, expected_config_digest: str = ""
) -> VerificationPolicy:
    """A policy from `--require` names (empty: all four) and the age limit. Unknown names: InputError."""
    chosen: list[Requirement] = []
    for name in names or tuple(REQUIREMENT_NAMES):
        req = REQUIREMENT_NAMES.get(name.strip().lower())
        if req is None:
            raise InputError(f"--require {name!r} is unknown; use any of {', '.join(REQUIREMENT_NAMES)}")
        if req not in chosen:
            chosen.append(req)
    if max_vuln_age_hours <= 0:
        raise InputError(f"--max-vuln-age-hours must be positive, got {max_vuln_age_hours}; e.g. 24")
    if max_vuln_age_hours > MAX_VULN_AGE_HOURS:  # beyond timedelta's range it crashed (OverflowError)
        raise InputError(
            f"--max-vuln-age-hours {max_vuln_age_hours} is more than ten years ({MAX_VULN_AGE_HOURS} hours); "
            "a vulnerability scan that old says nothing: give the hours a scan may be old, e.g. 24"
        )
    return VerificationPolicy(
        required=tuple(chosen),
        max_scan_age=timedelta(hours=max_vuln_age_hours),
        expected_config_digest=expected_config_digest,
    )


def predicate_types(policy: VerificationPolicy) -> tuple[str, ...]:
    """Every predicate type to ask cosign for, in a stable order."""
    return tuple(sorted({t for req in policy.required for t in req.predicate_types}))


def to_json(result: VerificationResult) -> dict[str, object]:
    """The verification report document (deterministic)."""
    return {
        "schema": "seaworthy.verification/v1",
        "image_digest": result.image_digest,
        "passed": result.passed,
        "checks": [{"name": c.name, "passed": c.passed, "message": c.message} for c in result.checks],
    }


def failure_message(ref: str, result: VerificationResult) -> str:
    """One first line naming the image and what failed, then each failed check."""
    failed = result.failures
    names = ", ".join(c.name for c in failed) or "no checks ran"
    lines = [f"verification of {ref} failed ({names}); do not deploy it: fix the causes below and re-ship"]
    lines += [f"  - {c.name}: {c.message}" for c in failed]
    return "\n".join(lines)
