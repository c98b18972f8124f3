"""An end-of-life base OS becomes a finding: real trivy 0.76 on a tiny Debian 9 docker-archive written here."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
from pathlib import Path

import pytest

from pipeline.model import Category, Severity, ToolRun
from pipeline.tools import trivy
from pipeline.tools.base import CACHE, IN, OUT
from tests.hostrun import run_on_host

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_DB = ROOT / "tests" / "fixtures" / "trivy-db"

OS_RELEASE = {
    "9": 'NAME="Debian GNU/Linux"\nVERSION_ID="9"\nVERSION="9 (stretch)"\nID=debian\n',
    "12": 'NAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nID=debian\n',
}
DPKG_STATUS = (
    "Package: base-files\nStatus: install ok installed\nPriority: required\nSection: admin\n"
    "Maintainer: Santiago Vila <sanvila@debian.org>\nArchitecture: amd64\nVersion: {version}\n"
    "Description: Debian base system miscellaneous files\n\n"
)


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def debian_archive(path: Path, release: str, point: str) -> Path:
    """A one-layer docker-archive holding only what trivy reads to know the OS and its packages."""
    layer = _tar(
        {
            "etc/os-release": OS_RELEASE[release].encode(),
            "etc/debian_version": f"{point}\n".encode(),
            "var/lib/dpkg/status": DPKG_STATUS.format(version=f"{release}.0").encode(),
        }
    )
    layer_id = hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": [f"sha256:{layer_id}"]}}
    ).encode()  # fmt: skip
    config_id = hashlib.sha256(config).hexdigest()
    manifest = [{"Config": f"{config_id}.json", "RepoTags": ["eol:test"], "Layers": [f"{layer_id}.tar"]}]
    path.write_bytes(
        _tar({f"{layer_id}.tar": layer, f"{config_id}.json": config, "manifest.json": json.dumps(manifest).encode()})
    )
    return path


def scan_image(tmp: Path, archive: Path) -> ToolRun:
    cache = tmp / "cache"
    (cache / "trivy" / "db").mkdir(parents=True)
    for name in ("trivy.db", "metadata.json"):
        shutil.copy(FIXTURE_DB / name, cache / "trivy" / "db" / name)
    inv = trivy.image_scan(db=trivy.DbOptions(offline=True))
    got = run_on_host(inv, {f"{IN}/image.tar": archive, OUT: tmp / "out", CACHE: cache}, extra_env={"HOME": str(tmp)})
    inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)
    return trivy.parse(got.report, mode="image")


def test_end_of_life_debian_is_a_finding(tmp_path: Path) -> None:
    run = scan_image(tmp_path, debian_archive(tmp_path / "img.tar", "9", "9.13"))
    (eol,) = [f for f in run.findings if f.rule_id == trivy.EOSL_RULE]
    assert eol.category is Category.IMAGE_VULNERABILITY and eol.severity is Severity.HIGH
    assert eol.locations[0].path == "image:debian 9.13"
    assert eol.tools == ("trivy",) and eol.package is None


def test_supported_debian_gives_no_end_of_life_finding(tmp_path: Path) -> None:
    run = scan_image(tmp_path, debian_archive(tmp_path / "img.tar", "12", "12.8"))
    assert not [f for f in run.findings if f.rule_id == trivy.EOSL_RULE]
