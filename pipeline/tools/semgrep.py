"""Semgrep: static analysis (SAST) of the source tree with Seaworthy's bundled rules, offline by default.

How it runs (`scan`): ``semgrep scan`` in ``/src`` on ``.`` (so report paths are relative to the tree), with
the bundled rules mounted at ``/in/rules`` (`pipeline/rules/semgrep/`) and/or rule files/dirs *inside the
scanned tree*, and optional registry packs (``p/python``…; those need network access to semgrep.dev, so
the default uses none). Always ``--metrics off --disable-version-check`` (nothing leaves
the machine) and ``--no-rewrite-rule-ids`` (rule ids stay ``seaworthy.python…`` instead of being prefixed
with the config's path, which differs between container and host).

Output: SARIF goes to ``/tmp/seaworthy-out/semgrep.sarif`` via ``--sarif-output``, and the human text
report goes to ``/dev/null`` (``--output``): it would print matched source lines into the logs. Kept that
way, semgrep writes its errors (bad rule file, bad pattern…) to **stderr**, which `ToolFailed` carries.
(With ``--sarif --output FILE`` semgrep prints nothing at all on errors: they only land in the SARIF.)

Exit codes (with ``--error``): 0 clean, 1 findings, anything else a failure (seen here: 7 for a rules
file that is not valid YAML, 2 for a rule whose pattern does not parse or a registry that cannot be
reached). Without ``--error`` findings would exit 0 like a clean run.

Partial scans: when a rule times out on a file (``--timeout``, 5 s per rule and file by default) semgrep
still exits 0/1 and only adds a warning notification to the SARIF; `parse` keeps it as a note
("semgrep warning: Timeout when running … on big.py"), and any *error*-level notification is a
`ToolOutputError`.

What semgrep looks at: every file of the tree (tracked by git or not) except what ``.gitignore`` and
``.semgrepignore`` exclude; without a ``.semgrepignore`` its defaults apply, which skip ``tests/``,
``test/``, ``node_modules/``, ``build/``, ``dist/``, ``vendor/``, ``.venv/``, ``*.min.js``… *relative to the
git root* (so a fixture under ``tests/`` of a checkout is never scanned: copy it out first).
``include_gitignored=True`` adds ``--no-git-ignore`` (git is not consulted; gitignored files are scanned).

Severity (see `pipeline.formats.sarif_in`): a rule's ``metadata.security-severity`` (every bundled rule
sets one) read as a CVSS score, else the rule's severity as SARIF level: ERROR → HIGH, WARNING → MEDIUM,
INFO → LOW. Category SAST, except rules that are about secrets (id segment or tag ``secret(s)``:
Category.SECRET, their message replaced by the rule's description so that an interpolated match can never
carry a value) and rules for Dockerfiles/Kubernetes/Terraform (ids ``dockerfile.``, ``yaml.kubernetes.``,
``terraform.``…: Category.MISCONFIGURATION).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

import attrs

from pipeline.errors import ConfigError
from pipeline.formats.sarif_in import SarifRule, parse_sarif
from pipeline.model import Category, ToolRun
from pipeline.tools.base import IN, OUT, SRC, ExitCodes, Invocation, pinned

NAME = "semgrep"
IMAGE = pinned(NAME)
"""Pinned in images.toml: the version the contract tests run (PyPI ``semgrep``, same release)."""

RULES_DIR = f"{IN}/rules"
REPORT = f"{OUT}/semgrep.sarif"
BUNDLED_RULES = Path(__file__).resolve().parent.parent / "rules" / "semgrep"
"""Host path of the bundled rules the stage mounts at `RULES_DIR`."""

EXIT_CODES = ExitCodes(clean=frozenset({0}), findings=frozenset({1}))

_PACK = re.compile(r"^(p|r|s)/[A-Za-z0-9][A-Za-z0-9._/-]*$")
_SECRET_WORDS = frozenset({"secret", "secrets"})
_MISCONFIG_PREFIXES = (
    "dockerfile.",
    "generic.dockerfile.",
    "yaml.kubernetes.",
    "yaml.docker-compose.",
    "terraform.",
    "hcl.",
    "json.aws.",
)


def _rule_path(value: str) -> str:
    """A rules file/dir: a container path under SRC or IN, or a path relative to the scanned tree."""
    text = value.strip()
    pure = PurePosixPath(text)
    bad = not text or ".." in pure.parts or "\\" in text
    if not bad and pure.is_absolute():
        bad = not any(pure == PurePosixPath(root) or pure.is_relative_to(root) for root in (SRC, IN))
    if bad:
        raise ConfigError(
            f"semgrep rules path {value!r} must be a path inside the scanned source tree, relative to its "
            f"root (or a container path under {SRC} or {IN}); put the rules in the repository"
        )
    if pure.is_absolute():
        return str(pure)
    return SRC if str(pure) == "." else f"{SRC}/{pure}"


def scan(
    *,
    rules: Sequence[str] = (),
    packs: Sequence[str] = (),
    exclude: Sequence[str] = (),
    include_gitignored: bool = False,
) -> Invocation:
    """Scan the tree mounted at SRC (``semgrep scan .`` in SRC).

    - ``rules``: rule files or directories: container paths (the bundled rules are `RULES_DIR`, files of
      the tree are under SRC) or paths relative to the scanned tree. With neither ``rules`` nor ``packs``,
      the bundled rules are used.
    - ``packs``: registry configs such as ``p/python``: **need network access** to semgrep.dev.
    - ``exclude``: gitignore-style patterns of paths to skip (``--exclude``), e.g. ``tests``, ``*.min.js``.
    - ``include_gitignored``: also scan files ``.gitignore`` excludes (``--no-git-ignore``).

    `Invocation.mounts` lists `RULES_DIR` ("rules") only when the bundled rules are used.
    """
    configs = [_rule_path(r) for r in rules]
    for p in packs:
        if not _PACK.match(p.strip()):
            raise ConfigError(
                f"semgrep pack {p!r} is not a registry name; use one like 'p/python' or 'r/<rule id>' "
                "(local rules go in `rules`)"
            )
        configs.append(p.strip())
    if not configs:
        configs.append(RULES_DIR)
    argv: list[str] = ["semgrep", "scan"]
    for c in dict.fromkeys(configs):
        argv += ["--config", c]
    for pattern in exclude:
        if not pattern.strip() or any(c in pattern for c in "\n\r\0"):
            raise ConfigError(f"exclude pattern {pattern!r} is empty or has a line break; give one glob")
        argv += ["--exclude", pattern.strip()]
    argv += [
        "--metrics",
        "off",
        "--disable-version-check",
        "--no-rewrite-rule-ids",
        "--error",
        "--sarif-output",
        REPORT,
        "--output",
        "/dev/null",
    ]
    if include_gitignored:
        argv.append("--no-git-ignore")
    argv.append(".")
    mounts = {SRC: "source"}
    if any(c == RULES_DIR or c.startswith(RULES_DIR + "/") for c in configs):
        mounts[RULES_DIR] = "rules"
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=tuple(argv),
        report=REPORT,
        exit_codes=EXIT_CODES,
        mounts=mounts,
        env={"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"},
        workdir=SRC,
    )


def _category_of(rule: SarifRule) -> Category | None:
    words = {w for w in re.split(r"[.\s_:/-]+", rule.id.lower()) if w}
    tags = {t.lower() for t in rule.tags}
    if words & _SECRET_WORDS or tags & _SECRET_WORDS:
        return Category.SECRET
    if rule.id.lower().startswith(_MISCONFIG_PREFIXES):
        return Category.MISCONFIGURATION
    return None


def parse(text: str) -> ToolRun:
    """Parse semgrep's SARIF. An error notification in it (bad rule…) is a `ToolOutputError`."""
    run = parse_sarif(
        text,
        tool=NAME,
        category=Category.SAST,
        category_of=_category_of,
        fail_on_error_notifications=True,
    )
    if not any(f.category is Category.SECRET for f in run.findings):
        return run
    findings = tuple(
        attrs.evolve(f, message=f.title or f"possible secret found by rule {f.rule_id}")
        if f.category is Category.SECRET
        else f
        for f in run.findings
    )
    return attrs.evolve(run, findings=findings)
