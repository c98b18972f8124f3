"""Does the image a Dockerfile builds ship the project's development dependencies? Pure, no I/O.

The gate needs this to judge vulnerable *development* dependencies (`pipeline.model.Finding.dev`): they are in
the image when the final stage installs them, and only then do they count like any dependency (see
docs/policy.md, "Development dependencies").

Read from the **final stage** (and a stage it copies ``node_modules`` from with ``COPY --from=<stage>``):

- ``npm install`` / ``npm i`` / ``npm ci`` without package arguments, ``yarn`` / ``yarn install``,
  ``pnpm install`` / ``pnpm i`` install development dependencies, unless the same command says
  ``--omit=dev``, ``--production`` / ``--prod`` / ``-P`` / ``--only=prod(uction)``, or ``NODE_ENV=production``
  is set (``ENV`` earlier in the stage, or a ``NODE_ENV=production`` prefix of the command);
- a later ``npm prune --omit=dev`` / ``npm prune --production`` removes them again.

`DevInstall.installed` is None when there is no Dockerfile to read (the gate then counts development
dependencies: it cannot know they stay out).
"""

from __future__ import annotations

import itertools
import re
import shlex

import attrs

_CONTINUATION = re.compile(r"\\\s*$")
_SPLIT = re.compile(r"&&|\|\||;|\|")
_OMIT_FLAGS = ("--omit=dev", "--production", "--prod", "-P", "--only=prod", "--only=production")
_PRODUCTION_ENV = re.compile(r"\bNODE_ENV\s*=\s*[\"']?production\b")


@attrs.frozen
class DevInstall:
    """Whether the built image holds development dependencies, and the line that says so."""

    installed: bool | None
    """True: the final stage installs them; False: it does not (or removes them); None: unknown."""
    evidence: str = ""
    """``Dockerfile:7: RUN npm install`` (installed), the reason otherwise."""


@attrs.define
class _Stage:
    name: str
    installs: str = ""
    """Evidence of the last install of dev dependencies still in force ("" none)."""
    production_env: bool = False
    copies_from: list[str] = attrs.field(factory=list[str])


def _logical_lines(text: str) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    buf: list[str] = []
    start = 0
    for n, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue  # comment lines inside a continued instruction
        if not buf:
            start = n
        if _CONTINUATION.search(raw):
            buf.append(_CONTINUATION.sub("", raw))
            continue
        buf.append(raw)
        out.append((start, " ".join(part.strip() for part in buf)))
        buf = []
    if buf:
        out.append((start, " ".join(part.strip() for part in buf)))
    return out


def _words(segment: str) -> list[str]:
    try:
        return shlex.split(segment)
    except ValueError:
        return segment.split()


def _command(words: list[str]) -> tuple[list[str], bool]:
    """The command words after leading ``VAR=value`` assignments, and whether one set NODE_ENV=production."""
    production = False
    i = 0
    while i < len(words) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[i]):
        production = production or words[i] in ("NODE_ENV=production",)
        i += 1
    if i < len(words) and words[i] == "env":  # env NODE_ENV=production npm ci
        return _command(words[i + 1 :])
    return words[i:], production


def _installs_dev(words: list[str], production_env: bool) -> bool | None:
    """True: installs dev deps; False: removes them (prune); None: not a package-manager install."""
    cmd, production = _command(words)
    if not cmd:
        return None
    tool, args = cmd[0].rsplit("/", 1)[-1], cmd[1:]
    flags = [a for a in args if a.startswith("-")]
    positional = [a for a in args if not a.startswith("-")]
    omitted = production or production_env or any(f in _OMIT_FLAGS for f in flags)
    omitted = omitted or any(a == "--omit" and b == "dev" for a, b in itertools.pairwise(args))
    if tool == "npm" and positional[:1] == ["prune"]:
        return False if omitted else None
    if tool == "npm" and positional[:1] in (["install"], ["i"], ["ci"]) and len(positional) == 1:
        return None if omitted or "-g" in flags or "--global" in flags else True
    if tool == "yarn" and (not positional or positional == ["install"]):
        return None if omitted else True
    if tool == "pnpm" and positional in (["install"], ["i"]):
        return None if omitted else True
    return None


def dev_install(text: str | None, *, path: str = "Dockerfile") -> DevInstall:
    """Read `text` (a Dockerfile; None when there is none) as the module docstring says."""
    if text is None:
        return DevInstall(None, "no Dockerfile was read")
    stages: list[_Stage] = []
    for line_no, line in _logical_lines(text):
        keyword, _, rest = line.strip().partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = [w for w in rest.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else str(len(stages))
            stages.append(_Stage(name=name.lower()))
            continue
        if not stages:
            continue
        stage = stages[-1]
        if keyword == "ENV" and _PRODUCTION_ENV.search(rest):
            stage.production_env = True
        elif keyword == "COPY":
            m = re.search(r"--from=(\S+)", rest)
            if m and "node_modules" in rest:  # the dependencies themselves, not a build's output
                stage.copies_from.append(m.group(1).lower())
        elif keyword == "RUN":
            for segment in _SPLIT.split(rest):
                verdict = _installs_dev(_words(segment), stage.production_env)
                if verdict is True:
                    stage.installs = f"{path}:{line_no}: {segment.strip()}"
                elif verdict is False:
                    stage.installs = ""
    if not stages:
        return DevInstall(False, f"{path} has no FROM")
    final = stages[-1]
    if final.installs:
        return DevInstall(True, final.installs)
    by_name = {s.name: s for s in stages[:-1]}
    for source in final.copies_from:
        origin = by_name.get(source)
        if origin is not None and origin.installs:
            return DevInstall(True, f"{origin.installs} (copied into the final stage with COPY --from={source})")
    return DevInstall(False, f"{path}'s final stage installs no development dependencies")
