"""The `seaworthy-sign` module: cosign signatures, attestations and verification of an image by digest.

Thin by design: every function calls `pipeline.api` (never `pipeline.main`, whose object types would register
here too). See docs/architecture.md, "Modules under modules/: how they share the core".
"""

from __future__ import annotations

import copy
from dataclasses import field as state
from typing import Annotated, Self

import dagger
from dagger import Doc, function, object_type

from pipeline import api

RefArg = Annotated[str, Doc("Image by digest: repo@sha256:… (a tag is refused)")]
TlogArg = Annotated[bool, Doc("Use the transparency log (turn off for private or local registries)")]


@object_type
class SeaworthySign:
    """Sign, attest and verify an image by digest with cosign: a key, keyless (GitHub or GitLab OIDC) or KMS."""

    auth_addresses: list[str] = state(default_factory=list, init=False)
    auth_usernames: list[str] = state(default_factory=list, init=False)
    auth_secrets: list[dagger.Secret] = state(default_factory=list, init=False)
    insecure: list[str] = state(default_factory=list, init=False)
    service: dagger.Service | None = state(default=None, init=False)
    # one way to sign: with_cosign_key, with_keyless or with_kms
    mode: str = state(default="", init=False)
    key: dagger.Secret | None = state(default=None, init=False)
    key_password: dagger.Secret | None = state(default=None, init=False)
    identity_token: dagger.Secret | None = state(default=None, init=False)
    oidc_request_url: dagger.Secret | None = state(default=None, init=False)
    oidc_request_token: dagger.Secret | None = state(default=None, init=False)
    identity: str = state(default="", init=False)
    issuer: str = state(default="", init=False)
    kms_key: str = state(default="", init=False)
    kms_credentials: dagger.Secret | None = state(default=None, init=False)
    tlog: bool = state(default=True, init=False)

    # --- registries -------------------------------------------------------------------------------------

    @function
    def with_registry_auth(
        self,
        address: Annotated[str, Doc("Registry host[:port], e.g. ghcr.io, docker.io, registry.example.com:5000")],
        username: Annotated[str, Doc("User name")],
        secret: Annotated[dagger.Secret, Doc("Password or token, e.g. env:GH_TOKEN")],
    ) -> Self:
        """Credentials for one registry; repeat for several. The same address again replaces the earlier one."""
        registries = self.registries().with_auth(address, username, secret)  # checked here, before anything runs
        new = copy.copy(self)
        new.auth_addresses = [a[0] for a in registries.auths]
        new.auth_usernames = [a[1] for a in registries.auths]
        new.auth_secrets = [a[2] for a in registries.auths]
        return new

    @function
    def with_insecure_registry(self, address: Annotated[str, Doc("Registry host[:port]")]) -> Self:
        """Reach this registry over plain HTTP / without TLS verification (local registries only)."""
        new = copy.copy(self)
        new.insecure = list(self.registries().with_insecure(address).insecure)
        return new

    @function
    def with_registry_service(
        self, service: Annotated[dagger.Service, Doc("A registry you run, e.g. tcp://localhost:5000 (plain HTTP)")]
    ) -> Self:
        """Sign images in a registry service you run; name it as localhost:PORT in the reference."""
        new = copy.copy(self)
        new.service = service
        return new

    def registries(self) -> api.Registries:
        return api.Registries(
            auths=tuple(zip(self.auth_addresses, self.auth_usernames, self.auth_secrets, strict=True)),
            insecure=tuple(self.insecure),
            service=self.service,
        )

    # --- one way to sign ----------------------------------------------------------------------------------

    def _mode(self, mode: str, tlog: bool) -> Self:
        """A copy set to sign in `mode`; a second, different way to sign in the chain is refused."""
        if self.mode and self.mode != mode:
            flags = {"key": "with-cosign-key", "keyless": "with-keyless", "kms": "with-kms"}
            raise api.InputError(
                f"{flags[mode]} after {flags[self.mode]}: chain one way to sign, not both; drop one of them"
            )
        new = copy.copy(self)
        new.mode, new.tlog = mode, tlog
        return new

    @function
    def with_cosign_key(
        self,
        key: Annotated[dagger.Secret, Doc("cosign private key, e.g. file:./cosign.key")],
        password: Annotated[dagger.Secret | None, Doc("Password of the key, e.g. env:COSIGN_PASSWORD")] = None,
        tlog: TlogArg = True,
    ) -> Self:
        """Sign with a cosign key pair (verify then needs --public-key)."""
        new = self._mode("key", tlog)
        new.key, new.key_password = key, password
        return new

    @function
    def with_keyless(
        self,
        identity_token: Annotated[
            dagger.Secret | None, Doc("OIDC token (GitLab: env:SIGSTORE_ID_TOKEN from id_tokens)")
        ] = None,
        oidc_request_url: Annotated[
            dagger.Secret | None, Doc("GitHub: env:ACTIONS_ID_TOKEN_REQUEST_URL (id-token: write)")
        ] = None,
        oidc_request_token: Annotated[dagger.Secret | None, Doc("GitHub: env:ACTIONS_ID_TOKEN_REQUEST_TOKEN")] = None,
        identity: Annotated[str, Doc("The certificate identity verify expects (e.g. the workflow's URL@ref)")] = "",
        issuer: Annotated[str, Doc("The OIDC issuer verify expects (GitLab: https://gitlab.com)")] = "",
        tlog: TlogArg = True,
    ) -> Self:
        """Sign keyless with Sigstore (a Fulcio certificate from a GitHub or GitLab OIDC token)."""
        new = self._mode("keyless", tlog)
        if identity_token is None and oidc_request_url is None and oidc_request_token is None:
            raise api.InputError(
                "with-keyless needs an OIDC token: --identity-token=env:SIGSTORE_ID_TOKEN (GitLab) or "
                "--oidc-request-url=env:ACTIONS_ID_TOKEN_REQUEST_URL --oidc-request-token="
                "env:ACTIONS_ID_TOKEN_REQUEST_TOKEN (GitHub)"
            )
        new.identity_token, new.oidc_request_url, new.oidc_request_token = (
            identity_token,
            oidc_request_url,
            oidc_request_token,
        )
        new.identity, new.issuer = identity, issuer
        new.signing()  # the token combination is checked here, before anything runs
        return new

    @function
    def with_kms(
        self,
        key: Annotated[str, Doc("KMS key URI: awskms://, gcpkms://, azurekms://, hashivault://")],
        credentials: Annotated[
            dagger.Secret | None, Doc("A NAME=value file (AWS_*, AZURE_*, VAULT_*) or GCP's JSON key")
        ] = None,
        tlog: TlogArg = True,
    ) -> Self:
        """Sign with a key held in a KMS (verify uses the same key)."""
        new = self._mode("kms", tlog)
        if "://" not in key:
            raise api.InputError(f"--key {key!r} is not a KMS key URI; write it like awskms:///alias/NAME")
        new.kms_key, new.kms_credentials = key, credentials
        return new

    def signing(self) -> api.Signing:
        if not self.mode:
            raise api.InputError(
                "no way to sign was chained: add with-cosign-key --key=file:./cosign.key, "
                "with-kms --key=awskms:///alias/NAME, or with-keyless (an OIDC token) before the function"
            )
        return api.Signing.from_args(
            key=self.key,
            key_password=self.key_password,
            kms_key=self.kms_key,
            kms_credentials=self.kms_credentials,
            identity_token=self.identity_token,
            oidc_request_url=self.oidc_request_url,
            oidc_request_token=self.oidc_request_token,
            tlog=self.tlog,
        )

    def verifying(
        self, public_key: dagger.File | None, identity: str, identity_regexp: str, issuer: str, tlog: bool
    ) -> api.Verifying:
        """How to verify: the arguments given, else what the chained signing mode implies."""
        kms_key = self.kms_key if public_key is None and self.mode == "kms" else ""
        identity = identity or ("" if identity_regexp else self.identity)
        if public_key is None and not kms_key and not (identity or identity_regexp):
            raise api.InputError(
                "verify has nothing to check the signature against: pass --public-key=cosign.pub, --identity "
                "with --issuer (keyless), or chain with-kms or with-keyless --identity"
            )
        return api.Verifying.from_args(
            public_key=public_key,
            kms_key=kms_key,
            identity=identity,
            identity_regexp=identity_regexp,
            issuer=issuer or self.issuer,
            tlog=tlog and self.tlog,
            kms_credentials=self.kms_credentials if kms_key else None,
        )

    # --- functions --------------------------------------------------------------------------------------

    @function(cache="never")  # type: ignore[call-overload]
    async def sign(self, ref: RefArg) -> str:
        """Sign the image by digest; returns the reference.

        Cache: never. It changes a registry; a cached result would report a signature that did not happen.
        """
        return await api.sign(ref, self.signing(), self.registries())

    @function(cache="never")  # type: ignore[call-overload]
    async def attest(
        self,
        ref: RefArg,
        predicate: Annotated[dagger.File, Doc("The predicate document (JSON)")],
        predicate_type: Annotated[
            str, Doc("Predicate type: cyclonedx, spdxjson, vuln, slsaprovenance1, verdict, or a URI")
        ],
    ) -> str:
        """Attach a signed in-toto attestation (SBOM, vulnerabilities, provenance, verdict…) to the image.

        Cache: never. It changes a registry; a cached result would report an attestation that did not happen.
        """
        return await api.attest(ref, predicate, predicate_type, self.signing(), self.registries())

    @function(cache="never")  # type: ignore[call-overload]
    async def verify(
        self,
        ref: RefArg,
        public_key: Annotated[dagger.File | None, Doc("cosign public key (key mode)")] = None,
        identity: Annotated[str, Doc("Expected signer identity (keyless; default: with-keyless --identity)")] = "",
        identity_regexp: Annotated[str, Doc("Expected signer identity as a regular expression (keyless)")] = "",
        issuer: Annotated[str, Doc("Expected OIDC issuer (keyless; default: with-keyless --issuer)")] = "",
        require: Annotated[
            list[str], Doc("Attestations that must be present: sbom, vuln, provenance, verdict (default: all)")
        ] = (),  # pyright: ignore[reportArgumentType]
        max_vuln_age_hours: Annotated[int, Doc("The vulnerability attestation must be younger than this")] = 24,
        tlog: Annotated[bool, Doc("Require the transparency log entry")] = True,
    ) -> str:
        """Verify the signature, the attestations and the policy over them (e.g. before a deploy).

        Cache: never. It reads the registry's current state and the vulnerability attestation's age.
        """
        verifying = self.verifying(public_key, identity, identity_regexp, issuer, tlog)
        return await api.verify(
            ref, verifying, self.registries(), require=tuple(require), max_vuln_age_hours=max_vuln_age_hours
        )
