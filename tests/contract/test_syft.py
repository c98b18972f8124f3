"""syft's exact Invocation on the real images: both documents validate and list what is really installed."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest

from pipeline.errors import ToolFailed, ToolOutputError
from pipeline.formats import cyclonedx, spdx
from pipeline.model import SbomSummary
from pipeline.tools import syft
from pipeline.tools.base import IN, OUT
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


@attrs.frozen
class SyftRun:
    cdx_text: str
    spdx_text: str

    @property
    def cdx(self) -> SbomSummary:
        return syft.parse_cyclonedx(self.cdx_text)

    @property
    def spdx(self) -> SbomSummary:
        """Validated first: an invalid SPDX document is a ToolOutputError in the test that reads it."""
        return syft.parse_spdx(self.spdx_text)

    def summary(self, fmt: str) -> SbomSummary:
        return self.cdx if fmt == "cyclonedx" else self.spdx


def run_syft(tmp: Path, image_path: Path, kind: syft.SourceKind) -> SyftRun:
    inp, out = tmp / "in", tmp / "out"
    inp.mkdir(parents=True)
    name = "image" if kind == "oci-dir" else "image.tar"
    (inp / name).symlink_to(image_path)
    inv = syft.sbom(input_path=f"{IN}/{name}", source_kind=kind)
    result = run_on_host(inv, {IN: inp, OUT: out})
    inv.exit_codes.check(syft.NAME, result.exit_code, result.stderr)
    paths = syft.reports(result.invocation)
    assert result.invocation.report == paths["cyclonedx-json"]
    cdx_text = result.report
    spdx_text = Path(paths["spdx-json"]).read_text()
    return SyftRun(cdx_text, spdx_text)


@pytest.fixture(scope="module")
def vulnerable_sbom(vulnerable_app_image: BuiltImage, tmp_path_factory: pytest.TempPathFactory) -> SyftRun:
    # the default invocation: an OCI archive at /in/image.tar (what the Dagger stage mounts)
    return run_syft(tmp_path_factory.mktemp("syft"), vulnerable_app_image.oci_archive, "oci-archive")


def test_argv_is_pinned_and_plain() -> None:
    inv = syft.sbom()
    assert inv.argv[:5] == ("/syft", "scan", "--from", "oci-archive", f"{IN}/image.tar")
    assert f"cyclonedx-json@1.6={OUT}/sbom.cdx.json" in inv.argv
    assert f"spdx-json@2.3={OUT}/sbom.spdx.json" in inv.argv
    assert inv.report == syft.CYCLONEDX_REPORT
    assert syft.reports(inv) == {"cyclonedx-json": syft.CYCLONEDX_REPORT, "spdx-json": syft.SPDX_REPORT}
    assert inv.env["SYFT_CHECK_FOR_APP_UPDATE"] == "false"
    assert syft.sbom(formats=("spdx-json",)).report == syft.SPDX_REPORT
    with pytest.raises(ValueError, match="source kind"):
        syft.sbom(source_kind="registry")  # type: ignore[arg-type]


FORMATS = ("cyclonedx", "spdx")


@pytest.mark.parametrize("fmt", FORMATS)
def test_vulnerable_image_sbom_formats_validate(vulnerable_sbom: SyftRun, fmt: str) -> None:
    summary = vulnerable_sbom.summary(fmt)  # validates (spdx-tools / the CycloneDX schema)
    assert summary.spec_version == {"cyclonedx": "1.6", "spdx": "2.3"}[fmt]
    assert summary.tool == "syft"


@pytest.mark.parametrize("fmt", FORMATS)
def test_vulnerable_image_lists_what_is_installed(
    vulnerable_sbom: SyftRun, container_env: ContainerEnv, vulnerable_app_image: BuiltImage, fmt: str
) -> None:
    summary = vulnerable_sbom.summary(fmt)
    assert_debs_match(summary, dpkg_packages(container_env, vulnerable_app_image))
    assert_vulnerable_pips(summary, pip_packages(container_env, vulnerable_app_image))
    assert_vulnerable_npms(summary, npm_packages(container_env, vulnerable_app_image))


def test_normalize_twice_is_byte_identical_and_still_valid(vulnerable_sbom: SyftRun) -> None:
    once = cyclonedx.normalize(vulnerable_sbom.cdx_text)
    assert cyclonedx.normalize(once) == once
    assert cyclonedx.normalize(vulnerable_sbom.cdx_text) == once
    cyclonedx.validate(once)
    assert cyclonedx.parse(once).components == vulnerable_sbom.cdx.components


def test_spdx_normalize_twice_is_byte_identical_and_still_valid(vulnerable_sbom: SyftRun) -> None:
    s_once = spdx.normalize(vulnerable_sbom.spdx_text)
    assert spdx.normalize(s_once) == s_once
    spdx.validate(s_once)
    assert spdx.parse(s_once).components == vulnerable_sbom.spdx.components


def test_other_source_kinds_see_the_same_packages(
    vulnerable_sbom: SyftRun, vulnerable_app_image: BuiltImage, tmp_path: Path
) -> None:
    for kind, path in (("docker-archive", vulnerable_app_image.docker_archive),
                       ("oci-dir", vulnerable_app_image.oci_dir)):  # fmt: skip
        other = run_syft(tmp_path / kind, path, kind)  # type: ignore[arg-type]
        assert other.cdx.components == vulnerable_sbom.cdx.components, kind


def test_clean_example_app_has_only_debian_packages(
    example_app_image: BuiltImage, container_env: ContainerEnv, tmp_path: Path
) -> None:
    run = run_syft(tmp_path, example_app_image.oci_archive, "oci-archive")
    assert_debs_match(run.cdx, dpkg_packages(container_env, example_app_image))
    assert not [c for c in run.cdx.components if c.type in ("pypi", "npm")]


def test_not_an_image_is_a_tool_failure(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar"
    junk.write_text("this is not an image\n")
    inp, out = tmp_path / "in", tmp_path / "out"
    inp.mkdir()
    (inp / "image.tar").symlink_to(junk)
    inv = syft.sbom()
    result = run_on_host(inv, {IN: inp, OUT: out})
    with pytest.raises(ToolFailed) as err:
        inv.exit_codes.check(syft.NAME, result.exit_code, result.stderr)
    assert err.value.exit_code != 0
    with pytest.raises(ToolOutputError):  # no report written: parsing the nothing fails closed too
        syft.parse_cyclonedx(result.report)
