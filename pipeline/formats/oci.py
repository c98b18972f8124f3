"""Image facts from the image as tools see it: OCI index/manifest/config, or a docker-archive manifest.json.

The readers at the top are pure (text/bytes in, `ImageFacts` out). `read_image_facts` at the bottom is the
one convenience that opens a local file the caller already holds (an OCI layout dir, an OCI archive tar or a
docker-archive tar: what `Container.as_tarball()` / `skopeo copy` produce); it does no network I/O.

The config digest is always the sha256 of the config blob *bytes* — never of re-serialized JSON — so it is
the identity the scan, the push and the provenance share.
"""

from __future__ import annotations

import hashlib
import json
import tarfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import attrs

from pipeline.errors import InputError
from pipeline.model import ImageFacts

INDEX_TYPES = frozenset(
    {"application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json"}
)
MANIFEST_TYPES = frozenset(
    {"application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json"}
)
REF_NAME = "org.opencontainers.image.ref.name"


@attrs.frozen
class Descriptor:
    media_type: str
    digest: str
    size: int
    platform: str = ""
    """``os/arch[/variant]`` when the index says so."""
    annotations: tuple[tuple[str, str], ...] = ()

    def annotation(self, key: str) -> str:
        return dict(self.annotations).get(key, "")


@attrs.frozen
class Manifest:
    config: Descriptor
    layers: tuple[Descriptor, ...]

    @property
    def size(self) -> int:
        """Sum of the layer sizes as stored (compressed where the layers are)."""
        return sum(layer.size for layer in self.layers)


def _json(text: str | bytes, what: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except RecursionError:
        raise InputError(
            f"{where}: {what} is nested too deeply to be image metadata; pass a complete image export"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{where}: {what} is not JSON ({exc}); pass a complete image export") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: {what} is not a JSON object; pass an OCI or docker-archive image export")
    return cast(dict[str, Any], data)


def _descriptor(value: Any, what: str, where: str) -> Descriptor:
    d = cast(dict[str, Any], value) if isinstance(value, dict) else {}
    digest, size = d.get("digest"), d.get("size")
    if not isinstance(digest, str) or ":" not in digest or not isinstance(size, int):
        raise InputError(f"{where}: {what} has no valid digest/size; pass a complete image export")
    plat = cast(dict[str, Any], d.get("platform")) if isinstance(d.get("platform"), dict) else {}
    platform = "/".join(str(plat[k]) for k in ("os", "architecture", "variant") if plat.get(k))
    ann = cast(dict[str, Any], d.get("annotations")) if isinstance(d.get("annotations"), dict) else {}
    return Descriptor(
        media_type=str(d.get("mediaType") or ""),
        digest=digest,
        size=size,
        platform=platform,
        annotations=tuple(sorted((str(k), str(v)) for k, v in ann.items())),
    )


def parse_index(text: str | bytes, *, where: str = "image") -> tuple[Descriptor, ...]:
    """The manifests an OCI ``index.json`` (or image index blob) lists."""
    data = _json(text, "index.json", where)
    raw: Any = data.get("manifests")
    if not isinstance(raw, list) or not raw:
        raise InputError(f"{where}: index.json lists no manifests; pass a complete OCI image export")
    return tuple(_descriptor(m, "an index entry", where) for m in cast(list[Any], raw))


def select_manifest(
    index_text: str | bytes, *, tag: str | None = None, platform: str | None = None, where: str = "image"
) -> Descriptor:
    """The index entry for `tag` (``org.opencontainers.image.ref.name``) and/or `platform`.

    Without a tag, an index with a single entry is unambiguous; otherwise `platform` picks one.
    """
    entries = parse_index(index_text, where=where)
    if tag is not None:
        entries = tuple(e for e in entries if e.annotation(REF_NAME) == tag)
        if not entries:
            raise InputError(f"{where}: no image tagged {tag!r} in index.json; pass the tag the export used")
    if platform is not None and len(entries) > 1:
        entries = tuple(e for e in entries if e.platform == platform) or entries
    if len(entries) != 1:
        names = ", ".join(sorted(e.annotation(REF_NAME) or e.digest for e in entries))
        raise InputError(f"{where}: index.json holds several images ({names}); name the tag to read")
    return entries[0]


def parse_manifest(text: str | bytes, *, where: str = "image") -> Manifest:
    data = _json(text, "the image manifest", where)
    media_type: Any = data.get("mediaType")
    if (isinstance(media_type, str) and media_type in INDEX_TYPES) or "manifests" in data:
        raise InputError(f"{where}: expected an image manifest, found an image index; select a platform")
    config = _descriptor(data.get("config"), "the manifest's config", where)
    layers: Any = data.get("layers")
    if not isinstance(layers, list):
        raise InputError(f"{where}: the manifest has no layers list; pass a complete image export")
    return Manifest(config=config, layers=tuple(_descriptor(x, "a layer", where) for x in cast(list[Any], layers)))


def config_digest(config_bytes: bytes) -> str:
    return "sha256:" + hashlib.sha256(config_bytes).hexdigest()


def facts_from_config(
    config_bytes: bytes, *, layers: int | None = None, size: int = 0, where: str = "image"
) -> ImageFacts:
    """Facts from the image config blob. `layers` defaults to the number of rootfs diff_ids."""
    data = _json(config_bytes, "the image config", where)
    cfg: dict[str, Any] = cast(dict[str, Any], data.get("config")) if isinstance(data.get("config"), dict) else {}
    rootfs: dict[str, Any] = cast(dict[str, Any], data.get("rootfs")) if isinstance(data.get("rootfs"), dict) else {}
    diff_ids: Any = rootfs.get("diff_ids")
    n_layers = layers if layers is not None else (len(cast(list[Any], diff_ids)) if isinstance(diff_ids, list) else 0)
    platform = "/".join(str(data[k]) for k in ("os", "architecture", "variant") if data.get(k))
    labels: Any = cfg.get("Labels")
    ports: Any = cfg.get("ExposedPorts")
    return ImageFacts(
        config_digest=config_digest(config_bytes),
        platform=platform or "linux/amd64",
        user=str(cfg.get("User") or ""),
        entrypoint=_strings(cfg.get("Entrypoint")),
        cmd=_strings(cfg.get("Cmd")),
        exposed_ports=tuple(sorted(str(p) for p in cast(dict[str, Any], ports))) if isinstance(ports, dict) else (),
        labels=tuple(sorted((str(k), str(v)) for k, v in cast(dict[str, Any], labels).items()))
        if isinstance(labels, dict)
        else (),
        size=size,
        layers=n_layers,
    )


def _strings(value: Any) -> tuple[str, ...]:
    if isinstance(value, list):
        return tuple(str(v) for v in cast(list[Any], value))
    if isinstance(value, str) and value:
        return (value,)
    return ()


def facts_from_oci(manifest_text: str | bytes, config_bytes: bytes, *, where: str = "image") -> ImageFacts:
    """Facts from an OCI/Docker v2 manifest and its config blob; checks the blob matches the manifest."""
    manifest = parse_manifest(manifest_text, where=where)
    digest = config_digest(config_bytes)
    if manifest.config.digest != digest:
        raise InputError(
            f"{where}: the config blob's sha256 ({digest}) differs from the manifest's "
            f"({manifest.config.digest}); the export is corrupt, export the image again"
        )
    return facts_from_config(config_bytes, layers=len(manifest.layers), size=manifest.size, where=where)


def docker_archive_entry(manifest_json: str | bytes, *, tag: str | None = None, where: str = "image") -> dict[str, Any]:
    """The entry of a docker-archive ``manifest.json`` for `tag` (or its only entry)."""
    try:
        data = json.loads(manifest_json)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise InputError(f"{where}: manifest.json is not JSON; pass a complete docker-archive tar") from None
    if not isinstance(data, list) or not data or not all(isinstance(e, dict) for e in cast(list[Any], data)):
        raise InputError(f"{where}: manifest.json is not a docker-archive manifest list; pass a docker save tar")
    entries = [cast(dict[str, Any], e) for e in cast(list[Any], data)]
    if tag is not None:
        entries = [e for e in entries if isinstance(e.get("RepoTags"), list) and tag in e["RepoTags"]]
    if len(entries) != 1:
        raise InputError(f"{where}: manifest.json holds {len(entries)} matching images; name the tag to read")
    entry = entries[0]
    if not isinstance(entry.get("Config"), str) or not isinstance(entry.get("Layers"), list):
        raise InputError(f"{where}: manifest.json entry lacks Config/Layers; pass a complete docker-archive tar")
    return entry


def facts_from_docker_archive(
    manifest_json: str | bytes,
    config_bytes: bytes,
    layer_sizes: Mapping[str, int],
    *,
    tag: str | None = None,
    where: str = "image",
) -> ImageFacts:
    """Facts from a docker-archive: its manifest.json, the Config file's bytes and the layer files' sizes.

    Size is the sum of the (uncompressed) layer tar sizes, as the archive stores them.
    """
    entry = docker_archive_entry(manifest_json, tag=tag, where=where)
    layer_files = [str(x) for x in cast(list[Any], entry["Layers"])]
    missing = [f for f in layer_files if f not in layer_sizes]
    if missing:
        raise InputError(f"{where}: layer {missing[0]} listed in manifest.json is missing; export the image again")
    return facts_from_config(
        config_bytes, layers=len(layer_files), size=sum(layer_sizes[f] for f in layer_files), where=where
    )


# --------------------------------------------------------------------------------------------------------
# Local files (the only I/O in this module): OCI layout dir, OCI archive tar, docker-archive tar.

Reader = Callable[[str], bytes]


def _blob_path(digest: str) -> str:
    algo, _, hexd = digest.partition(":")
    return f"blobs/{algo}/{hexd}"


def facts_from_layout(read: Reader, *, tag: str | None = None, platform: str | None = None,
                      where: str = "image") -> ImageFacts:  # fmt: skip
    """Facts from an OCI layout given a function reading a file of it (``index.json``, ``blobs/…``)."""
    desc = select_manifest(read("index.json"), tag=tag, platform=platform, where=where)
    for _ in range(4):  # nested indexes (multi-platform images)
        if desc.media_type not in INDEX_TYPES:
            break
        desc = select_manifest(read(_blob_path(desc.digest)), platform=platform or "linux/amd64", where=where)
    manifest_bytes = read(_blob_path(desc.digest))
    manifest = parse_manifest(manifest_bytes, where=where)
    return facts_from_oci(manifest_bytes, read(_blob_path(manifest.config.digest)), where=where)


def read_image_facts(path: str | Path, *, tag: str | None = None, platform: str | None = None) -> ImageFacts:
    """Facts of a local image export: an OCI layout dir, an OCI archive tar or a docker-archive tar."""
    p = Path(path)
    where = str(p)
    if p.is_dir():

        def read_dir(name: str) -> bytes:
            try:
                return (p / name).read_bytes()
            except OSError as exc:
                raise InputError(f"{where}: cannot read {name} ({exc.strerror}); pass an OCI layout dir") from None

        return facts_from_layout(read_dir, tag=tag, platform=platform, where=where)
    try:
        tar = tarfile.open(p)  # noqa: SIM115 - closed below
    except (OSError, tarfile.TarError) as exc:
        raise InputError(f"{where}: not a readable image tar ({exc}); pass a docker-archive or OCI archive") from None
    with tar:
        members = {m.name.removeprefix("./"): m for m in tar.getmembers() if m.isfile()}

        def read_tar(name: str) -> bytes:
            member = members.get(name)
            fh = tar.extractfile(member) if member is not None else None
            if fh is None:
                raise InputError(f"{where}: {name} is missing from the tar; export the image again")
            return fh.read()

        if "index.json" in members and "oci-layout" in members:
            return facts_from_layout(read_tar, tag=tag, platform=platform, where=where)
        if "manifest.json" in members:
            manifest_json = read_tar("manifest.json")
            entry = docker_archive_entry(manifest_json, tag=tag, where=where)
            sizes = {name: m.size for name, m in members.items()}
            return facts_from_docker_archive(manifest_json, read_tar(str(entry["Config"])), sizes, tag=tag, where=where)
    raise InputError(f"{where}: neither an OCI layout nor a docker-archive; pass an image export tar")
