"""Helpers shared by the CycloneDX and SPDX readers. Pure, no I/O."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any, cast

from packageurl import PackageURL

from pipeline.errors import ToolOutputError
from pipeline.formats._common import loads_tool_json, strip_bom

_LICENSE_REF_CHARS = re.compile(r"[^A-Za-z0-9.\-]+")


def load_document(tool: str, text: str, what: str) -> dict[str, Any]:
    """JSON object of an SBOM, failing closed (empty, truncated, not JSON, not an object)."""
    text = strip_bom(text)
    if not text.strip():
        raise ToolOutputError(tool, f"the {what} document is empty")
    try:
        data = loads_tool_json(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        if exc.pos >= len(text.rstrip()) - 1:
            raise ToolOutputError(tool, f"the {what} document is truncated ({where})") from None
        raise ToolOutputError(tool, f"the {what} document is not JSON ({exc.msg} at {where})") from None
    except ValueError as exc:
        raise ToolOutputError(tool, f"the {what} document is {exc}") from None
    if not isinstance(data, dict):
        raise ToolOutputError(tool, f"the {what} document is a JSON {type(data).__name__}, not an object")
    depth = nesting_depth(data)
    if depth > MAX_DEPTH:
        raise ToolOutputError(
            tool,
            f"the {what} document is nested {depth} levels deep (at most {MAX_DEPTH} are read): corrupt or hostile",
        )
    return data  # pyright: ignore[reportUnknownVariableType]


MAX_DEPTH = 100
"""Deepest JSON nesting read in an SBOM (real ones stay under 20); the normalizers walk it recursively."""
MAX_LICENSE_NESTING = 16
"""Deepest parenthesis nesting read in a license expression (real ones use one or two levels)."""


def nesting_depth(value: Any) -> int:
    """How deeply JSON containers nest in `value` (a scalar is 0). Iterative: no recursion limit to hit."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        node, depth = stack.pop()
        children: list[Any]
        if isinstance(node, dict):
            children = list(cast(dict[str, Any], node).values())
        elif isinstance(node, list):
            children = cast(list[Any], node)
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        child: Any
        for child in children:
            if isinstance(child, dict | list):
                stack.append((cast(Any, child), depth))
    return deepest


def check_license_expression(tool: str, expression: str, where: str) -> str:
    """`expression` if its parentheses nest at most `MAX_LICENSE_NESTING` deep, else ToolOutputError."""
    if "(" not in expression:
        return expression
    depth = deepest = 0
    for c in expression:
        if c == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif c == ")":
            depth -= 1
    if deepest > MAX_LICENSE_NESTING:
        raise ToolOutputError(
            tool,
            f"the license expression of {where} nests parentheses {deepest} deep "
            f"(at most {MAX_LICENSE_NESTING} are read): corrupt or hostile",
        )
    return expression


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
