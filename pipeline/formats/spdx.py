"""SPDX 2.3 JSON: read into `SbomSummary`, make deterministic, validate with spdx-tools.

Validation cost: spdx-tools' full validation is roughly quadratic in (files x relationships). On syft's
default output for a 128-package Debian image (6,300 files, 7,000 relationships) it takes ~2 minutes, which
is why `pipeline.tools.syft` turns off per-file ownership relationships (the document then has ~450 files and
validates in ~2 s). The check itself is never skipped.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, cast

from pipeline.errors import ToolOutputError
from pipeline.formats._sbom import (
    check_license_expression,
    content_hash,
    dumps,
    items,
    load_document,
    obj,
    purl_type,
    str_key,
)
from pipeline.model import Component, SbomSummary

FORMAT = "spdx"
SUPPORTED = ("SPDX-2.2", "SPDX-2.3")
EPOCH = "1970-01-01T00:00:00Z"
"""`creationInfo.created` is mandatory in SPDX: without a given timestamp it is set to this fixed value."""
NAMESPACE_PREFIX = "https://seaworthy.invalid/spdxdocs/"
_NO_VALUE = ("", "NOASSERTION", "NONE")
_SLUG = re.compile(r"[^A-Za-z0-9.\-]+")


def _document(text: str, tool: str) -> dict[str, Any]:
    data = load_document(tool, text, "SPDX")
    version = data.get("spdxVersion")
    if not isinstance(version, str) or not version.startswith("SPDX-"):
        raise ToolOutputError(tool, f"not an SPDX document (spdxVersion is {version!r})")
    if version not in SUPPORTED:
        raise ToolOutputError(tool, f"unsupported {version} (supported: {', '.join(SUPPORTED)})")
    return data


def _purl(pkg: dict[str, Any]) -> str:
    for ref in items(pkg.get("externalRefs")):
        if not isinstance(ref, dict):
            continue
        r = cast(dict[str, Any], ref)
        if r.get("referenceType") == "purl" and isinstance(r.get("referenceLocator"), str):
            return str(r["referenceLocator"])
    return ""


def _license(pkg: dict[str, Any]) -> tuple[str, ...]:
    for key in ("licenseDeclared", "licenseConcluded"):
        value = pkg.get(key)
        if isinstance(value, str) and value.strip() not in _NO_VALUE:
            return (value.strip(),)
    return ()


def _packages(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [obj(p) for p in items(data.get("packages")) if isinstance(p, dict)]


def _tool_name(data: dict[str, Any]) -> str:
    for c in items(obj(data.get("creationInfo")).get("creators")):
        if isinstance(c, str) and c.startswith("Tool:"):
            name = c.removeprefix("Tool:").strip()
            return re.sub(r"-v?\d[\w.\-+]*$", "", name)
    return ""


def _described(data: dict[str, Any]) -> set[str]:
    """SPDX ids of what the document describes (``documentDescribes`` and DESCRIBES relationships)."""
    ids = {d for d in items(data.get("documentDescribes")) if isinstance(d, str)}
    for rel in items(data.get("relationships")):
        r = obj(rel)
        if r.get("relationshipType") == "DESCRIBES" and r.get("spdxElementId") == "SPDXRef-DOCUMENT":
            target = r.get("relatedSpdxElement")
            if isinstance(target, str):
                ids.add(target)
    return ids


def _is_scanned_subject(pkg: dict[str, Any], described: set[str]) -> bool:
    """The image or directory the SBOM is *of* (CycloneDX's metadata.component), not one of its parts:
    a CONTAINER package, or a described package that is no package at all (no purl; purpose SOURCE,
    FILE or none — trivy and syft describe a scanned directory ``.`` so)."""
    purpose = pkg.get("primaryPackagePurpose")
    if purpose == "CONTAINER":
        return True
    return pkg.get("SPDXID") in described and not _purl(pkg) and purpose in (None, "SOURCE", "FILE")


def parse(text: str, *, tool: str = "syft") -> SbomSummary:
    """The packages of an SPDX JSON document, sorted, as many as the document lists (identical entries
    included). The scanned image or directory itself is not a component (`_is_scanned_subject`), just as
    CycloneDX keeps it in ``metadata.component``: both documents of a pair count the same components.

    `tool` is the producer blamed when the text is empty, truncated, nested absurdly deep or not SPDX
    (ToolOutputError).
    """
    data = _document(text, tool)
    described = _described(data)
    comps: list[Component] = []
    for p in _packages(data):
        if _is_scanned_subject(p, described):
            continue
        purl = _purl(p)
        purpose = str(p.get("primaryPackagePurpose") or "").lower()
        name = str(p.get("name") or "")
        licenses = _license(p)
        for lic in licenses:
            check_license_expression(tool, lic, f"package {name!r}")
        comps.append(
            Component(
                name=name,
                version=str(p.get("versionInfo") or ""),
                purl=purl,
                type=purl_type(purl) or purpose,
                licenses=licenses,
            )
        )
    return SbomSummary(
        format=FORMAT,
        spec_version=str(data["spdxVersion"]).removeprefix("SPDX-"),
        components=tuple(sorted(comps)),
        tool=_tool_name(data),
    )


_SORT_FIELDS: dict[str, tuple[str, ...]] = {
    "packages": ("name", "versionInfo", "SPDXID"),
    "files": ("fileName", "SPDXID"),
    "relationships": ("spdxElementId", "relationshipType", "relatedSpdxElement"),
}


def _sorted(node: Any, key: str = "") -> Any:
    if isinstance(node, dict):
        return {k: _sorted(v, k) for k, v in cast(dict[str, Any], node).items()}
    if isinstance(node, list):
        elems = [_sorted(v, key) for v in cast(list[Any], node)]
        fields = _SORT_FIELDS.get(key)
        if fields is None:
            return sorted(elems, key=str_key)
        return sorted(elems, key=lambda e: (*(str(obj(e).get(f) or "") for f in fields), str_key(e)))
    return node


def _set_annotation_dates(node: Any, when: str) -> None:
    if isinstance(node, dict):
        d = cast(dict[str, Any], node)
        if "annotationDate" in d:
            d["annotationDate"] = when
        for v in d.values():
            _set_annotation_dates(v, when)
    elif isinstance(node, list):
        for v in cast(list[Any], node):
            _set_annotation_dates(v, when)


def normalize(text: str, *, timestamp: str | None = None, serial: str | None = None, tool: str = "syft") -> str:
    """A deterministic rendering of an SPDX JSON document.

    - ``creationInfo.created`` and every ``annotationDate`` become `timestamp` (default: the fixed EPOCH,
      since SPDX requires a creation time);
    - packages, files and relationships are sorted, and every other list canonically;
    - a package ``downloadLocation`` that is not a valid SPDX download location becomes ``NOASSERTION``
      (syft 1.18 copies npm's ``user/repo`` shorthand there, which the SPDX spec does not allow);
    - ``documentNamespace`` is `serial` (a URI), or ``https://seaworthy.invalid/spdxdocs/<name>-<uuid>``
      with the UUID derived from the hash of the normalized content.
    """
    data = _document(text, tool)
    _fix_download_locations(data)
    when = timestamp if timestamp is not None else EPOCH
    info = data.get("creationInfo")
    if isinstance(info, dict):
        cast(dict[str, Any], info)["created"] = when
    _set_annotation_dates(data, when)
    data.pop("documentNamespace", None)
    data = cast(dict[str, Any], _sorted(data))
    if serial is not None:
        data["documentNamespace"] = serial
    else:
        slug = _SLUG.sub("-", str(data.get("name") or "sbom")).strip("-")[-80:] or "sbom"
        digest = uuid.UUID(bytes=bytes.fromhex(content_hash(data)[:32]), version=5)
        data["documentNamespace"] = f"{NAMESPACE_PREFIX}{slug}-{digest}"
    return dumps(data)


def _fix_download_locations(data: dict[str, Any]) -> None:
    from spdx_tools.spdx.validation.uri_validators import validate_download_location

    packages: Any = data.get("packages")
    if not isinstance(packages, list):
        return
    for pkg in cast(list[Any], packages):
        if not isinstance(pkg, dict):
            continue
        entry = cast(dict[str, Any], pkg)
        where: Any = entry.get("downloadLocation")
        if isinstance(where, str) and where not in ("NONE", "NOASSERTION") and validate_download_location(where):
            entry["downloadLocation"] = "NOASSERTION"


def validate(text: str, *, tool: str = "syft") -> None:
    """Parse with spdx-tools and run its full validation for the document's version (2.3 or 2.2).

    Raises ToolOutputError with the first problems spdx-tools reports.
    """
    from spdx_tools.spdx.parser.error import SPDXParsingError
    from spdx_tools.spdx.parser.jsonlikedict.json_like_dict_parser import JsonLikeDictParser
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    data = _document(text, tool)
    version = str(data["spdxVersion"])
    try:
        document = JsonLikeDictParser().parse(data)  # pyright: ignore[reportUnknownMemberType]
    except SPDXParsingError as exc:
        problems = "; ".join(str(m)[:200] for m in exc.get_messages()[:3])
        raise ToolOutputError(tool, f"not a valid {version} document: {problems}") from None
    except (AttributeError, TypeError, ValueError, KeyError) as exc:  # spdx-tools assumes the JSON's shape
        raise ToolOutputError(
            tool, f"not a valid {version} document: spdx-tools cannot read it ({exc!r:.200})"
        ) from None
    messages = validate_full_spdx_document(document, version)
    if messages:
        first = "; ".join(m.validation_message[:200] for m in messages[:3])
        raise ToolOutputError(tool, f"not a valid {version} document ({len(messages)} problems): {first}")
