"""What every tool module provides: a pinned image, an `Invocation` per use, and a parser.

An `Invocation` is pure data: the argv *inside the container* (paths under the mount points below),
what to mount where, where the report lands, and which exit codes mean "clean", "found something" or
"failed". The Dagger stage runs it in the tool's image; the contract tests run the very same argv on the
host with the mount points mapped to temporary folders (`Invocation.localized`).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import attrs

from pipeline.errors import ConfigError, ToolFailed, ToolOutputError
from pipeline.formats._common import loads_tool_json, strip_bom

# Mount points every tool container uses. Inputs are mounted read-only at these paths;
# outputs are written under OUT, which is always writable (also for non-root images).
SRC = "/src"
IN = "/in"
OUT = "/tmp/seaworthy-out"  # noqa: S108 - a path inside the tool container
CACHE = "/cache"


@attrs.frozen
class Image:
    """A tool image pinned to an exact version tag, and to a digest once locked (`PINS_FILE`).

    `ref` is what `Container.from_` gets: ``repo:tag@sha256:…`` when locked (the digest wins).
    """

    repository: str
    tag: str
    digest: str = ""
    install: tuple[str, ...] = ()
    """For a tool without an official versioned image: the argv that installs the pinned tool on top of this
    base image (e.g. ``pip install bandit==1.9.4``). The stage runs it once as its own layer before any
    input is mounted, so Dagger caches it keyed by the base image and this argv: changing a pinned version
    changes the argv and rebuilds it; the source never busts it."""

    @property
    def ref(self) -> str:
        base = f"{self.repository}:{self.tag}"
        return f"{base}@{self.digest}" if self.digest else base


PINS_FILE = Path(__file__).with_name("images.toml")
"""The one place tool images are pinned (scripts/lock-images.py writes digests there, Renovate updates it)."""

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")


def parse_pins(text: str, *, source: str = "images.toml") -> dict[str, Image]:
    """Tool name -> pinned `Image`, from the text of a pins file. Fails on anything malformed."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML ({exc}); fix the file") from None
    pins: dict[str, Image] = {}
    for name, entry in data.items():
        if not isinstance(entry, dict) or set(entry) != {"image", "tag", "digest"}:  # pyright: ignore[reportUnknownArgumentType]
            raise ConfigError(f"{source} [{name}] must have exactly image, tag and digest")
        image, tag, digest = entry["image"], entry["tag"], entry["digest"]  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(image, str) or not image or "@" in image or ":" in image.rsplit("/", 1)[-1]:
            raise ConfigError(f"{source} [{name}] image {image!r} must be a repository without tag or digest")
        if not isinstance(tag, str) or not _TAG.match(tag):
            raise ConfigError(f"{source} [{name}] tag {tag!r} is not an image tag")
        if not isinstance(digest, str) or (digest and not _DIGEST.match(digest)):
            raise ConfigError(f"{source} [{name}] digest {digest!r} must be empty or sha256:<64 hex>")
        pins[name] = Image(image, tag, digest)
    return pins


@cache
def pins() -> dict[str, Image]:
    """The pins of `PINS_FILE`, read once."""
    return parse_pins(PINS_FILE.read_text(), source=str(PINS_FILE.name))


def pinned(name: str) -> Image:
    """The pinned image of tool `name` (a section of `PINS_FILE`)."""
    try:
        return pins()[name]
    except KeyError:
        raise ConfigError(f"{PINS_FILE.name} pins no image for {name!r}; add a [{name}] section") from None


@attrs.frozen
class ExitCodes:
    """How a tool's exit code reads. Anything not listed is a tool failure."""

    clean: frozenset[int] = frozenset({0})
    findings: frozenset[int] = frozenset()

    def check(self, tool: str, code: int, stderr: str) -> bool:
        """Return True when the tool reports findings, False when clean; raise ToolFailed otherwise."""
        if code in self.clean:
            return False
        if code in self.findings:
            return True
        raise ToolFailed(tool, code, stderr)


@attrs.frozen
class Invocation:
    """One use of a tool: run `argv` in `image` with `mounts`, then read `report` (a path under OUT)."""

    tool: str
    image: Image
    argv: tuple[str, ...]
    report: str
    """Container path of the machine-readable output. When `stdout_to_report`, stdout is redirected there."""
    exit_codes: ExitCodes = ExitCodes()
    mounts: Mapping[str, str] = attrs.field(factory=dict[str, str])
    """Container path -> what the stage mounts there ("source", "dockerfile", "rules", "image", …)."""
    env: Mapping[str, str] = attrs.field(factory=dict[str, str])
    """Plain environment. Secrets never go here: stages add them as secret variables."""
    workdir: str = "/"
    stdout_to_report: bool = False

    def localized(self, mapping: Mapping[str, str]) -> Invocation:
        """The same invocation with container path prefixes replaced by host paths (contract tests)."""

        def swap(value: str) -> str:
            # longest prefix first so that /tmp/seaworthy-out wins over /tmp
            for cpath in sorted(mapping, key=len, reverse=True):
                host = mapping[cpath]
                if value == cpath or value.startswith(cpath + "/"):
                    return host + value[len(cpath) :]
                marker = "=" + cpath
                if marker in value:
                    head, _, tail = value.partition(marker)
                    if tail == "" or tail.startswith("/"):
                        return f"{head}={host}{tail}"
                # transport prefixes such as oci-archive:/in/image.tar
                head, sep, tail = value.partition(":" + cpath)
                if sep and (tail == "" or tail.startswith("/")) and head.replace("-", "").isalpha():
                    return f"{head}:{host}{tail}"
            return value

        return attrs.evolve(
            self,
            argv=tuple(swap(a) for a in self.argv),
            report=swap(self.report),
            env={k: swap(v) for k, v in self.env.items()},
            workdir=swap(self.workdir),
            mounts={swap(k): v for k, v in self.mounts.items()},
        )


def load_json(tool: str, text: str) -> Any:
    """Parse a tool's JSON output, failing closed on empty, truncated or non-JSON text."""
    text = strip_bom(text)
    if not text.strip():
        raise ToolOutputError(tool, "the report is empty")
    try:
        return loads_tool_json(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        if exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string"):
            raise ToolOutputError(tool, f"the JSON report is truncated ({where})") from None
        raise ToolOutputError(tool, f"the report is not JSON ({exc.msg} at {where})") from None
    except ValueError as exc:
        raise ToolOutputError(tool, f"the JSON report is {exc}") from None


def expect_dict(tool: str, value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ToolOutputError(tool, f"{what} is {type(value).__name__}, expected an object")
    return value  # pyright: ignore[reportUnknownVariableType]


def expect_list(tool: str, value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ToolOutputError(tool, f"{what} is {type(value).__name__}, expected a list")
    return value  # pyright: ignore[reportUnknownVariableType]


def glob_body(pattern: str, *, char_classes: bool = False) -> str:
    """A path glob as a regular expression (unanchored): ``*`` and ``?`` stay within one path segment, ``**/``
    is any number of leading folders and ``**`` anything; with `char_classes`, ``[...]``/``[!...]`` is a
    character class (trivy's reading), otherwise a literal. Everything else is literal."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif char_classes and c == "[" and "]" in pattern[i + 1 :]:
            close = pattern.index("]", i + 1)
            body = pattern[i + 1 : close].replace("\\", "\\\\")
            out.append("[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]")
            i = close
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)
