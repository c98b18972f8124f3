"""Helpers shared by the CycloneDX and SPDX readers. Pure, no I/O."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, cast

from packageurl import PackageURL

from pipeline.errors import ToolOutputError

_LICENSE_REF_CHARS = re.compile(r"[^A-Za-z0-9.\-]+")


def load_document(tool: str, text: str, what: str) -> dict[str, Any]:
    """JSON object of an SBOM, failing closed (empty, truncated, not JSON, not an object)."""
    if not text.strip():
        raise ToolOutputError(tool, f"the {what} document is empty")
    try:
        data = json.loads(text)
    except RecursionError:
        raise ToolOutputError(
            tool, f"the {what} document is nested more deeply than any real report (over ~1,000 levels)"
        ) from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        if exc.pos >= len(text.rstrip()) - 1:
            raise ToolOutputError(tool, f"the {what} document is truncated ({where})") from None
        raise ToolOutputError(tool, f"the {what} document is not JSON ({exc.msg} at {where})") from None
    if not isinstance(data, dict):
        raise ToolOutputError(tool, f"the {what} document is a JSON {type(data).__name__}, not an object")
    return data  # pyright: ignore[reportUnknownVariableType]


def purl_type(purl: str) -> str:
    """The purl's type (deb, pypi, npm, …), or "" when `purl` is empty or not a valid purl."""
    if not purl:
        return ""
    try:
        return PackageURL.from_string(purl).type
    except ValueError:
        return ""


def license_id(name: str) -> str:
    """An SPDX id for a license *name*: the id itself when it is one, else ``LicenseRef-<name>``."""
    from cyclonedx.spdx import fixup_id

    for candidate in (name.strip(), re.sub(r"\s+", "-", name.strip())):
        fixed = fixup_id(candidate)
        if fixed:
            return fixed
    ref = _LICENSE_REF_CHARS.sub("-", name.strip()).strip("-")
    return f"LicenseRef-{ref}" if ref else ""


def dumps(data: Any) -> str:
    """Canonical JSON text: sorted keys, 2-space indent, UTF-8 kept, final newline."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def content_hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def str_key(value: Any) -> str:
    """Sort key for arbitrary JSON values: their canonical JSON text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def obj(value: Any) -> dict[str, Any]:
    """`value` as a JSON object, or {} when it is anything else."""
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def items(value: Any) -> list[Any]:
    """`value` as a JSON list, or [] when it is anything else."""
    return cast(list[Any], value) if isinstance(value, list) else []
