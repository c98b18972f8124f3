"""Hadolint: Dockerfile lint (best practice and ShellCheck of ``RUN`` lines), Category.MISCONFIGURATION.

How it runs (`lint`): ``/bin/hadolint`` (the image is ``scratch`` with just the binary: no shell, so the
report is hadolint's **stdout**, `Invocation.stdout_to_report`) in ``/src`` on the Dockerfile's path
relative to the tree, ``--format json --no-fail``.

Why JSON and not SARIF: hadolint's SARIF folds both ``info`` and ``style`` into ``note``; its JSON keeps
the four levels, which map onto `Severity` as error → HIGH, warning → MEDIUM, info → LOW, style → INFO.

Exit codes: with ``--no-fail`` hadolint exits 0 whether or not it found something (the report says which),
and non-zero when it could not lint (missing/unreadable Dockerfile: exit 1 with the reason on stderr), so
0 is the only success code. Without ``--no-fail`` a finding and a missing file would both exit 1.

Two hadolint behaviours to know (and handled here):
- a Dockerfile that does not parse is reported as rule ``DL1000`` with exit 0: `parse` raises `InputError`
  for it (the lint did not happen; the build would fail too);
- a malformed ``.hadolint.yaml`` (read from ``/src`` by itself, or given as ``config``) is only warned about
  on stderr, exit 0, and the defaults are used: `check_stderr` turns that warning into a `ConfigError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import PurePosixPath
from typing import Any

from pipeline.errors import ConfigError, InputError, ToolOutputError
from pipeline.formats.sarif_in import relative_path
from pipeline.model import Category, Finding, Location, Severity, ToolRun, sort_key
from pipeline.tools.base import OUT, SRC, ExitCodes, Invocation, expect_dict, expect_list, load_json, pinned

NAME = "hadolint"
IMAGE = pinned(NAME)
"""Pinned in images.toml: ``scratch`` image with ``/bin/hadolint``."""

REPORT = f"{OUT}/hadolint.json"
EXIT_CODES = ExitCodes(clean=frozenset({0}), findings=frozenset())
"""With ``--no-fail``, exit 0 covers "clean" and "found something" alike: the report tells them apart."""

LEVELS: dict[str, Severity] = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "info": Severity.LOW,
    "style": Severity.INFO,
}
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
    dockerfile: str = "Dockerfile",
    *,
    config: str | None = None,
    ignore: Sequence[str] = (),
    trusted_registries: Sequence[str] = (),
) -> Invocation:
    """Lint ``dockerfile`` (relative to the tree at SRC).

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
    argv.append(_tree_path(dockerfile, "Dockerfile path"))
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


def _finding(item: dict[str, Any], index: int) -> Finding:
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
        reason = message.splitlines()[0] if message else "syntax error"
        raise InputError(
            f"{location.render()} is not a valid Dockerfile ({reason}); fix its syntax so that it can be "
            "linted and built"
        )
    return Finding(
        category=Category.MISCONFIGURATION,
        rule_id=code,
        severity=LEVELS.get(level, Severity.UNKNOWN),
        message=message.strip(),
        tools=(NAME,),
        locations=(location,),
        help_uri=help_uri(code),
        tags=("shellcheck",) if code.startswith("SC") else (),
    )


def parse(text: str) -> ToolRun:
    """Parse hadolint's JSON report (a list of ``{code, level, message, file, line, column}``)."""
    data = load_json(NAME, text)
    if not isinstance(data, list):
        raise ToolOutputError(NAME, f"the report is a JSON {type(data).__name__}, expected a list of findings")
    items = expect_list(NAME, data, "the report")
    findings = [_finding(expect_dict(NAME, item, f"entry {i}"), i) for i, item in enumerate(items)]
    findings.sort(key=sort_key)
    return ToolRun(tool=NAME, version="", findings=tuple(findings))
