"""cosign 3 invocations: digest references only, secrets only as named secret env/files, the right flags for
each signing mode, the cosign 3 no-tlog pair; and the reading of `verify`/`verify-attestation` output."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.errors import InputError, ToolFailed, ToolOutputError
from pipeline.formats import intoto
from pipeline.tools import cosign
from pipeline.tools.base import IN, OUT
from pipeline.tools.cosign import CosignCall, Oidc, RegistryAuth, Signer
from tests.unit import _attestation_data as data

REF = data.REF
KMS = {
    "awskms": "awskms:///alias/seaworthy-signing",
    "gcpkms": "gcpkms://projects/acme/locations/global/keyRings/ci/cryptoKeys/cosign/cryptoKeyVersions/1",
    "azurekms": "azurekms://acme-vault.vault.azure.net/cosign",
    "hashivault": "hashivault://cosign",
}
SIGNERS = {
    "key": Signer.key(),
    **{f"kms-{k}": Signer.kms(v) for k, v in KMS.items()},
    "keyless-github": Signer.keyless(Oidc.GITHUB_ACTIONS),
    "keyless-env": Signer.keyless(Oidc.ENV_TOKEN),
}
SECRETISH = re.compile(r"PASSWORD|TOKEN|SECRET|PRIVATE|ACCESS_KEY|CLIENT_SECRET", re.IGNORECASE)


def every_call(ref: str = REF) -> dict[str, CosignCall]:
    calls: dict[str, CosignCall] = {}
    for name, signer in SIGNERS.items():
        for auth in RegistryAuth:
            calls[f"sign/{name}/{auth.value}"] = cosign.sign(ref, signer, registry_auth=auth)
            calls[f"attest/{name}/{auth.value}"] = cosign.attest(
                ref, intoto.SLSA_PROVENANCE_V1, signer, registry_auth=auth
            )
    calls["verify/key"] = cosign.verify(ref, key=cosign.PUBLIC_KEY, registry_auth=RegistryAuth.ENV)
    calls["verify/kms"] = cosign.verify(ref, key=KMS["awskms"])
    calls["verify/keyless"] = cosign.verify(
        ref, identity="https://github.com/example/bad-project/.github/workflows/ship.yml@refs/heads/main",
        issuer="https://token.actions.githubusercontent.com",
    )  # fmt: skip
    calls["verify-attestation/key"] = cosign.verify_attestation(ref, intoto.VERDICT_V1, key=cosign.PUBLIC_KEY)
    calls["generate-key-pair"] = cosign.generate_key_pair()
    return calls


# -------------------------------------------------------------------------------------------- references


BUILDERS: dict[str, Callable[[str], Any]] = {
    "sign": lambda ref: cosign.sign(ref, Signer.key()),
    "attest": lambda ref: cosign.attest(ref, intoto.VERDICT_V1, Signer.key()),
    "verify": lambda ref: cosign.verify(ref, key=cosign.PUBLIC_KEY),
    "verify_attestation": lambda ref: cosign.verify_attestation(ref, intoto.VERDICT_V1, key=cosign.PUBLIC_KEY),
}


@pytest.mark.parametrize("builder", sorted(BUILDERS))
@pytest.mark.parametrize(
    "ref",
    [
        f"{data.REPO}:1.4.0",
        data.REPO,
        f"{data.REPO}@sha256:{'ab' * 31}",  # 62 hex
        f"{data.REPO}@sha256:{'AB' * 32}",  # upper case
        f"{data.REPO}@sha512:{'ab' * 64}",
        f"{data.REPO}:latest@sha256:",
        "",
    ],
)
def test_a_tag_or_malformed_digest_is_refused(builder: str, ref: str) -> None:
    with pytest.raises(InputError) as err:
        BUILDERS[builder](ref)
    first = str(err.value).splitlines()[0]
    assert "--ref" in first and builder in first
    assert "@sha256:" in first  # says how to fix it


@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_the_digest_reference_is_the_last_argument(builder: str) -> None:
    call: CosignCall = BUILDERS[builder](REF)
    assert call.invocation.argv[-1] == REF
    tagged_and_pinned = f"{data.REPO}:1.4.0@{data.MANIFEST}"
    assert BUILDERS[builder](tagged_and_pinned).invocation.argv[-1] == tagged_and_pinned


# -------------------------------------------------------------------------------------------- secrets


@pytest.mark.parametrize("name", sorted(every_call()))
def test_secrets_never_on_argv_or_in_plain_env(name: str) -> None:
    call = every_call()[name]
    inv = call.invocation
    for arg in inv.argv:
        assert not arg.startswith(("--registry-password", "--registry-token", "--identity-token")), arg
        assert arg not in call.secret_env, f"secret name {arg} given as a value on argv"
    for key in inv.env:
        assert key not in call.secret_env
        assert not SECRETISH.search(key), f"{key} looks like a secret in plain env"
    assert all(v.startswith("/tmp/seaworthy-secrets/") for v in inv.env.values())  # only paths to mounted secrets
    assert list(call.secret_env) == sorted(set(call.secret_env))
    for path in call.secret_files:
        assert path.startswith("/tmp/seaworthy-secrets/") and path not in inv.mounts


def test_key_mode_reads_the_key_from_secret_env() -> None:
    call = cosign.sign(REF, Signer.key())
    argv = call.invocation.argv
    assert argv[argv.index("--key") + 1] == "env://COSIGN_PRIVATE_KEY"
    assert call.secret_env == ("COSIGN_PASSWORD", "COSIGN_PRIVATE_KEY")


@pytest.mark.parametrize(
    ("auth", "secret_env", "files", "env"),
    [
        (RegistryAuth.NONE, (), {}, {}),
        (RegistryAuth.ENV, ("COSIGN_REGISTRY_PASSWORD",), {}, {}),
        (
            RegistryAuth.DOCKER_CONFIG,
            (),
            {"/tmp/seaworthy-secrets/docker/config.json": "docker-config"},
            {"DOCKER_CONFIG": "/tmp/seaworthy-secrets/docker"},
        ),
    ],
)
def test_registry_credentials(
    auth: RegistryAuth, secret_env: tuple[str, ...], files: dict[str, str], env: dict[str, str]
) -> None:
    call = cosign.sign(REF, Signer.kms(KMS["hashivault"]), registry_auth=auth)
    assert tuple(n for n in call.secret_env if n.startswith("COSIGN_REGISTRY")) == secret_env
    assert dict(call.secret_files) == files
    assert dict(call.invocation.env) == env


# -------------------------------------------------------------------------------------------- modes


@pytest.mark.parametrize(
    ("name", "flags", "secrets"),
    [
        ("key", ["--key", "env://COSIGN_PRIVATE_KEY"], {"COSIGN_PRIVATE_KEY", "COSIGN_PASSWORD"}),
        ("kms-awskms", ["--key", KMS["awskms"]], {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}),
        ("kms-gcpkms", ["--key", KMS["gcpkms"]], set()),
        (
            "kms-azurekms",
            ["--key", KMS["azurekms"]],
            {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"},
        ),
        ("kms-hashivault", ["--key", KMS["hashivault"]], {"VAULT_ADDR", "VAULT_TOKEN"}),
        (
            "keyless-github",
            ["--oidc-provider=github-actions"],
            {"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"},
        ),
        ("keyless-env", ["--oidc-provider=envvar"], {"SIGSTORE_ID_TOKEN"}),
    ],
)
def test_each_signing_mode_gets_its_flags_and_secrets(name: str, flags: list[str], secrets: set[str]) -> None:
    for call in (cosign.sign(REF, SIGNERS[name]), cosign.attest(REF, intoto.VERDICT_V1, SIGNERS[name])):
        argv = list(call.invocation.argv)
        assert argv[:3] in (["cosign", "sign", "--yes"], ["cosign", "attest", "--yes"])
        assert argv[3 : 3 + len(flags)] == flags
        assert set(call.secret_env) == secrets
        if name.startswith("keyless"):
            assert "--key" not in argv
    gcp = cosign.sign(REF, SIGNERS["kms-gcpkms"])
    assert gcp.secret_files == {"/tmp/seaworthy-secrets/gcp-credentials.json": "gcp-credentials"}
    assert gcp.invocation.env == {"GOOGLE_APPLICATION_CREDENTIALS": "/tmp/seaworthy-secrets/gcp-credentials.json"}


def test_no_tlog_uses_the_cosign3_pair_and_verify_ignores_the_tlog() -> None:
    for call in (
        cosign.sign(REF, Signer.key(), tlog=False),
        cosign.attest(REF, intoto.VERDICT_V1, Signer.key(), tlog=False),
    ):
        argv = call.invocation.argv
        assert "--tlog-upload=false" in argv and "--use-signing-config=false" in argv
        assert argv.index("--use-signing-config=false") == argv.index("--tlog-upload=false") + 1
    with_tlog = cosign.sign(REF, Signer.key()).invocation.argv
    assert not any("tlog" in a or "signing-config" in a for a in with_tlog)
    assert "--insecure-ignore-tlog=true" in cosign.verify(REF, key=cosign.PUBLIC_KEY, tlog=False).invocation.argv
    assert "--insecure-ignore-tlog=true" not in cosign.verify(REF, key=cosign.PUBLIC_KEY).invocation.argv
    assert (
        "--insecure-ignore-tlog=true"
        in cosign.verify_attestation(REF, intoto.VERDICT_V1, key=cosign.PUBLIC_KEY, tlog=False).invocation.argv
    )
    assert not any("--private-infrastructure" in a for c in every_call().values() for a in c.invocation.argv)


def test_http_registry_and_recursive_flags() -> None:
    argv = cosign.sign(REF, Signer.key(), allow_http=True, recursive=True).invocation.argv
    assert "--allow-http-registry" in argv and "--recursive" in argv
    plain = cosign.sign(REF, Signer.key()).invocation.argv
    assert "--allow-http-registry" not in plain and "--recursive" not in plain
    for call in (
        cosign.attest(REF, intoto.VERDICT_V1, Signer.key(), allow_http=True),
        cosign.verify(REF, key=cosign.PUBLIC_KEY, allow_http=True),
        cosign.verify_attestation(REF, intoto.VERDICT_V1, key=cosign.PUBLIC_KEY, allow_http=True),
    ):
        assert "--allow-http-registry" in call.invocation.argv


@pytest.mark.parametrize(
    "uri",
    [
        "awskms:///1234abcd-12ab-34cd-56ef-1234567890ab",
        "awskms://localhost:4566/alias/test",
        "awskms:///arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "gcpkms://projects/p/locations/europe-west1/keyRings/r/cryptoKeys/k",
        "azurekms://vault.vault.azure.net/key/0123abcd",
        "hashivault://transit_key",
    ],
)
def test_valid_kms_references(uri: str) -> None:
    assert cosign.Signer.kms(uri).kms_key == uri


@pytest.mark.parametrize(
    ("uri", "match"),
    [
        ("awskms://alias/x", "not a valid awskms"),
        ("gcpkms://projects/p/keyRings/r/cryptoKeys/k", "not a valid gcpkms"),
        ("azurekms://vault", "not a valid azurekms"),
        ("hashivault://a/b", "not a valid hashivault"),
        ("vault://key", "not a KMS key reference"),
        ("/keys/cosign.key", "not a KMS key reference"),
        ("", "not a KMS key reference"),
    ],
)
def test_invalid_kms_references(uri: str, match: str) -> None:
    with pytest.raises(InputError, match=match):
        cosign.Signer.kms(uri)


def test_keyless_needs_a_token_and_the_tlog() -> None:
    with pytest.raises(InputError, match="keyless signing needs an OIDC token"):
        cosign.Signer(cosign.SigningMode.KEYLESS)
    with pytest.raises(InputError, match="transparency log"):
        cosign.sign(REF, Signer.keyless(Oidc.GITHUB_ACTIONS), tlog=False)
    with pytest.raises(InputError, match="transparency log"):
        cosign.attest(REF, intoto.VERDICT_V1, Signer.keyless(Oidc.ENV_TOKEN), tlog=False)
    with pytest.raises(InputError, match="only used for keyless"):
        cosign.Signer(cosign.SigningMode.KEY, oidc=Oidc.ENV_TOKEN)
    with pytest.raises(InputError, match="only used with --signing-mode kms"):
        cosign.Signer(cosign.SigningMode.KEY, kms_key=KMS["awskms"])


def test_attest_passes_the_predicate_type_uri_verbatim_and_mounts_the_predicate() -> None:
    call = cosign.attest(REF, intoto.COSIGN_VULN_V1, Signer.key())
    argv = call.invocation.argv
    assert argv[argv.index("--type") + 1] == "https://cosign.sigstore.dev/attestation/vuln/v1"
    assert argv[argv.index("--predicate") + 1] == f"{IN}/predicate.json"
    assert call.invocation.mounts == {f"{IN}/predicate.json": "predicate"}
    for short in ("vuln", "slsaprovenance1", "cyclonedx", ""):
        with pytest.raises(InputError, match="not a predicate type URI"):
            cosign.attest(REF, short, Signer.key())
    with pytest.raises(InputError, match="mounted under /in/"):
        cosign.attest(REF, intoto.VERDICT_V1, Signer.key(), predicate_path="/etc/passwd")


def test_verify_needs_exactly_one_of_key_or_identity() -> None:
    with pytest.raises(InputError, match="exactly one"):
        cosign.verify(REF)
    with pytest.raises(InputError, match="exactly one"):
        cosign.verify(REF, key=cosign.PUBLIC_KEY, identity="me", issuer="https://issuer")
    with pytest.raises(InputError, match="needs both"):
        cosign.verify(REF, identity="me@example.com")
    with pytest.raises(InputError, match="not a KMS key reference"):
        cosign.verify(REF, key="/home/me/cosign.pub")
    call = cosign.verify(
        REF,
        identity="^https://github.com/example/",
        issuer="https://token.actions.githubusercontent.com",
        identity_regexp=True,
    )
    argv = call.invocation.argv
    assert argv[:4] == ("cosign", "verify", "--output", "json")
    assert argv[argv.index("--certificate-identity-regexp") + 1] == "^https://github.com/example/"
    assert argv[argv.index("--certificate-oidc-issuer") + 1] == "https://token.actions.githubusercontent.com"
    keyed = cosign.verify(REF, key=cosign.PUBLIC_KEY)
    assert keyed.invocation.mounts == {f"{IN}/cosign.pub": "public-key"} and keyed.secret_env == ()
    assert keyed.invocation.stdout_to_report and keyed.invocation.report.startswith(OUT)


def test_verify_attestation_asks_for_one_type() -> None:
    argv = cosign.verify_attestation(REF, intoto.SLSA_PROVENANCE_V1, key=cosign.PUBLIC_KEY).invocation.argv
    assert argv[:4] == ("cosign", "verify-attestation", "--type", "https://slsa.dev/provenance/v1")
    with pytest.raises(InputError, match="not a predicate type URI"):
        cosign.verify_attestation(REF, "custom", key=cosign.PUBLIC_KEY)


def test_generate_key_pair_and_image() -> None:
    call = cosign.generate_key_pair()
    assert call.invocation.argv == ("cosign", "generate-key-pair")
    assert call.invocation.workdir == OUT and call.invocation.report == f"{OUT}/cosign.pub"
    assert call.secret_env == ("COSIGN_PASSWORD",)
    assert cosign.IMAGE.ref.startswith("ghcr.io/sigstore/cosign/cosign:v3.1.2")  # @sha256:… once locked
    assert all(c.invocation.image == cosign.IMAGE and c.invocation.tool == "cosign" for c in every_call().values())


def test_localized_invocation_maps_container_paths() -> None:
    inv = cosign.attest(REF, intoto.VERDICT_V1, Signer.key()).invocation.localized({IN: "/tmp/x/in", OUT: "/tmp/x/out"})
    assert "/tmp/x/in/predicate.json" in inv.argv and inv.workdir == "/tmp/x/out"


# -------------------------------------------------------------------------------------------- reading output

SIMPLE_SIGNING = [
    {
        "critical": {
            "identity": {"docker-reference": data.REPO},
            "image": {"docker-manifest-digest": data.MANIFEST},
            "type": "cosign container image signature",
        },
        "optional": {
            "Issuer": "https://token.actions.githubusercontent.com",
            "Subject": "https://github.com/example/bad-project/.github/workflows/ship.yml@refs/heads/main",
        },
    }
]
VERIFY_STDERR = (
    f"\nVerification for {REF} --\nThe following checks were performed on each of these signatures:\n"
    "  - The cosign claims were validated\n"
    "  - The signatures were verified against the specified public key\n"
)


def test_read_verify_reads_the_payloads() -> None:
    check = cosign.read_verify(0, json.dumps(SIMPLE_SIGNING) + "\n", VERIFY_STDERR)
    assert check.verified
    assert check.digests == (data.MANIFEST,)
    assert check.payloads[0].docker_reference == data.REPO
    assert check.payloads[0].issuer == "https://token.actions.githubusercontent.com"


@pytest.mark.parametrize(
    ("code", "stderr", "message"),
    [
        (
            10,
            "Error: no signatures found\nmain.go:74: error during command execution: no signatures found",
            "no signatures found",
        ),
        (
            12,
            "Error: no matching signatures: invalid signature when validating ASN.1 encoded signature",
            "no matching signatures: invalid signature",
        ),
    ],
)
def test_read_verify_unsigned_is_a_negative_answer_with_cosigns_message(code: int, stderr: str, message: str) -> None:
    check = cosign.read_verify(code, "", stderr)
    assert not check.verified and check.payloads == ()
    assert check.message.startswith(message)


def test_read_verify_fails_closed() -> None:
    with pytest.raises(ToolFailed, match="connection refused"):
        cosign.read_verify(
            1,
            "",
            "Error: GET http://127.0.0.1:5000/v2/: dial tcp 127.0.0.1:5000: connect: connection refused",
        )
    with pytest.raises(ToolOutputError, match="printed no verified signature"):
        cosign.read_verify(0, "", VERIFY_STDERR)
    with pytest.raises(ToolOutputError, match="empty list"):
        cosign.read_verify(0, "[]\n", VERIFY_STDERR)
    with pytest.raises(ToolOutputError, match="not JSON"):
        cosign.read_verify(0, json.dumps(SIMPLE_SIGNING)[:-20], VERIFY_STDERR)
    with pytest.raises(ToolOutputError, match="docker-manifest-digest"):
        cosign.read_verify(0, json.dumps([{"critical": {}}]), VERIFY_STDERR)


def envelope(st: dict[str, Any], sig: str = "MEUCIQDk") -> str:
    payload = base64.b64encode(intoto.canonical_json(st)).decode()
    return json.dumps(
        {
            "payloadType": intoto.IN_TOTO_PAYLOAD_TYPE,
            "payload": payload,
            "signatures": [{"keyid": "", "sig": sig}],
        }
    )


def test_read_verify_attestation_decodes_and_filters_by_type() -> None:
    sts = data.all_statements()
    stdout = "\n".join(envelope(st) for st in sts) + "\n"
    check = cosign.read_verify_attestation(intoto.SLSA_PROVENANCE_V1, 0, stdout, VERIFY_STDERR)
    assert check.verified and len(check.statements) == 1
    assert check.statements[0].predicate == sts[0]["predicate"]
    as_array = "[" + ",".join(envelope(st) for st in sts) + "]"
    assert len(cosign.read_verify_attestation(intoto.CYCLONEDX_BOM, 0, as_array, "").statements) == 1
    other = cosign.read_verify_attestation(intoto.VERDICT_V1, 0, envelope(sts[0]), "")
    assert not other.verified and "no verified attestation" in other.message


@pytest.mark.parametrize(
    "stderr",
    [
        "Error: none of the attestations matched the predicate type: "
        "https://seaworthy.dev/attestations/verdict/v1, found: https://slsa.dev/provenance/v1",
        "Error: no matching attestations: no signatures found",
    ],
)
def test_read_verify_attestation_missing_is_a_negative_answer(stderr: str) -> None:
    check = cosign.read_verify_attestation(intoto.VERDICT_V1, 1, "", stderr)
    assert not check.verified and check.message == stderr.removeprefix("Error: ")


def test_read_verify_attestation_fails_closed() -> None:
    with pytest.raises(ToolFailed, match="UNAUTHORIZED"):
        cosign.read_verify_attestation(
            intoto.VERDICT_V1, 1, "", "Error: GET ...: UNAUTHORIZED: authentication required"
        )
    with pytest.raises(ToolOutputError, match="printed no"):
        cosign.read_verify_attestation(intoto.VERDICT_V1, 0, "\n", "")
    with pytest.raises(ToolOutputError, match="payload is not base64"):
        cosign.read_verify_attestation(
            intoto.VERDICT_V1,
            0,
            json.dumps({"payloadType": intoto.IN_TOTO_PAYLOAD_TYPE, "payload": "%%%", "signatures": [{"sig": "x"}]}),
            "",
        )
    with pytest.raises(ToolOutputError, match="payloadType"):
        cosign.read_verify_attestation(
            intoto.VERDICT_V1,
            0,
            json.dumps({"payloadType": "text/plain", "payload": "e30=", "signatures": [{"sig": "x"}]}),
            "",
        )
    with pytest.raises(ToolOutputError, match="not JSON"):
        cosign.read_verify_attestation(intoto.VERDICT_V1, 0, "Verified OK", "")


def test_public_key_of_a_key_signer_keeps_the_key_in_secret_env() -> None:
    from pipeline.tools import cosign as c

    call = c.public_key(c.Signer.key())
    assert call.invocation.argv == (
        "cosign",
        "public-key",
        "--key",
        "env://COSIGN_PRIVATE_KEY",
        "--outfile",
        "/tmp/seaworthy-out/cosign.pub",
    )
    assert call.secret_env == ("COSIGN_PASSWORD", "COSIGN_PRIVATE_KEY")
    assert call.invocation.report == "/tmp/seaworthy-out/cosign.pub"
    kms = c.public_key(c.Signer.kms("awskms:///alias/release"))
    assert kms.invocation.argv[2:4] == ("--key", "awskms:///alias/release")
    with pytest.raises(c.InputError, match="keyless signer has no public key"):
        c.public_key(c.Signer.keyless(c.Oidc.ENV_TOKEN))


def test_kms_credentials_file_parses_without_echoing_values() -> None:
    from pipeline.tools import cosign as c

    text = "# aws\nexport AWS_ACCESS_KEY_ID=AKIAQYLPMN5HHHFPZAM2\nAWS_SECRET_ACCESS_KEY='s3cr3t=x'\n\n"
    assert c.parse_credentials_env(text) == {
        "AWS_ACCESS_KEY_ID": "AKIAQYLPMN5HHHFPZAM2",
        "AWS_SECRET_ACCESS_KEY": "s3cr3t=x",
    }
    with pytest.raises(c.InputError, match=r"with-kms --credentials: line 2 is not NAME=value") as info:
        c.parse_credentials_env("A=1\nthis-is-the-secret-value\n")
    assert "this-is-the-secret-value" not in str(info.value)
    assert c.kms_credential_names("awskms:///alias/release") == ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
    assert c.kms_credential_names("hashivault://release") == ("VAULT_ADDR", "VAULT_TOKEN")
