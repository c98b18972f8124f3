"""Trivy's DB download path for real: the fixture DB served as an OCI artifact by a loopback registry.

Proves that `download_db` / `--db-repository` (the air-gapped mirror setup) fetches the DB, that the
downloaded DB is the fixture byte for byte, and that a scan then matches the fixture advisories.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from pipeline.errors import ToolFailed
from pipeline.model import Category
from pipeline.tools import trivy
from pipeline.tools.base import CACHE, OUT, SRC, Invocation
from tests.hostrun import HostResult, run_on_host
from tests.registry import Registry, push_artifact, start_registry

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DB = ROOT / "tests" / "fixtures" / "trivy-db"
BAD_PROJECT = ROOT / "tests" / "fixtures" / "bad-project"
CONFIG_MEDIA_TYPE = "application/vnd.aquasec.trivy.config.v1+json"
FIXTURE_CVES = {"CVE-2018-18074", "CVE-2019-10906", "CVE-2019-11324", "CVE-2020-1747"}
USER, PASSWORD = "ciuser", "cipass-not-a-secret"


def db_tarball() -> bytes:
    """``db.tar.gz`` as the trivy-db artifact carries it: trivy.db + metadata.json at the top level."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name in ("trivy.db", "metadata.json"):
            tf.add(FIXTURE_DB / name, arcname=name)
    return buf.getvalue()


def db_layer() -> tuple[bytes, str, dict[str, str]]:
    """The DB layer as trivy wants it: the media type and a title annotation naming the file."""
    return (db_tarball(), trivy.DB_MEDIA_TYPE, {"org.opencontainers.image.title": "db.tar.gz"})


def write_oci_layout(dest: Path, tag: str) -> Path:
    """An OCI image layout holding the DB artifact, for `skopeo copy oci:<dir>:<tag> docker://...`."""
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True)

    def put(data: bytes) -> dict[str, object]:
        digest = hashlib.sha256(data).hexdigest()
        (blobs / digest).write_bytes(data)
        return {"digest": f"sha256:{digest}", "size": len(data)}

    layer = {
        "mediaType": trivy.DB_MEDIA_TYPE,
        **put(db_tarball()),
        "annotations": {"org.opencontainers.image.title": "db.tar.gz"},
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": CONFIG_MEDIA_TYPE, **put(b"{}")},
        "layers": [layer],
    }
    mdesc = {
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        **put(json.dumps(manifest).encode()),
        "annotations": {"org.opencontainers.image.ref.name": tag},
    }
    (dest / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": [mdesc]}))
    (dest / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return dest


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    with start_registry(tmp_path) as reg:
        yield reg


@pytest.fixture
def tls_auth_registry(tmp_path: Path) -> Iterator[Registry]:
    with start_registry(tmp_path, tls=True, htpasswd=(USER, PASSWORD)) as reg:
        yield reg


def push_with_skopeo(reg: Registry, tmp_path: Path, ref: str) -> None:
    assert shutil.which("skopeo"), "skopeo is not installed; run scripts/setup.sh (apt: skopeo)"
    repo_tag = ref.split("/", 1)[1]
    layout = write_oci_layout(tmp_path / "db-layout", repo_tag.rsplit(":", 1)[1])
    proc = subprocess.run(
        ["skopeo", "copy", "--quiet", "--dest-tls-verify=false", f"oci:{layout}:{repo_tag.rsplit(':', 1)[1]}",
         f"docker://{ref}"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def run(
    inv: Invocation,
    tmp_path: Path,
    cache: Path,
    *,
    src: Path | None = None,
    env: dict[str, str] | None = None,
) -> tuple[HostResult, bool]:
    mapping: dict[str, str | Path] = {OUT: tmp_path / "out", CACHE: cache}
    if src is not None:
        mapping[SRC] = src
    res = run_on_host(inv, mapping, extra_env={"HOME": str(tmp_path), **(env or {})})
    return res, inv.exit_codes.check("trivy", res.exit_code, res.stderr)


def test_download_db_from_the_mirror_then_scan_offline(registry: Registry, tmp_path: Path) -> None:
    ref = f"{registry.address}/aquasec/trivy-db:2"
    push_with_skopeo(registry, tmp_path, ref)
    cache = tmp_path / "cache"
    db = trivy.DbOptions(repositories=(ref,), insecure=True)

    res, _ = run(trivy.download_db(db), tmp_path, cache)
    assert f'repo="{ref}"' in res.stderr  # trivy says where it downloaded from
    downloaded = cache / "trivy" / "db"
    assert (downloaded / "trivy.db").read_bytes() == (FIXTURE_DB / "trivy.db").read_bytes()

    # the warm-up's report is metadata.json: a fresh DB passes the offline check
    meta = json.loads(res.report)
    assert meta["DownloadedAt"] != json.loads((FIXTURE_DB / "metadata.json").read_text())["DownloadedAt"]
    status = trivy.check_db_metadata(
        res.report,
        now=datetime.fromisoformat(meta["UpdatedAt"]) + timedelta(hours=1),
        max_age=timedelta(hours=db.max_age_hours),
        offline=True,
    )
    assert not status.needs_download

    src = shutil.copytree(BAD_PROJECT, tmp_path / "src")
    offline = trivy.DbOptions(offline=True)
    res, found = run(trivy.fs_scan(scanners=("vuln",), db=offline), tmp_path, cache, src=src)
    assert found
    run_ = trivy.parse(res.report, mode="fs")
    assert {f.rule_id for f in run_.findings if f.category is Category.DEPENDENCY} == FIXTURE_CVES


def test_scan_with_db_repository_downloads_on_first_run_and_matches(registry: Registry, tmp_path: Path) -> None:
    ref = f"{registry.address}/mirror/trivy-db:2"
    push_with_skopeo(registry, tmp_path, ref)
    cache = tmp_path / "cache"
    src = shutil.copytree(BAD_PROJECT, tmp_path / "src")
    db = trivy.DbOptions(repositories=(ref,), insecure=True)
    res, found = run(trivy.fs_scan(scanners=("vuln",), db=db), tmp_path, cache, src=src)
    assert "Downloading vulnerability DB" in res.stderr
    assert found
    run_ = trivy.parse(res.report, mode="fs")
    got = {f.rule_id: f.package.fixed_version for f in run_.findings if f.package}
    assert got == {
        "CVE-2018-18074": "2.20.0",
        "CVE-2019-10906": "2.10.1",
        "CVE-2019-11324": "1.24.2",
        "CVE-2020-1747": "5.3.1",
    }


def test_tls_mirror_with_credentials_and_ca(tls_auth_registry: Registry, tmp_path: Path) -> None:
    reg = tls_auth_registry
    ref = f"{reg.address}/aquasec/trivy-db:2"
    assert reg.request("GET", "/v2/", headers={"Authorization": ""})[0] == 401
    push_artifact(reg, ref, config=(b"{}", CONFIG_MEDIA_TYPE), layers=[db_layer()])
    cache = tmp_path / "cache"
    assert reg.ca_cert is not None
    ca_dir = tmp_path / "ca"
    ca_dir.mkdir()
    shutil.copy(reg.ca_cert, ca_dir / "ca.pem")
    db = trivy.DbOptions(repositories=(ref,), ca_cert=f"{CACHE}/ca/ca.pem")
    inv = trivy.download_db(db)
    assert inv.mounts[f"{CACHE}/ca/ca.pem"] == "trivy-ca-cert"
    # CA under the cache mapping so that the container path maps onto the host file
    shutil.copytree(ca_dir, cache / "ca")
    creds = {"TRIVY_USERNAME": USER, "TRIVY_PASSWORD": PASSWORD}
    res, _ = run(inv, tmp_path, cache, env=creds)
    assert (cache / "trivy" / "db" / "trivy.db").read_bytes() == (FIXTURE_DB / "trivy.db").read_bytes()
    assert json.loads(res.report)["Version"] == 2


def test_wrong_credentials_are_a_tool_failure(tls_auth_registry: Registry, tmp_path: Path) -> None:
    reg = tls_auth_registry
    ref = f"{reg.address}/aquasec/trivy-db:2"
    push_artifact(reg, ref, config=(b"{}", CONFIG_MEDIA_TYPE), layers=[db_layer()])
    cache = tmp_path / "cache"
    (cache / "ca").mkdir(parents=True)
    assert reg.ca_cert is not None
    shutil.copy(reg.ca_cert, cache / "ca" / "ca.pem")
    db = trivy.DbOptions(repositories=(ref,), ca_cert=f"{CACHE}/ca/ca.pem")
    with pytest.raises(ToolFailed) as err:
        run(trivy.download_db(db), tmp_path, cache, env={"TRIVY_USERNAME": USER, "TRIVY_PASSWORD": "wrong"})
    assert "UNAUTHORIZED" in err.value.tool_message or "401" in err.value.tool_message
    assert PASSWORD not in str(err.value)
    assert not (cache / "trivy" / "db" / "trivy.db").exists()


def test_mirror_without_the_db_is_a_tool_failure_not_an_empty_scan(registry: Registry, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    src = shutil.copytree(BAD_PROJECT, tmp_path / "src")
    db = trivy.DbOptions(repositories=(f"{registry.address}/nothing/trivy-db:2",), insecure=True)
    with pytest.raises(ToolFailed) as err:
        run(trivy.fs_scan(scanners=("vuln",), db=db), tmp_path, cache, src=src)
    assert "trivy-db" in err.value.tool_message
    assert err.value.exit_code == 1
