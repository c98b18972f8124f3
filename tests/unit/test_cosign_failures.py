"""cosign failures become errors a user can act on (`cosign.classify_failure`).

cosign cannot run here: the stderr below is assembled from the exact strings cosign v3 and the libraries it
links print (the source of each is quoted next to the matcher in pipeline/tools/cosign.py). cosign prints its
error chain as `Error: <chain>` and again as `main.go:NN: error during command execution: <chain>`.
"""

from __future__ import annotations

import pytest

from pipeline.errors import InputError, RegistryError
from pipeline.tools import cosign
from pipeline.tools.skopeo import FailureKind, RegistryFailure, is_retryable

REGISTRY = "registry.example.com"
REF = f"{REGISTRY}/team/app@sha256:{'a' * 64}"
MANIFEST_URL = f"https://{REGISTRY}/v2/team/app/manifests/sha256:{'a' * 64}"


def cosign_error(chain: str, command: str = "signing") -> str:
    """stderr of a failed cosign command whose error chain is `chain`."""
    full = f"{command} [{REF}]: {chain}"
    return f"Error: {full}\nmain.go:69: error during command execution: {full}\n"


def classify(stderr: str, action: str = "sign") -> object:
    return cosign.classify_failure(stderr, ref=REF, action=action)


def first_line(exc: object) -> str:
    return str(exc).splitlines()[0]


# --- the signing key ---------------------------------------------------------------------------------------

# pkg/cosign/keys.go "decrypt: %w" around go-securesystemslib's "encrypted: decryption failed", through
# signcommon's "getting signer: %w" / "reading key: %w"
WRONG_PASSWORD = cosign_error("getting signer: reading key: decrypt: encrypted: decryption failed")


def test_a_wrong_or_missing_key_password_names_the_flags_and_the_fix() -> None:
    err = classify(WRONG_PASSWORD)
    assert isinstance(err, InputError)
    line = first_line(err)
    assert "with-cosign-key --password" in line
    assert "with-cosign-key --key=file:./cosign.key --password=env:COSIGN_PASSWORD" in line
    assert "cosign generate-key-pair" in line
    assert REF in line and "\n" not in str(err)


@pytest.mark.parametrize(
    ("chain", "expect"),
    [
        # pkg/cosign/keys.go LoadPrivateKey: errors.New("invalid pem block")
        ("getting signer: reading key: invalid pem block", "not a cosign private key"),
        # ... fmt.Errorf("unsupported pem type: %s", p.Type)
        ("getting signer: reading key: unsupported pem type: PUBLIC KEY", "pass cosign.key, not cosign.pub"),
        ("getting signer: reading key: unsupported pem type: EC PRIVATE KEY", "cosign import-key-pair"),
        # ... fmt.Errorf("parsing private key: %w", err)
        (
            "getting signer: reading key: parsing private key: x509: failed to parse private key",
            "not a cosign private key",
        ),
    ],
)
def test_a_file_that_is_not_a_cosign_key_is_an_input_error(chain: str, expect: str) -> None:
    err = classify(cosign_error(chain))
    assert isinstance(err, InputError)
    assert "with-cosign-key --key" in first_line(err) and expect in first_line(err)
    assert "cosign generate-key-pair" in first_line(err)


def test_a_verifying_key_that_is_not_pem_names_public_key() -> None:
    # pkg/signature/keys.go VerifierForKeyRef: "pem to public key: %w"
    stderr = "Error: pem to public key: PEM decoding failed\nmain.go:69: error during command execution: ..."
    err = classify(stderr, action="verify")
    assert isinstance(err, InputError) and "--public-key" in first_line(err)


def test_a_password_in_stderr_is_never_echoed() -> None:
    secret = "Tr0ub4dor&3-hunter2"
    stderr = (
        f"COSIGN_PASSWORD={secret}\npassword: {secret}\n"
        + WRONG_PASSWORD
        + f"Error: GET https://ci:{secret}@{REGISTRY}/v2/?password={secret}: UNAUTHORIZED: bad password={secret}\n"
    )
    err = classify(stderr)
    assert isinstance(err, InputError)
    assert secret not in str(err)
    registry = classify(
        f"Error: signing [{REF}]: accessing image: GET https://ci:{secret}@{REGISTRY}/v2/?token={secret}: "
        f"UNAUTHORIZED: authentication required; Authorization: Bearer {secret} COSIGN_REGISTRY_PASSWORD={secret}\n"
    )
    assert isinstance(registry, RegistryFailure) and registry.kind is FailureKind.UNAUTHORIZED
    assert secret not in str(registry) and secret not in registry.detail
    assert "***" in registry.detail  # the line is kept for the user, with the values masked


def test_scrub_masks_credentials_and_keeps_the_rest() -> None:
    text = "GET https://u:p4ss@r.example/v2/?access_token=xyz: DENIED: denied; GITHUB_TOKEN=ghp_abc password=pw"
    out = cosign.scrub(text)
    for value in ("p4ss", "xyz", "ghp_abc", "=pw"):
        assert value not in out
    assert "r.example/v2/" in out and "DENIED: denied" in out


# --- KMS and keyless ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "hint"),
    [
        # sigstore/sigstore kms/aws client.go "signing with kms: %w" + AWS SDK v2 api error
        (
            "getting signer: reading key: kms get: signing with kms: operation error KMS: Sign, https response "
            "error StatusCode: 400, RequestID: 1f0e, api error AccessDeniedException: User: "
            "arn:aws:iam::111122223333:user/ci is not authorized to perform: kms:Sign on resource: "
            "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "kms:Sign",
        ),
        # gRPC status of Cloud KMS
        (
            "getting signer: reading key: kms get: rpc error: code = PermissionDenied desc = Permission "
            "'cloudkms.cryptoKeyVersions.viewPublicKey' denied on resource "
            "'projects/acme/locations/global/keyRings/ci/cryptoKeys/cosign' (or it may not exist).",
            "roles/cloudkms.signerVerifier",
        ),
        # golang.org/x/oauth2/google, no GOOGLE_APPLICATION_CREDENTIALS
        (
            "getting signer: reading key: kms get: gcpkms: google: could not find default credentials. See "
            "https://cloud.google.com/docs/authentication/external/set-up-adc for more information",
            "roles/cloudkms.signerVerifier",
        ),
        # Vault api error
        (
            "getting signer: reading key: kms get: hashivault: Error making API request.\n\n"
            "URL: GET https://vault.example/v1/transit/keys/cosign\nCode: 403. Errors:\n\n* permission denied",
            "VAULT_TOKEN",
        ),
    ],
)
def test_kms_permission_errors_name_the_kms_flags(chain: str, hint: str) -> None:
    err = classify(cosign_error(chain))
    assert isinstance(err, InputError)
    line = first_line(err)
    assert "with-kms --key" in line and "with-kms --credentials" in line and hint in line


def test_keyless_without_a_token_names_the_token_flags() -> None:
    # cosign internal/auth: "retrieving ID token: %w" / "authenticating caller: %w"; GetOAuthFlow's notice
    stderr = "Non-interactive mode detected, using device flow.\n" + cosign_error(
        "getting keypair and token: retrieving ID token: authenticating caller: "
        'Post "https://oauth2.sigstore.dev/auth/device/code": context deadline exceeded'
    )
    err = classify(stderr)
    assert isinstance(err, InputError)
    line = first_line(err)
    assert "with-keyless --identity-token=env:SIGSTORE_ID_TOKEN" in line and "id-token: write" in line


# --- Sigstore's services ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stderr", "service", "kind"),
    [
        # pkg/cosign/tuf.go "error getting signing config from TUF: %w"
        (
            "Error: error getting signing config from TUF: tuf refresh failed: Get "
            '"https://tuf-repo-cdn.sigstore.dev/13.root.json": dial tcp 34.117.62.14:443: i/o timeout',
            "Sigstore TUF repository",
            FailureKind.UNREACHABLE,
        ),
        # signcommon "signing bundle: %w" around sigstore-go's Rekor client
        (
            cosign_error(
                'signing bundle: Post "https://rekor.sigstore.dev/api/v1/log/entries": dial tcp: lookup '
                "rekor.sigstore.dev on 10.0.0.2:53: no such host"
            ),
            "Rekor transparency log",
            FailureKind.UNKNOWN_HOST,
        ),
        # sigstore-go pkg/sign/certificate.go "Fulcio returned %d: %s"
        (
            cosign_error("signing bundle: Fulcio returned 503: upstream connect error"),
            "Fulcio certificate authority",
            FailureKind.SERVER_ERROR,
        ),
    ],
)
def test_sigstore_services_unreachable_suggest_no_tlog_with_a_key(stderr: str, service: str, kind: FailureKind) -> None:
    err = classify(stderr)
    assert isinstance(err, cosign.SigstoreUnavailable) and isinstance(err, RegistryError)
    assert err.service == service and err.kind is kind
    assert err.retryable == (kind is not FailureKind.UNKNOWN_HOST)
    line = first_line(err)
    assert "--tlog=false" in line and "with-cosign-key" in line and "with-kms" in line


# --- the registry (go-containerregistry transport errors) --------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "kind", "retryable", "fix"),
    [
        (
            f"accessing image: GET {MANIFEST_URL}: UNAUTHORIZED: authentication required; "
            "[map[Action:pull Class: Name:team/app Type:repository]]",
            FailureKind.UNAUTHORIZED,
            False,
            "with-registry-auth --address=registry.example.com --username=",
        ),
        (
            f"PUT https://{REGISTRY}/v2/team/app/manifests/sha256-{'a' * 64}.sig: DENIED: requested access to "
            "the resource is denied",
            FailureKind.DENIED,
            False,
            "may push to this repository",
        ),
        (
            f"accessing image: HEAD {MANIFEST_URL}: unexpected status code 401 Unauthorized "
            "(HEAD responses have no body, use GET for details)",
            FailureKind.UNAUTHORIZED,
            False,
            "--secret=env:REGISTRY_TOKEN",
        ),
        (
            f"accessing image: GET {MANIFEST_URL}: unexpected status code 503 Service Unavailable",
            FailureKind.SERVER_ERROR,
            True,
            "retry later",
        ),
        (
            f"accessing image: GET {MANIFEST_URL}: TOOMANYREQUESTS: You have reached your pull rate limit.",
            FailureKind.RATE_LIMITED,
            True,
            "retry",
        ),
        (
            f'accessing image: Get "https://{REGISTRY}/v2/": dial tcp 10.0.0.5:443: connect: connection refused',
            FailureKind.UNREACHABLE,
            True,
            "registry is running",
        ),
        (
            f'accessing image: Get "https://{REGISTRY}/v2/": dial tcp: lookup {REGISTRY} on 10.0.0.2:53: no such host',
            FailureKind.UNKNOWN_HOST,
            False,
            "--ref",
        ),
        (
            f'accessing image: Get "https://{REGISTRY}/v2/": http: server gave HTTP response to HTTPS client',
            FailureKind.TLS,
            False,
            "with-insecure-registry",
        ),
        (
            f"accessing image: GET {MANIFEST_URL}: MANIFEST_UNKNOWN: manifest unknown; unknown tag=sha256",
            FailureKind.NOT_FOUND,
            False,
            "publish",
        ),
    ],
)
def test_registry_failures_have_a_kind_and_know_whether_to_retry(
    chain: str, kind: FailureKind, retryable: bool, fix: str
) -> None:
    err = classify(cosign_error(chain))
    assert isinstance(err, RegistryFailure) and not isinstance(err, cosign.SigstoreUnavailable)
    assert err.kind is kind and err.retryable is retryable and is_retryable(err) is retryable
    assert err.registry == REGISTRY
    line = first_line(err)
    assert line.startswith(f"cosign sign of {REF} failed at registry {REGISTRY}") and fix in line
    assert chain.splitlines()[0][:40] in err.detail  # cosign's own words stay available below the first line


def test_a_tuf_warning_does_not_hide_the_registry_error() -> None:
    # cosign's ui.Warnf when the trusted root cannot be fetched; the failure is the registry's
    stderr = (
        "WARNING: Could not fetch trusted_root.json from the TUF repository. Continuing with individual "
        'targets. Error from TUF: Get "https://tuf-repo-cdn.sigstore.dev/13.root.json": dial tcp: lookup '
        "tuf-repo-cdn.sigstore.dev: no such host\n"
        + cosign_error(f"accessing image: GET {MANIFEST_URL}: UNAUTHORIZED: authentication required")
    )
    err = classify(stderr)
    assert isinstance(err, RegistryFailure) and not isinstance(err, cosign.SigstoreUnavailable)
    assert err.kind is FailureKind.UNAUTHORIZED


def test_verify_and_attest_failures_read_the_same_way() -> None:
    err = cosign.classify_failure(
        f"Error: GET {MANIFEST_URL}: UNAUTHORIZED: authentication required\n", ref=REF, action="verify-attestation"
    )
    assert isinstance(err, RegistryFailure) and first_line(err).startswith(f"cosign verify-attestation of {REF}")


# --- not a failure this module knows --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "stderr",
    [
        "",
        # pkg/cosign/verify.go: negative answers, read by read_verify / read_verify_attestation
        "Error: no matching signatures: invalid signature when validating ASN.1 encoded signature",
        "Error: no signatures found\nmain.go:74: error during command execution: no signatures found",
        "Error: no matching attestations: no signatures found",
        # something this module does not recognise: the caller raises ToolFailed with cosign's message
        "Error: signing [x]: payload: unexpected end of JSON input",
        "panic: runtime error: invalid memory address or nil pointer dereference",
    ],
)
def test_unknown_failures_and_negative_answers_are_none(stderr: str) -> None:
    assert classify(stderr) is None


def test_registry_of_a_reference() -> None:
    assert cosign.registry_of(REF) == REGISTRY
    assert cosign.registry_of(f"registry:5000/app@sha256:{'b' * 64}") == "registry:5000"
    assert cosign.registry_of(f"localhost/app@sha256:{'b' * 64}") == "localhost"
    assert cosign.registry_of(f"library/alpine@sha256:{'b' * 64}") == "docker.io"
    assert cosign.registry_of("") == "docker.io"
