"""Image facts read from real exports match what buildah was told, and the config digest is the image's."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from pipeline.formats.dockerfile import final_base
from pipeline.formats.oci import read_image_facts
from pipeline.model import BasePin, ImageFacts
from tests.images import EXAMPLE_REVISION, EXAMPLE_SOURCE, BuiltImage, ContainerEnv

# The image fixtures (container_env, base_image, example_app_image, vulnerable_app_image) come from
# tests/images.py; until tests/conftest.py loads it as a plugin, load it here.

pytestmark = pytest.mark.integration

BUSYBOX = Path("/bin/busybox")


def skopeo_config_digest(cenv: ContainerEnv, ref: str) -> str:
    raw = cenv.run(["skopeo", "inspect", "--config", "--raw", cenv.storage_ref(ref)], what=f"skopeo inspect {ref}")
    return "sha256:" + hashlib.sha256(raw.encode()).hexdigest()


def facts_of_every_export(image: BuiltImage) -> dict[str, ImageFacts]:
    return {
        "docker-archive": read_image_facts(image.docker_archive),
        "oci-dir": read_image_facts(image.oci_dir, tag=image.oci_tag),
        "oci-archive": read_image_facts(image.oci_archive, tag=image.oci_tag),
    }


def export(cenv: ContainerEnv, ref: str, dest: Path) -> dict[str, Path]:
    src = cenv.storage_ref(ref)
    paths = {"docker-archive": dest / "d.tar", "oci-dir": dest / "oci", "oci-archive": dest / "o.tar"}
    cenv.run(["skopeo", "copy", "--quiet", src, f"docker-archive:{paths['docker-archive']}:{ref}"], what="export")
    cenv.run(["skopeo", "copy", "--quiet", src, f"oci:{paths['oci-dir']}:t"], what="export")
    cenv.run(["skopeo", "copy", "--quiet", src, f"oci-archive:{paths['oci-archive']}:t"], what="export")
    return paths


def test_facts_match_what_buildah_config_was_told(container_env: ContainerEnv, tmp_path: Path) -> None:
    """A static busybox image configured field by field (test-environment.md §4a)."""
    assert BUSYBOX.is_file(), "busybox-static is not installed (apt: busybox-static)"
    ref = f"localhost/seaworthy-test/facts:{tmp_path.name}"
    ctr = container_env.run(["buildah", "from", "scratch"], what="buildah from scratch").strip()
    try:
        container_env.run(["buildah", "copy", ctr, str(BUSYBOX), "/bin/busybox"], what="buildah copy")
        container_env.run(
            ["buildah", "config", "--entrypoint", '["/bin/busybox", "sh", "-c"]', "--cmd", '["echo", "hello world"]',
             "--user", "65534:65534", "--port", "8443/tcp", "--port", "9000/udp",
             "--label", "org.opencontainers.image.source=https://example.invalid/facts",
             "--label", "b.second=two words", ctr],
            what="buildah config",
        )  # fmt: skip
        container_env.run(["buildah", "commit", "--quiet", "--identity-label=false", ctr, ref], what="commit")
    finally:
        container_env.run(["buildah", "rm", ctr], what="buildah rm")
    try:
        expected_digest = skopeo_config_digest(container_env, ref)
        for kind, path in export(container_env, ref, tmp_path).items():
            facts = read_image_facts(path)
            assert facts.config_digest == expected_digest, kind
            assert facts.user == "65534:65534"
            assert not facts.runs_as_root
            assert facts.entrypoint == ("/bin/busybox", "sh", "-c")
            assert facts.cmd == ("echo", "hello world")
            assert facts.exposed_ports == ("8443/tcp", "9000/udp")
            assert facts.labels == (
                ("b.second", "two words"),
                ("org.opencontainers.image.source", "https://example.invalid/facts"),
            )
            assert facts.layers == 1
            assert facts.platform == "linux/amd64"
            assert facts.size > 0
    finally:
        container_env.run(["podman", "rmi", "--force", ref], what="podman rmi")


def test_example_app_facts(container_env: ContainerEnv, example_app_image: BuiltImage) -> None:
    expected = skopeo_config_digest(container_env, example_app_image.ref)
    assert expected == example_app_image.config_digest
    for kind, facts in facts_of_every_export(example_app_image).items():
        assert facts.config_digest == expected, kind
        assert facts.user == "10001:10001"
        assert facts.cmd == ("python3", "/app/app.py")
        assert facts.exposed_ports == ("8080/tcp",)
        labels = dict(facts.labels)
        assert labels["org.opencontainers.image.source"] == EXAMPLE_SOURCE
        assert labels["org.opencontainers.image.revision"] == EXAMPLE_REVISION
        assert "io.buildah.version" not in labels
        assert list(facts.labels) == sorted(facts.labels)
    base = final_base(
        (example_app_image.context / "Dockerfile").read_text(),  # type: ignore[union-attr]
        build_args=example_app_image.build_args,
    )
    assert base.ref == example_app_image.build_args["BASE_IMAGE"]
    assert base.pin == BasePin.TAG
    # without the override, the Dockerfile's own default is an exact python slim tag
    assert final_base((example_app_image.context / "Dockerfile").read_text()).pin in (  # type: ignore[union-attr]
        BasePin.TAG,
        BasePin.DIGEST,
    )


def test_vulnerable_app_breaks_image_policies(container_env: ContainerEnv, vulnerable_app_image: BuiltImage) -> None:
    expected = skopeo_config_digest(container_env, vulnerable_app_image.ref)
    for kind, facts in facts_of_every_export(vulnerable_app_image).items():
        assert facts.config_digest == expected, kind
        assert facts.runs_as_root
        assert facts.labels == ()
        assert facts.cmd == ("/opt/venv/bin/python", "/app/app.py")


def test_layer_count_and_sizes_are_consistent(base_image: BuiltImage, vulnerable_app_image: BuiltImage) -> None:
    base = facts_of_every_export(base_image)
    app = facts_of_every_export(vulnerable_app_image)
    for kind in base:
        assert app[kind].layers > base[kind].layers, kind
        assert app[kind].size > base[kind].size, kind
    # the docker-archive stores uncompressed layers, the OCI exports gzip them
    assert app["docker-archive"].size > app["oci-archive"].size == app["oci-dir"].size


def test_corrupt_export_is_refused(vulnerable_app_image: BuiltImage, tmp_path: Path) -> None:
    from pipeline.errors import InputError

    copy = tmp_path / "oci"
    shutil.copytree(vulnerable_app_image.oci_dir, copy)
    index = json.loads((copy / "index.json").read_text())
    manifest_path = copy / "blobs" / "sha256" / index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads(manifest_path.read_text())
    config_path = copy / "blobs" / "sha256" / manifest["config"]["digest"].split(":")[1]
    config_path.write_bytes(config_path.read_bytes().replace(b'"User"', b'"user"') + b" ")
    with pytest.raises(InputError, match="corrupt"):
        read_image_facts(copy)
