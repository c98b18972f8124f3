"""An image with no package database (busybox-static on scratch) is bad input handled in the open.

trivy's image scan and SBOMs run exactly as the image stage builds them (`pipeline.stages.image` mounts the
tarball at IN/image.tar; the scan reads the fixture DB offline). The tool does not fail, the parsed run has no
findings but a note saying trivy found nothing to scan (so "0 vulnerabilities" is never silent), the SBOM has
no packages at all, and the gate built from it denies with ``sbom.empty``.
"""

from __future__ import annotations

import datetime
import json
import shutil
import tarfile
from pathlib import Path

import attrs
import pytest

from pipeline import config
from pipeline.formats import oci, sbom_pair
from pipeline.model import Component, SbomSummary, ToolRun, Verdict
from pipeline.model_gate import BuildFacts
from pipeline.policy.config import gate_config_from
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.input import build_input
from pipeline.policy.verdict import read_verdict
from pipeline.reports import REPORT, SUMMARY, write_reports
from pipeline.tools import trivy
from pipeline.tools.base import CACHE, IN, OUT
from tests.hostrun import run_on_host
from tests.images import BuiltImage

pytestmark = pytest.mark.contract

FIXTURE_DB = Path(__file__).resolve().parents[1] / "fixtures" / "trivy-db"
TARBALL = f"{IN}/image.tar"  # where pipeline.stages.image mounts the build's tarball
TODAY = datetime.date(2026, 11, 27)
NOTE = "trivy found nothing to scan in the container_image (the report has no Results)"
OS_PACKAGE_TYPES = {"deb", "apk", "rpm", "alpm", "operating-system"}


@attrs.frozen
class Scanned:
    run: ToolRun
    exit_code: int
    raw: dict[str, object]


@pytest.fixture(scope="module")
def scanned(static_image: BuiltImage, tmp_path_factory: pytest.TempPathFactory) -> Scanned:
    tmp = tmp_path_factory.mktemp("no-pkg-db-scan")
    db = tmp / "cache" / "trivy" / "db"
    db.mkdir(parents=True)
    for name in ("trivy.db", "metadata.json"):
        shutil.copy(FIXTURE_DB / name, db / name)
    inv = trivy.image_scan(input_path=TARBALL, db=trivy.DbOptions(offline=True))
    got = run_on_host(inv, {TARBALL: static_image.docker_archive, OUT: tmp / "out", CACHE: tmp / "cache"})
    found = inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)  # raises ToolFailed on a tool failure
    assert not found, got.report
    return Scanned(trivy.parse(got.report, mode="image"), got.exit_code, json.loads(got.report))


@pytest.fixture(scope="module")
def sboms(static_image: BuiltImage, tmp_path_factory: pytest.TempPathFactory) -> sbom_pair.SbomPair:
    tmp = tmp_path_factory.mktemp("no-pkg-db-sbom")
    texts: dict[str, str] = {}
    for fmt in ("cyclonedx", "spdx-json"):
        inv = trivy.sbom(input_path=TARBALL, fmt=fmt)  # type: ignore[arg-type]
        mapping = {TARBALL: static_image.docker_archive, OUT: tmp / f"out-{fmt}", CACHE: tmp / f"cache-{fmt}"}
        got = run_on_host(inv, mapping)
        inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)
        assert got.report.strip(), f"trivy wrote an empty {fmt} SBOM"  # the stage refuses an empty document
        texts[fmt] = got.report
    # what ship does with the stage's two documents: normalize, relabel, validate, summarize
    return sbom_pair.finalize(texts["cyclonedx"], texts["spdx-json"], tool="trivy")


def gate(summary: SbomSummary, image: BuiltImage) -> Verdict:
    facts = oci.read_image_facts(image.oci_dir)
    doc = build_input(
        (),
        sbom=summary,
        facts=(facts,),
        build=BuildFacts(config_digests=((facts.platform, facts.config_digest),), image="localhost/app"),
        config=gate_config_from(config.load(None).gate),
        exceptions=(),
        today=TODAY,
    )
    return read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc))


def test_the_image_really_has_no_package_database(static_image: BuiltImage) -> None:
    index = json.loads((static_image.oci_dir / "index.json").read_text())
    blobs = static_image.oci_dir / "blobs" / "sha256"
    manifest = json.loads((blobs / index["manifests"][0]["digest"].split(":", 1)[1]).read_text())
    assert len(manifest["layers"]) == 1
    with tarfile.open(blobs / manifest["layers"][0]["digest"].split(":", 1)[1]) as tf:
        names = {n.lstrip("./") for n in tf.getnames()}
    assert "bin/busybox" in names and "bin/sh" in names
    for db in ("var/lib/dpkg/status", "lib/apk/db/installed", "var/lib/rpm", "etc/os-release"):
        assert db not in names, db


def test_image_scan_does_not_fail_and_says_it_found_nothing_to_scan(scanned: Scanned, static_image: BuiltImage) -> None:
    assert scanned.exit_code == 0
    assert "Results" not in scanned.raw  # trivy's own way of saying: no OS, no language package found
    assert scanned.run.findings == ()
    assert scanned.run.notes == (NOTE,)
    assert scanned.run.subject == static_image.config_digest  # it did read this very image
    assert scanned.run.version == "0.76.0"


def test_the_note_reaches_the_reports(scanned: Scanned, sboms: sbom_pair.SbomPair, static_image: BuiltImage) -> None:
    verdict = gate(sboms.summary, static_image)
    files = write_reports((scanned.run,), (), verdict)
    assert f"- trivy: {NOTE}".replace("_", "\\_").encode() in files[SUMMARY]  # Markdown-escaped
    assert NOTE.encode() in files[REPORT]


def test_sbom_has_no_packages(sboms: sbom_pair.SbomPair) -> None:
    assert sboms.summary.tool == "trivy"
    assert (sboms.summary.format, sboms.summary.spec_version) == ("cyclonedx", "1.6")
    assert not [c for c in sboms.summary.components if c.type in OS_PACKAGE_TYPES]
    assert sboms.summary.components == ()
    cdx = json.loads(sboms.cyclonedx)
    assert cdx["metadata"]["component"]["type"] == "container"  # trivy did describe the image ...
    assert not cdx.get("components")  # ... and found nothing in it
    spdx_doc = json.loads(sboms.spdx)
    purls = [
        ref["referenceLocator"]
        for p in spdx_doc.get("packages", [])
        for ref in p.get("externalRefs", [])
        if ref.get("referenceType") == "purl"
    ]
    assert all(p.startswith("pkg:oci/") for p in purls), purls  # at most the image itself, no package


def test_the_gate_denies_an_empty_sbom(sboms: sbom_pair.SbomPair, static_image: BuiltImage) -> None:
    verdict = gate(sboms.summary, static_image)
    assert not verdict.passed
    denied = {r.rule_id: r for r in verdict.denials}
    assert "sbom.empty" in denied, sorted(denied)
    reason = denied["sbom.empty"]
    assert reason.message == "the cyclonedx SBOM from trivy lists no components"
    assert "package database" in reason.remedy
    # it is the empty SBOM that is denied: the same image with one component listed is not
    one = Component(name="busybox", version="1.35.0", purl="pkg:generic/busybox@1.35.0", type="generic")
    other = gate(attrs.evolve(sboms.summary, components=(one,)), static_image)
    assert "sbom.empty" not in {r.rule_id for r in other.denials}
