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
    # one way to sign, the last with_cosign_key / with_keyless / with_kms chained
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
        address: Annotated[str, Doc("Registry host[:port], e.g. ghcr.io")],
        username: Annotated[str, Doc("User name")],
        secret: Annotated[dagger.Secret, Doc("Password or token, e.g. env:GH_TOKEN")],
    ) -> Self:
        """Credentials for one registry; repeat for several. The same address again replaces the earlier one."""
        new = copy.copy(self)
        keep = [i for i, a in enumerate(self.auth_addresses) if a != address]
        new.auth_addresses = [self.auth_addresses[i] for i in keep] + [address]
        new.auth_usernames = [self.auth_usernames[i] for i in keep] + [username]
        new.auth_secrets = [self.auth_secrets[i] for i in keep] + [secret]
        return new

    @function
    def with_insecure_registry(self, address: Annotated[str, Doc("Registry host[:port]")]) -> Self:
        """Reach this registry over plain HTTP / without TLS verification (local registries only)."""
        new = copy.copy(self)
        new.insecure = sorted({*self.insecure, address})
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

    def _mode(self, tlog: bool) -> Self:
        """A copy with no way to sign set: each with_* below sets exactly one (the last chained wins)."""
        new = copy.copy(self)
        new.key = new.key_password = new.identity_token = new.oidc_request_url = new.oidc_request_token = None
        new.kms_credentials = None
        new.identity = new.issuer = new.kms_key = ""
        new.tlog = tlog
        return new

    @function
    def with_cosign_key(
        self,
        key: Annotated[dagger.Secret, Doc("cosign private key, e.g. file:./cosign.key")],
        password: Annotated[dagger.Secret | None, Doc("Password of the key")] = None,
        tlog: TlogArg = True,
    ) -> Self:
        """Sign with a cosign key pair."""
        new = self._mode(tlog)
        new.key, new.key_password = key, password
        return new

    @function
    def with_keyless(
        self,
        identity_token: Annotated[
            dagger.Secret | None, Doc("OIDC token (GitLab: env:SIGSTORE_ID_TOKEN from id_tokens)")
        ] = None,
        oidc_request_url: Annotated[dagger.Secret | None, Doc("GitHub: env:ACTIONS_ID_TOKEN_REQUEST_URL")] = None,
        oidc_request_token: Annotated[dagger.Secret | None, Doc("GitHub: env:ACTIONS_ID_TOKEN_REQUEST_TOKEN")] = None,
        identity: Annotated[str, Doc("Signer identity verify expects (e.g. the workflow's URL)")] = "",
        issuer: Annotated[str, Doc("OIDC issuer verify expects")] = "",
        tlog: TlogArg = True,
    ) -> Self:
        """Sign keyless with Sigstore through the CI job's OIDC token (GitHub: id-token: write)."""
        new = self._mode(tlog)
        new.identity_token, new.oidc_request_url, new.oidc_request_token = (
            identity_token,
            oidc_request_url,
            oidc_request_token,
        )
        new.identity, new.issuer = identity, issuer
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
        """Sign with a key held in a KMS."""
        new = self._mode(tlog)
        new.kms_key, new.kms_credentials = key, credentials
        return new

    def signing(self) -> api.Signing:
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
        type: Annotated[str, Doc("Predicate type: cyclonedx, spdxjson, vuln, slsaprovenance1, verdict, or a URI")],
    ) -> str:
        """Attach a signed in-toto attestation (SBOM, vulnerabilities, provenance, verdict…) to the image.

        Cache: never. It changes a registry; a cached result would report an attestation that did not happen.
        """
        return await api.attest(ref, predicate, type, self.signing(), self.registries())

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
        verifying = api.Verifying.from_args(
            public_key=public_key,
            kms_key=self.kms_key if public_key is None else "",
            kms_credentials=self.kms_credentials if public_key is None else None,
            identity=identity or ("" if identity_regexp else self.identity),
            identity_regexp=identity_regexp,
            issuer=issuer or self.issuer,
            tlog=tlog,
        )
        return await api.verify(
            ref, verifying, self.registries(), require=tuple(require), max_vuln_age_hours=max_vuln_age_hours
        )
