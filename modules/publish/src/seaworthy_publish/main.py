"""The `seaworthy-publish` module: push the caller's own container and read its digest back.

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


@object_type
class SeaworthyPublish:
    """Push your container (every platform variant as one index) and get back repo@sha256:… read from the
    registry."""

    auth_addresses: list[str] = state(default_factory=list, init=False)
    auth_usernames: list[str] = state(default_factory=list, init=False)
    auth_secrets: list[dagger.Secret] = state(default_factory=list, init=False)
    insecure: list[str] = state(default_factory=list, init=False)
    service: dagger.Service | None = state(default=None, init=False)

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
        """Publish to a registry service you run; name it as localhost:PORT in --repository."""
        new = copy.copy(self)
        new.service = service
        return new

    def registries(self) -> api.Registries:
        return api.Registries(
            auths=tuple(zip(self.auth_addresses, self.auth_usernames, self.auth_secrets, strict=True)),
            insecure=tuple(self.insecure),
            service=self.service,
        )

    @function(cache="never")  # type: ignore[call-overload]
    async def publish(
        self,
        container: Annotated[dagger.Container, Doc("Your image")],
        repository: Annotated[str, Doc("Where to push, e.g. ghcr.io/org/app (lower-cased; the tag from --tag)")],
        tag: Annotated[str, Doc("Tag to push (the result is always repo@sha256:…)")] = "latest",
    ) -> str:
        """Push the container and return repo@sha256:… after reading it back from the registry.

        Cache: never. It changes a registry; a cached result would report a push that did not happen.
        """
        return await api.publish(api.image(container), repository, tag, self.registries())
