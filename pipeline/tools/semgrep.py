"""Semgrep: static analysis (SAST) of the source tree with Seaworthy's bundled rules, offline by default.

How it runs (`scan`): ``semgrep scan`` in ``/src`` on ``.`` (so report paths are relative to the tree), with
the bundled rules mounted at ``/in/rules`` (`pipeline/rules/semgrep/`) and/or rule files/dirs *inside the
scanned tree*, and optional registry packs (``p/python``…; those need network access to semgrep.dev, so
the default uses none). Always ``--metrics off --disable-version-check`` (nothing leaves
the machine). Rule ids are left to semgrep to *rewrite* (no ``--no-rewrite-rule-ids``): with that flag
semgrep keeps only one of two rules that share an id across rule files (seen with semgrep-rules' two
``avoid-bind-to-all-interfaces``, Python INFO and Go WARNING: the Go rule's results vanished), silently
losing coverage. Rewritten, every id is prefixed with the dotted path of its rule file's folder (relative to
the working directory when under it: ``in.rules.seaworthy.python…``); `parse` strips the prefix of each
local config given (`id_prefixes`), so ids read ``seaworthy.python…`` for the bundled rules and the
registry's own ids (``python.lang.security.audit…``) for a folder of its rules, and stay distinct.

Output: semgrep's **JSON** goes to ``/tmp/seaworthy-out/semgrep.json`` via ``--json-output``, and the human
text report goes to ``/dev/null`` (``--output``): it would print matched source lines into the logs. Kept
that way, semgrep writes its errors (bad rule file, bad pattern…) to **stderr**, which `ToolFailed` carries.
JSON and not SARIF: semgrep's SARIF has one ``rules`` entry per rule *id*, so rules that share an id (89 ids
are shared in semgrep's public rule set, 13 with different severities) collapse into the first one, and
every result then takes that rule's severity, title and category. The JSON carries each result's own
rule ``severity`` and ``metadata``, and lists the files scanned (``paths.scanned``). The same run also
writes its SARIF (``--sarif-output``, `SARIF_REPORT`), read for one thing the JSON lacks: each rule's
message *template* (`sarif_templates`), for the rules of the scanned tree and registry packs too.

Exit codes (with ``--error``): 0 clean, 1 findings, anything else a failure (seen here: 7 for a rules
file that is not valid YAML, 2 for a rule whose pattern does not parse or a registry that cannot be
reached). Without ``--error`` findings would exit 0 like a clean run.

Partial scans: when a rule times out on a file (``--timeout``, 5 s per rule and file by default) semgrep
still exits 0/1 and only adds a ``warn``-level entry to ``errors``; `parse` keeps it as a note
("semgrep warning: Timeout when running … on big.py"), and any *error*-level entry is a `ToolOutputError`.

What semgrep looks at: every file of the tree (tracked by git or not) except what ``.gitignore`` and
``.semgrepignore`` exclude; without a ``.semgrepignore`` its defaults apply, which skip ``tests/``,
``test/``, ``node_modules/``, ``build/``, ``dist/``, ``vendor/``, ``.venv/``, ``*.min.js``… *relative to the
git root* (so a fixture under ``tests/`` of a checkout is never scanned: copy it out first).
``include_gitignored=True`` adds ``--no-git-ignore`` (git is not consulted; gitignored files are scanned).

Coverage (`pipeline.model.Coverage`): semgrep lists only files some rule applied to, so with ``inventory``
the scan also runs `INVENTORY_RULES` (one rule per language that can never match): then every source file
of a known language is listed, and the languages with files but no real rule show. Rules per language
are counted from the rule files Seaworthy knows (the bundled ones, `rule_counts`); rules from the tree or
registry packs are run but not counted (`Coverage.rules_known` False).

Per result, all from the result's *own* rule (never from words in its id):

- **severity**: ``metadata.security-severity`` read as a CVSS score (>= 9 CRITICAL, >= 7 HIGH, >= 4
  MEDIUM, > 0 LOW), else the rule's ``severity``: CRITICAL → CRITICAL, ERROR/HIGH → HIGH, WARNING/MEDIUM →
  MEDIUM, INFO/LOW → LOW, INVENTORY/EXPERIMENT → INFO.
- **category**: ``metadata.seaworthy-category`` (``sast``, ``secret``, ``misconfiguration``) where set;
  else ``secret`` when the metadata says hard-coded credentials (a CWE of 798, 259 or 321, a
  ``vulnerability_class`` "Hard-coded Secrets", or ``technology`` "secrets", as the registry's
  ``generic.secrets…`` rules have); else ``misconfiguration`` for rules about Dockerfiles, Kubernetes,
  Terraform… (``technology`` docker/kubernetes/terraform…, or a registry id under ``dockerfile.``,
  ``yaml.kubernetes.``, ``terraform.``… — the language directory, not a word); else ``sast``. Whether a
  result is about a secret is `pipeline.formats.redact.is_secret_rule` of its category, tags and metadata
  (as for every SARIF tool). A secret's message is never semgrep's (an interpolated match carries the
  value): it is the rule's template (metavariables by name) when `parse` knows it (`sarif_templates` of the
  run's SARIF, which the stage always gives, and `rule_templates` of the bundled rules) and the message
  follows it, else a fixed text naming the rule. The values go to `ToolRun.scrub`: exactly those
  interpolated when the template is known (every one of at least `redact.MIN_SCRUB_LENGTH` characters for a
  secret rule, however plain, e.g. a 6-letter password; the credential-shaped ones otherwise), else every
  credential-shaped token of the message (and, for a secret, of ``extra.lines`` when semgrep gives the
  source line); the reports scrub them everywhere.
- **tags**: ``CWE-<n>`` of ``metadata.cwe``, ``metadata.owasp`` entries, and ``metadata.category``.
- **title**: ``metadata.shortDescription`` (or ``short-description``), else the message's first sentence.
- **help**: ``metadata.source`` when it is a link, else the first ``metadata.references`` link.
- **identity**: semgrep's ``fingerprint`` when it is a real one (without a login semgrep writes
  "requires login"), so the merge keeps distinct results apart (`pipeline.model.merge_key`).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from pipeline.errors import ConfigError, ToolOutputError
from pipeline.formats import redact
from pipeline.formats._common import loads_tool_json, strip_bom
from pipeline.formats.sarif_in import (
    NO_RULE_ID,
    NO_RULE_TITLE,
    normalize_tag,
    relative_path,
    severity_from_security_severity,
)
from pipeline.model import Category, Coverage, Finding, Location, Severity, ToolRun, bulk, sort_key
from pipeline.tools.base import IN, OUT, SRC, ExitCodes, Invocation, pinned

NAME = "semgrep"
IMAGE = pinned(NAME)
"""Pinned in images.toml: the version the contract tests run (PyPI ``semgrep``, same release)."""

RULES_DIR = f"{IN}/rules"
INVENTORY_DIR = f"{IN}/inventory"
REPORT = f"{OUT}/semgrep.json"
SARIF_REPORT = f"{OUT}/semgrep.sarif"
"""semgrep's SARIF of the same run (``--sarif-output``): read only for its rules' message templates."""
BUNDLED_RULES = Path(__file__).resolve().parent.parent / "rules" / "semgrep"
"""Host path of the bundled rules the stage mounts at `RULES_DIR`."""
INVENTORY_RULES = Path(__file__).resolve().parent.parent / "rules" / "inventory"
"""Host path of the inventory rules (one never-matching rule per language) the stage mounts at
`INVENTORY_DIR`, so that semgrep lists every source file of a language it knows."""
INVENTORY_PREFIX = "seaworthy.inventory."

EXIT_CODES = ExitCodes(clean=frozenset({0}), findings=frozenset({1}))

LANGUAGES: Mapping[str, tuple[str, ...]] = {
    "bash": (".sh", ".bash"),
    "c": (".c", ".h"),
    "cpp": (".cpp", ".cc", ".cxx", ".hpp", ".hh"),
    "csharp": (".cs",),
    "go": (".go",),
    "java": (".java",),
    "javascript": (".js", ".jsx", ".mjs", ".cjs"),
    "kotlin": (".kt", ".kts"),
    "php": (".php",),
    "python": (".py", ".pyi"),
    "ruby": (".rb",),
    "rust": (".rs",),
    "scala": (".scala",),
    "swift": (".swift",),
    "terraform": (".tf",),
    "typescript": (".ts", ".tsx", ".mts", ".cts"),
}
"""The languages coverage reports, with the file suffixes semgrep gives them (one inventory rule each)."""
_BY_SUFFIX = {suffix: lang for lang, suffixes in LANGUAGES.items() for suffix in suffixes}
_ALIASES = {
    "py": "python",
    "python2": "python",
    "python3": "python",
    "js": "javascript",
    "ts": "typescript",
    "c#": "csharp",
    "c++": "cpp",
    "hcl": "terraform",
    "tf": "terraform",
    "sh": "bash",
    "kt": "kotlin",
    "rb": "ruby",
}

_PACK = re.compile(r"^(p|r|s)/[A-Za-z0-9][A-Za-z0-9._/-]*$")
_SECRET_CWES = frozenset({"CWE-798", "CWE-259", "CWE-321"})
"""Hard-coded credentials, hard-coded password, hard-coded cryptographic key."""
_CONFIG_TECHNOLOGIES = frozenset(
    {"docker", "dockerfile", "docker-compose", "kubernetes", "terraform", "cloudformation", "helm", "hcl"}
)
_MISCONFIG_PREFIXES = (
    "dockerfile.",
    "generic.dockerfile.",
    "yaml.kubernetes.",
    "yaml.docker-compose.",
    "terraform.",
    "hcl.",
    "json.aws.",
)
_SEVERITIES: Mapping[str, Severity] = {
    "CRITICAL": Severity.CRITICAL,
    "ERROR": Severity.HIGH,
    "HIGH": Severity.HIGH,
    "WARNING": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "INFO": Severity.LOW,
    "LOW": Severity.LOW,
    "INVENTORY": Severity.INFO,
    "EXPERIMENT": Severity.INFO,
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_NOT_A_FINGERPRINT = "requires login"
_NO_RULE_SEVERITY = "WARNING"
"""The severity of a result that names no rule and gives none: semgrep's default level (SARIF ``warning``)."""
_MAX_LISTED = 20


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
    inventory: bool = False,
) -> Invocation:
    """Scan the tree mounted at SRC (``semgrep scan .`` in SRC).

    - ``rules``: rule files or directories: container paths (the bundled rules are `RULES_DIR`, files of
      the tree are under SRC) or paths relative to the scanned tree. With neither ``rules`` nor ``packs``,
      the bundled rules are used.
    - ``packs``: registry configs such as ``p/python``: **need network access** to semgrep.dev.
    - ``exclude``: gitignore-style patterns of paths to skip (``--exclude``), e.g. ``tests``, ``*.min.js``.
    - ``include_gitignored``: also scan files ``.gitignore`` excludes (``--no-git-ignore``).
    - ``inventory``: also run the inventory rules (`INVENTORY_DIR`, mount kind "inventory") so that the
      report lists every source file of a known language (see the module docstring: coverage).

    `Invocation.mounts` lists `RULES_DIR` ("rules") only when the bundled rules are used, and
    `INVENTORY_DIR` ("inventory") with ``inventory``.
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
    if inventory:
        argv += ["--config", INVENTORY_DIR]
    for pattern in exclude:
        if not pattern.strip() or any(c in pattern for c in "\n\r\0"):
            raise ConfigError(f"exclude pattern {pattern!r} is empty or has a line break; give one glob")
        argv += ["--exclude", pattern.strip()]
    argv += [
        "--metrics",
        "off",
        "--disable-version-check",
        "--error",
        "--json-output",
        REPORT,
        "--sarif-output",
        SARIF_REPORT,
        "--output",
        "/dev/null",
    ]
    if include_gitignored:
        argv.append("--no-git-ignore")
    argv.append(".")
    mounts = {SRC: "source"}
    if any(c == RULES_DIR or c.startswith(RULES_DIR + "/") for c in configs):
        mounts[RULES_DIR] = "rules"
    if inventory:
        mounts[INVENTORY_DIR] = "inventory"
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


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []  # pyright: ignore[reportUnknownVariableType]


def _strs(value: Any) -> list[str]:
    """A metadata value that may be one string or a list of them."""
    if isinstance(value, str):
        return [value] if value.strip() else []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str) and v.strip()]  # pyright: ignore[reportUnknownVariableType]
    return []


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def language_of(path: str) -> str:
    """The coverage language of a file, by suffix ("" when it is none of `LANGUAGES`)."""
    dot = path.rfind(".")
    return _BY_SUFFIX.get(path[dot:].lower(), "") if dot > path.rfind("/") else ""


def canonical_language(name: str) -> str:
    key = name.strip().lower()
    return _ALIASES.get(key, key)


def _rules(paths: Sequence[Path]) -> list[dict[str, Any]]:
    """The rules of rule files (YAML) on this machine; `ConfigError` naming a file that does not parse."""
    import yaml  # PyYAML: a dependency of spdx-tools; only needed here

    found: list[dict[str, Any]] = []
    files = [p for root in paths for p in (sorted(root.rglob("*.y*ml")) if root.is_dir() else [root])]
    for file in files:
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"semgrep rules file {file} cannot be read ({exc}); fix or remove it") from None
        found.extend(_obj(rule) for rule in _list(_obj(doc).get("rules")))
    return found


def rule_counts(paths: Sequence[Path] = (BUNDLED_RULES,)) -> dict[str, int]:
    """Rules per language in rule files (YAML) on this machine: what `Coverage.rules` says was run.

    Raises `ConfigError` naming the file when one does not parse (a rule file Seaworthy ships is broken).
    """
    counts: Counter[str] = Counter()
    for r in _rules(paths):
        if str(r.get("id", "")).startswith(INVENTORY_PREFIX):
            continue
        for lang in dict.fromkeys(canonical_language(x) for x in _strs(r.get("languages"))):
            counts[lang] += 1
    return dict(counts)


def rule_templates(paths: Sequence[Path] = (BUNDLED_RULES,)) -> dict[str, str]:
    """Rule id → message template (``… $VAL …``) of the rules in rule files on this machine.

    semgrep's JSON carries each result's message with its metavariables *interpolated* and never the rule's
    template: with the template `parse` knows exactly which values came from the scanned code (to scrub
    them) and what a secret rule's message says without them. An id defined twice with two different
    messages has no template (neither can be trusted to be the one that ran).
    """
    found: dict[str, str] = {}
    ambiguous: set[str] = set()
    for r in _rules(paths):
        rule_id, message = r.get("id"), r.get("message")
        if not isinstance(rule_id, str) or not isinstance(message, str) or not message.strip():
            continue
        if found.setdefault(rule_id, message.strip()) != message.strip():
            ambiguous.add(rule_id)
    return {k: v for k, v in found.items() if k not in ambiguous}


def sarif_templates(text: str, prefixes: Sequence[str] = ()) -> dict[str, str]:
    """Rule id (``prefixes`` cut, as `parse` cuts them) → message template, read from semgrep's SARIF of the
    same run (`SARIF_REPORT`): every rule that ran has one there (``fullDescription``: semgrep writes the
    rule's ``message``), the scanned tree's own rules and registry packs included, which `rule_templates`
    cannot know. semgrep's SARIF keeps one rule per id, so an id shared by rules with different messages has
    the first one's; `parse` uses a template only for a message that follows it.

    A `ToolOutputError` when the SARIF is empty, not JSON or has no ``runs``: without the templates the values
    a rule interpolated could not be told apart from its text.
    """
    text = strip_bom(text)
    try:
        data = loads_tool_json(text) if text.strip() else None
    except (json.JSONDecodeError, ValueError):
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("runs"), list):  # pyright: ignore[reportUnknownMemberType]
        raise ToolOutputError(
            NAME, f"its SARIF ({SARIF_REPORT}) is empty or not SARIF: its rules' messages are unknown"
        )
    found: dict[str, str] = {}
    ambiguous: set[str] = set()
    for run in _list(_obj(data).get("runs")):
        for rule in _list(_obj(_obj(_obj(run).get("tool")).get("driver")).get("rules")):
            rule_id, message = _obj(rule).get("id"), _obj(_obj(rule).get("fullDescription")).get("text")
            if not isinstance(rule_id, str) or not isinstance(message, str) or not message.strip():
                continue
            rule_id = _strip(rule_id, prefixes)
            if found.setdefault(rule_id, message.strip()) != message.strip():
                ambiguous.add(rule_id)
    return {k: v for k, v in found.items() if k not in ambiguous}


def _category_of(metadata: Mapping[str, Any], rule_id: str) -> Category:
    chosen = metadata.get("seaworthy-category")
    if isinstance(chosen, str) and chosen.strip().lower() in ("sast", "secret", "misconfiguration"):
        return Category(chosen.strip().lower())
    cwes = {normalize_tag(c) for c in _strs(metadata.get("cwe"))}
    classes = {c.strip().lower() for c in _strs(metadata.get("vulnerability_class"))}
    technology = {t.strip().lower() for t in _strs(metadata.get("technology"))}
    if cwes & _SECRET_CWES or "hard-coded secrets" in classes or "secrets" in technology:
        return Category.SECRET
    if technology & _CONFIG_TECHNOLOGIES or rule_id.lower().startswith(_MISCONFIG_PREFIXES):
        return Category.MISCONFIGURATION
    return Category.SAST


def _severity_of(metadata: Mapping[str, Any], severity: Any) -> Severity:
    from_score = severity_from_security_severity(metadata.get("security-severity"))
    if from_score is not None:
        return from_score
    return (
        _SEVERITIES.get(severity.strip().upper(), Severity.UNKNOWN) if isinstance(severity, str) else Severity.UNKNOWN
    )


def _help_uri(metadata: Mapping[str, Any]) -> str:
    for link in (*_strs(metadata.get("source")), *_strs(metadata.get("references"))):
        if link.startswith(("https://", "http://")):
            return link.strip()
    return ""


def _location(result: Mapping[str, Any]) -> tuple[Location, ...]:
    raw = result.get("path")
    # a file path, not a URI: a '%' is part of the name (escaped so that relative_path's decoding keeps it)
    path = relative_path(raw.replace("%", "%25")) if isinstance(raw, str) else ""
    if not path:
        return ()
    start, end = _obj(result.get("start")), _obj(result.get("end"))
    line = _int(start.get("line"))
    if line is None:
        return (Location(path),)
    return (Location(path, line, _int(end.get("line")), _int(start.get("col")), _int(end.get("col"))),)


def _scrub_values(message: str, template: str, secret: bool) -> list[str]:
    """The values to scrub from every report that this result's message may carry (`pipeline.formats.redact`).

    With the rule's template (`rule_templates`) the values semgrep interpolated are known exactly: all of them
    for a secret rule, the credential-shaped ones otherwise. Without it (a rule from the scanned tree or a
    registry pack), every credential-shaped token of the message.
    """
    values = redact.interpolated_values(template, message) if template else None
    if values is None:
        return redact.credential_tokens(message)
    return values if secret else [v for v in values if redact.looks_like_credential(v)]


def _finding(result: Mapping[str, Any], templates: Mapping[str, str], scrub: list[str]) -> Finding:
    check = result.get("check_id")
    unidentified = not (isinstance(check, str) and check.strip())
    rule_id = NO_RULE_ID if unidentified else str(check)
    extra = _obj(result.get("extra"))
    metadata = {} if unidentified else _obj(extra.get("metadata"))
    message = str(extra.get("message") or "").strip()
    category = Category.SAST if unidentified else _category_of(metadata, rule_id)
    short = next(iter(_strs(metadata.get("shortDescription")) + _strs(metadata.get("short-description"))), "")
    tags = {normalize_tag(c) for c in _strs(metadata.get("cwe"))}
    tags.update(o.strip() for o in _strs(metadata.get("owasp")))
    tags.update(c.strip() for c in _strs(metadata.get("category")))
    tags.discard("")
    template = "" if unidentified else templates.get(rule_id, "")
    if template and redact.interpolated_values(template, message) is None:
        template = ""  # not the message this result was written from (another rule of the same id): unknown
    secret = not unidentified and redact.is_secret_rule(category, rule_id, tags, metadata)
    scrub.extend(_scrub_values(message, template, secret))
    lines = extra.get("lines")
    if secret and isinstance(lines, str) and lines != _NOT_A_FINGERPRINT:
        scrub.extend(redact.credential_tokens(lines))  # the matched source line: a source of values, never shown
    if secret:  # never the interpolated text: the rule's template (metavariables by name), else a fixed text
        title = short or "Hard-coded secret"
        message = redact.redacted_message(template, f"{title} (semgrep rule {rule_id}; the matched text is not shown)")
    elif unidentified:
        title = NO_RULE_TITLE
        message = message or "semgrep reported a result that names no rule and says nothing"
    else:
        title = short or (_SENTENCE_END.split(message, maxsplit=1)[0].strip() if message else "")
    fingerprint = extra.get("fingerprint")
    identity = ""
    if isinstance(fingerprint, str) and fingerprint and fingerprint != _NOT_A_FINGERPRINT:
        identity = hashlib.sha256(fingerprint.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    severity = extra.get("severity")
    return Finding(
        category=category,
        rule_id=rule_id,
        severity=_severity_of(metadata, _NO_RULE_SEVERITY if unidentified and not severity else severity),
        message=message or title or f"semgrep rule {rule_id}",
        tools=(NAME,),
        locations=_location(result),
        title=title,
        help_uri=_help_uri(metadata),
        tags=tuple(sorted(tags)),
        identity=identity,
    )


def _load(text: str) -> dict[str, Any]:
    text = strip_bom(text)
    if not text.strip():
        raise ToolOutputError(NAME, "the JSON report is empty")
    try:
        data = loads_tool_json(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        if exc.pos >= len(text.rstrip()) - 1:
            raise ToolOutputError(NAME, f"the JSON report is truncated ({where})") from None
        raise ToolOutputError(NAME, f"the report is not JSON ({exc.msg} at {where})") from None
    except ValueError as exc:  # nested too deep to read
        raise ToolOutputError(NAME, f"the JSON report is {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):  # pyright: ignore[reportUnknownMemberType]
        raise ToolOutputError(NAME, "the report is not semgrep JSON (no 'results' array)")
    if not isinstance(data.get("errors", []), list):  # pyright: ignore[reportUnknownMemberType]
        raise ToolOutputError(NAME, "the report's 'errors' is not a list")
    return data  # pyright: ignore[reportUnknownVariableType]


def _coverage(data: Mapping[str, Any], rules: Mapping[str, int] | None, rules_known: bool) -> Coverage:
    scanned = [p for p in _list(_obj(data.get("paths")).get("scanned")) if isinstance(p, str)]
    langs = Counter(lang for lang in (language_of(p) for p in scanned) if lang)
    counts = {canonical_language(k): v for k, v in (rules or {}).items() if v > 0}
    return Coverage(
        files=len(scanned),
        languages=tuple(sorted(langs.items())),
        rules=tuple(sorted(counts.items())),
        rules_total=sum(counts.values()),
        rules_known=rules_known and rules is not None,
    )


def id_prefixes(inv: Invocation) -> tuple[str, ...]:
    """The prefixes semgrep puts before the ids of the rules of each local ``--config`` of `inv`, longest first.

    semgrep prefixes a rule's id with its file's folder, dotted: relative to the working directory when the
    folder is under it, else the whole path; ``.``/``..`` parts dropped and leading dots cut
    (``/src/.semgrep/x.yml`` in ``/src`` → ``semgrep.``). A folder config's subfolders stay in the id.
    """
    found: set[str] = set()
    argv = inv.argv
    workdir = PurePosixPath(inv.workdir)
    for flag, value in itertools.pairwise(argv):
        if flag != "--config" or _PACK.match(value):
            continue
        path = PurePosixPath(value)
        if path.suffix.lower() in (".yml", ".yaml", ".json"):
            path = path.parent
        if path.is_absolute() and path.is_relative_to(workdir):
            path = path.relative_to(workdir)
        parts = [p.lstrip(".") for p in path.parts if p not in ("/", ".", "..")]
        prefix = ".".join(p for p in parts if p)
        if prefix:
            found.add(prefix + ".")
    return tuple(sorted(found, key=lambda p: (-len(p), p)))


def _strip(check_id: str, prefixes: Sequence[str]) -> str:
    for prefix in prefixes:
        if check_id.startswith(prefix) and len(check_id) > len(prefix):
            return check_id[len(prefix) :]
    return check_id


def parse(
    text: str,
    *,
    prefixes: Sequence[str] = (),
    rules: Mapping[str, int] | None = None,
    rules_known: bool = True,
    templates: Mapping[str, str] | None = None,
    sarif: str | None = None,
) -> ToolRun:
    """Parse semgrep's JSON report. An error-level entry in ``errors`` (bad rule…) is a `ToolOutputError`.

    ``prefixes`` (`id_prefixes` of the invocation that ran) are cut from the rule ids.
    ``rules`` (rules per language, `rule_counts`) and ``rules_known`` (False when rules from the tree or
    registry packs ran too) fill `ToolRun.coverage`; without ``rules`` the rule counts are unknown.
    ``templates`` (`rule_templates`, by rule id without prefix) are the messages of the rules known here;
    ``sarif`` (semgrep's SARIF of the same run, `SARIF_REPORT`) adds those of every rule that ran
    (`sarif_templates`): the stage always gives it, so the values a rule of the scanned tree or of a registry
    pack interpolated into a secret's message are known and scrubbed, however short or plain.
    Results of the inventory rules (which never match) would be left out.

    The same guarantees as the SARIF reader (`pipeline.formats.sarif_in`): a UTF-8 BOM is skipped, lone
    surrogates become U+FFFD, a document nested too deep is a one-line error, a result that is not an object
    refuses the file, one that names no rule is kept as ``no-rule-id`` (at its own severity, else MEDIUM)
    and counted in a note, one without a file is kept and counted in a note; secrets are redacted by
    category and rule metadata (`redact.is_secret_rule`) and the values they matched go to `ToolRun.scrub`,
    scrubbed here from every finding and note (and by the reports from every other tool's text).
    """
    data = _load(text)
    notes: list[str] = []
    for err in _list(data.get("errors")):
        e = _obj(err)
        level = str(e.get("level") or "error").lower()
        msg = str(e.get("message") or e.get("type") or "unknown error").strip()
        first = msg.splitlines()[0] if msg else msg
        if level == "error":
            raise ToolOutputError(NAME, f"the tool reported an error: {redact.neutralize(first)}")
        where = f" ({e['path']})" if isinstance(e.get("path"), str) and e["path"] not in first else ""
        notes.append(f"semgrep {'warning' if level == 'warn' else level}: {first}{where}")
    skipped = [_obj(r).get("rule_id") for r in _list(data.get("skipped_rules"))]
    if skipped:  # rules semgrep could not run (e.g. a newer rule syntax): less was looked at, say so
        ids = sorted({str(i) for i in skipped if i})
        shown = ", ".join(ids[:10]) + (f" and {len(ids) - 10} more" if len(ids) > 10 else "")
        notes.append(f"semgrep skipped {len(skipped)} rule(s) it cannot run: {shown}")
    findings: list[Finding] = []
    scrub: list[str] = []
    no_location: Counter[str] = Counter()
    known = {**(sarif_templates(sarif, prefixes) if sarif is not None else {}), **(templates or {})}
    with bulk():
        for index, raw in enumerate(_list(data["results"])):
            if not isinstance(raw, dict):
                raise ToolOutputError(NAME, f"result {index} is a {type(raw).__name__}, not an object")
            result: dict[str, Any] = raw  # pyright: ignore[reportUnknownVariableType]
            check = result.get("check_id")
            if isinstance(check, str):
                check = _strip(check, prefixes)
                if check.startswith(INVENTORY_PREFIX) or f".{INVENTORY_PREFIX}" in check:
                    continue
                result = {**result, "check_id": check}
            finding = _finding(result, known, scrub)
            if not finding.locations:
                no_location[finding.rule_id] += 1
            findings.append(finding)
        if no_location:
            listed = sorted(no_location.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = ", ".join(f"{k} ({n})" for k, n in listed[:_MAX_LISTED])
            if len(listed) > _MAX_LISTED:
                shown += f", and {len(listed) - _MAX_LISTED} more rules"
            notes.append(f"{no_location.total()} result(s) had no file location and are kept without one: {shown}")
        unknown = sum(1 for f in findings if f.rule_id == NO_RULE_ID)
        if unknown:
            notes.append(
                f"{unknown} result(s) named no rule; they are kept as rule '{NO_RULE_ID}' at the severity of "
                "their own level (the tool's output is incomplete: check its version and options)"
            )
        scrubber = redact.Scrubber(tuple(scrub))
        findings = sorted(scrubber.findings(findings), key=sort_key)
        notes = sorted(dict.fromkeys(scrubber.texts(notes)))
    version = data.get("version")
    return ToolRun(
        tool=NAME,
        version=scrubber.text(version) if isinstance(version, str) else "",
        findings=tuple(findings),
        notes=tuple(notes),
        coverage=_coverage(data, rules, rules_known),
        scrub=scrubber.values,
    )
