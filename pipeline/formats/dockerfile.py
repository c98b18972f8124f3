"""The final stage's base image of a Dockerfile, and how firmly it is pinned. Pure, no I/O.

Handles parser directives (``# escape=``), comments, line continuations, global ``ARG`` defaults overridden by
``--build-arg`` (a default may use earlier ARGs), ``${VAR}`` / ``$VAR`` / ``${VAR:-default}`` / ``${VAR-default}``
/ ``${VAR:+alt}`` / ``${VAR+alt}`` / ``${VAR:?message}``, ``FROM --platform=…``, multi-stage names
(``FROM builder`` resolves to builder's own base) and ``FROM scratch``.

Fail closed: a reference that still holds a ``$`` after substitution (a form this module does not read), a
``${VAR:?…}`` whose variable is unset, or an ``@`` that is not followed by a well-formed digest counts as
unpinned, never as pinned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import attrs

from pipeline.errors import InputError
from pipeline.model import BasePin

_DIRECTIVE = re.compile(r"^\s*#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])([^}$]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")
_DIGEST = re.compile(r"@(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")
"""A digest Docker accepts in FROM: sha256 or sha512, lower-case hex of the full length."""
_UNRESOLVED = "\x00unresolved\x00"
"""What a substitution that cannot be resolved expands to (`${VAR:?…}` with VAR unset); never a valid name."""


@attrs.frozen
class BaseImage:
    """The final stage's base, as written after ARG substitution."""

    ref: str
    """E.g. ``python:3.12.8-slim@sha256:…``, ``debian``, ``scratch``."""
    pin: BasePin
    platform: str = ""
    """The ``--platform=`` value of that FROM, if any (after substitution)."""
    stages: tuple[str, ...] = ()
    """Stage names followed from the final FROM to the external base (empty when it names one directly)."""


def classify_pin(ref: str) -> BasePin:
    """digest (``@sha256:…``), tag (an explicit tag other than latest), none (no tag or latest), scratch."""
    ref = ref.strip()
    if ref.lower() == "scratch":
        return BasePin.SCRATCH
    if "$" in ref or _UNRESOLVED in ref or any(ch.isspace() for ch in ref):
        return BasePin.NONE  # not resolved: whatever it names, it is not known to be pinned
    if _DIGEST.search(ref):
        return BasePin.DIGEST
    if "@" in ref:
        return BasePin.NONE  # an '@' without a well-formed digest pins nothing
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.rsplit(":", 1)[1]
        return BasePin.NONE if tag == "latest" else BasePin.TAG
    return BasePin.NONE


def _logical_lines(text: str) -> list[str]:
    """Instructions with continuations joined; comments and parser directives dropped."""
    escape = "\\"
    raw = text.replace("\r\n", "\n").split("\n")
    # parser directives: only at the very top, before any comment/blank/instruction
    for line in raw:
        m = _DIRECTIVE.match(line)
        if not m:
            break
        if m.group(1).lower() == "escape" and m.group(2) in ("\\", "`"):
            escape = m.group(2)
    out: list[str] = []
    current = ""
    for line in raw:
        stripped = line.strip()
        if stripped.startswith("#"):
            continue  # comments (also inside continuations)
        if current and not stripped:
            continue  # empty continuation lines are ignored
        if line.rstrip().endswith(escape):
            current += line.rstrip()[: -len(escape)] + " "
            continue
        current += line
        if current.strip():
            out.append(current.strip())
        current = ""
    if current.strip():
        out.append(current.strip())
    return out


def _substitute(word: str, args: Mapping[str, str | None]) -> str:
    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        value = args.get(name)
        op = m.group(2)
        word = m.group(3)
        if op == ":-":
            return value if value else word
        if op == "-":
            return value if value is not None else word
        if op == ":+":
            return word if value else ""
        if op == "+":
            return word if value is not None else ""
        if op in (":?", "?"):
            ok = value if op == "?" else value or None
            return _UNRESOLVED if ok is None else ok
        return value or ""

    return _VAR.sub(repl, word)


def _words(rest: str) -> list[str]:
    """Split on whitespace outside ``${…}`` (``${D:?set D}`` is one word)."""
    words: list[str] = []
    current: list[str] = []
    depth = 0
    i = 0
    while i < len(rest):
        ch = rest[i]
        if rest.startswith("${", i):
            depth += 1
            current.append("${")
            i += 2
            continue
        if ch == "}" and depth:
            depth -= 1
        if ch.isspace() and not depth:
            if current:
                words.append("".join(current))
                current = []
        else:
            current.append(ch)
        i += 1
    if current:
        words.append("".join(current))
    return words


def _parse_arg(rest: str) -> list[tuple[str, str | None]]:
    out: list[tuple[str, str | None]] = []
    for item in rest.split():
        name, eq, value = item.partition("=")
        out.append((name, value.strip("\"'") if eq else None))
    return out


def final_base(text: str, *, build_args: Mapping[str, str] | None = None, path: str = "Dockerfile") -> BaseImage:
    """The base image of the last stage. Raises InputError (naming ``--dockerfile``) when there is none.

    `build_args` are the ``--build-arg`` values; like Docker, only ARGs declared before the first FROM
    are visible in FROM lines.
    """
    overrides = dict(build_args or {})
    global_args: dict[str, str | None] = {}
    froms: list[tuple[str, str, str]] = []  # (ref, platform, name)
    for line in _logical_lines(text):
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "ARG" and not froms:
            for name, written in _parse_arg(rest):
                # a default may use earlier ARGs
                default = None if written is None else _substitute(written, global_args)
                global_args[name] = overrides.get(name, default)
        elif keyword == "FROM":
            words = _words(rest)
            platform = ""
            while words and words[0].startswith("--"):
                flag = words.pop(0)
                if flag.startswith("--platform="):
                    written = flag.split("=", 1)[1]
                    platform = _substitute(written, global_args)
                    if _UNRESOLVED in platform:
                        platform = written
            if not words:
                raise InputError(f"{path}: a FROM line names no image; fix the Dockerfile passed as --dockerfile")
            ref = _substitute(words[0], global_args)
            if _UNRESOLVED in ref:
                ref = words[0]  # shown as written; classify_pin reads the '$' as not pinned
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else ""
            if not ref:
                unset = _VAR.findall(words[0])
                names = ", ".join(a or d for a, _, _, d in unset) or words[0]
                raise InputError(
                    f"{path}: FROM {words[0]} expands to nothing ({names} has no default); pass it with "
                    f"--build-arg or set a default in the Dockerfile given with --dockerfile"
                )
            froms.append((ref, platform, name))
    if not froms:
        what = "is empty" if not text.strip() else "has no FROM instruction"
        raise InputError(f"{path} {what}; pass a valid Dockerfile with --dockerfile")
    index = len(froms) - 1
    ref, platform, _ = froms[index]
    followed: list[str] = []
    while True:
        earlier = {n: i for i, (_, _, n) in enumerate(froms[:index]) if n}
        if ref.lower() not in earlier:
            break
        followed.append(ref.lower())
        index = earlier[ref.lower()]
        ref, inner_platform, _ = froms[index]
        platform = platform or inner_platform
    return BaseImage(ref=ref, pin=classify_pin(ref), platform=platform, stages=tuple(followed))
