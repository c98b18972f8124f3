"""Bandit: Python-specific static analysis (SAST) of the source tree, next to semgrep's cross-language rules.

Image: the PyCQA project publishes only ``ghcr.io/pycqa/bandit/bandit:latest`` (rebuilt every week from the
latest release, see ``.github/workflows/build-publish-image.yml`` in PyCQA/bandit): no version tag to pin.
So the tool runs in ``python:3.12.9-slim-bookworm`` (the base the example app uses) with
``pip install bandit==1.9.4`` as its own cached layer (`Image.install`); the version in that argv is the
cache key, so bumping it rebuilds the layer. The contract tests run the same version from PyPI.

How it runs (`scan`): ``bandit -r .`` in ``/src`` (report paths relative to the tree), JSON to
``/tmp/seaworthy-out/bandit.json``, ``--quiet``. Paths to skip (``exclude``) go to ``--exclude``: bandit
matches each entry as an fnmatch glob *and* as a substring of the path, so ``tests`` skips every path with
``tests`` in it; Bandit's own defaults (``.git``, ``__pycache__``, ``.tox``…) are kept, plus ``.venv``,
``node_modules`` and ``site-packages`` (installed third-party code is the dependency scan's business).
``B101`` (``assert`` used) is skipped: it reports every assert of every test suite, which is not a
vulnerability of the shipped image.

Exit codes: 0 no issue, 1 issues found; anything else a failure (2: bad arguments or profile). A file
bandit cannot parse (Python 2 syntax…) does not change the exit code: it is listed under ``errors`` and
`parse` keeps it as a note ("bandit could not scan x.py: …"), so the report says what was not looked at.

Severity: bandit rates each issue by severity and by confidence. The finding takes bandit's severity
(HIGH, MEDIUM, LOW) one step lower when bandit's confidence is LOW (HIGH → MEDIUM, MEDIUM → LOW, LOW stays
LOW): a guess is not blocking on its own. Confidence is kept as a tag (``confidence:high``…). CWE from
``issue_cwe`` (tag ``CWE-<id>``). Category SAST for every test, the hard-coded password heuristics (B105,
B106, B107: any string compared to or assigned to a name like ``token``) included: the gate blocks on any
secret at all, and those guesses are for review, not proof of a credential (gitleaks and the bundled
semgrep secret rules are the secret scanners). Their message is replaced by the test's name: bandit's
text quotes the matched string, which may be a real password.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import attrs

from pipeline.errors import ConfigError, ToolOutputError
from pipeline.model import Category, Finding, Location, Severity, ToolRun
from pipeline.tools.base import OUT, SRC, ExitCodes, Invocation, expect_dict, expect_list, load_json, pinned

NAME = "bandit"
VERSION = "1.9.4"
IMAGE = attrs.evolve(
    pinned("python-analyzers"),
    install=(
        "pip",
        "install",
        "--no-cache-dir",
        "--disable-pip-version-check",
        "--root-user-action=ignore",
        f"bandit=={VERSION}",
    ),
)
REPORT = f"{OUT}/bandit.json"
EXIT_CODES = ExitCodes(clean=frozenset({0}), findings=frozenset({1}))

DEFAULT_EXCLUDES = (".svn", "CVS", ".bzr", ".hg", ".git", "__pycache__", ".tox", ".eggs", "*.egg")
"""Bandit's own default ``--exclude`` list (replaced, not extended, when ``--exclude`` is given)."""
EXTRA_EXCLUDES = (".venv", "node_modules", "site-packages")
SKIPPED_TESTS = ("B101",)
SECRET_TESTS = frozenset({"B105", "B106", "B107"})

_STEP_DOWN = {Severity.HIGH: Severity.MEDIUM, Severity.MEDIUM: Severity.LOW, Severity.LOW: Severity.LOW}
_LEVELS = {"HIGH": Severity.HIGH, "MEDIUM": Severity.MEDIUM, "LOW": Severity.LOW, "UNDEFINED": Severity.LOW}


def scan(*, exclude: Sequence[str] = ()) -> Invocation:
    """Scan the Python files of the tree mounted at SRC; ``exclude``: globs of paths to skip."""
    for pattern in exclude:
        if not pattern.strip() or any(c in pattern for c in ",\n\r\0"):
            raise ConfigError(
                f"exclude pattern {pattern!r} is empty or has a comma or line break; give one glob such as 'tests'"
            )
    excludes = [*DEFAULT_EXCLUDES, *EXTRA_EXCLUDES, *(p.strip().strip("/") for p in exclude)]
    argv = (
        "bandit",
        "--recursive",
        "--format",
        "json",
        "--output",
        REPORT,
        "--quiet",
        "--skip",
        ",".join(SKIPPED_TESTS),
        "--exclude",
        ",".join(dict.fromkeys(excludes)),
        ".",
    )
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=argv,
        report=REPORT,
        exit_codes=EXIT_CODES,
        mounts={SRC: "source"},
        workdir=SRC,
    )


def severity_of(severity: str, confidence: str) -> Severity:
    """Bandit's severity, one step lower when its confidence is LOW."""
    level = _LEVELS.get(severity.upper())
    if level is None:
        raise ToolOutputError(NAME, f"unknown issue_severity {severity!r}")
    return _STEP_DOWN[level] if confidence.upper() == "LOW" else level


def _path(value: str) -> str:
    text = value.replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return text


def _finding(item: dict[str, Any]) -> Finding:
    test_id = str(item.get("test_id") or "")
    filename = str(item.get("filename") or "")
    line = item.get("line_number")
    if not test_id or not filename or not isinstance(line, int):
        raise ToolOutputError(NAME, "a result has no test_id, filename or line_number")
    confidence = str(item.get("issue_confidence") or "UNDEFINED")
    severity = severity_of(str(item.get("issue_severity") or ""), confidence)
    line_range = [n for n in expect_list(NAME, item.get("line_range"), "line_range") if isinstance(n, int)]
    col = item.get("col_offset")
    end_col = item.get("end_col_offset")
    location = Location(
        path=_path(filename),
        start_line=line,
        end_line=max(line_range) if line_range else line,
        start_column=col + 1 if isinstance(col, int) else None,
        end_column=end_col + 1 if isinstance(end_col, int) and (not line_range or max(line_range) == line) else None,
    )
    cwe = item.get("issue_cwe")
    tags = [f"confidence:{confidence.lower()}"]
    if isinstance(cwe, dict):
        cwe_id = cwe.get("id")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if isinstance(cwe_id, int) and cwe_id > 0:
            tags.append(f"CWE-{cwe_id}")
    name = str(item.get("test_name") or test_id)
    if test_id in SECRET_TESTS:
        message = f"possible hard-coded password ({name}); the value is not reported"
    else:
        message = str(item.get("issue_text") or name).strip()
    return Finding(
        category=Category.SAST,
        rule_id=test_id,
        severity=severity,
        message=message,
        tools=(NAME,),
        locations=(location,),
        title=f"{test_id} {name}",
        help_uri=str(item.get("more_info") or ""),
        tags=tuple(sorted(tags)),
    )


def parse(text: str) -> ToolRun:
    """Parse bandit's JSON report: one Finding per result; files bandit could not scan become notes."""
    data = expect_dict(NAME, load_json(NAME, text), "the report")
    if "results" not in data or "errors" not in data:
        raise ToolOutputError(NAME, "the report has no 'results' or 'errors' (not a bandit JSON report)")
    findings = tuple(
        _finding(expect_dict(NAME, item, "a result")) for item in expect_list(NAME, data["results"], "results")
    )
    notes: list[str] = []
    for err in expect_list(NAME, data["errors"], "errors"):
        entry = expect_dict(NAME, err, "an error")
        reason = re.sub(r"\s+", " ", str(entry.get("reason") or "unknown error")).strip()
        notes.append(f"bandit could not scan {_path(str(entry.get('filename') or '?'))}: {reason}")
    return ToolRun(tool=NAME, version=VERSION, findings=findings, notes=tuple(sorted(notes)))
