"""Image references built from CI variables, made valid before use.

``ghcr.io/${{ github.repository }}`` keeps the upper-case letters of an owner or repository name
(``ghcr.io/Octo-Org/My-App``) and registries refuse upper-case repositories; an unset variable leaves
``ghcr.io//app`` or a literal ``$CI_PROJECT_PATH``. `ci_image_name` lower-cases the registry and repository
(tags keep their case), and refuses what no variable expansion should leave behind, with one line naming the
reference and the fix. Pure: no I/O.
"""

from __future__ import annotations

import re

from pipeline.errors import InputError
from pipeline.tools.skopeo import Reference, normalize_reference

_UNEXPANDED = re.compile(r"\$\{\{.*?\}\}|\$\{[^}]*\}|\$\(|\$[A-Za-z_][A-Za-z0-9_]*|%[A-Za-z_][A-Za-z0-9_]*%")


def ci_reference(value: str, *, what: str = "image reference") -> Reference:
    """`value` as a normalized Reference (see the module docstring). Raises InputError."""
    text = value.strip()
    m = _UNEXPANDED.search(text)
    if m:
        raise InputError(
            f"{what} {value!r} still holds {m.group(0)!r}, a CI variable that was not expanded; expand it in the "
            "CI job (e.g. env: or variables:) before passing the reference"
        )
    name = text.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    path = name[:colon] if colon > slash else name
    if "://" not in path and ("//" in path or path.endswith("/") or path.startswith("/")):
        raise InputError(
            f"{what} {value!r} has an empty path component (a CI variable that expanded to nothing?); "
            "check the variables the reference is built from, e.g. ghcr.io/<owner>/<repository>"
        )
    return normalize_reference(text)


def ci_image_name(value: str, *, what: str = "image reference") -> str:
    """The valid, lower-cased form of `value`: ``ghcr.io/Octo-Org/My-App:V1`` → ``ghcr.io/octo-org/my-app:V1``."""
    return str(ci_reference(value, what=what))
