"""CycloneDX JSON: read into `SbomSummary`, make deterministic, validate against the official schema.

Spec versions. syft is asked for CycloneDX **1.6** explicitly (``-o cyclonedx-json@1.6``), so the SBOM the
pipeline publishes is 1.6 as the issue asks. trivy 0.76 always writes **1.7** (it has no flag to choose);
`validate` checks every document against the schema of the version it declares, and `as_spec_version`
relabels a document to 1.6 only after checking it is valid 1.6 (trivy's image SBOMs are: they use no 1.7-only
field), so a 1.6 consumer can be given trivy's SBOM too. Nothing is converted silently.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any, cast

from pipeline.errors import ToolOutputError
from pipeline.formats._sbom import (
    check_license_expression,
    content_hash,
    dumps,
    items,
    license_id,
    load_document,
    obj,
    purl_type,
    str_key,
)
from pipeline.model import Component, SbomSummary

FORMAT = "cyclonedx"
SUPPORTED = ("1.2", "1.3", "1.4", "1.5", "1.6", "1.7")
SCHEMA_URL = "http://cyclonedx.org/schema/bom-{version}.schema.json"

_UUID_REF = re.compile(r"^(urn:uuid:)?[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


def _document(text: str, tool: str) -> dict[str, Any]:
    data = load_document(tool, text, "CycloneDX")
    if data.get("bomFormat") != "CycloneDX":
        raise ToolOutputError(tool, f"not a CycloneDX document (bomFormat is {data.get('bomFormat')!r})")
    spec = data.get("specVersion")
    if spec not in SUPPORTED:
        raise ToolOutputError(tool, f"unsupported CycloneDX specVersion {spec!r} (supported: {SUPPORTED})")
    return data


def _walk_components(items: Any) -> list[dict[str, Any]]:
    """Every component, nested ones after their parent (depth first), iteratively."""
    out: list[dict[str, Any]] = []
    stack: list[Any] = [items]
    while stack:
        level = stack.pop()
        if not isinstance(level, list):
            continue
        pending: list[Any] = []
        for item in cast(list[Any], level):
            if isinstance(item, dict):
                comp = cast(dict[str, Any], item)
                out.append(comp)
                pending.append(comp.get("components"))
        stack.extend(reversed(pending))
    return out


def _licenses(comp: dict[str, Any]) -> tuple[str, ...]:
    found: set[str] = set()
    for entry in cast(list[Any], comp.get("licenses") or []):
        if not isinstance(entry, dict):
            continue
        e = cast(dict[str, Any], entry)
        if isinstance(e.get("expression"), str) and e["expression"].strip():
            found.add(str(e["expression"]).strip())
            continue
        lic = e.get("license")
        if not isinstance(lic, dict):
            continue
        lic = cast(dict[str, Any], lic)
        if isinstance(lic.get("id"), str) and lic["id"]:
            found.add(str(lic["id"]))
        elif isinstance(lic.get("name"), str) and lic["name"].strip():
            ident = license_id(str(lic["name"]))
            if ident:
                found.add(ident)
    return tuple(sorted(found))


def _tool_name(data: dict[str, Any]) -> str:
    tools: Any = obj(data.get("metadata")).get("tools")
    entries = items(obj(tools).get("components")) if isinstance(tools, dict) else items(tools)
    for t in entries:
        name = obj(t).get("name")
        if name:
            return str(name)
    return ""


def parse(text: str, *, tool: str = "syft") -> SbomSummary:
    """The components of a CycloneDX JSON document (nested ones included), sorted.

    Every entry counts, even two identical ones (the same package found at two places): the summary
    has as many components as the published document lists. `tool` is the producer blamed when the text
    is empty, truncated, nested absurdly deep or not CycloneDX (ToolOutputError).
    """
    data = _document(text, tool)
    comps: list[Component] = []
    for c in _walk_components(data.get("components")):
        purl = str(c.get("purl") or "")
        name = str(c.get("name") or "")
        licenses = _licenses(c)
        for lic in licenses:
            check_license_expression(tool, lic, f"component {name!r}")
        comps.append(
            Component(
                name=name,
                version=str(c.get("version") or ""),
                purl=purl,
                type=purl_type(purl) or str(c.get("type") or ""),
                licenses=licenses,
            )
        )
    return SbomSummary(
        format=FORMAT,
        spec_version=str(data["specVersion"]),
        components=tuple(sorted(comps)),
        tool=_tool_name(data),
    )


def _identity(comp: dict[str, Any]) -> str:
    return "\x1f".join(str(comp.get(k) or "") for k in ("type", "group", "name", "version", "purl"))


def _replace_strings(node: Any, mapping: dict[str, str]) -> Any:
    if isinstance(node, str):
        return mapping.get(node, node)
    if isinstance(node, list):
        return [_replace_strings(v, mapping) for v in cast(list[Any], node)]
    if isinstance(node, dict):
        return {k: _replace_strings(v, mapping) for k, v in cast(dict[str, Any], node).items()}
    return node


def _component_key(c: Any) -> tuple[str, ...]:
    d = obj(c)
    return (str(d.get("purl") or ""), str(d.get("name") or ""), str(d.get("version") or ""), str_key(c))


def _sort_lists(node: Any, key: str = "") -> Any:
    """Sort every list whose order carries no meaning in CycloneDX (all of them, for our purposes)."""
    if isinstance(node, dict):
        return {k: _sort_lists(v, k) for k, v in cast(dict[str, Any], node).items()}
    if isinstance(node, list):
        elems = [_sort_lists(v, key) for v in cast(list[Any], node)]
        if key == "components":
            return sorted(elems, key=_component_key)
        if key == "dependencies":
            return sorted(elems, key=lambda d: (str(obj(d).get("ref") or ""), str_key(d)))
        return sorted(elems, key=str_key)
    return node


def normalize(text: str, *, timestamp: str | None = None, serial: str | None = None, tool: str = "syft") -> str:
    """A deterministic rendering of a CycloneDX JSON document.

    - ``metadata.timestamp`` is set to `timestamp`, or removed (it is optional in CycloneDX);
    - random (UUID) ``bom-ref`` values are replaced by refs derived from the component's identity, and every
      reference to them (dependencies, vulnerabilities, compositions) follows;
    - every list is sorted (components by purl/name/version, dependencies by ref, the rest canonically);
    - ``serialNumber`` is `serial`, or a UUID derived from the hash of the normalized content.

    The same input gives byte-identical output; normalizing twice gives the same text.
    """
    data = _document(text, tool)
    if timestamp is not None and not isinstance(data.get("metadata"), dict):
        data["metadata"] = {}
    meta = obj(data.get("metadata"))
    if timestamp is None:
        meta.pop("timestamp", None)
    elif "metadata" in data:
        meta["timestamp"] = timestamp
    data.pop("serialNumber", None)

    comps = _walk_components(data.get("components"))
    if isinstance(meta.get("component"), dict):
        comps.append(obj(meta["component"]))
    random_refs = sorted(
        (str(c["bom-ref"]), _identity(c)) for c in comps if _UUID_REF.match(str(c.get("bom-ref") or ""))
    )
    taken = {str(c.get("bom-ref")) for c in comps}
    mapping: dict[str, str] = {}
    for old, ident in sorted(random_refs, key=lambda r: (r[1], r[0])):
        base = "seaworthy-ref-" + content_hash(ident)[:16]
        new, n = base, 1
        while new in taken:
            n += 1
            new = f"{base}-{n}"
        taken.add(new)
        mapping[old] = new
    data = cast(dict[str, Any], _replace_strings(data, mapping)) if mapping else data
    data = cast(dict[str, Any], _sort_lists(data))

    data["serialNumber"] = serial if serial is not None else f"urn:uuid:{_uuid_of(data)}"
    return dumps(data)


def _uuid_of(data: Any) -> uuid.UUID:
    return uuid.UUID(bytes=bytes.fromhex(content_hash(data)[:32]), version=5)


def validate(text: str, *, tool: str = "syft") -> None:
    """Validate against the official (strict) JSON schema of the document's own specVersion.

    Raises ToolOutputError naming the first schema violation and where it is.
    """
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    data = _document(text, tool)
    version = SchemaVersion.from_version(str(data["specVersion"]))
    try:  # the validator parses the text again: give it the document `_document` read (BOM, surrogates)
        error = JsonStrictValidator(version).validate_str(json.dumps(data))
    except (ValueError, RecursionError) as exc:
        raise ToolOutputError(tool, f"the CycloneDX document could not be validated ({str(exc)[:200]})") from None
    if error is not None:
        raise ToolOutputError(tool, f"not valid CycloneDX {data['specVersion']}: {_describe(error)}")


def _describe(error: object) -> str:
    inner = getattr(error, "data", None)
    message = getattr(inner, "message", None)
    path = getattr(inner, "json_path", None)
    if message:
        return f"{str(message)[:300]} at {path}" if path else str(message)[:300]
    return str(error)[:300]


def as_spec_version(text: str, version: str, *, tool: str = "trivy") -> str:
    """Relabel a CycloneDX document as `version` (e.g. trivy's 1.7 as 1.6), only if it is valid as such.

    Raises ToolOutputError when the content uses something `version` does not allow.
    """
    data = _document(text, tool)
    if version not in SUPPORTED:
        raise ValueError(f"unsupported CycloneDX version {version!r}; use one of {SUPPORTED}")
    data["specVersion"] = version
    if "$schema" in data:
        data["$schema"] = SCHEMA_URL.format(version=version)
    out = dumps(data)
    validate(out, tool=tool)
    return out
