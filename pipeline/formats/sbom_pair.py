"""The two SBOM documents Seaworthy publishes for an image, made deterministic and validated.

CycloneDX is published as spec 1.6 (trivy 0.76 writes 1.7; the document is relabelled only if it is valid
1.6, else the run fails), SPDX as 2.3. Both are normalized (sorted, no fresh timestamps or random serial
numbers) so two runs over the same image give the same bytes, then validated: CycloneDX against its JSON
schema (cyclonedx-python-lib), SPDX with spdx-tools' full validation.
"""

from __future__ import annotations

import attrs

from pipeline.formats import cyclonedx, spdx
from pipeline.model import SbomSummary

CYCLONEDX_VERSION = "1.6"


@attrs.frozen
class SbomPair:
    cyclonedx: str
    spdx: str
    summary: SbomSummary
    """Parsed from the CycloneDX document (what the gate and the reports read)."""


def finalize_cyclonedx(text: str, *, tool: str) -> str:
    """One CycloneDX document normalized, labelled 1.6 (only if valid as such) and validated."""
    cdx = cyclonedx.normalize(text, tool=tool)
    cdx = cyclonedx.as_spec_version(cdx, CYCLONEDX_VERSION, tool=tool)
    cyclonedx.validate(cdx, tool=tool)
    return cdx


def finalize(cyclonedx_text: str, spdx_text: str, *, tool: str) -> SbomPair:
    """Normalize, relabel and validate both documents; raises ToolOutputError naming the tool."""
    cdx = finalize_cyclonedx(cyclonedx_text, tool=tool)
    doc = spdx.normalize(spdx_text, tool=tool)
    spdx.validate(doc, tool=tool)
    return SbomPair(cdx, doc, cyclonedx.parse(cdx, tool=tool))
