"""Ground truth about a built test image (what really is in it), and checks SBOMs must pass against it."""

from __future__ import annotations

import json
import re

from pipeline.model import Component, SbomSummary
from tests.images import BuiltImage, ContainerEnv


def _no_epoch(version: str) -> str:
    return re.sub(r"^\d+:", "", version)


def dpkg_packages(cenv: ContainerEnv, image: BuiltImage) -> set[tuple[str, str]]:
    """(package, version) of every *installed* deb, from dpkg-query run inside the image (podman run)."""
    out = cenv.run(
        ["podman", "run", "--rm", "--network=none", "--user=0", image.ref,
         "dpkg-query", "-W", "-f", "${db:Status-Abbrev}\t${Package}\t${Version}\n"],
        what=f"dpkg-query in {image.ref}",
    )  # fmt: skip
    pkgs = set()
    for line in out.splitlines():
        status, name, version = line.split("\t")
        if status.strip() == "ii":
            pkgs.add((name, _no_epoch(version)))
    assert len(pkgs) > 80, f"dpkg-query listed only {len(pkgs)} packages in {image.ref}: {out[:500]}"
    return pkgs


def pip_packages(cenv: ContainerEnv, image: BuiltImage, python: str = "/opt/venv/bin/python") -> set[tuple[str, str]]:
    """(normalized name, version) of every distribution in the image's venv (pip list, run in the image)."""
    out = cenv.run(
        ["podman", "run", "--rm", "--network=none", image.ref, python, "-m", "pip", "list",
         "--format=json", "--disable-pip-version-check", "--no-input"],
        what=f"pip list in {image.ref}",
    )  # fmt: skip
    return {(_norm(p["name"]), p["version"]) for p in json.loads(out)}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def debs(summary: SbomSummary) -> set[tuple[str, str]]:
    return {(c.name, _no_epoch(c.version)) for c in summary.components if c.type == "deb"}


def pypi(summary: SbomSummary) -> dict[str, Component]:
    return {_norm(c.name): c for c in summary.components if c.type == "pypi"}


def assert_debs_match(summary: SbomSummary, truth: set[tuple[str, str]]) -> None:
    listed = debs(summary)
    missing, extra = truth - listed, listed - truth
    assert not missing and not extra, (
        f"{summary.tool} {summary.format}: debs missing from the SBOM: {sorted(missing)[:10]}; "
        f"listed but not installed: {sorted(extra)[:10]}"
    )
    libc = [c for c in summary.components if c.name == "libc6"]
    assert len(libc) == 1
    version = dict(truth)["libc6"]
    assert libc[0].purl.startswith("pkg:deb/debian/libc6@"), libc[0].purl
    assert version.replace("+", "%2B") in libc[0].purl, (libc[0].purl, version)


def assert_vulnerable_pips(summary: SbomSummary, truth: set[tuple[str, str]]) -> None:
    found = pypi(summary)
    expected = {
        "requests": "pkg:pypi/requests@2.19.0",
        "jinja2": "pkg:pypi/jinja2@2.10",
        "urllib3": "pkg:pypi/urllib3@1.23",
    }
    for name, purl in expected.items():
        assert name in found, f"{summary.tool} {summary.format} lists no {name}: {sorted(found)}"
        assert found[name].purl.lower() == purl, found[name].purl
    listed = {(n, c.version) for n, c in found.items()}
    assert listed == truth, (
        f"{summary.tool} {summary.format}: pip packages differ from pip list: "
        f"missing {sorted(truth - listed)}, extra {sorted(listed - truth)}"
    )
