"""Publish by digest, prove the pushed image is the scanned one, sign, attest, verify.

Every registry access runs in a tool container (skopeo, cosign) so that plain-HTTP registries (the
ephemeral in-engine one) work in dagger 0.21, and every credential is a `dagger.Secret` mounted or set as
a secret variable — never argv, never a plain variable, never a file in a layer.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

import attrs
import dagger
from dagger import dag

from pipeline.errors import InputError, RegistryError, ToolFailed, ToolOutputError
from pipeline.formats import intoto
from pipeline.policy import attestations as attestation_policy
from pipeline.stages.runner import Collected, Mountable, collect, file_of, tool_container
from pipeline.tools import bandit, cosign, gitleaks, hadolint, njsscan, opa, registry, semgrep, skopeo, syft, trivy
from pipeline.tools.base import Invocation

__version__ = "0.1.0"


def tool_images() -> dict[str, str]:
    """Every tool image a run may use, by tool name (for `version` and the provenance's dependencies)."""
    modules = (bandit, cosign, gitleaks, hadolint, njsscan, opa, registry, semgrep, skopeo, syft, trivy)
    return {m.NAME: m.IMAGE.ref for m in sorted(modules, key=lambda m: m.NAME)}


def versions() -> str:
    """Seaworthy's version and every pinned tool image, one per line."""
    lines = [f"seaworthy {__version__}", *(f"{name} {ref}" for name, ref in tool_images().items())]
    return "\n".join(lines) + "\n"


def run_id() -> str:
    """A value unique to one run: busts the cache of steps that must happen every time (push, sign)."""
    return f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"


def ephemeral_registry(key: str) -> dagger.Service:
    """The in-engine registry (plain HTTP on port 5000), its storage in a cache volume keyed by `key`."""
    ctr = dag.container().from_(registry.IMAGE.ref)
    for name, value in sorted(registry.ENV.items()):
        ctr = ctr.with_env_variable(name, value)
    return (
        ctr.with_mounted_cache(registry.STORAGE, dag.cache_volume(key))
        .with_exposed_port(registry.PORT)
        .as_service(use_entrypoint=True)
    )


# --- where to publish ---------------------------------------------------------------------------------


@attrs.frozen
class RegistryAccess:
    """Credentials and transport for one registry. The password is only ever a Secret."""

    username: str = ""
    password: dagger.Secret | None = None
    insecure: bool = False
    service: dagger.Service | None = None
    """A registry service bound as `registry.ALIAS` (the ephemeral one, or the caller's with-registry-service),
    reached over plain HTTP; None for a registry reached over the network."""

    def __attrs_post_init__(self) -> None:
        if bool(self.username) != (self.password is not None):
            raise InputError(
                "registry credentials are half given: pass both --username and --password "
                "(as a secret, e.g. --password=env://REGISTRY_TOKEN), or neither"
            )


LOOPBACK_HOSTS = ("localhost", "127.0.0.1")


def through_service(ref: skopeo.Reference) -> skopeo.Reference:
    """`ref` as the tool containers reach a caller's registry service: the service is bound under
    `registry.ALIAS`, so ``localhost:5000/app`` becomes ``registry:5000/app`` (a tool container's own
    localhost is itself). Any other host is kept: the caller named the alias already."""
    host, _, port = ref.registry.partition(":")
    if host not in LOOPBACK_HOSTS:
        return ref
    return attrs.evolve(ref, registry=f"{registry.ALIAS}:{port or registry.PORT}")


def via_service(ref: str, service: dagger.Service | None) -> str:
    """An image reference given by the caller, as the tool containers reach it (see `through_service`)."""
    if service is None:
        return ref
    return str(through_service(skopeo.normalize_reference(ref)))


@attrs.frozen
class Target:
    reference: skopeo.Reference
    """The reference the tool containers push to."""
    access: RegistryAccess
    ephemeral: bool = False
    """Pushed through a bound service (the in-engine registry or the caller's): plain HTTP."""
    public_registry: str = ""
    """The registry host as the caller named it, when it differs from `reference`'s (see `public`)."""

    def public(self, ref: str) -> str:
        """A reference the tools produced, with the registry host the caller gave (localhost:5000/…)."""
        if not self.public_registry or not ref.startswith(self.reference.registry + "/"):
            return ref
        return self.public_registry + ref[len(self.reference.registry) :]

    @classmethod
    def parse(
        cls,
        repository: str,
        tag: str,
        *,
        username: str = "",
        password: dagger.Secret | None = None,
        insecure: bool = False,
        service: dagger.Service | None = None,
    ) -> Target:
        if "@" in repository:
            raise InputError(
                f"--repository {repository!r} carries a digest; give the repository only "
                "(the digest is what publishing produces)"
            )
        if ":" in repository.rsplit("/", 1)[-1]:
            raise InputError(
                f"--repository {repository!r} carries a tag; give the tag with --tag, "
                f"e.g. --repository={repository.rsplit(':', 1)[0]} --tag={repository.rsplit(':', 1)[1]}"
            )
        ref = skopeo.normalize_reference(f"{repository}:{tag or 'latest'}")
        access = RegistryAccess(username, password, insecure, service)
        if service is None:
            return cls(ref, access)
        bound = through_service(ref)
        public = ref.registry if bound.registry != ref.registry else ""
        return cls(bound, access, ephemeral=True, public_registry=public)


def skopeo_auth(
    inv: Invocation, access: RegistryAccess, registry_host: str
) -> tuple[Invocation, dict[str, dagger.Secret], tuple[str, ...]]:
    """`inv` with the step that writes its auth file inside the container, the password as a secret
    variable, and the in-memory folder the file goes to. No auth file wanted: `inv` unchanged.

    The password stays a `dagger.Secret` from the caller to the container: it is never read into Python
    (`skopeo.auth_script` builds the docker config.json in the tool container, in a tmpfs mount).
    """
    if access.password is None or skopeo.AUTHFILE not in inv.mounts:
        return inv, {}, ()
    wrapped = skopeo.with_auth_step(inv, registry_host, access.username)
    return wrapped, {skopeo.AUTH_PASSWORD_ENV: access.password}, (skopeo.AUTH_DIR,)


def _services(access: RegistryAccess) -> dict[str, dagger.Service]:
    return {registry.ALIAS: access.service} if access.service is not None else {}


async def _run_skopeo(
    inv: Invocation,
    access: RegistryAccess,
    registry_host: str,
    mounts: Mapping[str, Mountable],
    *,
    buster: str,
    action: str,
) -> Collected:
    """Run a skopeo invocation with retries on retryable registry failures (fresh exec each attempt)."""
    run_inv, secret_env, temps = skopeo_auth(inv, access, registry_host)
    attempt = 0

    async def once() -> Collected:
        nonlocal attempt
        attempt += 1
        ctr = tool_container(
            run_inv,
            mounts,
            secret_env=secret_env,
            services=_services(access),
            buster=f"{buster}-{attempt}",
            temps=temps,
        )
        try:
            return await collect(ctr, run_inv)
        except ToolFailed as exc:
            failure = skopeo.classify_failure(exc.tool_message, registry=registry_host, action=action)
            if failure is not None:
                raise failure from None
            raise

    return await skopeo.with_retries_async(once, attempts=3, backoff=2.0)


@attrs.frozen
class Pushed:
    ref: str
    """name@sha256:… of the pushed manifest or index."""
    digest: str
    config_digests: Mapping[str, str]
    """platform → config digest read back from the registry."""


async def expected_configs(tarball: dagger.File, platforms: Sequence[str]) -> dict[str, str]:
    """platform → config digest of the tarball that was scanned (the build-time side)."""
    out: dict[str, str] = {}
    for platform in platforms:
        inv = skopeo.inspect_archive_config(skopeo.TARBALL, platform=platform or None)
        got = await collect(tool_container(inv, {skopeo.TARBALL: tarball}), inv)
        cfg = skopeo.parse_config(got.report)
        out[platform or ""] = cfg.digest
    return out


async def publish(
    tarball: dagger.File,
    platforms: Sequence[str],
    target: Target,
    *,
    expected: Mapping[str, str] | None = None,
) -> Pushed:
    """Push the tarball (an index when multi-platform), read it back, compare config digests."""
    ref = target.reference
    access = target.access
    tls = not access.insecure and not target.ephemeral
    authfile = skopeo.AUTHFILE if access.password is not None else None
    buster = run_id()
    push = skopeo.push(ref, tarball=skopeo.TARBALL, tls_verify=tls, authfile=authfile)
    got = await _run_skopeo(push, access, ref.registry, {skopeo.TARBALL: tarball}, buster=buster, action="push to")
    digest = skopeo.parse_digestfile(got.report)
    pinned = ref.by_digest(digest)

    async def fetch(child_digest: str) -> str:
        inv = skopeo.inspect_raw(
            ref.by_digest(child_digest), tls_verify=tls, authfile=authfile, report_name="child.json"
        )
        res = await _run_skopeo(inv, access, ref.registry, {}, buster=buster, action="read from")
        return res.report

    top_inv = skopeo.inspect_raw(pinned, tls_verify=tls, authfile=authfile)
    top = await _run_skopeo(top_inv, access, ref.registry, {}, buster=buster, action="read from")
    manifest = skopeo.parse_manifest(top.report, expected_digest=digest)
    children = {c.digest: await fetch(c.digest) for c in skopeo.child_manifests(manifest)}
    pushed = skopeo.config_digests(top.report, lambda d: children[d], digest=digest)
    want = dict(expected) if expected is not None else await expected_configs(tarball, platforms)
    skopeo.compare_digests(want, pushed, reference=str(pinned))
    return Pushed(str(pinned), digest, pushed)


# --- signing --------------------------------------------------------------------------------------------


@attrs.frozen
class Signing:
    """How to sign, and the secrets that go with it."""

    signer: cosign.Signer
    secrets: Mapping[str, dagger.Secret]
    """Secret variable name → Secret (COSIGN_PRIVATE_KEY, COSIGN_PASSWORD, SIGSTORE_ID_TOKEN, …)."""
    tlog: bool = True
    generate_key: bool = False
    """No key given for the ephemeral registry: sign with a fresh throwaway key pair."""
    kms_credentials: dagger.Secret | None = None
    """KMS mode: a dotenv file of the provider's variables (AWS_…, AZURE_…, VAULT_…) or GCP's JSON key."""

    @classmethod
    def from_args(
        cls,
        *,
        key: dagger.Secret | None = None,
        key_password: dagger.Secret | None = None,
        kms_key: str = "",
        identity_token: dagger.Secret | None = None,
        oidc_request_url: dagger.Secret | None = None,
        oidc_request_token: dagger.Secret | None = None,
        tlog: bool = True,
        ephemeral: bool = False,
        kms_credentials: dagger.Secret | None = None,
    ) -> Signing:
        modes = [bool(key), bool(kms_key), bool(identity_token or oidc_request_url or oidc_request_token)]
        if sum(modes) > 1:
            raise InputError(
                "chain one way to sign: with-cosign-key (--key, --password), with-kms, or with-keyless "
                "(--identity-token, or --oidc-request-url with --oidc-request-token)"
            )
        if ephemeral:
            tlog = False  # the public log cannot reach an in-engine registry's image anyway
        if key is not None:
            secrets = {"COSIGN_PRIVATE_KEY": key}
            secrets["COSIGN_PASSWORD"] = key_password or dag.set_secret("seaworthy-empty-password", "")
            return cls(cosign.Signer.key(), secrets, tlog)
        if kms_key:
            return cls(cosign.Signer.kms(kms_key), {}, tlog, kms_credentials=kms_credentials)
        if kms_credentials is not None:
            raise InputError("KMS credentials are only used with a KMS key; chain with-kms --key=URI --credentials=…")
        if oidc_request_url is not None or oidc_request_token is not None:
            if oidc_request_url is None or oidc_request_token is None:
                raise InputError(
                    "GitHub keyless signing needs both with-keyless "
                    "--oidc-request-url=env:ACTIONS_ID_TOKEN_REQUEST_URL and "
                    "--oidc-request-token=env:ACTIONS_ID_TOKEN_REQUEST_TOKEN (grant id-token: write)"
                )
            return cls(
                cosign.Signer.keyless(cosign.Oidc.GITHUB_ACTIONS),
                {
                    "ACTIONS_ID_TOKEN_REQUEST_URL": oidc_request_url,
                    "ACTIONS_ID_TOKEN_REQUEST_TOKEN": oidc_request_token,
                },
                tlog,
            )
        if identity_token is not None:
            return cls(cosign.Signer.keyless(cosign.Oidc.ENV_TOKEN), {"SIGSTORE_ID_TOKEN": identity_token}, tlog)
        if ephemeral:
            return cls(cosign.Signer.key(), {}, False, generate_key=True)
        raise InputError(
            "no way to sign was given: chain with-cosign-key --key=file:./cosign.key --password=env:COSIGN_PASSWORD, "
            "with-kms --key=awskms:///alias/NAME, or with-keyless --identity-token=env:SIGSTORE_ID_TOKEN"
        )


async def cosign_secrets(
    call: cosign.CosignCall,
    secrets: Mapping[str, dagger.Secret],
    kms_credentials: dagger.Secret | None,
    *,
    what: str,
) -> tuple[dict[str, dagger.Secret], dict[str, dagger.Secret]]:
    """Secret variables and secret files a cosign call needs, from the given secrets and KMS credentials."""
    env = {k: secrets[k] for k in call.secret_env if k in secrets}
    files: dict[str, dagger.Secret] = {}
    missing = [k for k in call.secret_env if k not in env]
    if (missing or call.secret_files) and kms_credentials is not None:
        if call.secret_files:  # gcpkms: the JSON key file itself
            files = dict.fromkeys(call.secret_files, kms_credentials)
        if missing:
            values = cosign.parse_credentials_env(await kms_credentials.plaintext())
            for name in [m for m in missing if m in values]:
                env[name] = dag.set_secret(f"seaworthy-kms-{name.lower()}", values[name])
            missing = [m for m in missing if m not in env]
    if missing or (call.secret_files and not files):
        needed = ", ".join(missing) or "a credentials file"
        raise InputError(
            f"{what}: cosign needs {needed}; chain them as secrets (with-cosign-key --key/--password, or for KMS "
            "with-kms --credentials=file:./kms.env with NAME=value lines, or GCP's JSON key file)"
        )
    return env, files


async def generated_key_pair() -> tuple[dict[str, dagger.Secret], dagger.File]:
    """A throwaway cosign key pair for the ephemeral registry: (secrets, public key file)."""
    call = cosign.generate_key_pair()
    password = dag.set_secret("seaworthy-ephemeral-key-password", "")
    ctr = tool_container(
        call.invocation, {}, secret_env={"COSIGN_PASSWORD": password}, buster=run_id(), user=cosign.USER
    )
    await collect(ctr, call.invocation)
    private = await ctr.file(call.invocation.report.replace("cosign.pub", "cosign.key")).contents()
    public = await ctr.file(call.invocation.report).contents()
    key = dag.set_secret(f"seaworthy-ephemeral-key-{uuid.uuid4().hex[:8]}", private)
    # both halves are read now: a later re-run of the generation would make another pair
    return {"COSIGN_PRIVATE_KEY": key, "COSIGN_PASSWORD": password}, file_of("cosign.pub", public)


async def public_key_of(signing: Signing) -> dagger.File:
    """The public key of a key or KMS signer (cosign public-key), to verify what was just signed."""
    call = cosign.public_key(signing.signer)
    got = await _run_cosign(call, signing.secrets, None, what="public-key", kms_credentials=signing.kms_credentials)
    if "PUBLIC KEY" not in got.report:
        raise ToolOutputError(cosign.NAME, "cosign public-key wrote no PEM public key")
    # the key read now is the one returned: a lazy file would re-run cosign (a KMS call) when read again
    return file_of("cosign.pub", got.report)


def _registry_secrets(
    access: RegistryAccess,
) -> tuple[cosign.RegistryAuth, dict[str, dagger.Secret], dict[str, str]]:
    """cosign's registry credentials: the password as a secret variable, the user name as a plain one.

    The user name is not a secret and must not be one: the engine scrubs every secret value from stdout and
    from `redirect_stdout` files with no minimum length, so a short name occurring inside base64 payloads
    would corrupt the envelopes `decode_envelope` reads.
    """
    if access.password is None:
        return cosign.RegistryAuth.NONE, {}, {}
    return (
        cosign.RegistryAuth.ENV,
        {"COSIGN_REGISTRY_PASSWORD": access.password},
        {"COSIGN_REGISTRY_USERNAME": access.username},
    )


COSIGN_ATTEMPTS = 3
COSIGN_BACKOFF = 2.0
"""Retries of a cosign run that failed on a retryable registry/Sigstore failure (5xx, 429, unreachable)."""


def _cosign_ref(call: cosign.CosignCall) -> str:
    """The image reference a cosign call works on (its last argument), or "" (public-key, generate-key-pair)."""
    last = call.invocation.argv[-1] if call.invocation.argv else ""
    return last if "@sha256:" in last else ""


async def _run_cosign(
    call: cosign.CosignCall,
    secrets: Mapping[str, dagger.Secret],
    access: RegistryAccess | None,
    mounts: Mapping[str, Mountable] | None = None,
    *,
    what: str,
    kms_credentials: dagger.Secret | None = None,
    env: Mapping[str, str] | None = None,
) -> Collected:
    """Run a cosign call; a failure becomes the error the user can act on (`cosign.classify_failure`).

    Retryable registry or Sigstore failures are retried (`COSIGN_ATTEMPTS`), each attempt a fresh exec with
    its own cache buster: the engine caches a failed exec (expect=ANY) like any other and would hand the
    same failure back. Anything else raises at once: the classified error, or ToolFailed with cosign's own
    message when the failure is not recognised. A non-zero exit the invocation treats as an answer (verify's
    "no matching signatures") is returned for the reader, unless its stderr is a recognised failure.
    """
    secret_env, secret_files = await cosign_secrets(call, secrets, kms_credentials, what=what)
    ref = _cosign_ref(call)
    buster = run_id()
    attempt = 0

    async def once() -> Collected:
        nonlocal attempt
        attempt += 1
        ctr = tool_container(
            call.invocation,
            mounts or {},
            env=env,
            secret_env=secret_env,
            secret_files=secret_files,
            services=_services(access) if access is not None else None,
            buster=f"{buster}-{attempt}",
            user=cosign.USER,
        )
        try:
            got = await collect(ctr, call.invocation)
        except ToolFailed as exc:
            failure = cosign.classify_failure(exc.tool_message, ref=ref, action=what)
            if failure is not None:
                raise failure from None
            raise
        if got.exit_code != 0:
            failure = cosign.classify_failure(got.stderr, ref=ref, action=what)
            if failure is not None:
                raise failure
        return got

    return await skopeo.with_retries_async(once, attempts=COSIGN_ATTEMPTS, backoff=COSIGN_BACKOFF)


async def sign(ref: str, signing: Signing, access: RegistryAccess, *, recursive: bool = False) -> None:
    auth, reg_secrets, reg_env = _registry_secrets(access)
    call = cosign.sign(
        ref,
        signing.signer,
        tlog=signing.tlog,
        allow_http=access.insecure or access.service is not None,
        recursive=recursive,
        registry_auth=auth,
    )
    await _run_cosign(
        call,
        {**signing.secrets, **reg_secrets},
        access,
        what="sign",
        kms_credentials=signing.kms_credentials,
        env=reg_env,
    )


PREDICATE_TYPES = {
    "cyclonedx": "https://cyclonedx.org/bom",
    "spdxjson": "https://spdx.dev/Document",
    "spdx": "https://spdx.dev/Document",
    "vuln": "https://cosign.sigstore.dev/attestation/vuln/v1",
    "slsaprovenance1": "https://slsa.dev/provenance/v1",
    "slsaprovenance": "https://slsa.dev/provenance/v1",
    "verdict": intoto.VERDICT_V1,
}


def predicate_type_uri(value: str) -> str:
    if "://" in value:
        return value
    try:
        return PREDICATE_TYPES[value.lower()]
    except KeyError:
        raise InputError(
            f"--predicate-type {value!r} is not a known predicate type; use one of "
            f"{', '.join(sorted(PREDICATE_TYPES))} or a full URI"
        ) from None


async def attest(
    ref: str, predicate: dagger.File, predicate_type: str, signing: Signing, access: RegistryAccess
) -> None:
    auth, reg_secrets, reg_env = _registry_secrets(access)
    call = cosign.attest(
        ref,
        predicate_type_uri(predicate_type),
        signing.signer,
        tlog=signing.tlog,
        allow_http=access.insecure or access.service is not None,
        registry_auth=auth,
    )
    await _run_cosign(
        call,
        {**signing.secrets, **reg_secrets},
        access,
        {cosign.PREDICATE: predicate},
        what="attest",
        kms_credentials=signing.kms_credentials,
        env=reg_env,
    )


# --- verification ---------------------------------------------------------------------------------------


@attrs.frozen
class Verifying:
    public_key: dagger.File | None = None
    kms_key: str = ""
    identity: str = ""
    identity_regexp: bool = False
    issuer: str = ""
    tlog: bool = True
    kms_credentials: dagger.Secret | None = None

    @classmethod
    def from_args(
        cls,
        *,
        public_key: dagger.File | None = None,
        kms_key: str = "",
        identity: str = "",
        identity_regexp: str = "",
        issuer: str = "",
        tlog: bool = True,
        kms_credentials: dagger.Secret | None = None,
    ) -> Verifying:
        if identity and identity_regexp:
            raise InputError("pass --identity or --identity-regexp, not both")
        return cls(
            public_key, kms_key, identity or identity_regexp, bool(identity_regexp), issuer, tlog, kms_credentials
        )

    @property
    def key_arg(self) -> str:
        if self.public_key is not None:
            return cosign.PUBLIC_KEY
        return self.kms_key


REQUIREMENTS = ("sbom", "vuln", "provenance", "verdict")


async def verify(
    ref: str,
    verifier: Verifying,
    access: RegistryAccess,
    *,
    require: Sequence[str] = (),
    max_vuln_age_hours: int = 24,
    expected_config_digest: str = "",
    now: datetime | None = None,
) -> str:
    """Verify signature + attestations + policy; return the verification report (JSON). Raise on failure."""
    now = now or datetime.now(UTC)
    chosen = tuple(require) or REQUIREMENTS
    _, digest = cosign.require_digest_ref(ref, "verify --ref")
    auth, reg_secrets, reg_env = _registry_secrets(access)
    allow_http = access.insecure or access.service is not None
    mounts: dict[str, Mountable] = {}
    if verifier.public_key is not None:
        mounts[cosign.PUBLIC_KEY] = verifier.public_key
    kw = {
        "key": verifier.key_arg,
        "identity": verifier.identity,
        "issuer": verifier.issuer,
        "identity_regexp": verifier.identity_regexp,
        "tlog": verifier.tlog,
        "allow_http": allow_http,
        "registry_auth": auth,
    }
    call = cosign.verify(ref, **kw)  # pyright: ignore[reportArgumentType]
    got = await _run_cosign(
        call, reg_secrets, access, mounts, what="verify", kms_credentials=verifier.kms_credentials, env=reg_env
    )
    signature = cosign.read_verify(got.exit_code, got.report, got.stderr)
    policy = attestation_policy.policy_for(
        chosen, max_vuln_age_hours=max_vuln_age_hours, expected_config_digest=expected_config_digest
    )
    statements: list[intoto.Statement] = []
    for predicate_type in attestation_policy.predicate_types(policy):
        vcall = cosign.verify_attestation(ref, predicate_type, **kw)  # pyright: ignore[reportArgumentType]
        vgot = await _run_cosign(
            vcall,
            reg_secrets,
            access,
            mounts,
            what="verify-attestation",
            kms_credentials=verifier.kms_credentials,
            env=reg_env,
        )
        check = cosign.read_verify_attestation(predicate_type, vgot.exit_code, vgot.report, vgot.stderr)
        statements.extend(check.statements)
    result = attestation_policy.evaluate(digest, signature, statements, now=now, policy=policy)
    text = json.dumps(attestation_policy.to_json(result), indent=2, sort_keys=True) + "\n"
    if not result.passed:
        raise RegistryError(attestation_policy.failure_message(ref, result))
    return text


def predicate_file(name: str, document: Mapping[str, object]) -> dagger.File:
    return file_of(name, intoto.canonical_json(dict(document)).decode())
