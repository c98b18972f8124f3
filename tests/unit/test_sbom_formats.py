from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from pipeline.errors import ToolOutputError
from pipeline.formats import cyclonedx, spdx

UUID_A = "6dfc4d55-c261-4a39-ac6d-8004133a401a"
UUID_B = "17efef67-8f41-4a70-b803-26cd61f50e1f"


def cdx_doc(spec: str = "1.6") -> dict[str, Any]:
    """Shaped like trivy's image SBOM: random UUID bom-refs, timestamp, serial, unsorted lists."""
    return {
        "$schema": f"http://cyclonedx.org/schema/bom-{spec}.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": spec,
        "serialNumber": "urn:uuid:40993c2f-17c4-4431-b4a4-e76337ab8e3e",
        "version": 1,
        "metadata": {
            "timestamp": "2026-11-27T10:11:18+00:00",
            "tools": {"components": [{"type": "application", "name": "trivy", "version": "0.76.0"}]},
            "component": {"bom-ref": UUID_A, "type": "container", "name": "image.tar"},
        },
        "components": [
            {
                "bom-ref": "pkg:pypi/requests@2.19.0",
                "type": "library",
                "name": "requests",
                "version": "2.19.0",
                "purl": "pkg:pypi/requests@2.19.0",
                "licenses": [{"license": {"name": "Apache 2.0"}}],
                "properties": [{"name": "b", "value": "2"}, {"name": "a", "value": "1"}],
            },
            {"bom-ref": UUID_B, "type": "operating-system", "name": "debian", "version": "12.15"},
            {
                "bom-ref": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12.15",
                "type": "library",
                "name": "libc6",
                "version": "2.36-9+deb12u14",
                "purl": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12.15",
                "licenses": [{"license": {"id": "LGPL-2.1-only"}}, {"license": {"id": "GPL-2.0-only"}}],
            },
            {
                "bom-ref": "pkg:npm/left-pad@1.3.0",
                "type": "library",
                "name": "left-pad",
                "version": "1.3.0",
                "purl": "pkg:npm/left-pad@1.3.0",
                "licenses": [{"expression": "MIT OR Apache-2.0"}],
            },
        ],
        "dependencies": [
            {"ref": UUID_A, "dependsOn": [UUID_B, "pkg:pypi/requests@2.19.0"]},
            {"ref": UUID_B, "dependsOn": [
                "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64&distro=debian-12.15"]},
        ],
    }  # fmt: skip


def spdx_doc() -> dict[str, Any]:
    return {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "image.tar",
        "documentNamespace": "https://anchore.com/syft/image/image.tar-cf6d8628-48dc-40f1-a4e9-173e3e4984a2",
        "creationInfo": {"creators": ["Tool: syft-1.18.1", "Organization: Anchore, Inc"],
                         "created": "2026-11-27T10:11:16Z"},
        "packages": [
            {"name": "requests", "SPDXID": "SPDXRef-Package-python-requests", "versionInfo": "2.19.0",
             "downloadLocation": "NOASSERTION", "filesAnalyzed": False, "licenseConcluded": "NOASSERTION",
             "licenseDeclared": "LicenseRef-Apache-2.0", "copyrightText": "NOASSERTION",
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:pypi/requests@2.19.0"}]},
            {"name": "image.tar", "SPDXID": "SPDXRef-ContainerImage", "downloadLocation": "NONE",
             "filesAnalyzed": False, "primaryPackagePurpose": "CONTAINER"},
            {"name": "libc6", "SPDXID": "SPDXRef-Package-deb-libc6", "versionInfo": "2.36-9+deb12u14",
             "downloadLocation": "NOASSERTION", "filesAnalyzed": False, "licenseConcluded": "NOASSERTION",
             "licenseDeclared": "GPL-2.0-only AND LGPL-2.1-only", "copyrightText": "NOASSERTION",
             "annotations": [{"annotator": "Tool: trivy-0.76.0", "annotationDate": "2026-11-27T10:11:18Z",
                              "annotationType": "OTHER", "comment": "PkgType: debian"}],
             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                               "referenceLocator": "pkg:deb/debian/libc6@2.36-9%2Bdeb12u14?arch=amd64"}]},
        ],
        "hasExtractedLicensingInfos": [
            {"licenseId": "LicenseRef-Apache-2.0", "extractedText": "Apache 2.0"}],
        "relationships": [
            {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
             "relatedSpdxElement": "SPDXRef-ContainerImage"},
            {"spdxElementId": "SPDXRef-ContainerImage", "relationshipType": "CONTAINS",
             "relatedSpdxElement": "SPDXRef-Package-python-requests"},
            {"spdxElementId": "SPDXRef-ContainerImage", "relationshipType": "CONTAINS",
             "relatedSpdxElement": "SPDXRef-Package-deb-libc6"},
        ],
    }  # fmt: skip


def shuffled(doc: dict[str, Any], *keys: str) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    for k in keys:
        out[k] = list(reversed(out[k]))
    return out


# --------------------------------------------------------------------------------------------- CycloneDX


def test_cyclonedx_parse_components_purl_types_and_licenses() -> None:
    summary = cyclonedx.parse(json.dumps(cdx_doc()), tool="trivy")
    assert summary.format == "cyclonedx" and summary.spec_version == "1.6" and summary.tool == "trivy"
    by_name = {c.name: c for c in summary.components}
    assert by_name["requests"].type == "pypi"
    assert by_name["requests"].licenses == ("Apache-2.0",)  # "Apache 2.0" name mapped to its SPDX id
    assert by_name["libc6"].type == "deb"
    assert by_name["libc6"].licenses == ("GPL-2.0-only", "LGPL-2.1-only")
    assert by_name["left-pad"].licenses == ("MIT OR Apache-2.0",)
    assert by_name["debian"].type == "operating-system"
    assert list(summary.components) == sorted(summary.components)


def test_cyclonedx_normalize_is_deterministic_and_idempotent() -> None:
    a = cyclonedx.normalize(json.dumps(cdx_doc()))
    b = cyclonedx.normalize(json.dumps(shuffled(cdx_doc(), "components", "dependencies"), indent=4))
    assert a == b
    assert cyclonedx.normalize(a) == a
    data = json.loads(a)
    assert "timestamp" not in data["metadata"]
    assert UUID_A not in a and UUID_B not in a  # random refs replaced, references follow
    refs = {c["bom-ref"] for c in data["components"]} | {data["metadata"]["component"]["bom-ref"]}
    for dep in data["dependencies"]:
        assert dep["ref"] in refs
        assert set(dep["dependsOn"]) <= refs
    assert data["serialNumber"].startswith("urn:uuid:")
    assert data["serialNumber"] != cdx_doc()["serialNumber"]
    cyclonedx.validate(a)


def test_cyclonedx_normalize_serial_follows_content_and_options() -> None:
    base = cyclonedx.normalize(json.dumps(cdx_doc()))
    changed = cdx_doc()
    changed["components"][0]["version"] = "2.20.0"
    assert json.loads(cyclonedx.normalize(json.dumps(changed)))["serialNumber"] != json.loads(base)["serialNumber"]
    fixed = json.loads(
        cyclonedx.normalize(json.dumps(cdx_doc()), timestamp="2020-01-01T00:00:00Z",
                            serial="urn:uuid:00000000-0000-4000-8000-000000000000")
    )  # fmt: skip
    assert fixed["metadata"]["timestamp"] == "2020-01-01T00:00:00Z"
    assert fixed["serialNumber"] == "urn:uuid:00000000-0000-4000-8000-000000000000"


def test_cyclonedx_validate_uses_the_declared_version() -> None:
    cyclonedx.validate(json.dumps(cdx_doc("1.7")), tool="trivy")
    cyclonedx.validate(json.dumps(cdx_doc("1.6")))
    bad = cdx_doc()
    bad["components"][0]["type"] = "not-a-type"
    with pytest.raises(ToolOutputError, match=r"not valid CycloneDX 1\.6"):
        cyclonedx.validate(json.dumps(bad))


def test_cyclonedx_as_spec_version_relabels_only_valid_content() -> None:
    out = cyclonedx.as_spec_version(json.dumps(cdx_doc("1.7")), "1.6")
    assert json.loads(out)["specVersion"] == "1.6"
    assert json.loads(out)["$schema"].endswith("bom-1.6.schema.json")
    newer = cdx_doc("1.7")
    newer["components"][0]["type"] = "data"
    newer["components"][0]["data"] = [{"type": "dataset", "name": "x", "unknown-1.7-field": True}]
    with pytest.raises(ToolOutputError):
        cyclonedx.as_spec_version(json.dumps(newer), "1.6")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [', "truncated"),
        ("<bom/>", "not JSON"),
        ("[]", "not an object"),
        ('{"spdxVersion": "SPDX-2.3"}', "not a CycloneDX document"),
        ('{"bomFormat": "CycloneDX", "specVersion": "9.9"}', "unsupported"),
    ],
)
def test_cyclonedx_fails_closed(text: str, problem: str) -> None:
    for fn in (cyclonedx.parse, cyclonedx.normalize, cyclonedx.validate):
        with pytest.raises(ToolOutputError, match=problem):
            fn(text)


# --------------------------------------------------------------------------------------------- SPDX


def test_spdx_parse_skips_the_container_and_reads_purls() -> None:
    summary = spdx.parse(json.dumps(spdx_doc()))
    assert summary.format == "spdx" and summary.spec_version == "2.3" and summary.tool == "syft"
    assert [c.name for c in summary.components] == ["libc6", "requests"]
    by_name = {c.name: c for c in summary.components}
    assert by_name["libc6"].type == "deb"
    assert by_name["libc6"].licenses == ("GPL-2.0-only AND LGPL-2.1-only",)
    assert by_name["requests"].purl == "pkg:pypi/requests@2.19.0"
    assert by_name["requests"].licenses == ("LicenseRef-Apache-2.0",)


def test_spdx_normalize_is_deterministic_and_valid() -> None:
    a = spdx.normalize(json.dumps(spdx_doc()))
    b = spdx.normalize(json.dumps(shuffled(spdx_doc(), "packages", "relationships"), indent=1))
    assert a == b
    assert spdx.normalize(a) == a
    data = json.loads(a)
    assert data["creationInfo"]["created"] == spdx.EPOCH
    assert data["packages"][1]["annotations"][0]["annotationDate"] == spdx.EPOCH
    assert data["documentNamespace"].startswith(spdx.NAMESPACE_PREFIX)
    assert "cf6d8628" not in data["documentNamespace"]
    spdx.validate(a)
    given = json.loads(spdx.normalize(json.dumps(spdx_doc()), timestamp="2024-05-01T00:00:00Z",
                                      serial="https://example.invalid/spdx/1"))  # fmt: skip
    assert given["creationInfo"]["created"] == "2024-05-01T00:00:00Z"
    assert given["documentNamespace"] == "https://example.invalid/spdx/1"


def test_spdx_validate_reports_spdx_tools_problems() -> None:
    broken = spdx_doc()
    broken["relationships"].append(
        {"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": "SPDXRef-Nope"}
    )
    with pytest.raises(ToolOutputError, match=r"SPDX-2\.3"):
        spdx.validate(json.dumps(broken))
    no_name = spdx_doc()
    del no_name["packages"][0]["name"]
    with pytest.raises(ToolOutputError, match=r"not a valid SPDX-2\.3"):
        spdx.validate(json.dumps(no_name))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ('{"spdxVersion": "SPDX-2.3", "packages": [{"name": "a"', "truncated"),
        ("SPDXVersion: SPDX-2.3", "not JSON"),
        ('{"bomFormat": "CycloneDX"}', "not an SPDX document"),
        ('{"spdxVersion": "SPDX-3.0"}', "unsupported"),
    ],
)
def test_spdx_fails_closed(text: str, problem: str) -> None:
    for fn in (spdx.parse, spdx.normalize, spdx.validate):
        with pytest.raises(ToolOutputError, match=problem):
            fn(text)


def test_spdx_normalize_replaces_invalid_download_locations_only() -> None:
    import json as _json

    from pipeline.formats import spdx as _spdx

    doc = {
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": "x",
        "documentNamespace": "https://example.invalid/x",
        "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: syft-1.18.1"]},
        "packages": [
            {"SPDXID": "SPDXRef-a", "name": "accepts", "versionInfo": "1.3.7", "downloadLocation": "jshttp/accepts"},
            {"SPDXID": "SPDXRef-b", "name": "b", "versionInfo": "1", "downloadLocation": "https://github.com/x/b"},
            {"SPDXID": "SPDXRef-c", "name": "c", "versionInfo": "1", "downloadLocation": "NONE"},
        ],
    }
    out = _json.loads(_spdx.normalize(_json.dumps(doc)))
    locations = {p["name"]: p["downloadLocation"] for p in out["packages"]}
    assert locations == {"accepts": "NOASSERTION", "b": "https://github.com/x/b", "c": "NONE"}
