"""trivy image --input for real on the test images (tests/images.py) with the fixture DB; image SBOMs."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
from pathlib import Path

import attrs
import pytest

from pipeline.errors import ToolFailed
from pipeline.model import Category, Finding, Severity, fingerprint_of
from pipeline.tools import trivy
from pipeline.tools.base import CACHE, IN, OUT, Invocation
from tests import images
from tests.hostrun import HostResult, run_on_host

pytestmark = pytest.mark.contract

FIXTURE_DB = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "trivy-db"
GLIBC_FIX = "2.36-9+deb12u99"
# libc6 and libc-bin are built from the glibc source package the Debian advisory is keyed by
GLIBC = {("CVE-2099-0001", "libc6", GLIBC_FIX), ("CVE-2099-0001", "libc-bin", GLIBC_FIX)}
VULNERABLE_APP = GLIBC | {
    ("CVE-2018-18074", "requests", "2.20.0"),
    ("CVE-2019-10906", "Jinja2", "2.10.1"),
    ("CVE-2019-11324", "urllib3", "1.24.2"),
    ("CVE-2024-29041", "express", "4.19.2"),
    ("CVE-2022-24999", "qs", "6.7.3"),  # qs 6.7.0: what express 4.17.1's lock tree installs
}


def seed_cache(root: Path) -> Path:
    db_dir = root / "cache" / "trivy" / "db"
    db_dir.mkdir(parents=True)
    for name in ("trivy.db", "metadata.json"):
        shutil.copy(FIXTURE_DB / name, db_dir / name)
    return root / "cache"


def run(inv: Invocation, tmp_path: Path, image: Path, cache: Path) -> tuple[HostResult, bool]:
    res = run_on_host(
        inv,
        {f"{IN}/image": image, OUT: tmp_path / "out", CACHE: cache},
        extra_env={"HOME": str(tmp_path)},
    )
    return res, inv.exit_codes.check("trivy", res.exit_code, res.stderr)


def scan(tmp_path: Path, image: Path) -> tuple[tuple[Finding, ...], bool]:
    cache = seed_cache(tmp_path)
    inv = trivy.image_scan(input_path=f"{IN}/image", db=trivy.DbOptions(offline=True))
    res, found = run(inv, tmp_path, image, cache)
    return trivy.parse(res.report, mode="image").findings, found


def triples(findings: tuple[Finding, ...]) -> set[tuple[str, str, str]]:
    return {(f.rule_id, f.package.name, f.package.fixed_version) for f in findings if f.package}


def dagger_style_tarball(oci_dir: Path, dest: Path) -> Path:
    """What Dagger's Container.as_tarball() writes: an OCI layout tar that also has a docker manifest.json."""
    index = json.loads((oci_dir / "index.json").read_text())
    mdigest = index["manifests"][0]["digest"].split(":", 1)[1]
    manifest = json.loads((oci_dir / "blobs" / "sha256" / mdigest).read_text())

    def blob(desc: dict[str, str]) -> str:
        return "blobs/sha256/" + desc["digest"].split(":", 1)[1]

    docker = [
        {
            "Config": blob(manifest["config"]),
            "RepoTags": None,
            "Layers": [blob(x) for x in manifest["layers"]],
        }
    ]
    with tarfile.open(dest, "w") as tf:
        for p in sorted(oci_dir.rglob("*")):
            tf.add(p, arcname=p.relative_to(oci_dir).as_posix(), recursive=False)
        data = json.dumps(docker).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    return dest


# ---------------------------------------------------------------------------------------- vulnerabilities


def test_vulnerable_image_docker_archive(tmp_path: Path, vulnerable_app_image: images.BuiltImage) -> None:
    findings, found = scan(tmp_path, vulnerable_app_image.docker_archive)
    assert found  # exit code 4
    assert triples(findings) == VULNERABLE_APP
    assert len(findings) == len(VULNERABLE_APP)
    assert {f.category for f in findings} == {Category.IMAGE_VULNERABILITY}
    # the parser's fast path (`finding_from_parts`, fingerprints cached per merge key) builds what Finding(...) builds
    for f in findings:
        assert f == Finding(**{a.name: getattr(f, a.name) for a in attrs.fields(Finding) if a.name != "fingerprint"})
        assert f.fingerprint == fingerprint_of(f)
    by_pkg = {f.package.name: f for f in findings if f.package}
    libc6 = by_pkg["libc6"]
    assert libc6.package is not None
    assert libc6.package.ecosystem == "deb"
    assert libc6.package.purl.startswith("pkg:deb/debian/libc6@")
    assert libc6.severity is Severity.HIGH
    assert libc6.locations[0].path.startswith("image:debian 12")
    req = by_pkg["requests"]
    assert req.package is not None
    assert req.package.ecosystem == "pypi"
    assert req.locations[0].path.startswith("image:opt/venv/")
    assert req.locations[0].path.endswith("METADATA")
    express, qs = by_pkg["express"], by_pkg["qs"]
    assert express.package is not None and qs.package is not None
    assert (express.package.ecosystem, express.package.purl) == ("npm", "pkg:npm/express@4.17.1")
    assert (qs.package.ecosystem, qs.package.purl) == ("npm", "pkg:npm/qs@6.7.0")
    assert express.severity is Severity.MEDIUM and qs.severity is Severity.HIGH
    assert express.locations[0].path == "image:app/node_modules/express/package.json"
    assert qs.locations[0].path == "image:app/node_modules/qs/package.json"


def test_oci_layout_dir_and_dagger_tarball_give_the_same_findings(
    tmp_path: Path, vulnerable_app_image: images.BuiltImage
) -> None:
    from_archive, _ = scan(tmp_path / "a", vulnerable_app_image.docker_archive)
    from_dir, _ = scan(tmp_path / "b", vulnerable_app_image.oci_dir)
    tarball = dagger_style_tarball(vulnerable_app_image.oci_dir, tmp_path / "dagger.tar")
    from_dagger, _ = scan(tmp_path / "c", tarball)
    assert triples(from_archive) == VULNERABLE_APP
    # same findings, same locations, same fingerprints: nothing depends on the input's path or kind
    assert from_dir == from_archive
    assert from_dagger == from_archive


def test_pure_oci_archive_is_rejected_by_trivy_as_a_failure(
    tmp_path: Path, vulnerable_app_image: images.BuiltImage
) -> None:
    cache = seed_cache(tmp_path)
    inv = trivy.image_scan(input_path=f"{IN}/image", db=trivy.DbOptions(offline=True))
    with pytest.raises(ToolFailed) as err:
        run(inv, tmp_path, vulnerable_app_image.oci_archive, cache)
    assert "manifest.json not found" in err.value.tool_message


def test_clean_example_image_has_only_the_glibc_advisory(tmp_path: Path, example_app_image: images.BuiltImage) -> None:
    findings, found = scan(tmp_path, example_app_image.docker_archive)
    assert found
    assert triples(findings) == GLIBC


# ---------------------------------------------------------------------------------------------- SBOM


def test_image_sboms(tmp_path: Path, vulnerable_app_image: images.BuiltImage) -> None:
    cache = tmp_path / "empty-cache"  # an SBOM needs no vulnerability DB
    cache.mkdir()
    res, found = run(
        trivy.sbom(input_path=f"{IN}/image", fmt="cyclonedx"),
        tmp_path,
        vulnerable_app_image.docker_archive,
        cache,
    )
    assert not found
    bom = json.loads(res.report)
    assert bom["bomFormat"] == "CycloneDX"
    assert bom["specVersion"] == "1.7"
    purls = {c.get("purl", "") for c in bom["components"]}
    assert any(p.startswith("pkg:deb/debian/libc6@2.36-9") for p in purls)
    assert {"pkg:pypi/requests@2.19.0", "pkg:pypi/jinja2@2.10", "pkg:pypi/urllib3@1.23"} <= purls
    assert {"pkg:npm/express@4.17.1", "pkg:npm/qs@6.7.0"} <= purls
    assert not bom.get("vulnerabilities")  # SBOM only, no scan

    res, _ = run(
        trivy.sbom(input_path=f"{IN}/image", fmt="spdx-json"),
        tmp_path,
        vulnerable_app_image.docker_archive,
        cache,
    )
    spdx = json.loads(res.report)
    assert spdx["spdxVersion"] == "SPDX-2.3"
    names = {p["name"] for p in spdx["packages"]}
    assert {"libc6", "requests", "Jinja2", "urllib3", "express", "qs"} <= names
    assert not (cache / "trivy" / "db" / "trivy.db").exists()


def test_trivy_names_the_config_digest_it_scanned_for_every_input_kind(
    tmp_path: Path, example_app_image: images.BuiltImage
) -> None:
    """The gate's digest rule compares this with the built digest: every kind of input must give the same."""
    tarball = dagger_style_tarball(example_app_image.oci_dir, tmp_path / "dagger.tar")
    for i, source in enumerate((example_app_image.docker_archive, example_app_image.oci_dir, tarball)):
        cache = seed_cache(tmp_path / str(i))
        inv = trivy.image_scan(input_path=f"{IN}/image", db=trivy.DbOptions(offline=True))
        res, _ = run(inv, tmp_path / str(i), source, cache)
        assert trivy.parse(res.report, mode="image").subject == example_app_image.config_digest, source
