"""skopeo: push the built image's OCI tarball to a registry by digest, and read the pushed image back.

Why a tool container and not `Container.publish`: in dagger-io 0.21 the engine talks plain HTTP only to
``localhost`` registries (dagger-python.md §3.9), so the ephemeral in-engine registry (``registry:5000``) and
plain-HTTP user registries are pushed to from skopeo's own container, with its TLS flags.

The publish stage does, in this order (each step is an `Invocation` or a pure function here):

1. ``push`` the OCI archive (``Container.as_tarball()``, mounted at ``/in/image.tar``) with ``--all`` so a
   multi-platform index stays an index; skopeo writes the pushed manifest (or index) digest to
   ``--digestfile`` → `parse_digestfile`.
2. ``inspect_raw`` of ``ref@digest`` → the bytes the registry serves; `parse_manifest` checks that they
   hash to the digest, then every child manifest of an index is read the same way (`child_manifests`).
3. `config_digests` gives ``platform → config digest`` of what is in the registry; `compare_digests` raises
   `ScannedImageMismatch` unless it equals what was built and scanned (`ImageFacts.config_digest`).
   ``inspect_config`` reads a config blob itself when a stage wants the blob, not only its digest.

Credentials never appear on argv (no ``--dest-creds``): the stage mounts a docker ``config.json`` as a secret
file (see `auth_config_json`) and the invocations point skopeo at it with ``--dest-authfile``/``--authfile``.
Without one they pass ``--dest-no-creds``/``--no-creds`` so no ambient credentials are picked up by accident.

Failures: skopeo exits 1 for everything; `classify_failure` reads its stderr into a `RegistryFailure` (which
registry, what went wrong, what to fix, retryable or not). `with_retries` / `with_retries_async` re-run a
step on retryable failures with exponential backoff, on top of skopeo's own ``--retry-times``.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import re
import shlex
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import anyio
import attrs

from pipeline.errors import InputError, RegistryError, ToolOutputError
from pipeline.tools.base import IN, OUT, ExitCodes, Invocation, expect_dict, expect_list, pinned

NAME = "skopeo"
IMAGE = pinned(NAME)
"""Pinned in images.toml: the official image (Fedora-based, no ENTRYPOINT, `skopeo` on PATH). Quay rebuilds
the newest version tags daily (tags follow the skopeo version Fedora ships), so the digest is what pins it."""

TARBALL = f"{IN}/image.tar"
"""Where the stage mounts `Container.as_tarball()` (an OCI image layout in a tar)."""
AUTHFILE = "/run/secrets/seaworthy/registry-auth.json"
"""Where the stage mounts the registry auth file (a `dagger.Secret`, never a plain file or layer)."""
CERT_DIR = f"{IN}/registry-certs"
"""Where the stage mounts a directory of CA certificates (``*.crt``) for a registry with a private CA."""
DIGESTFILE = f"{OUT}/pushed.digest"

MEDIA_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MEDIA_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = frozenset({MEDIA_OCI_INDEX, MEDIA_DOCKER_LIST})
MANIFEST_TYPES = frozenset({MEDIA_OCI_MANIFEST, MEDIA_DOCKER_MANIFEST})

DOCKER_HUB = "docker.io"
_DOCKER_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io"})
_DOCKER_HUB_LEGACY_AUTH_KEY = "https://index.docker.io/v1/"

T = TypeVar("T")


# ---------------------------------------------------------------------------------------------- references

_DIGEST_RE = re.compile(r"^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
_TAG_RE = re.compile(r"^[\w][\w.-]{0,127}$")
_PATH_COMPONENT_RE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_DOMAIN_COMPONENT = r"(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])"
_DOMAIN_RE = re.compile(rf"^(?:{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*|\[[a-f0-9:]+\])(?::[0-9]{{1,5}})?$")
_NAME_MAX = 255


@attrs.frozen(order=True)
class Reference:
    """A normalized image reference: ``registry/repository[:tag][@digest]``, registry always explicit."""

    registry: str
    """Host[:port], lower-case; Docker Hub is ``docker.io``."""
    repository: str
    """Lower-case path; Docker Hub official images get ``library/``."""
    tag: str = ""
    digest: str = ""
    """``sha256:<64 hex>`` (or sha512) when the reference is pinned, else empty."""

    @property
    def name(self) -> str:
        return f"{self.registry}/{self.repository}"

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text

    def with_digest(self, digest: str) -> Reference:
        """The same name and tag, pinned to `digest` (``name:tag@sha256:…``: what `publish` reports)."""
        return attrs.evolve(self, digest=parse_digest(digest, what=f"the digest for {self.name}"))

    def by_digest(self, digest: str | None = None) -> Reference:
        """``name@digest`` without the tag: what skopeo is given to read a pinned image back."""
        chosen = parse_digest(digest, what=f"the digest for {self.name}") if digest else self.digest
        if not chosen:
            raise InputError(f"image reference {self}: no digest to pin to; push it first or add @sha256:…")
        return Reference(self.registry, self.repository, "", chosen)

    @property
    def docker_transport(self) -> str:
        """``docker://`` form for skopeo. With a digest the tag is dropped (skopeo refuses both at once)."""
        if self.digest:
            return f"docker://{self.name}@{self.digest}"
        return f"docker://{self.name}:{self.tag or 'latest'}"


def parse_digest(value: str, *, what: str = "digest") -> str:
    """Validate an OCI content digest (``sha256:`` + 64 lower-case hex, or sha512). Raises InputError."""
    text = value.strip()
    if not _DIGEST_RE.match(text):
        raise InputError(
            f"{what} {value!r} is not a content digest; give it as sha256: followed by 64 lower-case hex digits"
        )
    return text


def normalize_reference(ref: str) -> Reference:
    """Parse and normalize an image reference the way Docker does, lower-casing the repository.

    ``alpine`` → ``docker.io/library/alpine``; ``Ghcr.io/Org/App:1`` → ``ghcr.io/org/app:1`` (tags keep
    their case); ``index.docker.io/x/y`` → ``docker.io/x/y``; ``localhost:5000/app@sha256:…`` stays pinned.
    The first path component is the registry when it contains ``.`` or ``:`` or is ``localhost``.
    Raises InputError with one line naming the reference and the fix.
    """
    raw = ref
    text = ref.strip()

    def bad(problem: str, fix: str) -> InputError:
        return InputError(f"image reference {raw!r} {problem}; {fix}")

    if not text:
        raise bad("is empty", "give one like registry.example.com/team/app:1.0")
    if any(c.isspace() for c in text):
        raise bad("contains whitespace", "remove the spaces (a reference is one word)")
    if "://" in text:
        raise bad("has a scheme or transport prefix", "give it without one, like registry.example.com/team/app:1.0")
    digest = ""
    if "@" in text:
        text, _, digest_text = text.partition("@")
        if "@" in digest_text:
            raise bad("has more than one '@'", "keep a single @sha256:<digest> at the end")
        if not _DIGEST_RE.match(digest_text):
            raise bad(
                "has an invalid digest",
                "after '@' put sha256: followed by 64 lower-case hex digits, or drop the digest",
            )
        digest = digest_text
    tag = ""
    slash = text.rfind("/")
    colon = text.rfind(":")
    if colon > slash:
        text, tag = text[:colon], text[colon + 1 :]
        if not _TAG_RE.match(tag):
            raise bad(
                f"has an invalid tag {tag!r}",
                "use up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'",
            )
    if not text:
        raise bad("has no repository name", "give one like registry.example.com/team/app:1.0")
    first, sep, rest = text.partition("/")
    if sep and ("." in first or ":" in first or first.lower() == "localhost"):
        registry, path = first.lower(), rest
        if not _DOMAIN_RE.match(registry):
            raise bad(f"has an invalid registry host {first!r}", "use host[:port], like registry.example.com:5000")
    else:
        registry, path = DOCKER_HUB, text
    if registry in _DOCKER_HUB_ALIASES:
        registry = DOCKER_HUB
    path = path.lower()
    components = path.split("/")
    if not path or not all(_PATH_COMPONENT_RE.match(c) for c in components):
        raise bad(
            "has an invalid repository path",
            "use '/'-separated lower-case letters and digits, joined by single '.', '_', '__' or '-' "
            "(no empty parts, no leading or trailing separators)",
        )
    if registry == DOCKER_HUB and len(components) == 1:
        path = f"library/{path}"
    if len(registry) + 1 + len(path) > _NAME_MAX:
        raise bad(f"is longer than {_NAME_MAX} characters", "use a shorter registry or repository name")
    return Reference(registry, path, tag, digest)


def _as_reference(ref: Reference | str) -> Reference:
    return ref if isinstance(ref, Reference) else normalize_reference(ref)


# ---------------------------------------------------------------------------------------------- invocations


def _under(path: str, root: str, what: str) -> str:
    if not path.startswith(root + "/"):
        raise ValueError(f"{what} {path!r} must be a path under {root}/")
    return path


def _registry_flags(
    prefix: str, *, tls_verify: bool, cert_dir: str | None, authfile: str | None
) -> tuple[list[str], dict[str, str]]:
    argv = [f"--{prefix}tls-verify={'true' if tls_verify else 'false'}"]
    mounts: dict[str, str] = {}
    if cert_dir:
        argv += [f"--{prefix}cert-dir", cert_dir]
        mounts[cert_dir] = "registry-certs"
    if authfile:
        argv += [f"--{prefix}authfile", authfile]
        mounts[authfile] = "registry-auth (secret)"
    else:
        argv.append(f"--{prefix}no-creds")
    return argv, mounts


def push(
    dest_ref: Reference | str,
    *,
    tarball: str = TARBALL,
    all_platforms: bool = True,
    tls_verify: bool = True,
    cert_dir: str | None = None,
    authfile: str | None = None,
    digestfile: str = DIGESTFILE,
    retry_times: int = 3,
    preserve_digests: bool = False,
    command_timeout: str = "10m",
) -> Invocation:
    """Copy the OCI archive `tarball` to ``docker://dest_ref``; the pushed digest lands in `digestfile`.

    `dest_ref` needs a tag and no digest (the digest is what the push produces). `all_platforms` keeps a
    multi-platform index whole (``--all``); without it skopeo would push only the engine's own platform.
    `tls_verify=False` is for plain-HTTP registries (the ephemeral in-engine one). `authfile` is the
    container path of a mounted docker config.json secret (`AUTHFILE`); None means anonymous.
    `preserve_digests` makes skopeo fail rather than change any manifest (e.g. by recompressing layers).
    """
    ref = _as_reference(dest_ref)
    if ref.digest:
        raise InputError(
            f"image reference {ref}: a push destination cannot carry a digest; "
            f"give a tag only, like {ref.name}:{ref.tag or '1.0'}"
        )
    if not ref.tag:
        raise InputError(f"image reference {ref}: a push destination needs a tag; add one, like {ref.name}:1.0")
    if retry_times < 0:
        raise ValueError("retry_times must be >= 0")
    flags, mounts = _registry_flags("dest-", tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile)
    argv = [NAME, "--command-timeout", command_timeout, "copy", "--quiet", "--retry-times", str(retry_times)]
    if all_platforms:
        argv.append("--all")
    if preserve_digests:
        argv.append("--preserve-digests")
    argv += ["--digestfile", _under(digestfile, OUT, "digestfile"), *flags]
    argv += [f"oci-archive:{_under(tarball, IN, 'tarball')}", ref.docker_transport]
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=tuple(argv),
        report=digestfile,
        exit_codes=ExitCodes(),
        mounts={tarball: "image", **mounts},
    )


def _platform_flags(platform: str | None) -> list[str]:
    if not platform:
        return []
    os_name, arch, variant = _split_platform(normalize_platform(platform))
    argv = ["--override-os", os_name, "--override-arch", arch]
    if variant:
        argv += ["--override-variant", variant]
    return argv


def _inspect(
    source: str,
    *,
    config: bool,
    platform: str | None,
    registry_flags: list[str],
    mounts: Mapping[str, str],
    retry_times: int | None,
    report_name: str,
    command_timeout: str,
) -> Invocation:
    if "/" in report_name or not report_name:
        raise ValueError(f"report_name {report_name!r} must be a plain file name")
    argv = [NAME, "--command-timeout", command_timeout, *_platform_flags(platform), "inspect"]
    if config:
        argv.append("--config")
    argv.append("--raw")
    if retry_times is not None:
        argv += ["--retry-times", str(retry_times)]
    argv += [*registry_flags, source]
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=tuple(argv),
        report=f"{OUT}/{report_name}",
        exit_codes=ExitCodes(),
        mounts=dict(mounts),
        stdout_to_report=True,
    )


def inspect_raw(
    ref: Reference | str,
    *,
    tls_verify: bool = True,
    cert_dir: str | None = None,
    authfile: str | None = None,
    retry_times: int = 3,
    report_name: str = "manifest.json",
    command_timeout: str = "2m",
) -> Invocation:
    """The manifest or index bytes the registry serves for `ref` (stdout → ``OUT/report_name``).

    Read by digest (``ref.by_digest(...)``) so the bytes can be checked against it (`parse_manifest`).
    """
    flags, mounts = _registry_flags("", tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile)
    return _inspect(
        _as_reference(ref).docker_transport,
        config=False,
        platform=None,
        registry_flags=flags,
        mounts=mounts,
        retry_times=retry_times,
        report_name=report_name,
        command_timeout=command_timeout,
    )


def inspect_config(
    ref: Reference | str,
    *,
    platform: str | None = None,
    tls_verify: bool = True,
    cert_dir: str | None = None,
    authfile: str | None = None,
    retry_times: int = 3,
    report_name: str = "config.json",
    command_timeout: str = "2m",
) -> Invocation:
    """The image config blob of `ref` (``--config --raw``); its sha256 is the config digest (`parse_config`).

    For an index, `platform` (``os/arch[/variant]``) picks the image; without it skopeo picks the machine's.
    """
    flags, mounts = _registry_flags("", tls_verify=tls_verify, cert_dir=cert_dir, authfile=authfile)
    return _inspect(
        _as_reference(ref).docker_transport,
        config=True,
        platform=platform,
        registry_flags=flags,
        mounts=mounts,
        retry_times=retry_times,
        report_name=report_name,
        command_timeout=command_timeout,
    )


def inspect_archive_config(
    tarball: str = TARBALL,
    *,
    platform: str | None = None,
    report_name: str = "archive-config.json",
    command_timeout: str = "2m",
) -> Invocation:
    """The config blob of the archive's image for `platform` (the build-time side of the comparison)."""
    return _inspect(
        f"oci-archive:{_under(tarball, IN, 'tarball')}",
        config=True,
        platform=platform,
        registry_flags=[],
        mounts={tarball: "image"},
        retry_times=None,
        report_name=report_name,
        command_timeout=command_timeout,
    )


# ---------------------------------------------------------------------------------------------- auth file


def auth_config_json(registry: str, username: str, password: str) -> str:
    """A docker ``config.json`` holding one registry's credentials, for `AUTHFILE`.

    Pure; the value is a secret. The Dagger stage never calls it (the password would pass through Python):
    it runs `auth_script`, which writes the same document inside the tool container. Host runs (the
    integration tests) write it with this function.

    Docker Hub gets both the ``docker.io`` key (containers/image) and the legacy
    ``https://index.docker.io/v1/`` key (docker CLI, go-containerregistry).
    """
    host = registry.strip().lower()
    if not host or "/" in host or not _DOMAIN_RE.match(host):
        raise InputError(
            f"registry {registry!r} is not a registry host; give host[:port] only, like ghcr.io or localhost:5000"
        )
    if not username or ":" in username or any(c.isspace() for c in username):
        raise InputError(
            f"registry username for {host} is empty or contains ':' or whitespace; give the account name only"
        )
    if not password:
        raise InputError(f"registry password for {host} is empty; pass the token or password secret")
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    keys = _auth_keys(host)
    return json.dumps({"auths": {k: {"auth": token} for k in keys}}, sort_keys=True, separators=(",", ":"))


AUTH_PASSWORD_ENV = "SEAWORTHY_REGISTRY_PASSWORD"
"""Secret variable the auth step reads the registry password from (set with `with_secret_variable`)."""
AUTH_USERNAME_ENV = "SEAWORTHY_REGISTRY_USERNAME"
"""Plain variable holding the registry user name (not a secret: the engine would scrub it from outputs)."""
AUTH_DIR = AUTHFILE.rsplit("/", 1)[0]
"""Folder of `AUTHFILE`: an in-memory (tmpfs) mount, so the file is in no layer and no cache key."""
AUTH_EMPTY_PASSWORD_EXIT = 64


def _auth_keys(host: str) -> list[str]:
    return [DOCKER_HUB, _DOCKER_HUB_LEGACY_AUTH_KEY] if host in _DOCKER_HUB_ALIASES else [host]


def auth_script(registry: str, username: str) -> str:
    """A POSIX shell step that writes `AUTHFILE` (the same document as `auth_config_json`) from the
    secret variable `AUTH_PASSWORD_ENV` and the plain `AUTH_USERNAME_ENV`, then ``exec``s the tool argv.

    The password never reaches Python, argv or a layer: ``printf`` is a shell builtin, base64 reads it from
    a pipe, and the file lands in a tmpfs mount (`AUTH_DIR`). Only the registry host and the JSON shape are
    part of the script. Run as ``sh -c SCRIPT sh ARGV…``.
    """
    host = registry.strip().lower()
    if not host or "/" in host or not _DOMAIN_RE.match(host):
        raise InputError(
            f"registry {registry!r} is not a registry host; give host[:port] only, like ghcr.io or localhost:5000"
        )
    if not username or ":" in username or any(c.isspace() for c in username):
        raise InputError(
            f"registry username for {host} is empty or contains ':' or whitespace; give the account name only"
        )
    keys = _auth_keys(host)
    fmt = "{" + json.dumps("auths") + ":{" + ",".join(json.dumps(k) + ':{"auth":"%s"}' for k in keys) + "}}"
    empty = f"registry password for {host} is empty; pass the token or password secret"
    args = " ".join(['"$a"'] * len(keys))
    return (
        "set -eu; umask 077; "
        f'if [ -z "${{{AUTH_PASSWORD_ENV}:-}}" ]; then echo {shlex.quote(empty)} >&2; '
        f"exit {AUTH_EMPTY_PASSWORD_EXIT}; fi; "
        f'a=$(printf "%s:%s" "${AUTH_USERNAME_ENV}" "${AUTH_PASSWORD_ENV}" | base64 | tr -d "\\n"); '
        f"printf {shlex.quote(fmt)} {args} > {shlex.quote(AUTHFILE)}; "
        f'unset a {AUTH_PASSWORD_ENV}; exec "$@"'
    )


def with_auth_step(inv: Invocation, registry: str, username: str) -> Invocation:
    """`inv` run after `auth_script`: its `AUTHFILE` mount is replaced by the file the script writes."""
    return attrs.evolve(
        inv,
        argv=("sh", "-c", auth_script(registry, username), "sh", *inv.argv),
        mounts={k: v for k, v in inv.mounts.items() if k != AUTHFILE},
        env={**inv.env, AUTH_USERNAME_ENV: username},
    )


# ---------------------------------------------------------------------------------------------- parsing


def parse_digestfile(text: str) -> str:
    """The digest skopeo wrote with ``--digestfile``; fail closed on anything else."""
    value = text.strip()
    if not value:
        raise ToolOutputError(NAME, "the --digestfile is empty (the push did not complete)")
    if not _DIGEST_RE.match(value):
        raise ToolOutputError(NAME, f"the --digestfile holds {value[:80]!r}, not a content digest")
    return value


def digest_of(text: str) -> str:
    """sha256 content digest of a manifest/config as served (skopeo --raw prints the exact bytes)."""
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


_ARCH_ALIASES = {"x86_64": "amd64", "x86-64": "amd64", "aarch64": "arm64", "armhf": "arm", "armel": "arm"}


def normalize_platform(platform: str) -> str:
    """``os/arch[/variant]`` normalized like containerd: arm64/v8, amd64/v1 lose the variant; arm gets v7."""
    parts = [p.strip().lower() for p in platform.split("/")]
    if len(parts) not in (2, 3) or not all(parts):
        raise InputError(f"platform {platform!r} is not os/arch[/variant]; use e.g. linux/amd64 or linux/arm64")
    os_name, arch = parts[0], _ARCH_ALIASES.get(parts[1], parts[1])
    variant = parts[2] if len(parts) == 3 else ""
    if (arch == "arm64" and variant == "v8") or (arch == "amd64" and variant == "v1"):
        variant = ""
    if arch == "arm" and not variant:
        variant = "v7"
    return f"{os_name}/{arch}/{variant}" if variant else f"{os_name}/{arch}"


def _split_platform(platform: str) -> tuple[str, str, str]:
    parts = platform.split("/")
    return parts[0], parts[1], parts[2] if len(parts) == 3 else ""


@attrs.frozen(order=True)
class Descriptor:
    """One entry of an index: a child manifest and the platform it is for ("" when the entry has none)."""

    digest: str
    media_type: str
    platform: str = ""
    size: int = 0


@attrs.frozen
class Manifest:
    """A manifest or index as read from a registry or an archive, already checked against its digest."""

    digest: str
    media_type: str
    config_digest: str = ""
    """Image manifests only."""
    children: tuple[Descriptor, ...] = ()
    """Indexes only: the image (or nested index) entries, attestation and non-image entries left out."""

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES


def _descriptor_platform(entry: Mapping[str, Any]) -> str:
    plat = entry.get("platform")
    if not isinstance(plat, dict):
        return ""
    os_name = plat.get("os")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    arch = plat.get("architecture")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    variant = plat.get("variant") or ""  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
    if not isinstance(os_name, str) or not isinstance(arch, str) or not isinstance(variant, str):
        return ""
    if not os_name or not arch or "unknown" in (os_name, arch):
        return ""
    return normalize_platform(f"{os_name}/{arch}/{variant}" if variant else f"{os_name}/{arch}")


def parse_manifest(text: str, *, expected_digest: str | None = None, what: str = "manifest") -> Manifest:
    """Parse ``skopeo inspect --raw`` output. With `expected_digest`, the bytes must hash to it.

    Fails closed (ToolOutputError) on empty, non-JSON, schema 1, unknown media types, a manifest without a
    config, or an index without a usable image entry. Buildkit attestation entries (platform
    ``unknown/unknown`` or ``vnd.docker.reference.type``) are not images and are left out.
    """
    doc = expect_dict(NAME, _load(text, what), what)
    actual = digest_of(text)
    if expected_digest is not None and actual != expected_digest:
        raise ToolOutputError(NAME, f"the {what} read back hashes to {actual}, not to the requested {expected_digest}")
    if doc.get("schemaVersion") != 2:
        raise ToolOutputError(NAME, f"the {what} has schemaVersion {doc.get('schemaVersion')!r}, expected 2")
    media_type = doc.get("mediaType")
    if media_type is None:  # optional in OCI (index.json has none): tell by shape
        media_type = MEDIA_OCI_INDEX if "manifests" in doc else MEDIA_OCI_MANIFEST
    if not isinstance(media_type, str):
        raise ToolOutputError(NAME, f"the {what} has a mediaType that is not a string ({media_type!r:.80})")
    if media_type in MANIFEST_TYPES:
        config = expect_dict(NAME, doc.get("config"), f"the {what}'s config")
        config_digest = config.get("digest")
        if not isinstance(config_digest, str) or not _DIGEST_RE.match(config_digest):
            raise ToolOutputError(NAME, f"the {what} has no valid config digest ({config_digest!r})")
        return Manifest(actual, str(media_type), config_digest=config_digest)
    if media_type in INDEX_TYPES:
        children: list[Descriptor] = []
        for raw_entry in expect_list(NAME, doc.get("manifests"), f"the {what}'s manifests"):
            entry = expect_dict(NAME, raw_entry, f"an entry of the {what}")
            child_type = entry.get("mediaType")
            digest = entry.get("digest")
            annotations = entry.get("annotations")
            if isinstance(annotations, dict) and "vnd.docker.reference.type" in annotations:
                continue
            if not isinstance(child_type, str) or child_type not in MANIFEST_TYPES | INDEX_TYPES:
                continue
            if not isinstance(digest, str) or not _DIGEST_RE.match(digest):
                raise ToolOutputError(NAME, f"an entry of the {what} has no valid digest ({digest!r})")
            platform = _descriptor_platform(entry)
            plat = entry.get("platform")
            if child_type in MANIFEST_TYPES and isinstance(plat, dict) and not platform:
                continue  # unknown/unknown: an attestation or other non-runnable entry
            size = entry.get("size")
            children.append(Descriptor(digest, str(child_type), platform, size if isinstance(size, int) else 0))
        if not children:
            raise ToolOutputError(NAME, f"the {what} lists no image manifests")
        return Manifest(actual, str(media_type), children=tuple(children))
    raise ToolOutputError(NAME, f"the {what} has media type {media_type!r}, not an image manifest or index")


def _load(text: str, what: str) -> Any:
    if not text.strip():
        raise ToolOutputError(NAME, f"the {what} read back is empty")
    try:
        return json.loads(text)
    except RecursionError:
        raise ToolOutputError(NAME, f"the {what} read back is nested too deeply to be image metadata") from None
    except json.JSONDecodeError as exc:
        raise ToolOutputError(NAME, f"the {what} read back is not JSON ({exc.msg})") from None


@attrs.frozen
class ImageConfig:
    """What the pushed image config says about itself."""

    digest: str
    platform: str


def parse_config(text: str, *, expected_digest: str | None = None) -> ImageConfig:
    """Parse ``inspect --config --raw`` output: its digest (checked against `expected_digest`), platform."""
    doc = expect_dict(NAME, _load(text, "image config"), "the image config")
    actual = digest_of(text)
    if expected_digest is not None and actual != expected_digest:
        raise ToolOutputError(
            NAME, f"the image config read back hashes to {actual}, not to the manifest's {expected_digest}"
        )
    os_name, arch, variant = doc.get("os"), doc.get("architecture"), doc.get("variant") or ""
    if not isinstance(os_name, str) or not isinstance(arch, str) or not os_name or not arch:
        raise ToolOutputError(NAME, "the image config has no os/architecture")
    text_platform = f"{os_name}/{arch}/{variant}" if isinstance(variant, str) and variant else f"{os_name}/{arch}"
    return ImageConfig(actual, normalize_platform(text_platform))


def child_manifests(manifest: Manifest) -> tuple[Descriptor, ...]:
    """The entries of an index to read next (empty for an image manifest)."""
    return manifest.children


def config_digests(
    manifest_or_index_text: str,
    fetch_manifest: Callable[[str], str],
    *,
    digest: str | None = None,
    platform: str = "",
    max_depth: int = 2,
) -> dict[str, str]:
    """``platform → config digest`` of every image under a manifest or index, in platform order.

    `fetch_manifest(child_digest)` returns the raw bytes of a child (``inspect_raw`` of ``ref@digest``); each
    is checked against its digest. `digest`, when known, checks the top document too. An image manifest on
    its own has no platform: it is keyed by `platform` ("" = unknown; `compare_digests` then matches it with
    the one image expected). Nested indexes are followed `max_depth` levels deep.
    """
    found: dict[str, str] = {}

    def walk(text: str, expected: str | None, plat: str, depth: int, what: str) -> None:
        doc = parse_manifest(text, expected_digest=expected, what=what)
        if not doc.is_index:
            key = normalize_platform(plat) if plat else ""
            if key in found and found[key] != doc.config_digest:
                raise ToolOutputError(NAME, f"the index lists two different images for platform {key or '?'}")
            found[key] = doc.config_digest
            return
        if depth >= max_depth:
            raise ToolOutputError(NAME, f"the index nests deeper than {max_depth} levels")
        for child in doc.children:
            walk(
                fetch_manifest(child.digest),
                child.digest,
                child.platform,
                depth + 1,
                f"manifest {child.digest}",
            )

    walk(manifest_or_index_text, digest, platform, 0, "manifest" if digest is None else f"manifest {digest}")
    return dict(sorted(found.items()))


# ---------------------------------------------------------------------------------------------- comparison


class ScannedImageMismatch(RegistryError):
    """The image in the registry is not the image that was built and scanned."""

    def __init__(self, reference: str, problems: list[str]) -> None:
        self.reference = reference
        self.problems = tuple(problems)
        super().__init__(
            f"registry image {reference} is not the image that was scanned; do not sign or deploy it: re-run "
            "publish from the same build (a concurrent push to the tag or a registry that rewrites images "
            "causes this)\n" + "\n".join(f"  - {p}" for p in problems)
        )


def compare_digests(expected: Mapping[str, str], pushed: Mapping[str, str], *, reference: str = "") -> None:
    """Raise `ScannedImageMismatch` unless every platform's pushed config digest equals the scanned one.

    Platforms are normalized (`normalize_platform`). A "" key (an image manifest on its own, platform
    unknown) matches the only image on the other side when both sides hold exactly one.
    """
    exp = {normalize_platform(k) if k else "": v for k, v in expected.items()}
    got = {normalize_platform(k) if k else "": v for k, v in pushed.items()}
    if not exp:
        raise ValueError("compare_digests needs at least one expected config digest")
    if len(exp) == 1 and len(got) == 1 and ("" in exp or "" in got):
        (ek, ev), (gk, gv) = next(iter(exp.items())), next(iter(got.items()))
        key = ek or gk or "the image"
        exp, got = {key: ev}, {key: gv}
    problems: list[str] = []
    for plat in sorted(exp.keys() | got.keys()):
        label = plat or "the image"
        if plat not in got:
            problems.append(
                f"{label}: built and scanned ({exp[plat]}) but not in the registry "
                "(push multi-platform images with all platforms)"
            )
        elif plat not in exp:
            problems.append(f"{label}: in the registry ({got[plat]}) but was not built and scanned")
        elif exp[plat] != got[plat]:
            problems.append(f"{label}: config {got[plat]} was pushed, {exp[plat]} was scanned")
    if problems:
        raise ScannedImageMismatch(reference or "(pushed image)", problems)


# ---------------------------------------------------------------------------------------------- failures


class FailureKind(enum.StrEnum):
    UNREACHABLE = "unreachable"
    UNKNOWN_HOST = "unknown-host"
    UNAUTHORIZED = "unauthorized"
    DENIED = "denied"
    NOT_FOUND = "not-found"
    RATE_LIMITED = "rate-limited"
    SERVER_ERROR = "server-error"
    TLS = "tls"


_RETRYABLE = frozenset({FailureKind.UNREACHABLE, FailureKind.RATE_LIMITED, FailureKind.SERVER_ERROR})


class RegistryFailure(RegistryError):
    """A registry request failed: which registry, what kind of failure, the fix, and whether to retry."""

    def __init__(self, registry: str, kind: FailureKind, message: str, detail: str = "") -> None:
        self.registry = registry
        self.kind = kind
        self.retryable = kind in _RETRYABLE
        self.detail = detail
        super().__init__(message + (f"\n{detail}" if detail else ""))


_STATUS_RES = (
    re.compile(r"(?<![0-9a-f:])([1-5][0-9]{2}) \([A-Z][A-Za-z ]*\)"),  # "403 (Forbidden)"
    re.compile(r"unexpected HTTP status:? ([1-5][0-9]{2})"),
    re.compile(r"status code from registry ([1-5][0-9]{2})"),
)
_UNREACHABLE_WORDS = (
    "connection refused",
    "i/o timeout",
    "no route to host",
    "network is unreachable",
    "connection reset by peer",
    "tls handshake timeout",
    "server misbehaving",
    "unexpected eof",
    ": eof",
    "context deadline exceeded",
)
_TLS_WORDS = ("x509:", "tls: ", "server gave http response to https client", "certificate")


def _last_error_line(stderr: str) -> str:
    lines = [ln.strip() for ln in stderr.strip().splitlines() if ln.strip()]
    fatal = [ln for ln in lines if "level=fatal" in ln or "level=error" in ln]
    line = (fatal or lines or [""])[-1]
    m = re.search(r'msg="(.*)"\s*$', line)
    if m:
        line = m.group(1).replace('\\"', '"')
    return line[-600:]


def classify_failure(stderr: str, *, registry: str, action: str = "push to") -> RegistryFailure | None:
    """Read skopeo's stderr; return the registry failure it describes, or None when it is not one.

    `action` reads in the message: "push to", "read from". None means a tool failure (raise ToolFailed).
    """
    detail = _last_error_line(stderr)
    low = detail.lower()
    status = 0
    for rx in _STATUS_RES:
        m = rx.search(detail)
        if m:
            status = int(m.group(1))
            break
    where = f"registry {registry}"

    def fail(kind: FailureKind, what: str, fix: str) -> RegistryFailure:
        return RegistryFailure(registry, kind, f"{action} {where} failed: {what}; {fix}", detail)

    if "no such host" in low:
        return fail(
            FailureKind.UNKNOWN_HOST,
            "the host name does not resolve",
            "check the registry name in the image reference (and, for a service, its binding alias)",
        )
    if status == 401 or "unauthorized" in low or "authentication required" in low:
        return fail(
            FailureKind.UNAUTHORIZED,
            "unauthorized (HTTP 401): the credentials are missing or wrong",
            f"chain with-registry-auth --address={registry} --username=NAME --secret=env:REGISTRY_TOKEN (valid for "
            f"{registry})",
        )
    if status == 403 or "denied:" in low or "access to the resource is denied" in low:
        return fail(
            FailureKind.DENIED,
            "access denied (HTTP 403)",
            "use credentials whose token may push to this repository (or create the repository first)",
        )
    if status == 429 or "toomanyrequests" in low or "too many requests" in low:
        return fail(FailureKind.RATE_LIMITED, "rate limited (HTTP 429)", "wait and retry, or authenticate")
    if 500 <= status <= 599:
        return fail(
            FailureKind.SERVER_ERROR,
            f"the registry answered HTTP {status}",
            "the registry is failing; retry later or check its status",
        )
    if status == 404 or "manifest unknown" in low or "name unknown" in low or "blob unknown" in low:
        return fail(
            FailureKind.NOT_FOUND,
            "the image or repository does not exist there",
            "check the image reference (repository, tag or digest)",
        )
    if any(w in low for w in _TLS_WORDS):
        fix = (
            "for a plain-HTTP registry set tls_verify=False; for a private CA pass its certificate (cert dir)"
            if "http response to https client" in low
            else "pass the registry's CA certificate (cert dir), or set tls_verify=False for plain HTTP"
        )
        return fail(FailureKind.TLS, "TLS verification failed", fix)
    if any(w in low for w in _UNREACHABLE_WORDS) or "dial tcp" in low or "pinging container registry" in low:
        return fail(
            FailureKind.UNREACHABLE,
            "the registry is unreachable",
            "check the host and port in the image reference and that the registry is running",
        )
    return None


# ---------------------------------------------------------------------------------------------- retries


def is_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RegistryFailure) and exc.retryable


def backoff_delays(
    attempts: int, *, backoff: float = 1.0, factor: float = 2.0, max_delay: float = 30.0
) -> tuple[float, ...]:
    """The attempts-1 waits between tries: backoff, backoff*factor, … each capped at `max_delay`."""
    if attempts < 1:
        raise ValueError("attempts must be >= 1")
    if backoff < 0 or factor < 1 or max_delay < 0:
        raise ValueError("backoff and max_delay must be >= 0 and factor >= 1")
    return tuple(min(backoff * factor**i, max_delay) for i in range(attempts - 1))


def with_retries(
    fn: Callable[[], T],
    *,
    attempts: int = 3,
    backoff: float = 1.0,
    factor: float = 2.0,
    max_delay: float = 30.0,
    retry_if: Callable[[BaseException], bool] = is_retryable,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """Call `fn` until it returns, retrying exceptions `retry_if` accepts with exponential backoff.

    The last exception propagates unchanged once `attempts` are used up; others propagate at once.
    `on_retry(attempt, exc, delay)` is called before each wait (for logging).
    """
    delays = backoff_delays(attempts, backoff=backoff, factor=factor, max_delay=max_delay)
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts or not retry_if(exc):
                raise
            delay = delays[attempt - 1]
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover


async def with_retries_async(
    fn: Callable[[], Awaitable[T]],
    *,
    attempts: int = 3,
    backoff: float = 1.0,
    factor: float = 2.0,
    max_delay: float = 30.0,
    retry_if: Callable[[BaseException], bool] = is_retryable,
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
) -> T:
    """`with_retries` for coroutines (the Dagger stage): same schedule, awaited sleep."""
    delays = backoff_delays(attempts, backoff=backoff, factor=factor, max_delay=max_delay)
    for attempt in range(1, attempts + 1):
        try:
            return await fn()
        except Exception as exc:
            if attempt == attempts or not retry_if(exc):
                raise
            delay = delays[attempt - 1]
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            await sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
