"""Hadolint: Dockerfile lint (best practice and ShellCheck of ``RUN`` lines), Category.MISCONFIGURATION.

How it runs (`lint`): ``/bin/hadolint`` (the image is ``scratch`` with just the binary: no shell, so the
report is hadolint's **stdout**, `Invocation.stdout_to_report`) in ``/src`` on every Dockerfile's path
relative to the tree (one run lints them all: the stage finds them with
`pipeline.tools.dockerfile_rules.select_dockerfiles`), ``--format json --no-fail``.

Why JSON and not SARIF: hadolint's SARIF folds both ``info`` and ``style`` into ``note``; its JSON keeps
the four levels. Severity: `pipeline.tools.dockerfile_rules.hadolint_severity` — a rule that trivy also
checks takes trivy's severity (DL3020 is LOW like DS-0005), a few rules have their own, the rest follow the
level (error → HIGH, warning → MEDIUM, info → LOW, style → INFO). The finding's title is hadolint's message
(hadolint has no separate title), so report rows show what is wrong, not only a code.

Exit codes: with ``--no-fail`` hadolint exits 0 whether or not it found something (the report says which),
and non-zero when it could not lint (missing/unreadable Dockerfile: exit 1 with the reason on stderr), so
0 is the only success code. Without ``--no-fail`` a finding and a missing file would both exit 1.

Two hadolint behaviours to know (and handled here):
- a Dockerfile that does not parse is reported as rule ``DL1000`` with exit 0. For the Dockerfile that is
  built (`parse`'s ``must_parse``) that is an `InputError` (the lint did not happen; the build would likely
  fail too). Any *other* Dockerfile of the tree becomes a MEDIUM finding ``DL1000`` saying it was not linted:
  hadolint's parser lags BuildKit's (e.g. some ``RUN <<EOF`` heredocs), and one such file in a sub-project
  must neither stop the whole scan nor pass unnoticed (trivy's own parser still checks it);
- a malformed ``.hadolint.yaml`` (read from ``/src`` by itself, or given as ``config``) is only warned about
  on stderr, exit 0, and the defaults are used: `check_stderr` turns that warning into a `ConfigError`.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import PurePosixPath
from typing import Any

from pipeline.errors import ConfigError, InputError, ToolOutputError
from pipeline.formats.sarif_in import relative_path
from pipeline.model import Category, Finding, Location, Severity, ToolRun, sort_key
from pipeline.tools.base import OUT, SRC, ExitCodes, Invocation, expect_dict, expect_list, load_json, pinned
from pipeline.tools.dockerfile_rules import hadolint_severity

NAME = "hadolint"
IMAGE = pinned(NAME)
"""Pinned in images.toml: ``scratch`` image with ``/bin/hadolint``."""

REPORT = f"{OUT}/hadolint.json"
EXIT_CODES = ExitCodes(clean=frozenset({0}), findings=frozenset())
"""With ``--no-fail``, exit 0 covers "clean" and "found something" alike: the report tells them apart."""

PARSE_ERROR_RULE = "DL1000"


def _tree_path(value: str, what: str) -> str:
    text = value.strip()
    pure = PurePosixPath(text)
    if not text or pure.is_absolute() or ".." in pure.parts or "\\" in text or str(pure) == ".":
        raise ConfigError(
            f"{what} {value!r} must be a file path relative to the source tree's root (no '..', not "
            "absolute), e.g. 'Dockerfile' or 'docker/app.Dockerfile'"
        )
    return str(pure)


def lint(
    dockerfile: str | Sequence[str] = "Dockerfile",
    *,
    config: str | None = None,
    ignore: Sequence[str] = (),
    trusted_registries: Sequence[str] = (),
) -> Invocation:
    """Lint ``dockerfile`` — one path or several, relative to the tree at SRC — in one hadolint run.

    - ``config``: a hadolint config file in the tree (default: hadolint reads ``/src/.hadolint.yaml`` if any);
    - ``ignore``: rule codes to skip (``DL3008``, ``SC2086``…);
    - ``trusted_registries``: registries allowed in ``FROM`` (enables DL3026).
    """
    argv: list[str] = ["/bin/hadolint", "--no-fail", "--no-color", "--format", "json"]
    if config is not None:
        argv += ["--config", f"{SRC}/{_tree_path(config, 'hadolint config')}"]
    for code in ignore:
        if not code.strip().isalnum():
            raise ConfigError(f"hadolint rule {code!r} is not a rule code; use one like 'DL3008' or 'SC2086'")
        argv += ["--ignore", code.strip()]
    for registry in trusted_registries:
        if not registry.strip() or any(c.isspace() for c in registry.strip()):
            raise ConfigError(f"trusted registry {registry!r} is not a registry host such as 'docker.io'")
        argv += ["--trusted-registry", registry.strip()]
    paths = [dockerfile] if isinstance(dockerfile, str) else list(dockerfile)
    if not paths:
        raise ConfigError("hadolint was given no Dockerfile to lint; name one, e.g. 'Dockerfile'")
    argv += sorted({_tree_path(p, "Dockerfile path") for p in paths})
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=tuple(argv),
        report=REPORT,
        exit_codes=EXIT_CODES,
        mounts={SRC: "source"},
        workdir=SRC,
        stdout_to_report=True,
    )


def check_stderr(stderr: str) -> None:
    """Raise `ConfigError` when hadolint says (on stderr, with exit 0) that it ignored a bad config file."""
    marker = "Error parsing your config file"
    if marker in stderr:
        first = stderr[stderr.index(marker) :].splitlines()[0].strip().strip("\"'")
        raise ConfigError(
            f"hadolint could not read its config file and linted with defaults ({first}); fix the YAML "
            "(keys: ignored, override, trustedRegistries, failure-threshold…)"
        )


def help_uri(code: str) -> str:
    if code.startswith("DL"):
        return f"https://github.com/hadolint/hadolint/wiki/{code}"
    if code.startswith("SC"):
        return f"https://www.shellcheck.net/wiki/{code}"
    return ""


def _finding(item: dict[str, Any], index: int, must_parse: Collection[str] | None) -> Finding:
    code = item.get("code")
    level = item.get("level")
    message = item.get("message")
    path = item.get("file")
    if not isinstance(code, str) or not code or not isinstance(level, str) or not isinstance(message, str):
        raise ToolOutputError(NAME, f"entry {index} lacks a 'code', 'level' or 'message' string")
    if not isinstance(path, str) or not path:
        raise ToolOutputError(NAME, f"entry {index} ({code}) lacks its 'file'")
    line = item.get("line")
    column = item.get("column")
    location = Location(
        path=relative_path(path, (SRC,)),
        start_line=line if isinstance(line, int) and line > 0 else None,
        start_column=column if isinstance(column, int) and column > 0 else None,
    )
    if code == PARSE_ERROR_RULE:
        reason = message.strip().splitlines()[0] if message.strip() else "syntax error"
        if must_parse is None or location.path in must_parse:
            raise InputError(
                f"{location.render()} is not a valid Dockerfile ({reason}); fix its syntax so that it can be "
                "linted and built (if it does build, hadolint cannot read this syntax: leave hadolint out of "
                "seaworthy.toml [scan] scanners; trivy still checks Dockerfiles)"
            )
        return Finding(
            category=Category.MISCONFIGURATION,
            rule_id=code,
            severity=Severity.MEDIUM,
            message=(
                f"hadolint could not parse this Dockerfile ({reason}), so it was not linted (trivy still checked "
                "it); if it builds, simplify the syntax hadolint rejects or review it by hand"
            ),
            title="Dockerfile not linted: hadolint cannot parse it",
            tools=(NAME,),
            locations=(location,),
            help_uri=help_uri(code),
        )
    text = message.strip()
    return Finding(
        category=Category.MISCONFIGURATION,
        rule_id=code,
        severity=hadolint_severity(code, level),
        message=text,
        title=text.splitlines()[0] if text else "",
        tools=(NAME,),
        locations=(location,),
        help_uri=help_uri(code),
        tags=("shellcheck",) if code.startswith("SC") else (),
    )


def parse(text: str, *, must_parse: Collection[str] | None = None) -> ToolRun:
    """Parse hadolint's JSON report (a list of ``{code, level, message, file, line, column}``).

    `must_parse`: the Dockerfiles (paths relative to the tree) whose parse error is an `InputError`; the
    others' parse errors become findings. None: every Dockerfile must parse.
    """
    data = load_json(NAME, text)
    if not isinstance(data, list):
        raise ToolOutputError(NAME, f"the report is a JSON {type(data).__name__}, expected a list of findings")
    items = expect_list(NAME, data, "the report")
    findings = [_finding(expect_dict(NAME, item, f"entry {i}"), i, must_parse) for i, item in enumerate(items)]
    findings.sort(key=sort_key)
    return ToolRun(tool=NAME, version="", findings=tuple(findings))
