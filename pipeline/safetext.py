"""Checks on user-written text (configuration values, exception entries, paths). Pure, stdlib only.

Text that reaches reports, argv or the gate must be encodable (no lone surrogates), must not carry control
or bidirectional-override characters (they hide what a reviewer reads), and paths must stay inside the
source root. Each check returns a short description of the first problem, or None; callers turn it into
their own one-line error that names the key and the fix.
"""

from __future__ import annotations

import re
import unicodedata

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""Characters that reorder displayed text (the "Trojan Source" set)."""

_ALLOWED_CONTROLS = frozenset("\t\n\r")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:")
_MAX_SHOWN = 80


def char_problem(value: str, *, multiline: bool = False) -> str | None:
    """The first character that has no place in `value`: lone surrogate, control, bidi or format character.

    `multiline` allows tab, newline and carriage return (free text such as an exception's reason)."""
    for ch in value:
        code = ord(ch)
        if 0xD800 <= code <= 0xDFFF:
            return f"a lone surrogate (U+{code:04X}) that is not valid Unicode text"
        if ch in BIDI_CONTROLS:
            return f"a bidirectional-override character (U+{code:04X}) that reorders what a reviewer sees"
        category = unicodedata.category(ch)
        if category == "Cc" and not (multiline and ch in _ALLOWED_CONTROLS):
            return f"a control character (U+{code:04X})"
        if category == "Cf" and ch != "\ufeff":
            return f"an invisible format character (U+{code:04X})"
        if ch == "\ufeff":
            return "an invisible byte-order mark (U+FEFF)"
    return None


def path_problem(value: str) -> str | None:
    """Why `value` is not a relative path (or glob) inside the source root, or None."""
    problem = char_problem(value)
    if problem:
        return problem
    if not value.strip():
        return "it is empty"
    if value != value.strip():
        return "it starts or ends with spaces"
    if value[0] in "\"'" or value[-1] in "\"'":
        return "it is quoted; TOML strings need no extra quotes"
    if "\\" in value:
        return "it uses '\\'; separate folders with '/'"
    if value.startswith("/") or _WINDOWS_DRIVE.match(value):
        return "it is absolute"
    if ".." in value.split("/"):
        return "it leaves the source root with '..'"
    return None


def show(value: str) -> str:
    """`value` quoted for a one-line message: non-printable characters escaped, long text shortened."""
    out: list[str] = []
    for ch in value[:_MAX_SHOWN]:
        code = ord(ch)
        if ch.isprintable() and not 0xD800 <= code <= 0xDFFF:
            out.append(ch)
        elif code <= 0xFF:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}")
    text = "".join(out).replace('"', '\\"')
    return f'"{text}…"' if len(value) > _MAX_SHOWN else f'"{text}"'
