"""The ephemeral OCI registry `ship` publishes to when no repository is given.

CNCF distribution (the official `registry` image), run as a Dagger service inside the engine and reached by
tool containers bound to it under `ALIAS` over plain HTTP. It has no referrers API, so cosign falls back to
its `sha256-<digest>` tag scheme. Its storage is a cache volume keyed per run, so that a service restart
between two steps of one run loses nothing.
"""

from __future__ import annotations

from pipeline.tools.base import pinned

NAME = "registry"
IMAGE = pinned(NAME)
"""Pinned in images.toml: CNCF distribution 3.x, the official ``registry`` image."""
ALIAS = "registry"
PORT = 5000
STORAGE = "/var/lib/registry"
HOST = f"{ALIAS}:{PORT}"
DEFAULT_REPOSITORY = f"{HOST}/seaworthy/app"
"""Where `ship` publishes with no --repository: only meaningful inside the engine's session."""

ENV = {
    "REGISTRY_STORAGE_DELETE_ENABLED": "true",
    "REGISTRY_LOG_LEVEL": "warn",
    "OTEL_TRACES_EXPORTER": "none",
}
