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


# Run with the image's python3: every package root under `root` -- the project's own package.json and each
# node_modules/<name> or node_modules/@scope/<name>, nested node_modules included -- as [name, version].
_LIST_NPM = r"""
import json, os, sys
root = sys.argv[1]
out = []
for d, dirs, files in os.walk(root):
    parent = os.path.dirname(d)
    is_pkg = d == root or os.path.basename(parent) == "node_modules" or (
        os.path.basename(d) != "node_modules"
        and os.path.basename(parent).startswith("@")
        and os.path.basename(os.path.dirname(parent)) == "node_modules"
    )
    if is_pkg and "package.json" in files:
        with open(os.path.join(d, "package.json")) as fh:
            meta = json.load(fh)
        out.append([meta["name"], meta["version"], os.path.relpath(d, root)])
print(json.dumps(out))
"""


def npm_packages(cenv: ContainerEnv, image: BuiltImage, root: str = "/app") -> set[tuple[str, str]]:
    """(name, version) of every npm package in the image under `root` (its package.json files, read in the image)."""
    out = cenv.run(
        ["podman", "run", "--rm", "--network=none", image.ref, "python3", "-c", _LIST_NPM, root],
        what=f"listing node_modules/*/package.json in {image.ref}",
    )
    rows = json.loads(out)
    where = {(name, version): path for name, version, path in rows}
    assert where.get(("express", "4.17.1")) == "node_modules/express", f"express 4.17.1 is not in {root}: {rows}"
    assert ("qs", "6.7.0") in where, f"qs 6.7.0 (what express 4.17.1 locks) is not in {root}: {rows}"
    assert len(where) > 40, f"only {len(where)} npm packages under {root} of {image.ref}: {rows}"
    return set(where)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def npm(summary: SbomSummary) -> set[Component]:
    return {c for c in summary.components if c.type == "npm"}


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


def _npm_purl(name: str, version: str) -> str:
    scope, _, bare = name.rpartition("/")
    return f"pkg:npm/{scope.replace('@', '%40')}/{bare}@{version}" if scope else f"pkg:npm/{name}@{version}"


def assert_vulnerable_npms(summary: SbomSummary, truth: set[tuple[str, str]]) -> None:
    """The SBOM lists exactly the npm packages the image holds, each with its exact purl."""
    found = npm(summary)
    purls = {c.purl for c in found}
    for purl in ("pkg:npm/express@4.17.1", "pkg:npm/qs@6.7.0"):
        assert purl in purls, f"{summary.tool} {summary.format} lists no {purl}: {sorted(purls)[:60]}"
    listed = {(c.name, c.version) for c in found}
    assert listed == truth, (
        f"{summary.tool} {summary.format}: npm packages differ from the image's package.json files: "
        f"missing {sorted(truth - listed)}, extra {sorted(listed - truth)}"
    )
    wrong = sorted((c.purl, _npm_purl(c.name, c.version)) for c in found if c.purl != _npm_purl(c.name, c.version))
    assert not wrong, f"{summary.tool} {summary.format}: npm purls (listed, expected): {wrong[:10]}"
