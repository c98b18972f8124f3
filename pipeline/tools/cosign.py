"""cosign 3: sign, attest and verify an image by digest; read what `verify`/`verify-attestation` print.

Rules this module enforces (each breach is an InputError naming the argument and the fix):

- every image reference is ``repository@sha256:<64 hex>``: signing a tag signs whatever the tag points to
  at that moment;
- no secret ever reaches argv or the plain environment: the builders only *name* the variables and files
  the stage must provide as secrets (`CosignCall.secret_env`, `CosignCall.secret_files`):
  ``--key env://COSIGN_PRIVATE_KEY`` + ``COSIGN_PASSWORD``; registry credentials as
  ``COSIGN_REGISTRY_PASSWORD`` (cosign binds every flag to ``COSIGN_<FLAG>``; the stage sets the user name
  ``COSIGN_REGISTRY_USERNAME`` as a plain variable: a secret would be scrubbed from the output)
  or a mounted docker ``config.json``; keyless tokens as ``SIGSTORE_ID_TOKEN`` (cosign's ``envvar`` OIDC
  provider) or GitHub's ``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN`` (``github-actions`` provider);
- private/ephemeral registries: ``--tlog-upload=false --use-signing-config=false`` when signing (cosign 3
  rejects the first without the second), ``--insecure-ignore-tlog=true`` when verifying;
- attestation predicate types are always URIs, so cosign keeps our predicate verbatim (see formats/intoto).

The image is distroless and runs as user 65532: secret files must be readable by that user, and output goes
under OUT.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from typing import Any

import attrs

from pipeline.errors import InputError, SeaworthyError, ToolFailed, ToolOutputError
from pipeline.formats.intoto import Statement, as_list, as_map, decode_envelope
from pipeline.tools.base import IN, OUT, ExitCodes, Invocation, pinned
from pipeline.tools.skopeo import FailureKind, RegistryFailure

NAME = "cosign"
IMAGE = pinned(NAME)
"""Pinned in images.toml: distroless static image, binary `cosign`, user 65532."""
USER = "65532"

SECRETS = "/tmp/seaworthy-secrets"  # noqa: S108 - a path inside the tool container, for mounted secret files
PUBLIC_KEY = f"{IN}/cosign.pub"
"""Where a verifying public key is mounted (a public key is not a secret)."""
PREDICATE = f"{IN}/predicate.json"

_DIGEST_REF = re.compile(
    r"^(?P<repo>(?:[A-Za-z0-9.\-]+(?::\d+)?/)?[a-z0-9._\-]+(?:/[a-z0-9._\-]+)*)"
    r"(?::[\w][\w.\-]{0,127})?@sha256:(?P<hex>[0-9a-f]{64})$"
)

# cosign's exit codes for `verify` (cmd/cosign/errors/exit_codes.go): a negative answer, not a crash.
EXIT_NO_SIGNATURE = 10
EXIT_NO_MATCHING_SIGNATURE = 12
_VERIFY_CODES = ExitCodes(clean=frozenset({0}), findings=frozenset({EXIT_NO_SIGNATURE, EXIT_NO_MATCHING_SIGNATURE}))
# `verify-attestation` exits 1 for every failure; `read_verify_attestation` tells them apart by message.
_VERIFY_ATT_CODES = ExitCodes(clean=frozenset({0}), findings=frozenset({1}))

_UNVERIFIED_MESSAGES = (
    "no signatures found",
    "no matching signatures",
    "no matching attestations",
    "none of the attestations matched the predicate type",
    "invalid signature",
    "signature verification failed",
    "failed to verify signature",
)


class SigningMode(enum.StrEnum):
    KEY = "key"
    """A cosign key pair: private key (PEM, encrypted) and its password as secrets."""
    KEYLESS = "keyless"
    """Sigstore Fulcio certificate from an OIDC token; needs the public Sigstore services."""
    KMS = "kms"
    """A key held by a KMS (awskms://, gcpkms://, azurekms://, hashivault://)."""


class Oidc(enum.StrEnum):
    """Where a keyless signature's identity token comes from."""

    NONE = "none"
    GITHUB_ACTIONS = "github-actions"
    """GitHub's runner variables; cosign fetches a fresh `sigstore`-audience token itself."""
    ENV_TOKEN = "env"
    """A token already fetched (GitLab `id_tokens`, …) in SIGSTORE_ID_TOKEN."""


class RegistryAuth(enum.StrEnum):
    NONE = "none"
    ENV = "env"
    """COSIGN_REGISTRY_PASSWORD as a secret variable; the stage adds COSIGN_REGISTRY_USERNAME as a plain one
    (the engine scrubs secret values from stdout with no minimum length: a short user name would corrupt
    the base64 envelopes cosign prints)."""
    DOCKER_CONFIG = "docker-config"
    """A docker config.json mounted as a secret file (owner 65532), found through DOCKER_CONFIG."""


_KMS_FORMS: Mapping[str, tuple[re.Pattern[str], str, tuple[str, ...]]] = {
    "awskms": (
        re.compile(
            r"^awskms://[A-Za-z0-9.\-:]*/(alias/[A-Za-z0-9/_\-]+|[0-9a-fA-F\-]{36}|mrk-[0-9a-f]{32}"
            r"|arn:aws[a-z\-]*:kms:[a-z0-9\-]+:\d{12}:(key|alias)/[A-Za-z0-9/_\-]+)$"
        ),
        "awskms:///alias/NAME, awskms:///KEY-ID or awskms:///arn:aws:kms:REGION:ACCOUNT:key/KEY-ID",
        ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"),
    ),
    "gcpkms": (
        re.compile(
            r"^gcpkms://projects/[^/\s]+/locations/[^/\s]+/keyRings/[^/\s]+/cryptoKeys/[^/\s]+"
            r"(/(cryptoKeyVersions|versions)/\d+)?$"
        ),
        "gcpkms://projects/P/locations/L/keyRings/R/cryptoKeys/K[/cryptoKeyVersions/N]",
        (),
    ),
    "azurekms": (
        re.compile(r"^azurekms://[A-Za-z0-9.\-:]+/[A-Za-z0-9\-]+(/[A-Za-z0-9]+)?$"),
        "azurekms://VAULT.vault.azure.net/KEY[/VERSION]",
        ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET"),
    ),
    "hashivault": (
        re.compile(r"^hashivault://[A-Za-z0-9_\-]+$"),
        "hashivault://TRANSIT-KEY-NAME",
        ("VAULT_ADDR", "VAULT_TOKEN"),
    ),
}
_GCP_CREDENTIALS = f"{SECRETS}/gcp-credentials.json"
_DOCKER_CONFIG_DIR = f"{SECRETS}/docker"


@attrs.frozen
class CosignCall:
    """An `Invocation` plus what the stage must add as secrets (never plain env, never argv)."""

    invocation: Invocation
    secret_env: tuple[str, ...] = ()
    """Variable names the stage sets with `with_secret_variable` (sorted)."""
    secret_files: Mapping[str, str] = attrs.field(factory=dict[str, str])
    """Container path -> name of the secret the stage mounts there (`with_mounted_secret`, owner 65532)."""


@attrs.frozen
class Signer:
    """How to sign. Built with `Signer.key()`, `Signer.kms(uri)` or `Signer.keyless(oidc)`."""

    mode: SigningMode
    kms_key: str = ""
    oidc: Oidc = Oidc.NONE

    def __attrs_post_init__(self) -> None:
        if self.mode is SigningMode.KMS:
            kms_provider(self.kms_key, "--kms-key")
        elif self.kms_key:
            raise InputError(f"--kms-key is only used with --signing-mode kms (mode is {self.mode.value})")
        if self.mode is SigningMode.KEYLESS and self.oidc is Oidc.NONE:
            raise InputError(
                "keyless signing needs an OIDC token: in GitHub Actions grant `id-token: write` and pass "
                "ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN; elsewhere pass SIGSTORE_ID_TOKEN"
            )
        if self.mode is not SigningMode.KEYLESS and self.oidc is not Oidc.NONE:
            raise InputError(f"an OIDC token is only used for keyless signing (mode is {self.mode.value})")

    @classmethod
    def key(cls) -> Signer:
        return cls(SigningMode.KEY)

    @classmethod
    def kms(cls, uri: str) -> Signer:
        return cls(SigningMode.KMS, kms_key=uri)

    @classmethod
    def keyless(cls, oidc: Oidc) -> Signer:
        return cls(SigningMode.KEYLESS, oidc=oidc)


def kms_provider(uri: str, what: str = "--kms-key") -> str:
    """Validate a KMS key reference and return its provider (awskms, gcpkms, azurekms, hashivault)."""
    scheme, sep, _ = uri.partition("://")
    if not sep or scheme not in _KMS_FORMS:
        known = ", ".join(f"{k}://" for k in _KMS_FORMS)
        raise InputError(f"{what} {uri!r} is not a KMS key reference; use one of {known}")
    pattern, form, _ = _KMS_FORMS[scheme]
    if not pattern.fullmatch(uri):
        raise InputError(f"{what} {uri!r} is not a valid {scheme} key reference; write it as {form}")
    return scheme


def kms_credential_names(uri: str) -> tuple[str, ...]:
    """The environment variables a KMS provider reads its credentials from (gcpkms: a JSON key file)."""
    return _KMS_FORMS[kms_provider(uri)][2]


def parse_credentials_env(text: str, *, what: str = "with-kms --credentials") -> dict[str, str]:
    """`NAME=value` lines (a dotenv file: comments, blank lines and `export ` allowed) -> {NAME: value}.

    The values are secrets: errors name the line number and the variable, never the value.
    """
    out: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").strip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise InputError(
                f"{what}: line {number} is not NAME=value; write one variable per line, e.g. AWS_ACCESS_KEY_ID=…"
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[name] = value
    return out


def require_digest_ref(ref: str, what: str = "--ref") -> tuple[str, str]:
    """`repo[:tag]@sha256:<hex>` -> (repo, "sha256:<hex>"); a tag or bare name is an InputError."""
    m = _DIGEST_REF.fullmatch(ref.strip())
    if m is None:
        raise InputError(
            f"{what} {ref!r} is not pinned by digest; cosign must sign and verify the exact image: pass "
            "REPOSITORY@sha256:<64 hex> (the reference `publish` returned)"
        )
    return m["repo"], f"sha256:{m['hex']}"


def _signing_args(signer: Signer) -> tuple[list[str], set[str], dict[str, str], dict[str, str]]:
    """argv, secret env names, secret files, plain env for a signer."""
    if signer.mode is SigningMode.KEY:
        return ["--key", "env://COSIGN_PRIVATE_KEY"], {"COSIGN_PRIVATE_KEY", "COSIGN_PASSWORD"}, {}, {}
    if signer.mode is SigningMode.KMS:
        provider = kms_provider(signer.kms_key)
        if provider == "gcpkms":
            return (
                ["--key", signer.kms_key],
                set(),
                {_GCP_CREDENTIALS: "gcp-credentials"},
                {"GOOGLE_APPLICATION_CREDENTIALS": _GCP_CREDENTIALS},
            )
        return ["--key", signer.kms_key], set(_KMS_FORMS[provider][2]), {}, {}
    if signer.oidc is Oidc.GITHUB_ACTIONS:
        return (
            ["--oidc-provider=github-actions"],
            {"ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN"},
            {},
            {},
        )
    return ["--oidc-provider=envvar"], {"SIGSTORE_ID_TOKEN"}, {}, {}


def _registry_args(auth: RegistryAuth) -> tuple[set[str], dict[str, str], dict[str, str]]:
    if auth is RegistryAuth.ENV:
        return {"COSIGN_REGISTRY_PASSWORD"}, {}, {}
    if auth is RegistryAuth.DOCKER_CONFIG:
        return (
            set(),
            {f"{_DOCKER_CONFIG_DIR}/config.json": "docker-config"},
            {"DOCKER_CONFIG": _DOCKER_CONFIG_DIR},
        )
    return set(), {}, {}


def _call(
    argv: list[str],
    *,
    report: str,
    secret_env: set[str],
    secret_files: dict[str, str],
    env: dict[str, str],
    mounts: dict[str, str] | None = None,
    exit_codes: ExitCodes | None = None,
    stdout_to_report: bool = True,
) -> CosignCall:
    inv = Invocation(
        tool=NAME,
        image=IMAGE,
        argv=tuple(argv),
        report=report,
        exit_codes=exit_codes or ExitCodes(),
        mounts=dict(sorted((mounts or {}).items())),
        env=dict(sorted(env.items())),
        workdir=OUT,
        stdout_to_report=stdout_to_report,
    )
    return CosignCall(inv, tuple(sorted(secret_env)), dict(sorted(secret_files.items())))


def _tlog_sign_args(tlog: bool) -> list[str]:
    # cosign 3: --tlog-upload=false is an error unless the public-good signing config is switched off too
    return [] if tlog else ["--tlog-upload=false", "--use-signing-config=false"]


def sign(
    ref: str,
    signer: Signer,
    *,
    tlog: bool = True,
    allow_http: bool = False,
    recursive: bool = False,
    registry_auth: RegistryAuth = RegistryAuth.NONE,
) -> CosignCall:
    """`cosign sign` an image by digest. `recursive` signs every manifest of an index too."""
    require_digest_ref(ref, "sign(ref=…) / --ref")
    if signer.mode is SigningMode.KEYLESS and not tlog:
        raise InputError(
            "keyless signing without the transparency log cannot be verified by anyone; use "
            "--signing-mode key or kms for private registries, or keep the transparency log on"
        )
    argv, secret_env, secret_files, env = _signing_args(signer)
    reg_env, reg_files, reg_plain = _registry_args(registry_auth)
    full = ["cosign", "sign", "--yes", *argv, *_tlog_sign_args(tlog)]
    if allow_http:
        full.append("--allow-http-registry")
    if recursive:
        full.append("--recursive")
    full.append(ref)
    return _call(
        full,
        report=f"{OUT}/cosign-sign.txt",
        secret_env=secret_env | reg_env,
        secret_files=secret_files | reg_files,
        env=env | reg_plain,
    )


def attest(
    ref: str,
    predicate_type: str,
    signer: Signer,
    *,
    predicate_path: str = PREDICATE,
    tlog: bool = True,
    allow_http: bool = False,
    registry_auth: RegistryAuth = RegistryAuth.NONE,
) -> CosignCall:
    """`cosign attest` a predicate file (mounted at `predicate_path`) to an image by digest."""
    require_digest_ref(ref, "attest(ref=…) / --ref")
    _require_uri(predicate_type, "attest(predicate_type=…)")
    if not predicate_path.startswith(IN + "/"):
        raise InputError(f"attest(predicate_path={predicate_path!r}) must be a file mounted under {IN}/")
    if signer.mode is SigningMode.KEYLESS and not tlog:
        raise InputError(
            "keyless attestation without the transparency log cannot be verified; use a key or KMS signer "
            "for private registries"
        )
    argv, secret_env, secret_files, env = _signing_args(signer)
    reg_env, reg_files, reg_plain = _registry_args(registry_auth)
    full = [
        "cosign", "attest", "--yes", *argv,
        "--type", predicate_type, "--predicate", predicate_path,
        *_tlog_sign_args(tlog),
    ]  # fmt: skip
    if allow_http:
        full.append("--allow-http-registry")
    full.append(ref)
    return _call(
        full,
        report=f"{OUT}/cosign-attest.txt",
        secret_env=secret_env | reg_env,
        secret_files=secret_files | reg_files,
        env=env | reg_plain,
        mounts={predicate_path: "predicate"},
    )


def _require_uri(value: str, what: str) -> None:
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*://\S+", value):
        raise InputError(
            f"{what} {value!r} is not a predicate type URI; pass the full URI (e.g. https://slsa.dev/provenance/v1),"
            " not cosign's short names, so the predicate is stored verbatim"
        )


def _verifier_args(
    key: str, identity: str, issuer: str, identity_regexp: bool, what: str
) -> tuple[list[str], set[str], dict[str, str], dict[str, str], dict[str, str]]:
    """argv, secret env, secret files, plain env, mounts for the verifying side."""
    if bool(key) == bool(identity or issuer):
        raise InputError(
            f"{what}: pass either a public key (--public-key / a KMS key) or a keyless identity "
            "(--certificate-identity and --certificate-oidc-issuer), exactly one of them"
        )
    if key:
        if key == PUBLIC_KEY:
            return ["--key", PUBLIC_KEY], set(), {}, {}, {PUBLIC_KEY: "public-key"}
        provider = kms_provider(key, f"{what} key")
        if provider == "gcpkms":
            return (
                ["--key", key],
                set(),
                {_GCP_CREDENTIALS: "gcp-credentials"},
                {"GOOGLE_APPLICATION_CREDENTIALS": _GCP_CREDENTIALS},
                {},
            )
        return ["--key", key], set(_KMS_FORMS[provider][2]), {}, {}, {}
    if not (identity and issuer):
        raise InputError(
            f"{what}: keyless verification needs both --certificate-identity and --certificate-oidc-issuer "
            "(GitHub: https://token.actions.githubusercontent.com)"
        )
    flag = "--certificate-identity-regexp" if identity_regexp else "--certificate-identity"
    return [flag, identity, "--certificate-oidc-issuer", issuer], set(), {}, {}, {}


def _verifying(
    head: list[str],
    ref: str,
    *,
    key: str,
    identity: str,
    issuer: str,
    identity_regexp: bool,
    tlog: bool,
    allow_http: bool,
    registry_auth: RegistryAuth,
    what: str,
    report: str,
    exit_codes: ExitCodes,
) -> CosignCall:
    """The shared shape of `verify` and `verify-attestation`: key or identity, tlog, HTTP, registry auth."""
    require_digest_ref(ref, f"{what}(ref=…) / --ref")
    argv, secret_env, secret_files, env, mounts = _verifier_args(key, identity, issuer, identity_regexp, what)
    reg_env, reg_files, reg_plain = _registry_args(registry_auth)
    full = [*head, *argv]
    if not tlog:
        full.append("--insecure-ignore-tlog=true")
    if allow_http:
        full.append("--allow-http-registry")
    full.append(ref)
    return _call(
        full,
        report=report,
        secret_env=secret_env | reg_env,
        secret_files=secret_files | reg_files,
        env=env | reg_plain,
        mounts=mounts,
        exit_codes=exit_codes,
    )


def verify(
    ref: str,
    *,
    key: str = "",
    identity: str = "",
    issuer: str = "",
    identity_regexp: bool = False,
    tlog: bool = True,
    allow_http: bool = False,
    registry_auth: RegistryAuth = RegistryAuth.NONE,
) -> CosignCall:
    """`cosign verify` by digest. `key` is `PUBLIC_KEY` (mounted file) or a KMS reference."""
    return _verifying(
        ["cosign", "verify", "--output", "json"],
        ref,
        key=key,
        identity=identity,
        issuer=issuer,
        identity_regexp=identity_regexp,
        tlog=tlog,
        allow_http=allow_http,
        registry_auth=registry_auth,
        what="verify",
        report=f"{OUT}/cosign-verify.json",
        exit_codes=_VERIFY_CODES,
    )


def verify_attestation(
    ref: str,
    predicate_type: str,
    *,
    key: str = "",
    identity: str = "",
    issuer: str = "",
    identity_regexp: bool = False,
    tlog: bool = True,
    allow_http: bool = False,
    registry_auth: RegistryAuth = RegistryAuth.NONE,
) -> CosignCall:
    """`cosign verify-attestation --type URI` by digest; stdout is one DSSE envelope per attestation."""
    require_digest_ref(ref, "verify_attestation(ref=…) / --ref")
    _require_uri(predicate_type, "verify_attestation(predicate_type=…)")
    return _verifying(
        ["cosign", "verify-attestation", "--type", predicate_type],
        ref,
        key=key,
        identity=identity,
        issuer=issuer,
        identity_regexp=identity_regexp,
        tlog=tlog,
        allow_http=allow_http,
        registry_auth=registry_auth,
        what="verify-attestation",
        report=f"{OUT}/cosign-verify-attestation.jsonl",
        exit_codes=_VERIFY_ATT_CODES,
    )


def public_key(signer: Signer) -> CosignCall:
    """`cosign public-key` of a key or KMS signer into OUT/cosign.pub, so `ship` can verify what it signed.

    Keyless signatures have no key: verify them with the certificate identity and issuer instead.
    """
    if signer.mode is SigningMode.KEYLESS:
        raise InputError(
            "a keyless signer has no public key; verify with --certificate-identity and "
            "--certificate-oidc-issuer instead"
        )
    argv, secret_env, secret_files, env = _signing_args(signer)
    return _call(
        ["cosign", "public-key", *argv, "--outfile", f"{OUT}/cosign.pub"],
        report=f"{OUT}/cosign.pub",
        secret_env=secret_env,
        secret_files=secret_files,
        env=env,
        stdout_to_report=False,
    )


def generate_key_pair() -> CosignCall:
    """`cosign generate-key-pair` in OUT: cosign.key (encrypted with COSIGN_PASSWORD) and cosign.pub."""
    return _call(
        ["cosign", "generate-key-pair"],
        report=f"{OUT}/cosign.pub",
        secret_env={"COSIGN_PASSWORD"},
        secret_files={},
        env={},
        stdout_to_report=False,
    )


# ------------------------------------------------------------------------------------------------------------
# reading cosign's output


@attrs.frozen
class SignedPayload:
    """One verified simple-signing payload from `cosign verify`."""

    docker_reference: str
    manifest_digest: str
    issuer: str = ""
    subject: str = ""


@attrs.frozen
class SignatureCheck:
    """`cosign verify`'s answer: `verified` False, with cosign's own message, when no valid signature."""

    verified: bool
    message: str
    payloads: tuple[SignedPayload, ...] = ()

    @property
    def digests(self) -> tuple[str, ...]:
        return tuple(sorted({p.manifest_digest for p in self.payloads}))


@attrs.frozen
class AttestationCheck:
    """`cosign verify-attestation`'s answer for one predicate type."""

    predicate_type: str
    verified: bool
    message: str
    statements: tuple[Statement, ...] = ()


def _cosign_message(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("Error:")]
    return (errors[-1] if errors else (lines[-1] if lines else "")).removeprefix("Error:").strip()


def _is_unverified(stderr: str) -> bool:
    low = stderr.lower()
    return any(m in low for m in _UNVERIFIED_MESSAGES)


def _json_values(text: str) -> list[Any]:
    """Every JSON value in `text`: one array, or one object per line (cosign prints both ways)."""
    decoder = json.JSONDecoder()
    values: list[Any] = []
    pos = 0
    stripped = text.strip()
    while pos < len(stripped):
        try:
            value, end = decoder.raw_decode(stripped, pos)
        except RecursionError:
            raise ToolOutputError(NAME, "verification output is nested too deeply to be cosign's") from None
        except json.JSONDecodeError as exc:
            raise ToolOutputError(NAME, f"verification output is not JSON ({exc.msg} at char {exc.pos})") from None
        items = as_list(value)
        values.extend(items if items is not None else [value])
        pos = end
        while pos < len(stripped) and stripped[pos].isspace():
            pos += 1
    return values


def read_verify(exit_code: int, stdout: str, stderr: str) -> SignatureCheck:
    """Read `cosign verify --output json`: a list of simple-signing payloads.

    No signature / no valid signature -> `verified=False` with cosign's message; any other failure ->
    ToolFailed; exit 0 with empty or malformed output -> ToolOutputError (fail closed).
    """
    if exit_code != 0:
        if exit_code in _VERIFY_CODES.findings or _is_unverified(stderr):
            return SignatureCheck(False, _cosign_message(stderr) or f"cosign verify exited {exit_code}")
        raise ToolFailed(NAME, exit_code, stderr)
    if not stdout.strip():
        raise ToolOutputError(NAME, "cosign verify succeeded but printed no verified signature")
    payloads: list[SignedPayload] = []
    for i, raw in enumerate(_json_values(stdout)):
        item = as_map(raw)
        critical = as_map(item.get("critical")) if item else None
        image = as_map(critical.get("image")) if critical else None
        identity = as_map(critical.get("identity")) if critical else None
        digest = image.get("docker-manifest-digest") if image else None
        if not isinstance(digest, str) or not digest.startswith("sha256:"):
            raise ToolOutputError(NAME, f"verified payload {i} has no critical.image.docker-manifest-digest")
        optional = (as_map(item.get("optional")) if item else None) or {}
        payloads.append(
            SignedPayload(
                docker_reference=str((identity or {}).get("docker-reference", "")),
                manifest_digest=digest,
                issuer=str(optional.get("Issuer", "")),
                subject=str(optional.get("Subject", "")),
            )
        )
    if not payloads:
        raise ToolOutputError(NAME, "cosign verify printed an empty list of signatures")
    return SignatureCheck(True, f"{len(payloads)} valid signature(s)", tuple(payloads))


def read_verify_attestation(predicate_type: str, exit_code: int, stdout: str, stderr: str) -> AttestationCheck:
    """Read `cosign verify-attestation`: DSSE envelopes (base64 payload) -> decoded statements.

    Only statements of `predicate_type` are kept (cosign already filters; this is belt and braces).
    """
    if exit_code != 0:
        if _is_unverified(stderr):
            return AttestationCheck(predicate_type, False, _cosign_message(stderr))
        raise ToolFailed(NAME, exit_code, stderr)
    if not stdout.strip():
        raise ToolOutputError(NAME, f"cosign verify-attestation succeeded but printed no {predicate_type} attestation")
    statements: list[Statement] = []
    for i, raw in enumerate(_json_values(stdout)):
        envelope = as_map(raw)
        if envelope is None:
            raise ToolOutputError(NAME, f"attestation {i} is not a DSSE envelope object")
        try:
            st = decode_envelope(envelope, f"attestation {i}")
        except InputError as exc:
            raise ToolOutputError(NAME, str(exc)) from None
        if st.predicate_type == predicate_type:
            statements.append(st)
    if not statements:
        return AttestationCheck(predicate_type, False, f"no verified attestation of type {predicate_type}")
    return AttestationCheck(predicate_type, True, f"{len(statements)} verified attestation(s)", tuple(statements))


# ------------------------------------------------------------------------------------------------------------
# failures a user can act on
#
# cosign cannot run here, so every string below is quoted from the source that prints it (cosign v3.x and the
# libraries it links). cosign prints the error chain once as `Error: <chain>` and again as
# `main.go:NN: error during command execution: <chain>`; the chain starts with the command
# (cmd/cosign/cli/sign.go: "signing %v: %w"), so the strings are matched anywhere in stderr.

# pkg/cosign/keys.go LoadPrivateKey: `fmt.Errorf("decrypt: %w", err)` around go-securesystemslib
# encrypted.Decrypt's `errors.New("encrypted: decryption failed")`: a wrong password, or an encrypted key
# given an empty one (cosign reads COSIGN_PASSWORD; Seaworthy passes "" when with-cosign-key has no --password).
# Reached through cmd/cosign/cli/signcommon/common.go signerFromKeyRef: "reading key: %w".
_WRONG_PASSWORD = ("decrypt: encrypted: decryption failed", "encrypted: decryption failed")
# pkg/cosign/keys.go LoadPrivateKey: `errors.New("invalid pem block")` (not PEM at all) and
# `fmt.Errorf("unsupported pem type: %s", p.Type)` (PEM, but not "ENCRYPTED SIGSTORE/COSIGN PRIVATE KEY"),
# `fmt.Errorf("parsing private key: %w", err)` (decrypted bytes are not PKCS #8).
_NOT_A_KEY = ("invalid pem block", "parsing private key:")
_PEM_TYPE = re.compile(r"unsupported pem type: ([A-Z0-9 ]{1,40})")
# pkg/blob/load.go LoadFileOrURL: `fmt.Errorf("loading URL: env var $%s not found", envVar)`.
_KEY_ENV_MISSING = re.compile(r"loading URL: env var \$(COSIGN_PRIVATE_KEY) not found")
# pkg/signature/keys.go VerifierForKeyRef: `fmt.Errorf("pem to public key: %w", err)` (verify --key FILE).
_BAD_PUBLIC_KEY = "pem to public key:"

# Keyless without a token. internal/auth/auth.go RetrieveIDToken/ReadIDToken: "reading ID token: %w",
# "getting provider: %w", "fetching ambient OIDC credentials: %w", "authenticating caller: %w"; GetOAuthFlow
# prints "Non-interactive mode detected, using device flow." when no token was found; signcommon wraps all of
# it as "retrieving ID token: %w". pkg/providers/interface.go: "no providers are enabled, …".
_NO_TOKEN = (
    "retrieving id token:",
    "reading id token:",
    "fetching ambient oidc credentials",
    "non-interactive mode detected, using device flow",
    "no providers are enabled",
    "authenticating caller:",
)

# KMS. cosign pkg/signature/keys.go wraps provider errors as "kms get: %w"; sigstore/sigstore
# pkg/signature/kms/aws/client.go: "getting public key: %w", "getting key metadata: %w", "signing with kms: %w",
# "loading AWS config: %w". The provider SDKs' own words: AWS SDK v2 "api error AccessDeniedException: … is not
# authorized to perform: kms:Sign" and "failed to refresh cached credentials"; gRPC (GCP)
# "rpc error: code = PermissionDenied desc = Permission 'cloudkms.…' denied" and golang.org/x/oauth2/google
# "google: could not find default credentials"; Azure azcore "RESPONSE 403" / "ERROR CODE: Forbidden" and
# azidentity "DefaultAzureCredential: failed to acquire a token"; Vault api "Code: 403. Errors: * permission
# denied".
_KMS_CONTEXT = (
    "kms get:",
    "signing with kms:",
    "getting key metadata:",
    "loading aws config:",
    "operation error kms",
    "cloudkms",
    "vault.azure.net",
    "defaultazurecredential",
    "hashivault",
    "transit/",
    "awskms://",
    "gcpkms://",
    "azurekms://",
)
_KMS_DENIED = (
    "accessdeniedexception",
    "is not authorized to perform",
    "code = permissiondenied",
    "code = unauthenticated",
    "could not find default credentials",
    "failed to refresh cached credentials",
    "no ec2 imds role found",
    "unrecognizedclientexception",
    "invalidsignatureexception",
    "expiredtokenexception",
    "defaultazurecredential: failed to acquire a token",
    "response 403",
    "response 401",
    "error code: forbidden",
    "code: 403",
    "permission denied",
)
_KMS_HINTS = {
    "awskms": "kms:GetPublicKey, kms:DescribeKey and kms:Sign on the key (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)",
    "gcpkms": "roles/cloudkms.signerVerifier on the key (a service-account JSON key as with-kms --credentials)",
    "azurekms": "the get, sign and verify key permissions (AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET)",
    "hashivault": "a VAULT_TOKEN whose policy allows transit/sign and transit/keys for the key",
}

# Sigstore's public services. sigstore-go pkg/sign/certificate.go posts to "/api/v2/signingCert" and returns
# "Fulcio returned %d: %s"; pkg/sign/transparency.go creates "/api/v1/log/entries" on Rekor; cosign
# pkg/cosign/tuf.go: "error getting signing config from TUF: %w", "error getting live trusted root: %w"
# (the TUF CDN is tuf-repo-cdn.sigstore.dev); signcommon NewAttestationBundle: "signing bundle: %w".
_SIGSTORE_SERVICES = (
    ("rekor", "Rekor transparency log"),
    ("/api/v1/log/entries", "Rekor transparency log"),
    ("fulcio", "Fulcio certificate authority"),
    ("/api/v2/signingcert", "Fulcio certificate authority"),
    ("signing config from tuf", "Sigstore TUF repository"),
    ("live trusted root", "Sigstore TUF repository"),
    ("tuf-repo-cdn", "Sigstore TUF repository"),
    ("tuf refresh failed", "Sigstore TUF repository"),
    ("timestamp-authority", "Sigstore timestamp authority"),
)
_SIGSTORE_HOST = re.compile(r"https?://([A-Za-z0-9.\-]+(?::\d+)?)/")

# Registry errors come from go-containerregistry pkg/v1/remote/transport/error.go: `Diagnostic.String()` is
# "$Code: $Message[; $Detail]" with codes "UNAUTHORIZED", "DENIED", "TOOMANYREQUESTS", "UNAVAILABLE",
# "MANIFEST_UNKNOWN", "NAME_UNKNOWN", …; without a JSON body it is "unexpected status code %d %s[: body]"
# (HEAD: "… (HEAD responses have no body, use GET for details)"); every one is prefixed "METHOD URL: ".
# Network failures are Go's net errors: "dial tcp …: connect: connection refused",
# "dial tcp: lookup HOST …: no such host", "i/o timeout"; TLS: "x509: …",
# "http: server gave HTTP response to HTTPS client".
_GGCR_STATUS = re.compile(r"unexpected status code ([1-5][0-9]{2})")
_GGCR_CODES: Mapping[str, FailureKind] = {
    "UNAUTHORIZED:": FailureKind.UNAUTHORIZED,
    "DENIED:": FailureKind.DENIED,
    "TOOMANYREQUESTS:": FailureKind.RATE_LIMITED,
    "UNAVAILABLE:": FailureKind.SERVER_ERROR,
    "MANIFEST_UNKNOWN:": FailureKind.NOT_FOUND,
    "NAME_UNKNOWN:": FailureKind.NOT_FOUND,
    "BLOB_UNKNOWN:": FailureKind.NOT_FOUND,
}
_NET_UNREACHABLE = (
    "connection refused",
    "i/o timeout",
    "no route to host",
    "network is unreachable",
    "connection reset by peer",
    "tls handshake timeout",
    "context deadline exceeded",
    "unexpected eof",
)
_TLS = ("x509:", "server gave http response to https client", "tls: ")

# Secrets that may sit in a line cosign prints (a URL with user:password, a NAME=value, a bearer token).
_SCRUBS = (
    (re.compile(r"(\w+://)[^/@\s:]+:[^/@\s]+@"), r"\1***@"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=\-]+"), r"\1 ***"),
    (re.compile(r"\b([A-Z][A-Z0-9_]*(?:PASSWORD|TOKEN|SECRET|PRIVATE_KEY|ACCESS_KEY)[A-Z0-9_]*)=\S+"), r"\1=***"),
    (re.compile(r"(?i)\b(password|passwd|secret)\s*[=:]\s*\S+"), r"\1=***"),
    (re.compile(r"(?i)([?&](?:password|token|secret|access_token|sig)=)[^&\s]+"), r"\1***"),
)


class SigstoreUnavailable(RegistryFailure):
    """Rekor, Fulcio or Sigstore's TUF repository could not be reached or failed (not the image registry)."""

    def __init__(self, service: str, host: str, kind: FailureKind, message: str, detail: str = "") -> None:
        self.service = service
        super().__init__(host, kind, message, detail)


def scrub(text: str) -> str:
    """`text` with credential-looking values replaced by *** (URL userinfo, bearer tokens, NAME=secret)."""
    for pattern, repl in _SCRUBS:
        text = pattern.sub(repl, text)
    return text


def registry_of(ref: str) -> str:
    """The registry host of an image reference (Docker Hub when the first component is not a host)."""
    name = ref.strip().split("@", 1)[0]
    first, sep, _ = name.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"


def _error_text(stderr: str) -> str:
    """The error chain cosign printed (from `Error: …` to its `error during command execution` repeat).

    cosign's UI prints warnings (`WARNING: Could not fetch trusted_root.json from the TUF repository…`) that
    would otherwise read like the failure. A chain may span lines (Vault's API errors do). Without an
    `Error:` line: every line but the warnings.
    """
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    lines = [ln for ln in lines if not ln.upper().startswith("WARNING")]
    start = next((i for i, ln in enumerate(lines) if ln.startswith("Error:")), None)
    if start is None:
        return "\n".join(lines)
    chain = [lines[start]]
    for ln in lines[start + 1 :]:
        if "error during command execution:" in ln or ln.startswith("Error:"):
            break
        chain.append(ln)
    return "\n".join(chain)


def _error_line(stderr: str) -> str:
    """cosign's own error line (`Error: …`), or the last line; scrubbed and capped."""
    return scrub(_cosign_message(stderr))[-600:]


def classify_failure(stderr: str, *, ref: str, action: str) -> SeaworthyError | None:
    """Read a failed cosign run's stderr; return the error the user can act on, or None when unknown.

    `action` is the cosign command ("sign", "attest", "verify", "verify-attestation", "public-key").
    Registry and Sigstore-service failures are `RegistryFailure`s (`kind`, `retryable`); a wrong, missing or
    malformed key, a KMS permission problem or a missing keyless token is an `InputError`. A negative
    verification answer ("no matching signatures", …) is not a failure here: None, `read_verify` reads it.
    None also means "not recognised": the caller raises ToolFailed with cosign's message. The first line of
    every message is one line and never quotes a secret (key material, passwords and tokens are not echoed).
    """
    if not stderr.strip() or _is_unverified(stderr):
        return None
    text = _error_text(stderr)
    low = text.lower()
    what = f"cosign {action} of {ref}" if ref else f"cosign {action}"
    for classify in (_key_failure, _kms_failure, _token_failure):
        found = classify(text, low, what)
        if found is not None:
            return found
    return _sigstore_failure(text, low, what) or _registry_failure(text, low, what, registry_of(ref))


def _key_failure(stderr: str, low: str, what: str) -> InputError | None:
    if any(m in low for m in _WRONG_PASSWORD):
        return InputError(
            f"{what} could not decrypt the signing key: the key's password (with-cosign-key --password) is wrong, or "
            "missing for an encrypted key; chain the password the key was created with (with-cosign-key "
            "--key=file:./cosign.key --password=env:COSIGN_PASSWORD) or make a new pair with `cosign generate-key-pair`"
        )
    pem = _PEM_TYPE.search(stderr)
    if pem is not None:
        pem_type = pem.group(1).strip()
        if pem_type.endswith("PUBLIC KEY") or pem_type == "CERTIFICATE":
            problem, fix = f"is a {pem_type.lower()}, not the private key", "pass cosign.key, not cosign.pub"
        elif "PRIVATE KEY" in pem_type:
            problem = f"is an unencrypted {pem_type} PEM"
            fix = "convert it with `cosign import-key-pair --key FILE` (it asks for a password), then pass cosign.key"
        else:
            problem, fix = f"is a {pem_type} PEM, not a cosign private key", "pass cosign.key"
        return InputError(
            f"{what}: the signing key (with-cosign-key --key) {problem}; {fix} (with-cosign-key "
            "--key=file:./cosign.key --password=env:COSIGN_PASSWORD), made by `cosign generate-key-pair`"
        )
    if any(m in low for m in _NOT_A_KEY):
        return InputError(
            f"{what}: the signing key (with-cosign-key --key) is not a cosign private key (not an encrypted PEM key); "
            "chain the cosign.key that `cosign generate-key-pair` wrote: with-cosign-key --key=file:./cosign.key "
            "--password=env:COSIGN_PASSWORD"
        )
    if _KEY_ENV_MISSING.search(stderr):
        return InputError(
            f"{what}: no signing key reached cosign; chain with-cosign-key --key=file:./cosign.key "
            "--password=env:COSIGN_PASSWORD (or with-kms, or with-keyless)"
        )
    if _BAD_PUBLIC_KEY in low:
        return InputError(
            f"{what}: --public-key is not a PEM public key; pass the cosign.pub of the signing key "
            "(`cosign public-key --key cosign.key` prints it)"
        )
    return None


def _kms_failure(stderr: str, low: str, what: str) -> InputError | None:
    if not any(m in low for m in _KMS_CONTEXT) or not any(m in low for m in _KMS_DENIED):
        return None
    provider = next((p for p in _KMS_HINTS if p in low), "")
    if not provider:
        provider = next(
            (p for p, words in (("awskms", "aws"), ("gcpkms", "cloudkms"), ("azurekms", "azure")) if words in low),
            "",
        )
    needs = _KMS_HINTS.get(provider, "permission to read the public key and to sign with the key")
    return InputError(
        f"{what}: the KMS refused the credentials (with-kms --credentials) for the key (with-kms --key): missing, "
        f"expired or without permission; give them {needs}"
    )


def _token_failure(stderr: str, low: str, what: str) -> InputError | None:
    if not any(m in low for m in _NO_TOKEN):
        return None
    return InputError(
        f"{what}: keyless signing got no usable OIDC identity token; chain with-keyless "
        "--identity-token=env:SIGSTORE_ID_TOKEN, or in GitHub Actions grant `id-token: write` and chain with-keyless "
        "--oidc-request-url/--oidc-request-token (or sign with with-cosign-key or with-kms)"
    )


def _network_kind(low: str, status: int) -> FailureKind | None:
    if "no such host" in low:
        return FailureKind.UNKNOWN_HOST
    if status == 429:
        return FailureKind.RATE_LIMITED
    if 500 <= status <= 599:
        return FailureKind.SERVER_ERROR
    if any(w in low for w in _TLS):
        return FailureKind.TLS
    if any(w in low for w in _NET_UNREACHABLE) or "dial tcp" in low:
        return FailureKind.UNREACHABLE
    return None


def _sigstore_failure(stderr: str, low: str, what: str) -> SigstoreUnavailable | None:
    service = next((name for marker, name in _SIGSTORE_SERVICES if marker in low), "")
    if not service:
        return None
    status_m = re.search(r"(?:fulcio returned|\]\[|status code:? )\s*([1-5][0-9]{2})", low)
    status = int(status_m.group(1)) if status_m else 0
    kind = _network_kind(low, status)
    if kind is None:
        if "signing config from tuf" not in low and "live trusted root" not in low:
            return None  # Rekor/Fulcio named, but not a transport failure (e.g. a token Fulcio rejected)
        kind = FailureKind.UNREACHABLE
    host_m = next((m for m in _SIGSTORE_HOST.finditer(stderr) if "sigstore" in m.group(1) or "tuf" in m.group(1)), None)
    host = host_m.group(1) if host_m else service
    return SigstoreUnavailable(
        service,
        host,
        kind,
        f"{what} could not use the {service} ({host}: {kind.value}); for a private registry sign with with-cosign-key "
        "or with-kms and --tlog=false (keyless signing needs the public Sigstore services), or retry later",
        _error_line(stderr),
    )


_REGISTRY_FIXES: Mapping[FailureKind, tuple[str, str]] = {
    FailureKind.UNAUTHORIZED: (
        "unauthorized (HTTP 401): the registry credentials are missing or wrong",
        "chain with-registry-auth --address={reg} --username=NAME --secret=env:REGISTRY_TOKEN (valid for {reg})",
    ),
    FailureKind.DENIED: (
        "access denied (HTTP 403)",
        "use registry credentials that may push to this repository: cosign stores the signature beside the image",
    ),
    FailureKind.RATE_LIMITED: ("rate limited (HTTP 429)", "wait and retry, or authenticate"),
    FailureKind.SERVER_ERROR: ("the registry answered {status}", "the registry is failing; retry later"),
    FailureKind.NOT_FOUND: (
        "the image or repository does not exist there",
        "sign the reference `publish` returned (repository@sha256:…)",
    ),
    FailureKind.UNKNOWN_HOST: ("the host name does not resolve", "check the registry name in --ref"),
    FailureKind.TLS: (
        "TLS verification failed",
        "for a plain-HTTP local registry chain with-insecure-registry --address=HOST:PORT; otherwise fix the "
        "registry's certificate",
    ),
    FailureKind.UNREACHABLE: (
        "the registry is unreachable",
        "check the host and port in --ref and that the registry is running",
    ),
}


def _registry_failure(stderr: str, low: str, what: str, registry: str) -> RegistryFailure | None:
    status_m = _GGCR_STATUS.search(stderr)
    status = int(status_m.group(1)) if status_m else 0
    kind = next((k for code, k in _GGCR_CODES.items() if code in stderr), None)
    if kind is None:
        by_status = {401: FailureKind.UNAUTHORIZED, 403: FailureKind.DENIED, 404: FailureKind.NOT_FOUND}
        kind = by_status.get(status) or _network_kind(low, status)
    if kind is None:
        return None
    problem, fix = _REGISTRY_FIXES[kind]
    problem = problem.format(status=f"HTTP {status}" if status else "with a server error")
    return RegistryFailure(
        registry,
        kind,
        f"{what} failed at registry {registry}: {problem}; {fix.format(reg=registry)}",
        _error_line(stderr),
    )
