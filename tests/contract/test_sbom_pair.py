"""The SBOM pair `ship` publishes, from real trivy and syft output: deterministic, CycloneDX 1.6, SPDX 2.3."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.errors import ToolOutputError
from pipeline.formats.sbom_pair import finalize

pytestmark = pytest.mark.contract
ROOT = Path(__file__).resolve().parents[2]


def _trivy_sbom(src: Path, fmt: str, cache: Path) -> str:
    trivy = shutil.which("trivy")
    assert trivy, "trivy is not on PATH; run scripts/test.sh"
    out = subprocess.run(
        [trivy, "fs", "--cache-dir", str(cache), "--format", fmt, "--quiet", str(src)],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return out.stdout


def test_trivy_sboms_of_the_bad_project_become_a_valid_deterministic_pair(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "tests" / "fixtures" / "bad-project", src)
    cdx = _trivy_sbom(src, "cyclonedx", tmp_path / "cache")
    spdx_text = _trivy_sbom(src, "spdx-json", tmp_path / "cache")
    assert json.loads(cdx)["specVersion"] == "1.7"  # what trivy 0.76 writes; we publish 1.6
    one = finalize(cdx, spdx_text, tool="trivy")
    two = finalize(
        _trivy_sbom(src, "cyclonedx", tmp_path / "cache"),
        _trivy_sbom(src, "spdx-json", tmp_path / "cache"),
        tool="trivy",
    )
    assert one.cyclonedx == two.cyclonedx and one.spdx == two.spdx
    assert json.loads(one.cyclonedx)["specVersion"] == "1.6"
    assert json.loads(one.spdx)["spdxVersion"] == "SPDX-2.3"
    purls = {c.purl for c in one.summary.components}
    assert {
        "pkg:pypi/requests@2.19.0",
        "pkg:pypi/jinja2@2.10",
        "pkg:pypi/urllib3@1.23",
        "pkg:pypi/pyyaml@5.3",
    } <= purls


def test_syft_sboms_from_the_fixture_validate() -> None:
    fx = ROOT / "tests" / "fixtures" / "attestations"
    pair = finalize((fx / "sbom.cdx.json").read_text(), (fx / "sbom.spdx.json").read_text(), tool="syft")
    assert pair.summary.components


def test_a_truncated_sbom_fails_closed() -> None:
    fx = ROOT / "tests" / "fixtures" / "attestations"
    text = (fx / "sbom.cdx.json").read_text()
    with pytest.raises(ToolOutputError, match="syft"):
        finalize(text[: len(text) // 2], (fx / "sbom.spdx.json").read_text(), tool="syft")


def test_source_sbom_invocation_gives_a_valid_cyclonedx_16(tmp_path: Path) -> None:
    from pipeline.formats.sbom_pair import finalize_cyclonedx
    from pipeline.tools import trivy
    from pipeline.tools.base import CACHE, OUT, SRC
    from tests.hostrun import run_on_host

    src = tmp_path / "src"
    shutil.copytree(ROOT / "tests" / "fixtures" / "bad-project", src)
    inv = trivy.source_sbom()
    got = run_on_host(inv, {SRC: src, OUT: tmp_path / "out", CACHE: tmp_path / "cache"})
    inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)
    text = finalize_cyclonedx(got.report, tool="trivy")
    doc = json.loads(text)
    assert doc["specVersion"] == "1.6"
    assert "pkg:pypi/pyyaml@5.3" in {c.get("purl") for c in doc["components"]}
    assert finalize_cyclonedx(got.report, tool="trivy") == text
