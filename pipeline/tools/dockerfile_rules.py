"""Dockerfiles: which files are Dockerfiles, and one finding with one severity per Dockerfile problem.

Two tools read every Dockerfile: hadolint (its ``DL`` rules and ShellCheck's ``SC`` rules on ``RUN`` lines) and
trivy's misconfiguration scanner (``DS-`` checks, plus Seaworthy's own ``SW-DS-`` checks in
``pipeline/rules/trivy``). This module is the one place that says how their opinions line up.

Which files
-----------
`is_dockerfile`: ``Dockerfile``, ``Dockerfile.*``, ``*.Dockerfile``, ``Containerfile``, ``Containerfile.*``,
``*.Containerfile`` — the names trivy's misconfiguration scanner picks up by itself, so that hadolint lints the
same set. ``*.dockerignore`` (BuildKit's per-Dockerfile ignore file, ``Dockerfile.dockerignore``) is not one.
`select_dockerfiles` keeps those a tree holds outside the configured skip paths, sorted.

Equivalences (`EQUIVALENT`)
---------------------------
A hadolint rule and a trivy check that flag the same problem on the same instruction. Each pair was checked
against hadolint 2.15.1's rule list (README, ``src/Hadolint/Rule``) and trivy-checks' ``checks/docker/*.rego``
(the checks trivy 0.76 embeds); the severity is trivy's, and the contract test
``tests/contract/test_dockerfile_rules.py`` runs both real tools on one Dockerfile and asserts every pair it
triggers lines up (same file, same line, this severity). Rules that look alike but are not the same problem are
left out on purpose: DL3022 (``COPY --from`` names an *undefined* alias) is not DS-0006 (names *its own*
stage); DL3005 (apt-get upgrade) no longer exists in hadolint 2.x, so DS-0024 has no partner; DL3009 (apt
lists not deleted) is not DS-0017 (``apt-get update`` alone).

Severity of a hadolint finding (`hadolint_severity`)
----------------------------------------------------
1. a rule in `EQUIVALENT`: trivy's severity for the same problem, whichever tool runs (so DL3020 is LOW like
   DS-0005, not HIGH as hadolint's "error" level would say);
2. a rule in `HADOLINT_SEVERITY`: the severity given there (hadolint "error" rules that are about build
   correctness rather than security are MEDIUM; DL3026, a base image from a registry outside the allowed list,
   stays HIGH);
3. anything else by hadolint's level: error → HIGH, warning → MEDIUM, info → LOW, style → INFO.

Merging (`fold`)
----------------
When both tools ran, a hadolint finding and a trivy finding of an equivalent pair on the same file and line
become one finding: trivy's rule id, severity, title and message, both tools, and the hadolint code as a tag
(``hadolint:DL3020``). The hadolint run keeps a note saying how many of its findings were folded into trivy's.
Findings of a pair on different lines (e.g. trivy reports "no USER at all" without a line, hadolint only an
explicit ``USER root``) stay separate, each with the same severity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath
from typing import Any

import attrs

from pipeline.model import Category, Finding, Severity, ToolRun, location_key, sort_key
from pipeline.tools.base import glob_body

HADOLINT = "hadolint"
TRIVY = "trivy"


@attrs.frozen
class Equivalence:
    hadolint: str
    trivy: tuple[str, ...]
    severity: Severity
    problem: str


def _eq(code: str, trivy_ids: str, severity: Severity, problem: str) -> tuple[str, Equivalence]:
    return code, Equivalence(code, tuple(trivy_ids.split()), severity, problem)


EQUIVALENT: dict[str, Equivalence] = dict(
    [
        _eq("DL3000", "DS-0009", Severity.HIGH, "WORKDIR is not an absolute path"),
        _eq("DL3002", "DS-0002", Severity.HIGH, "the last USER is root"),
        _eq("DL3003", "DS-0013", Severity.MEDIUM, "RUN cd instead of WORKDIR"),
        _eq("DL3004", "DS-0010", Severity.CRITICAL, "RUN uses sudo"),
        _eq("DL3006", "DS-0001", Severity.MEDIUM, "FROM without a tag (implicit :latest)"),
        _eq("DL3007", "DS-0001", Severity.MEDIUM, "FROM …:latest"),
        _eq("DL3011", "DS-0008", Severity.CRITICAL, "EXPOSE of a port outside 0-65535"),
        _eq("DL3012", "DS-0023", Severity.MEDIUM, "more than one HEALTHCHECK"),
        _eq("DL3014", "DS-0021", Severity.HIGH, "apt-get install without -y"),
        _eq("DL3015", "DS-0029", Severity.HIGH, "apt-get install without --no-install-recommends"),
        _eq("DL3019", "DS-0025", Severity.HIGH, "apk add without --no-cache"),
        _eq("DL3020", "DS-0005", Severity.LOW, "ADD of local files instead of COPY"),
        _eq("DL3021", "DS-0011", Severity.CRITICAL, "COPY of several sources to a destination not ending in /"),
        _eq("DL3023", "DS-0006", Severity.CRITICAL, "COPY --from names its own stage"),
        _eq("DL3024", "DS-0012", Severity.CRITICAL, "two stages with the same name"),
        _eq("DL3032", "DS-0015", Severity.HIGH, "yum install without yum clean all"),
        _eq("DL3036", "DS-0020", Severity.HIGH, "zypper install without zypper clean"),
        _eq("DL3040", "DS-0019 DS-0027", Severity.HIGH, "dnf/microdnf install without clean all"),
        _eq("DL4000", "DS-0022", Severity.HIGH, "MAINTAINER is deprecated"),
        _eq("DL4001", "DS-0014", Severity.LOW, "both wget and curl are used"),
        _eq("DL4003", "DS-0016", Severity.HIGH, "more than one CMD"),
        _eq("DL4004", "DS-0007", Severity.CRITICAL, "more than one ENTRYPOINT"),
    ]
)
"""hadolint rule → the trivy check(s) that flag the same problem, trivy's severity, and the problem in words."""

HADOLINT_SEVERITY: dict[str, Severity] = {
    "DL3026": Severity.HIGH,  # base image from a registry outside trustedRegistries: supply chain
    "DL3043": Severity.MEDIUM,  # ONBUILD FROM/MAINTAINER: the build breaks, not a security problem
    "DL3044": Severity.MEDIUM,  # ENV refers to a variable it defines: wrong value, not a security problem
    "DL3061": Severity.MEDIUM,  # instruction before FROM: the build breaks
}
"""hadolint rules without a trivy equivalent whose severity is set here rather than from hadolint's level."""

LEVELS: dict[str, Severity] = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "info": Severity.LOW,
    "style": Severity.INFO,
}


def hadolint_severity(code: str, level: str) -> Severity:
    """The severity of a hadolint finding: the equivalent trivy check's, else `HADOLINT_SEVERITY`, else its level."""
    same = EQUIVALENT.get(code)
    if same is not None:
        return same.severity
    return HADOLINT_SEVERITY.get(code) or LEVELS.get(level, Severity.UNKNOWN)


# ------------------------------------------------------------------------------------------ which files

_NAMES = ("Dockerfile", "Containerfile")


def is_dockerfile(path: str) -> bool:
    """Whether trivy and hadolint treat the file as a Dockerfile, by its name alone."""
    name = PurePosixPath(path).name
    if name.endswith(".dockerignore"):
        return False
    return any(name == n or name.startswith(n + ".") or name.endswith("." + n) for n in _NAMES)


GLOBS: tuple[str, ...] = (
    "**/Dockerfile",
    "**/Dockerfile.*",
    "**/*.Dockerfile",
    "**/Containerfile",
    "**/Containerfile.*",
    "**/*.Containerfile",
)
"""Glob patterns that find candidate Dockerfiles in a tree (then filtered by `is_dockerfile`)."""


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """A glob as trivy's ``--skip-dirs``/``--skip-files`` read it: ``*`` and ``?`` stay within one path segment,
    ``**`` crosses segments, ``[...]`` is a character class."""
    return re.compile(glob_body(pattern, char_classes=True))


def is_skipped(path: str, skip: Sequence[str]) -> bool:
    """Whether a skip pattern covers `path` the way trivy's ``--skip-dirs``/``--skip-files`` do (they get the
    same patterns): the pattern, relative to the tree's root, matches the path or one of its parent folders.
    So ``vendor`` skips ``vendor/…`` but not ``a/vendor/…`` (write ``**/vendor`` for that)."""
    parts = PurePosixPath(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    for raw in skip:
        pattern = raw.strip().removeprefix("./").strip("/")
        if not pattern:
            continue
        regex = _glob_regex(pattern)
        if any(regex.fullmatch(p) for p in prefixes):
            return True
    return False


def select_dockerfiles(
    paths: Iterable[str], skip: Sequence[str] = (), *, always: Sequence[str] = ()
) -> tuple[str, ...]:
    """The Dockerfiles among `paths` (relative to the tree) outside `skip`, plus `always` (the one that is
    built is linted even when a skip pattern covers it), sorted and without duplicates."""
    files = [p.removeprefix("./") for p in paths if not p.endswith("/")]  # a glob lists folders with a "/"
    chosen = {p for p in files if is_dockerfile(p) and not is_skipped(p, skip)}
    chosen.update(a.removeprefix("./") for a in always if a)
    return tuple(sorted(chosen))


# ------------------------------------------------------------------------------------------ merging


def _fold_order(f: Finding) -> tuple[Any, ...]:
    return (sort_key(f), f.message, f.title, f.help_uri, f.tags, f.tools, [location_key(loc) for loc in f.locations])


def _where(f: Finding) -> tuple[str, int] | None:
    if not f.locations or f.locations[0].start_line is None:
        return None
    return f.locations[0].path, f.locations[0].start_line


def fold(hadolint_run: ToolRun, trivy_run: ToolRun) -> tuple[ToolRun, ToolRun]:
    """Merge each hadolint finding with trivy's finding of the same problem on the same file and line.

    Returns both runs: trivy's with the merged findings (tools hadolint and trivy), hadolint's without them and
    with a note. Nothing is dropped: a finding either stays or is part of a merged one.
    """
    by_place: dict[tuple[str, str, int], int] = {}
    # a total order first, so that which of two trivy reports of one check on one line takes the hadolint finding
    # does not depend on the order trivy wrote them in (trivy's parser keeps the report's order)
    trivy_findings = sorted(trivy_run.findings, key=_fold_order)
    for i, f in enumerate(trivy_findings):
        where = _where(f)
        if f.category is Category.MISCONFIGURATION and where is not None:
            by_place.setdefault((f.rule_id, *where), i)
    kept: list[Finding] = []
    folded: dict[str, int] = {}
    for h in hadolint_run.findings:
        same = EQUIVALENT.get(h.rule_id)
        where = _where(h)
        index = None
        if same is not None and where is not None:
            index = next((by_place[k] for t in same.trivy if (k := (t, *where)) in by_place), None)
        if index is None:
            kept.append(h)
            continue
        t = trivy_findings[index]
        trivy_findings[index] = Finding(
            category=t.category,
            rule_id=t.rule_id,
            severity=t.severity,
            message=t.message,
            tools=tuple(sorted({*t.tools, *h.tools})),
            locations=t.locations,
            title=t.title or h.title,
            help_uri=t.help_uri or h.help_uri,
            tags=tuple(sorted({*t.tags, *h.tags, f"hadolint:{h.rule_id}"})),
        )
        pair = f"{h.rule_id}={t.rule_id}"
        folded[pair] = folded.get(pair, 0) + 1
    if not folded:
        return hadolint_run, trivy_run
    count = sum(folded.values())
    pairs = ", ".join(sorted(folded))
    note = (
        f"{count} finding{'s' if count != 1 else ''} merged with trivy's check of the same problem on the same "
        f"line ({pairs}); they are reported once, as trivy's, with both tools"
    )
    trivy_findings.sort(key=sort_key)
    return (
        attrs.evolve(hadolint_run, findings=tuple(kept), notes=(*hadolint_run.notes, note)),
        attrs.evolve(trivy_run, findings=tuple(trivy_findings)),
    )
