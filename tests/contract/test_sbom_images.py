"""trivy's image SBOMs (pipeline.tools.trivy.sbom, run exactly) on the built images, checked like syft's.

trivy 0.76 writes CycloneDX 1.7 and cannot be asked for 1.6: it is validated as 1.7, and
`cyclonedx.as_spec_version(…, "1.6")` is checked to relabel it as valid 1.6.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.formats import cyclonedx, spdx
from pipeline.tools import trivy
from pipeline.tools.base import CACHE, IN, OUT
from tests.contract._sbom_checks import (
    assert_debs_match,
    assert_vulnerable_npms,
    assert_vulnerable_pips,
    dpkg_packages,
    npm_packages,
    pip_packages,
)
from tests.hostrun import run_on_host
from tests.images import BuiltImage, ContainerEnv

# The image fixtures (container_env, base_image, example_app_image, vulnerable_app_image) come from
# tests/images.py; until tests/conftest.py loads it as a plugin, load it here.

pytestmark = pytest.mark.contract


def run_trivy_sbom(tmp: Path, image: BuiltImage, fmt: trivy.SbomFormat, run: str = "1") -> str:
    inp, out, cache = tmp / "in", tmp / f"out-{run}", tmp / f"cache-{run}"  # a per-run trivy cache
    if not inp.exists():
        inp.mkdir(parents=True)
        (inp / "image.tar").symlink_to(image.docker_archive)  # trivy rejects OCI archives
    inv = trivy.sbom(input_path=f"{IN}/image.tar", fmt=fmt)
    result = run_on_host(inv, {IN: inp, OUT: out, CACHE: cache})
    inv.exit_codes.check(trivy.NAME, result.exit_code, result.stderr)
    return result.report


@pytest.mark.parametrize("fmt", ["cyclonedx", "spdx-json"])
def test_trivy_sbom_of_vulnerable_image(
    fmt: trivy.SbomFormat, vulnerable_app_image: BuiltImage, container_env: ContainerEnv, tmp_path: Path
) -> None:
    text = run_trivy_sbom(tmp_path, vulnerable_app_image, fmt)
    if fmt == "cyclonedx":
        assert json.loads(text)["specVersion"] == "1.7"
        cyclonedx.validate(text, tool="trivy")
        cyclonedx.validate(cyclonedx.as_spec_version(text, "1.6"), tool="trivy")
        summary = cyclonedx.parse(text, tool="trivy")
        once = cyclonedx.normalize(text, tool="trivy")
        assert cyclonedx.normalize(once, tool="trivy") == once
        cyclonedx.validate(once, tool="trivy")
    else:
        spdx.validate(text, tool="trivy")
        summary = spdx.parse(text, tool="trivy")
        assert summary.spec_version == "2.3"
        once = spdx.normalize(text, tool="trivy")
        assert spdx.normalize(once, tool="trivy") == once
        spdx.validate(once, tool="trivy")
    assert summary.tool == "trivy"
    assert_debs_match(summary, dpkg_packages(container_env, vulnerable_app_image))
    assert_vulnerable_pips(summary, pip_packages(container_env, vulnerable_app_image))
    assert_vulnerable_npms(summary, npm_packages(container_env, vulnerable_app_image))


def test_trivy_runs_normalize_to_identical_bytes(vulnerable_app_image: BuiltImage, tmp_path: Path) -> None:
    """Two independent trivy runs (fresh caches, random UUID bom-refs) normalize to the same document.

    Same input path for both: trivy writes the path into the document (the stage always mounts /in/image.tar).
    """
    for fmt, mod in (("cyclonedx", cyclonedx), ("spdx-json", spdx)):
        a = run_trivy_sbom(tmp_path / fmt, vulnerable_app_image, fmt, "a")  # type: ignore[arg-type]
        b = run_trivy_sbom(tmp_path / fmt, vulnerable_app_image, fmt, "b")  # type: ignore[arg-type]
        assert a != b  # raw output carries timestamps / random ids ...
        assert mod.normalize(a, tool="trivy") == mod.normalize(b, tool="trivy")  # ... normalized it does not


def test_trivy_sees_the_same_debian_base_as_dpkg(
    base_image: BuiltImage, container_env: ContainerEnv, tmp_path: Path
) -> None:
    summary = cyclonedx.parse(run_trivy_sbom(tmp_path, base_image, "cyclonedx"), tool="trivy")
    assert_debs_match(summary, dpkg_packages(container_env, base_image))
    assert not [c for c in summary.components if c.type in ("pypi", "npm")]
    os_components = [c for c in summary.components if c.type == "operating-system"]
    assert [(c.name, c.version.split(".")[0]) for c in os_components] == [("debian", "12")]
