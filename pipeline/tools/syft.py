"""syft: SBOMs of the built image, CycloneDX 1.6 and SPDX 2.3 JSON in one run.

syft is asked for explicit format versions (``cyclonedx-json@1.6``, ``spdx-json@2.3``) so that an upgrade of
syft cannot silently change the published spec version. Per-file ownership relationships are turned off
(``SYFT_RELATIONSHIPS_PACKAGE_FILE_OWNERSHIP=false``): the SBOM lists packages, and with them syft's SPDX
for a small Debian image has ~6,300 files / 7,000 relationships, which spdx-tools needs minutes to validate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pipeline.formats import cyclonedx, spdx
from pipeline.model import SbomSummary
from pipeline.tools.base import IN, OUT, ExitCodes, Invocation, pinned

NAME = "syft"
IMAGE = pinned(NAME)
"""Pinned in images.toml: scratch image; the binary is ``/syft``."""

SourceKind = Literal["oci-archive", "docker-archive", "oci-dir", "dir"]
SbomFormat = Literal["cyclonedx-json", "spdx-json"]

FORMAT_VERSIONS: dict[str, str] = {"cyclonedx-json": "1.6", "spdx-json": "2.3"}
REPORTS: dict[str, str] = {
    "cyclonedx-json": f"{OUT}/sbom.cdx.json",
    "spdx-json": f"{OUT}/sbom.spdx.json",
}
CYCLONEDX_REPORT = REPORTS["cyclonedx-json"]
SPDX_REPORT = REPORTS["spdx-json"]
"""Where the SPDX document lands (the Invocation's `report` is the CycloneDX one when both are asked for)."""

ENV: dict[str, str] = {
    "SYFT_CHECK_FOR_APP_UPDATE": "false",
    "SYFT_RELATIONSHIPS_PACKAGE_FILE_OWNERSHIP": "false",
}
EXIT_CODES = ExitCodes(clean=frozenset({0}))
_KINDS: frozenset[str] = frozenset({"oci-archive", "docker-archive", "oci-dir", "dir"})


def sbom(
    *,
    input_path: str = f"{IN}/image.tar",
    source_kind: SourceKind = "oci-archive",
    formats: Sequence[SbomFormat] = ("cyclonedx-json", "spdx-json"),
) -> Invocation:
    """One syft run writing every requested format under OUT (see `REPORTS`).

    `source_kind` is passed with ``--from`` (not as a ``kind:`` prefix of the path) so that the path stays a
    plain container path. `report` is the CycloneDX path when requested, else the first format's path.
    """
    if source_kind not in _KINDS:
        raise ValueError(f"unknown syft source kind {source_kind!r}; use one of {sorted(_KINDS)}")
    if not formats or any(f not in REPORTS for f in formats):
        raise ValueError(f"syft formats must be a non-empty subset of {sorted(REPORTS)}, got {list(formats)}")
    outputs: list[str] = []
    for fmt in dict.fromkeys(formats):
        outputs += ["-o", f"{fmt}@{FORMAT_VERSIONS[fmt]}={REPORTS[fmt]}"]
    report = CYCLONEDX_REPORT if "cyclonedx-json" in formats else REPORTS[formats[0]]
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=("/syft", "scan", "--from", source_kind, input_path, *outputs, "--quiet"),
        report=report,
        exit_codes=EXIT_CODES,
        mounts={input_path: "image"},
        env=dict(ENV),
    )


def reports(inv: Invocation) -> dict[str, str]:
    """Format -> container path of every document `inv` writes."""
    out: dict[str, str] = {}
    for arg in inv.argv:
        fmt, sep, path = arg.partition("=")
        name = fmt.split("@", 1)[0]
        if sep and name in REPORTS:
            out[name] = path
    return out


def parse_cyclonedx(text: str) -> SbomSummary:
    """Validate syft's CycloneDX (schema of its declared version) and summarize it."""
    cyclonedx.validate(text, tool=NAME)
    return cyclonedx.parse(text, tool=NAME)


def parse_spdx(text: str) -> SbomSummary:
    """Normalize syft's SPDX 2.3 (which also repairs its invalid npm download locations, see
    `spdx.normalize`), validate it (spdx-tools, full validation) and summarize it."""
    normalized = spdx.normalize(text, tool=NAME)
    spdx.validate(normalized, tool=NAME)
    return spdx.parse(normalized, tool=NAME)
