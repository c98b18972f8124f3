"""Gitleaks: secrets in the source tree (the files as they are, not the git history).

How it runs (`scan`): ``gitleaks dir .`` in ``/src`` (report paths relative to the tree), with
``--redact=100`` (the value is replaced by ``REDACTED`` in the report *and* in logs), ``--no-banner``,
SARIF to ``/tmp/seaworthy-out/gitleaks.sarif``. SARIF and JSON carry the same locations (file, start/end
line and column); SARIF is used so that the one SARIF reader serves every source scanner. Seaworthy never
reads a snippet, a ``Match`` or a ``Secret`` field, so even an unredacted report would not leak a value
into a finding.

Exit codes: gitleaks exits 1 both for "leaks found" (default) and on fatal errors (``log.Fatal``), so the
findings code is moved to 3 with ``--exit-code 3``: 0 clean, 3 findings, anything else (1: bad config,
unreadable path…) a failure.

Paths to skip (``exclude``): turned into a generated config passed in the ``GITLEAKS_CONFIG_TOML``
environment variable (plain data, no secret): ``[extend] useDefault = true`` plus one ``[[allowlists]]``
with a path regex per pattern. Patterns are gitignore-like globs: ``*`` (within one path segment),
``**`` (any depth) and ``?``; a pattern without ``/`` matches that name at any depth (``tests``,
``*.lock``), one with ``/`` is anchored at the tree's root (``docs/examples``). Note gitleaks' order of
precedence: such a generated config replaces a ``.gitleaks.toml`` at the tree's root (which gitleaks
otherwise reads by itself); a ``.gitleaksignore`` file keeps working.

Severity: every secret is at least HIGH; CRITICAL when the rule is about a private key or a credential that
opens a cloud account, a code host or a package registry (`CRITICAL_RULES`). Category SECRET always.
Version: gitleaks' SARIF says ``v8.0.0`` whatever the real version is, so `parse` does not read it: the
pipeline gives the pinned image's (`VERSION`, from images.toml's tag), and a report parsed without one has "".
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from pipeline.errors import ConfigError
from pipeline.formats.sarif_in import SarifRule, parse_sarif
from pipeline.model import Category, Severity, ToolRun
from pipeline.tools.base import OUT, SRC, ExitCodes, Invocation, glob_body, pinned

NAME = "gitleaks"
IMAGE = pinned(NAME)
"""Pinned in images.toml. The image declares ``USER gitleaks``; the stage runs it as root (runner.ROOT)."""
VERSION = IMAGE.tag.removeprefix("v")
"""The version of the pinned image (its tag is ``v`` and the release, as gitleaks publishes them)."""

REPORT = f"{OUT}/gitleaks.sarif"
LEAKS_EXIT_CODE = 3
EXIT_CODES = ExitCodes(clean=frozenset({0}), findings=frozenset({LEAKS_EXIT_CODE}))

CRITICAL_RULES: tuple[str, ...] = (
    "private-key",
    "pkcs12-file",
    "aws-",
    "yandex-aws-access-token",
    "gcp-",
    "azure-",
    "alibaba-",
    "digitalocean-",
    "cloudflare-global-api-key",
    "github-",
    "gitlab-pat",
    "gitlab-pat-routable",
    "gitlab-deploy-token",
    "gitlab-runner-authentication-token",
    "gitlab-runner-authentication-token-routable",
    "bitbucket-client-secret",
    "hashicorp-tf-api-token",
    "vault-",
    "kubernetes-secret-yaml",
    "openshift-user-token",
    "npm-access-token",
    "pypi-upload-token",
    "rubygems-api-token",
)
"""Rule ids (exact, or prefixes where they end with '-') whose secrets are CRITICAL; all others are HIGH."""


def _glob_to_regex(pattern: str) -> str:
    text = pattern.strip().strip("/") if pattern.strip() != "/" else ""
    if not text:
        raise ConfigError(f"exclude pattern {pattern!r} is empty; give a path or glob such as 'tests'")
    anchored = "/" in text
    body = glob_body(text)
    return f"^{body}(?:/|$)" if anchored else f"(?:^|/){body}(?:/|$)"


def glob_regex(pattern: str) -> str:
    """The regex (searched in a path relative to the tree) of one gitignore-like glob, as `exclude` reads it."""
    return _glob_to_regex(pattern)


def exclusion_config(exclude: Sequence[str]) -> str:
    """The gitleaks config (TOML) that keeps the default rules and skips the given paths."""
    for pattern in exclude:
        if any(c in pattern for c in "\n\r\0'"):
            raise ConfigError(f"exclude pattern {pattern!r} has a quote or line break; give a plain glob")
    regexes = sorted({_glob_to_regex(p) for p in exclude})
    paths = ", ".join(f"'''{r}'''" for r in regexes)
    return (
        'title = "seaworthy: gitleaks defaults with excluded paths"\n'
        "\n[extend]\nuseDefault = true\n"
        '\n[[allowlists]]\ndescription = "paths excluded in the Seaworthy configuration"\n'
        f"paths = [{paths}]\n"
    )


def scan(*, exclude: Sequence[str] = ()) -> Invocation:
    """Scan the files of the tree mounted at SRC for secrets; ``exclude``: globs of paths to skip."""
    argv = (
        "gitleaks",
        "dir",
        ".",
        "--redact=100",
        "--no-banner",
        "--no-color",
        "--report-format",
        "sarif",
        "--report-path",
        REPORT,
        "--exit-code",
        str(LEAKS_EXIT_CODE),
    )
    env = {"GITLEAKS_CONFIG_TOML": exclusion_config(exclude)} if exclude else {}
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=argv,
        report=REPORT,
        exit_codes=EXIT_CODES,
        mounts={SRC: "source"},
        env=env,
        workdir=SRC,
    )


def severity_of(rule_id: str) -> Severity:
    """CRITICAL for the rules in `CRITICAL_RULES`, HIGH for every other secret."""
    for entry in CRITICAL_RULES:
        if rule_id == entry or (entry.endswith("-") and rule_id.startswith(entry)):
            return Severity.CRITICAL
    return Severity.HIGH


def _severity_hook(rule: SarifRule, level: str) -> Severity:
    return severity_of(rule.id)


def parse(text: str, *, version: str = "") -> ToolRun:
    """Parse gitleaks' SARIF: one Category.SECRET finding per leak, with its place and rule, never a value.

    ``version``: of the gitleaks that wrote it, when the caller knows (the SARIF's own is always v8.0.0)."""
    run = parse_sarif(text, tool=NAME, category=Category.SECRET, severity_of=_severity_hook)
    return attrs.evolve(run, version=version)
