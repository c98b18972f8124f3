"""Value types the policy gate shares with the formats layer: exceptions (waivers) and build facts.

Plain frozen values, no I/O. They belong with the rest of the model in `pipeline/model.py`; they live here
only until the lead merges them (the import path `pipeline.model_gate` then becomes `pipeline.model`).
"""

from __future__ import annotations

import datetime
import re

import attrs

from pipeline.model import Finding


@attrs.frozen(order=True)
class ExceptionScope:
    """Where an exception applies. Empty fields mean "anywhere"; every given field must match."""

    package: str = ""
    """Package name (e.g. `requests`, `@types/node`, `libc6`), compared as `package_key`: case-insensitively,
    and for pypi after PEP 503 normalisation (`PyYAML` = `pyyaml`, `ruamel.yaml` = `ruamel-yaml`)."""
    version: str = ""
    """Package version, compared exactly; only with `package`."""
    path: str = ""
    """Glob over finding locations, '/'-separated, relative to the scanned root (`**` crosses folders)."""
    image: str = ""
    """Glob over the built image's repository (`BuildFacts.image`), e.g. `registry.example/app*`."""

    @property
    def is_empty(self) -> bool:
        return not (self.package or self.version or self.path or self.image)


@attrs.frozen(order=True)
class Exception_:
    """One `[[exceptions]]` table: a reviewed, owned, expiring waiver.

    `targets` are finding rule ids (CVE-…, GHSA-…, tool rule ids), finding fingerprints, or rule ids of the
    gate itself (`image.root-user`, …).
    """

    index: int
    """Position in the exception file (0-based): how messages name it, as `exceptions[index]`."""
    targets: tuple[str, ...]
    owner: str
    reason: str
    expires: datetime.date
    """Last day the exception is valid; from the next day on it fails the gate."""
    scope: ExceptionScope = ExceptionScope()
    justification: str = ""
    """Optional OpenVEX justification (e.g. `vulnerable_code_not_in_execute_path`) for vulnerabilities."""
    source: str = ""
    """File the exception came from (for messages)."""

    @property
    def name(self) -> str:
        return f"exceptions[{self.index}]"

    def expired(self, today: datetime.date) -> bool:
        return today > self.expires


@attrs.frozen
class BuildFacts:
    """What the build recorded, so the gate can check that the scanned image is the built one."""

    config_digests: tuple[tuple[str, str], ...] = ()
    """Sorted (platform, sha256:… config digest) pairs, one per built platform."""
    dockerfile: str = "Dockerfile"
    platforms: tuple[str, ...] = ()
    image: str = ""
    """Repository the image is built for (e.g. `registry.example/app`), no tag or digest; may be empty."""


def glob_match(pattern: str, path: str) -> bool:
    """Glob as the gate's Rego `glob.match(pattern, ["/"], path)`: `*` and `?` stay within one folder,
    `**` crosses folders, `[...]` is a character class, `{a,b}` alternatives."""
    return _glob_regex(pattern).fullmatch(path) is not None


def glob_problem(pattern: str) -> str | None:
    """Why `pattern` is not a glob the gate accepts, or None. Conservative: what passes here both
    `glob_match` and the Rego `glob.match` evaluate without error (a test checks it against regorus)."""
    depth = 0
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            return "'\\' escapes are not supported; use [*] or [?] for a literal * or ?"
        if ch == "[":
            end = pattern.find("]", i + 1)
            body = pattern[i + 1 : end] if end >= 0 else ""
            negated = body.startswith("!")
            chars = body[1:] if negated else body
            if end < 0:
                return f"'[' at position {i + 1} is never closed with ']'"
            if not chars:
                return f"the character class at position {i + 1} is empty"
            if "[" in chars or "{" in chars or "}" in chars:
                return f"the character class at position {i + 1} contains '[', '{{' or '}}'"
            for a, b in re.findall(r"(.)-(.)", chars):
                if a > b:
                    return f"the range {a}-{b} at position {i + 1} runs backwards"
            if chars.endswith("-") or chars.startswith("-"):
                return f"the character class at position {i + 1} has a dangling '-'"
            i = end + 1
            continue
        if ch == "{":
            depth += 1
            close = pattern.find("}", i)
            if "**" in pattern[i : close if close >= 0 else len(pattern)]:
                return f"'**' inside the {{…}} at position {i + 1} is not supported; write one exception per folder"
            if depth > 1:
                return f"'{{' at position {i + 1} is nested in another {{…}}; list the alternatives in one"
        elif ch == "}":
            if depth == 0:
                return f"'}}' at position {i + 1} closes nothing"
            depth -= 1
        i += 1
    if depth:
        return "a '{' is never closed with '}'"
    return None


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """The regex of a glob as the gate's `glob.match` reads it: `**` crosses folders only as a whole path
    component (`**`, `**/x`, `x/**/y`, `x/**`); elsewhere it is `*`. `{a,}` ignores the empty alternative."""
    return re.compile(_glob_body(pattern), re.DOTALL)


def _glob_body(pattern: str) -> str:
    if pattern in ("**", "**/"):
        return ".*"
    out: list[str] = []
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        if pattern.startswith("**", i):
            starts_component = i == 0 or pattern[i - 1] == "/"
            ends_component = i + 2 == n or pattern[i + 2] == "/"
            if starts_component and ends_component:
                if i + 2 == n:  # trailing "/**": anything below, at least the separator before it
                    out.append(".*")
                    i += 2
                else:  # "**/" (leading or between separators): zero or more folders
                    out.append("(?:.*/)?")
                    i += 3
                continue
            out.append("[^/]*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                negated = body.startswith("!")
                chars = body[1:] if negated else body
                escaped = "".join("\\" + c if c in "\\^[]" else c for c in chars)
                out.append(f"[{'^' if negated else ''}{escaped}]")
                i = end
        elif ch == "{":
            end = pattern.find("}", i + 1)
            if end < 0:
                out.append(re.escape(ch))
            else:
                alts = [a for a in pattern[i + 1 : end].split(",") if a] or [""]
                out.append("(?:" + "|".join(_glob_body(a) for a in alts) + ")")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out)


_PEP503_RUNS = re.compile(r"[-_.]+")

PEP503_ECOSYSTEMS = frozenset({"pypi"})
"""Ecosystems (purl types) whose names are compared after PEP 503 normalisation."""


def package_key(name: str, ecosystem: str = "") -> str:
    """How the gate compares package names: trimmed and lower-cased; for pypi also PEP 503 normalised
    (runs of `-`, `_`, `.` become one `-`). The gate input carries these keys (`package.key`,
    `package_keys`), so the Rego gate and this module decide alike."""
    key = name.strip().lower()
    if ecosystem in PEP503_ECOSYSTEMS:
        key = _PEP503_RUNS.sub("-", key)
    return key


def covers(exception: Exception_, finding: Finding, *, image: str = "") -> bool:
    """Whether `exception` waives `finding` (the Python mirror of the gate's `covers`; expiry not checked)."""
    if finding.rule_id not in exception.targets and finding.fingerprint not in exception.targets:
        return False
    scope = exception.scope
    if scope.package:
        pkg = finding.package
        if pkg is None or package_key(pkg.name, pkg.ecosystem) != package_key(scope.package, pkg.ecosystem):
            return False
        if scope.version and pkg.version != scope.version:
            return False
    if scope.path and not any(glob_match(scope.path, loc.path) for loc in finding.locations):
        return False
    return not scope.image or (bool(image) and glob_match(scope.image, image))
