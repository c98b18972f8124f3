"""njsscan: Node.js-specific static analysis (SAST) of the source tree, next to semgrep's cross-language rules.

Image: the project publishes ``opensecurity/njsscan:latest`` on every push and ``opensecurity/njsscan:<tag>``
on a GitHub release (``.github/workflows/docker-latest.yml`` / ``docker-release.yml`` in
ajinabraham/njsscan), but the newest git tag there is 1.0.0 while PyPI has 1.0.2, and Docker Hub cannot be
read from here to confirm which tags exist. So it runs like bandit: ``python:3.12.9-slim-bookworm`` plus a
version-pinned ``pip install`` as its own cached layer (`Image.install`). njsscan drives semgrep through
libsast, and neither pins the other exactly: all three are pinned (`PACKAGES`, the same list
scripts/setup.sh installs into ``.venv-njsscan`` for the contract tests).

How it runs (`scan`): ``njsscan --json -o /tmp/seaworthy-out/njsscan.json -w .`` in ``/src``. njsscan scans
``.js`` files (not TypeScript: the bundled semgrep rules cover ``.ts``) and HTML/template files. It skips,
by *substring of the path*, ``node_modules``, ``bower_components``, ``fixtures``, ``spec``, ``example``,
``jquery``, ``.min.js``, ``.git``… (its defaults, kept). A generated config file (`config_text`, always
mounted at `CONFIG`) adds ``.json`` to the ignored extensions (`IGNORED_EXTENSIONS`) and the paths to skip
(``exclude``; ``ignore-paths`` entries are substrings too, so a glob is reduced to its literal part:
``tests/**`` skips paths containing ``tests``). That config replaces a ``.njsscan`` file at the tree's root.

Exit codes: njsscan exits 1 when it found an ERROR issue (or, with ``-w``, a WARNING issue) *and* when a
file could not be read or parsed; 0 otherwise (INFO issues only, or nothing). A crash also exits 1 but
writes no report, which the stage turns into a `ToolOutputError`. So 0 is clean, 1 is "read the report",
and `parse` tells apart: a warning about one file (semgrep's ``warn`` level: it could not be fully parsed,
or a rule timed out on it) becomes a note naming the file; any other error (semgrep missing or failing, a
rule error) is a `ToolOutputError`.

Severity: njsscan's rule severity ERROR → HIGH, WARNING → MEDIUM, INFO → LOW, except its hard-coded
credential rules (CWE-798 / CWE-259 in the rule's metadata: node_password, node_username, node_secret,
hardcoded_jwt_secret…), which are capped at MEDIUM and filed as SAST, not SECRET: they guess from names and
flag messages such as ``"Invalid username and/or password"`` (OWASP/NodeGoat: every HIGH one there was
such a string). The gate blocks on any secret at all; gitleaks and the bundled semgrep secret rules are the
secret scanners, these are for review. CWE from the rule's ``cwe`` metadata (tag ``CWE-<id>``), OWASP
category as a tag, and the tag ``credential-heuristic`` on the capped ones. Messages are the rule's
description; the matched source (``match_string``) is never read, so a secret's value never reaches a
report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

import attrs

from pipeline.errors import ConfigError, ToolOutputError
from pipeline.model import Category, Finding, Location, Severity, ToolRun
from pipeline.tools.base import IN, OUT, SRC, ExitCodes, Invocation, expect_dict, expect_list, load_json, pinned

NAME = "njsscan"
VERSION = "1.0.2"
PACKAGES = (f"njsscan=={VERSION}", "libsast==3.1.10", "semgrep==1.172.0")
"""What the image installs (and scripts/setup.sh installs into .venv-njsscan)."""
IMAGE = attrs.evolve(
    pinned("python-analyzers"),
    install=("pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--root-user-action=ignore", *PACKAGES),
)
REPORT = f"{OUT}/njsscan.json"
CONFIG = f"{IN}/njsscan.yml"
EXIT_CODES = ExitCodes(clean=frozenset({0}), findings=frozenset({1}))

CREDENTIAL_CWES = frozenset({"CWE-798", "CWE-259"})
_SEVERITIES = {"ERROR": Severity.HIGH, "WARNING": Severity.MEDIUM, "INFO": Severity.LOW}
_CWE = re.compile(r"\bCWE-(\d+)\b")
_LITERAL = re.compile(r"[^*?\[\]]+")


def _ignore_path(pattern: str) -> str:
    """The literal part of a glob, as njsscan matches ignore paths as substrings."""
    text = pattern.strip().strip("/")
    parts = [p.strip("/") for p in _LITERAL.findall(text) if p.strip("/")]
    if not parts:
        raise ConfigError(f"exclude pattern {pattern!r} has no literal part njsscan can match; name a folder or file")
    return max(parts, key=len)


IGNORED_EXTENSIONS = (".json",)
"""Added to njsscan's ignored extensions: it reads ``.json`` as a template, and its template rules then
report JSON text such as ``"!{projectRoot}/…"`` (an nx.json glob) as unescaped Pug output, HIGH — seen on
gothinkster/node-express-realworld-example-app, six blocking false positives. JSON is never a template."""


def config_text(exclude: Sequence[str] = ()) -> str:
    """The njsscan config (YAML; JSON is YAML): njsscan's defaults plus `IGNORED_EXTENSIONS` and the paths to skip."""
    for pattern in exclude:
        if any(c in pattern for c in "\n\r\0"):
            raise ConfigError(f"exclude pattern {pattern!r} has a line break; give one glob")
    paths = sorted({_ignore_path(p) for p in exclude})
    data: dict[str, list[str]] = {"ignore-extensions": list(IGNORED_EXTENSIONS)}
    if paths:
        data["ignore-paths"] = paths
    return json.dumps(data, indent=2) + "\n"


def scan(*, exclude: Sequence[str] = ()) -> Invocation:
    """Scan the JavaScript and template files of the tree mounted at SRC; ``exclude``: globs of paths to skip.

    `Invocation.mounts` lists `CONFIG` ("njsscan-config"): the stage mounts ``config_text(exclude)`` there.
    """
    config_text(exclude)  # validate now: a bad pattern is a ConfigError before anything runs
    argv = ("njsscan", "--json", "--output", REPORT, "--exit-warning", "--config", CONFIG, ".")
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=argv,
        report=REPORT,
        exit_codes=EXIT_CODES,
        mounts={SRC: "source", CONFIG: "njsscan-config"},
        env={"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0"},
        workdir=SRC,
    )


def _path(value: str) -> str:
    text = value.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def _findings(rule_id: str, entry: dict[str, Any]) -> list[Finding]:
    meta = expect_dict(NAME, entry.get("metadata"), f"metadata of {rule_id}")
    level = str(meta.get("severity") or "").upper()
    severity = _SEVERITIES.get(level)
    if severity is None:
        raise ToolOutputError(NAME, f"rule {rule_id} has an unknown severity {meta.get('severity')!r}")
    cwe_text = str(meta.get("cwe") or "")
    cwes = sorted({f"CWE-{n}" for n in _CWE.findall(cwe_text)})
    tags = [*cwes]
    owasp = str(meta.get("owasp-web") or "").strip()
    if owasp:
        tags.append(f"owasp:{owasp}")
    if CREDENTIAL_CWES & set(cwes):
        severity = min(severity, Severity.MEDIUM)
        tags.append("credential-heuristic")
    description = re.sub(r"\s+", " ", str(meta.get("description") or rule_id)).strip()
    out: list[Finding] = []
    for match in expect_list(NAME, entry.get("files"), f"files of {rule_id}"):
        m = expect_dict(NAME, match, f"a match of {rule_id}")
        path = str(m.get("file_path") or "")
        lines = [n for n in expect_list(NAME, m.get("match_lines"), "match_lines") if isinstance(n, int)]
        if not path or not lines:
            raise ToolOutputError(NAME, f"a match of {rule_id} has no file_path or match_lines")
        location = Location(path=_path(path), start_line=min(lines), end_line=max(lines))
        out.append(
            Finding(
                category=Category.SAST,
                rule_id=rule_id,
                severity=severity,
                message=description,
                tools=(NAME,),
                locations=(location,),
                title=cwe_text or rule_id,
                tags=tuple(sorted(tags)),
            )
        )
    return out


def _note(err: Any) -> str:
    """A note for a warning about one file (it could not be fully parsed, a rule timed out on it); any other
    error (semgrep missing or failing, a rule error) is a ToolOutputError."""
    if isinstance(err, dict):
        entry: dict[str, Any] = err  # pyright: ignore[reportUnknownVariableType]
        if entry.get("level") == "warn" and entry.get("path"):
            kind = entry.get("type")
            kind_name = str(kind[0] if isinstance(kind, list) and kind else kind or "warning")  # pyright: ignore[reportUnknownArgumentType]
            message = re.sub(r"\s+", " ", str(entry.get("message") or "")).strip()
            path = _path(str(entry.get("path")))
            if kind_name == "Timeout":
                rule = entry.get("rule_id") or "?"
                return f"njsscan rule {rule} timed out on {path}: that file was not fully checked"
            return f"njsscan could not fully parse {path}: {message}"
    text = re.sub(r"\s+", " ", json.dumps(err) if not isinstance(err, str) else err).strip()
    raise ToolOutputError(NAME, f"the scan did not complete: {text[:500]}")


def parse(text: str) -> ToolRun:
    """Parse njsscan's JSON report (``nodejs`` and ``templates`` sections) into findings."""
    data = expect_dict(NAME, load_json(NAME, text), "the report")
    if "nodejs" not in data or "errors" not in data:
        raise ToolOutputError(NAME, "the report has no 'nodejs' or 'errors' section (not an njsscan JSON report)")
    notes = sorted({_note(e) for e in expect_list(NAME, data["errors"], "errors")})
    findings: list[Finding] = []
    for section in ("nodejs", "templates"):
        rules = expect_dict(NAME, data.get(section) or {}, section)
        for rule_id, entry in sorted(rules.items()):
            findings += _findings(str(rule_id), expect_dict(NAME, entry, f"rule {rule_id}"))
    version = str(data.get("njsscan_version") or "")
    return ToolRun(tool=NAME, version=version, findings=tuple(findings), notes=tuple(notes))
