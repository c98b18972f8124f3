"""trivy for real on an image holding a JAR, with a cache that has the vulnerability DB but no Java index DB
(issue 10, item 4).

Scans pass ``--skip-java-db-update``; on a fresh cache trivy then refuses to scan a JAR (``trivy fs`` does
not look into JARs; ``trivy image`` does). The stage must recognise exactly that failure
(`trivy.needs_java_db`) to fetch the Java DB and scan again, and must never read it as "no findings".
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from pipeline.errors import ToolFailed
from pipeline.tools import trivy
from pipeline.tools.base import CACHE, IN, OUT
from tests.contract.test_trivy_fs import seed_cache
from tests.hostrun import run_on_host


def jar_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\nImplementation-Title: demo\n")
        jar.writestr("demo/Main.class", b"\xca\xfe\xba\xbe")
    return buf.getvalue()


def docker_archive(path: Path) -> Path:
    """A one-layer docker-archive whose only file is /app/demo-1.0.jar."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        data = jar_bytes()
        info = tarfile.TarInfo("app/demo-1.0.jar")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    layer_bytes = layer.getvalue()
    diff_id = "sha256:" + hashlib.sha256(layer_bytes).hexdigest()
    config = json.dumps(
        {
            "architecture": "amd64",
            "os": "linux",
            "config": {},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        }
    ).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": ["demo:1"], "Layers": ["layer.tar"]}]).encode()
    with tarfile.open(path, "w") as out:
        for name, blob in (("layer.tar", layer_bytes), (config_name, config), ("manifest.json", manifest)):
            info = tarfile.TarInfo(name)
            info.size = len(blob)
            out.addfile(info, io.BytesIO(blob))
    return path


def scan(tmp_path: Path, cache: Path) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    docker_archive(inputs / "image.tar")
    inv = trivy.image_scan(db=trivy.DbOptions(offline=True))
    assert "--skip-java-db-update" in inv.argv
    res = run_on_host(inv, {IN: inputs, OUT: tmp_path / "out", CACHE: cache}, extra_env={"HOME": str(tmp_path)})
    inv.exit_codes.check("trivy", res.exit_code, res.stderr)


def test_a_jar_on_a_cache_without_java_db_fails_with_the_message_the_stage_recognises(tmp_path: Path) -> None:
    with pytest.raises(ToolFailed) as err:
        scan(tmp_path, seed_cache(tmp_path))
    assert trivy.needs_java_db(err.value.tool_message), err.value.tool_message
    # the warm-up the stage then runs asks for the Java DB only, from the configured mirror
    dl = trivy.download_java_db(trivy.DbOptions(java_repositories=("mirror.local/trivy-java-db:1",)))
    assert "--download-java-db-only" in dl.argv and "--skip-java-db-update" not in dl.argv
    assert dl.argv[dl.argv.index("--java-db-repository") + 1] == "mirror.local/trivy-java-db:1"
    assert dl.report.endswith("/java-db/metadata.json")


def test_a_missing_vulnerability_db_is_not_taken_for_a_missing_java_db(tmp_path: Path) -> None:
    (tmp_path / "empty" / "trivy").mkdir(parents=True)
    with pytest.raises(ToolFailed) as err:
        scan(tmp_path, tmp_path / "empty")
    assert not trivy.needs_java_db(err.value.tool_message), err.value.tool_message
