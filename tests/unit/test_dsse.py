"""DSSE round trip: every statement signed (ECDSA P-256) into the envelope cosign stores and prints, read back
and verified with only the public key; tampering or the wrong key fails."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from securesystemslib import dsse
from securesystemslib.exceptions import VerificationError
from securesystemslib.signer import (  # the documented public API; pyright sees no __all__
    CryptoSigner,  # pyright: ignore[reportPrivateImportUsage]
    Key,  # pyright: ignore[reportPrivateImportUsage]
    SSlibKey,  # pyright: ignore[reportPrivateImportUsage]
)

from pipeline.errors import InputError
from pipeline.formats import intoto
from pipeline.tools import cosign
from tests.unit import _attestation_data as data


@pytest.fixture(scope="module")
def signer() -> CryptoSigner:
    return CryptoSigner.generate_ecdsa()


def public_only(signer: CryptoSigner) -> Key:
    """The verifier gets the public key as it would be distributed (serialized), nothing else."""
    pub = SSlibKey.from_dict(signer.public_key.keyid, json.loads(json.dumps(signer.public_key.to_dict())))
    assert "private" not in json.dumps(pub.to_dict())
    return pub


def signed_envelope_json(st: dict[str, Any], signer: CryptoSigner) -> str:
    env = dsse.Envelope(intoto.canonical_json(st), intoto.IN_TOTO_PAYLOAD_TYPE, {})
    env.sign(signer)
    return json.dumps(env.to_dict(), sort_keys=True)


@pytest.mark.parametrize("index", range(6))
def test_statement_round_trips_through_a_signed_envelope(index: int, signer: CryptoSigner) -> None:
    st = data.all_statements()[index]
    wire = signed_envelope_json(st, signer)

    carried: dict[str, Any] = json.loads(wire)
    # the layout cosign carries (the .att layer / each line of `verify-attestation`)
    assert set(carried) == {"payloadType", "payload", "signatures"}
    assert carried["payloadType"] == "application/vnd.in-toto+json"
    assert [set(s) for s in carried["signatures"]] == [{"keyid", "sig"}]

    env = dsse.Envelope.from_dict(carried)
    verified = env.verify([public_only(signer)], 1)
    assert len(verified) == 1

    back = intoto.decode_envelope(carried)
    assert back.predicate_type == st["predicateType"]
    assert back.payload == intoto.canonical_json(st)
    assert json.loads(back.payload) == st


def test_tampered_payload_fails_verification(signer: CryptoSigner) -> None:
    st = intoto.verdict_statement(
        data.REPO,
        data.MANIFEST,
        data.FAILED,
        policy_digest=data.POLICY_DIGEST,
        input_digest=data.INPUT_DIGEST,
    )
    carried = json.loads(signed_envelope_json(st, signer))
    forged = json.loads(base64.b64decode(carried["payload"]))
    forged["predicate"]["passed"] = True
    forged["predicate"]["denials"] = []
    carried["payload"] = base64.b64encode(intoto.canonical_json(forged)).decode()

    with pytest.raises(VerificationError):
        dsse.Envelope.from_dict(carried).verify([public_only(signer)], 1)


def test_swapped_subject_fails_verification(signer: CryptoSigner) -> None:
    carried = json.loads(signed_envelope_json(data.all_statements()[0], signer))
    forged = json.loads(base64.b64decode(carried["payload"]))
    forged["subject"][0]["digest"]["sha256"] = data.OTHER.removeprefix("sha256:")
    carried["payload"] = base64.b64encode(intoto.canonical_json(forged)).decode()
    with pytest.raises(VerificationError):
        dsse.Envelope.from_dict(carried).verify([public_only(signer)], 1)


def test_another_key_does_not_verify(signer: CryptoSigner) -> None:
    carried = json.loads(signed_envelope_json(data.all_statements()[1], signer))
    stranger = CryptoSigner.generate_ecdsa()
    with pytest.raises(VerificationError):
        dsse.Envelope.from_dict(carried).verify([public_only(stranger)], 1)


def test_unsigned_envelope_is_refused_when_read(signer: CryptoSigner) -> None:
    carried = json.loads(signed_envelope_json(data.all_statements()[1], signer))
    carried["signatures"] = []
    with pytest.raises(InputError, match="carries no signature"):
        intoto.decode_envelope(carried)


def test_cosign_verify_attestation_output_of_signed_envelopes_is_decoded(signer: CryptoSigner) -> None:
    """`cosign verify-attestation` prints one envelope per line; the reader keeps the asked-for type."""
    statements = data.all_statements()
    stdout = "\n".join(signed_envelope_json(st, signer) for st in statements) + "\n"
    check = cosign.read_verify_attestation(intoto.COSIGN_VULN_V1, 0, stdout, "Verification for ... --\n")
    assert check.verified
    assert len(check.statements) == 2  # our summary and trivy's own report
    for got in check.statements:
        assert got.subject_digests() == (data.MANIFEST.removeprefix("sha256:"),)
        env = dsse.Envelope(got.payload, intoto.IN_TOTO_PAYLOAD_TYPE, {})
        # the decoded bytes are exactly the signed bytes
        original = next(
            json.loads(line)
            for line in stdout.splitlines()
            if base64.b64decode(json.loads(line)["payload"]) == got.payload
        )
        env.signatures = dsse.Envelope.from_dict(original).signatures
        env.verify([public_only(signer)], 1)
