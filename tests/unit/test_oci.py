from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest

from pipeline.errors import InputError
from pipeline.formats import oci

CONFIG = json.dumps(
    {
        "architecture": "arm64",
        "os": "linux",
        "variant": "v8",
        "config": {
            "User": "10001:10001",
            "Entrypoint": ["/usr/bin/tini", "--"],
            "Cmd": ["python3", "/app/app.py"],
            "ExposedPorts": {"8080/tcp": {}, "443/tcp": {}},
            "Labels": {"org.opencontainers.image.source": "https://x.invalid/r", "a.first": "1"},
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + "1" * 64, "sha256:" + "2" * 64]},
    },
    indent=3,  # deliberately not canonical: the digest is of these exact bytes
).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
LAYERS = [
    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + "3" * 64, "size": 100},
    {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + "4" * 64, "size": 23},
]
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": CONFIG_DIGEST,
                   "size": len(CONFIG)},
        "layers": LAYERS,
    }
).encode()  # fmt: skip
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()


def index(*entries: dict[str, object]) -> str:
    return json.dumps({"schemaVersion": 2, "manifests": list(entries)})


def entry(tag: str = "1.0", digest: str = MANIFEST_DIGEST, **extra: object) -> dict[str, object]:
    return {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "digest": digest,
        "size": len(MANIFEST),
        "annotations": {"org.opencontainers.image.ref.name": tag},
        **extra,
    }


def test_facts_from_config_reads_every_field_and_hashes_the_exact_bytes() -> None:
    facts = oci.facts_from_config(CONFIG)
    assert facts.config_digest == CONFIG_DIGEST
    assert facts.config_digest != "sha256:" + hashlib.sha256(json.dumps(json.loads(CONFIG)).encode()).hexdigest()
    assert facts.platform == "linux/arm64/v8"
    assert facts.user == "10001:10001"
    assert not facts.runs_as_root
    assert facts.entrypoint == ("/usr/bin/tini", "--")
    assert facts.cmd == ("python3", "/app/app.py")
    assert facts.exposed_ports == ("443/tcp", "8080/tcp")
    assert facts.labels == (("a.first", "1"), ("org.opencontainers.image.source", "https://x.invalid/r"))
    assert facts.layers == 2


def test_minimal_config_means_root_and_nothing_else() -> None:
    facts = oci.facts_from_config(b'{"architecture":"amd64","os":"linux","config":{}}')
    assert facts.runs_as_root
    assert facts.cmd == () and facts.labels == () and facts.exposed_ports == ()


def test_facts_from_oci_manifest_sizes_and_config_check() -> None:
    facts = oci.facts_from_oci(MANIFEST, CONFIG)
    assert facts.size == 123
    assert facts.layers == 2
    with pytest.raises(InputError, match="corrupt"):
        oci.facts_from_oci(MANIFEST, CONFIG + b" ")


def test_select_manifest_by_tag_and_platform() -> None:
    other = entry("2.0", "sha256:" + "9" * 64)
    assert oci.select_manifest(index(entry())).digest == MANIFEST_DIGEST
    assert oci.select_manifest(index(entry(), other), tag="1.0").digest == MANIFEST_DIGEST
    with pytest.raises(InputError, match="several images"):
        oci.select_manifest(index(entry(), other))
    with pytest.raises(InputError, match="no image tagged"):
        oci.select_manifest(index(entry()), tag="3.0")
    amd = entry("x", platform={"os": "linux", "architecture": "amd64"})
    arm = entry("y", "sha256:" + "8" * 64, platform={"os": "linux", "architecture": "arm64"})
    assert oci.select_manifest(index(amd, arm), platform="linux/arm64").digest == "sha256:" + "8" * 64


@pytest.mark.parametrize("text", ["", "{", "[]", '{"manifests": []}', '{"manifests": [{"digest": "nope"}]}'])
def test_broken_index_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError):
        oci.parse_index(text)


def test_manifest_that_is_an_index_is_refused() -> None:
    with pytest.raises(InputError, match="index"):
        oci.parse_manifest(index(entry()))


def test_docker_archive_manifest() -> None:
    manifest_json = json.dumps(
        [{"Config": "abc.json", "RepoTags": ["localhost/app:1"], "Layers": ["l1/layer.tar", "l2/layer.tar"]}]
    )
    facts = oci.facts_from_docker_archive(manifest_json, CONFIG, {"l1/layer.tar": 1000, "l2/layer.tar": 24})
    assert facts.size == 1024 and facts.layers == 2 and facts.config_digest == CONFIG_DIGEST
    with pytest.raises(InputError, match="missing"):
        oci.facts_from_docker_archive(manifest_json, CONFIG, {"l1/layer.tar": 1})
    with pytest.raises(InputError, match="0 matching"):
        oci.facts_from_docker_archive(manifest_json, CONFIG, {}, tag="other:2")
    with pytest.raises(InputError, match="docker-archive"):
        oci.facts_from_docker_archive('{"not": "a list"}', CONFIG, {})


def _write_layout(root: Path) -> None:
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True)
    (blobs / CONFIG_DIGEST.split(":")[1]).write_bytes(CONFIG)
    (blobs / MANIFEST_DIGEST.split(":")[1]).write_bytes(MANIFEST)
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    (root / "index.json").write_text(index(entry()))


def test_read_image_facts_from_layout_dir_and_tar(tmp_path: Path) -> None:
    layout = tmp_path / "layout"
    _write_layout(layout)
    from_dir = oci.read_image_facts(layout)
    tar_path = tmp_path / "image.oci.tar"
    with tarfile.open(tar_path, "w") as tar:
        tar.add(layout, arcname=".")
    assert oci.read_image_facts(tar_path) == from_dir
    assert from_dir.config_digest == CONFIG_DIGEST


def test_read_image_facts_refuses_what_is_not_an_image(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    with tarfile.open(junk, "w") as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(InputError, match="neither an OCI layout nor a docker-archive"):
        oci.read_image_facts(junk)
    (tmp_path / "text.tar").write_text("not a tar")
    with pytest.raises(InputError, match="not a readable image tar"):
        oci.read_image_facts(tmp_path / "text.tar")
    (tmp_path / "emptydir").mkdir()
    with pytest.raises(InputError, match=r"index\.json"):
        oci.read_image_facts(tmp_path / "emptydir")
