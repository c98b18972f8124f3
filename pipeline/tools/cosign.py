"""cosign 3: sign, attest and verify an image by digest; read what `verify`/`verify-attestation` print.

Rules this module enforces (each breach is an InputError naming the argument and the fix):

- every image reference is ``repository@sha256:<64 hex>``: signing a tag signs whatever the tag points to
  at that moment;
- no secret ever reaches argv or the plain environment: the builders only *name* the variables and files
  the stage must provide as secrets (`CosignCall.secret_env`, `CosignCall.secret_files`):
  ``--key env://COSIGN_PRIVATE_KEY`` + ``COSIGN_PASSWORD``; registry credentials as
  ``COSIGN_REGISTRY_USERNAME``/``COSIGN_REGISTRY_PASSWORD`` (cosign binds every flag to ``COSIGN_<FLAG>``)
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

from pipeline.errors import InputError, ToolFailed, ToolOutputError
from pipeline.formats.intoto import Statement, as_list, as_map, decode_envelope
from pipeline.tools.base import IN, OUT, ExitCodes, Image, Invocation

NAME = "cosign"
IMAGE = Image("ghcr.io/sigstore/cosign/cosign", "v3.1.2")
"""Distroless static image, binary `cosign`, user 65532. Digest not verified from here (no ghcr access)."""
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
    """COSIGN_REGISTRY_USERNAME / COSIGN_REGISTRY_PASSWORD as secret variables."""
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


def parse_credentials_env(text: str, *, what: str = "--kms-credentials") -> dict[str, str]:
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
        return {"COSIGN_REGISTRY_USERNAME", "COSIGN_REGISTRY_PASSWORD"}, {}, {}
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
