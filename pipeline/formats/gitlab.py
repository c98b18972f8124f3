"""GitLab security reports (`artifacts: reports: sast | dependency_scanning | container_scanning |
secret_detection`), rendered from the merged findings. Pure, no I/O, no clock: times are passed in.

Which finding goes in which report (by `Finding.category`; see docs/ci.md):

- sast, misconfiguration -> ``sast`` (GitLab's own IaC scanning reports misconfigurations as SAST);
- secret -> ``secret_detection``;
- dependency, license -> ``dependency_scanning`` (a license finding is a finding about a dependency; GitLab has
  no license report type any more, and leaving it out would hide from the merge request what the gate saw);
- image-vulnerability -> ``container_scanning``.

Schema version: GitLab validates each report against the vendored schema of the version it declares and ingests
only versions it supports. 15.0.x is the model every GitLab from 16.0 on accepts (14.x was removed in 16.0; 15.1.x
is accepted only from 17.0, and a newer revision is refused by older releases: gitlab-org/gitlab#497405 lists
"15.0.0 … 15.0.7, 15.1.0 … 15.1.2" as what 17.1 supports), and trivy's own GitLab templates write 15.0.7. So the
reports declare 15.0.7 and carry what 15.0.x requires (`dependency_files` in dependency_scanning).
pipeline/formats/schemas/gitlab-security-report-15.0.json is our JSON Schema of that format.
"""

from __future__ import annotations

import datetime
import enum
import json
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

import attrs

from pipeline.errors import InputError
from pipeline.formats._common import clean_text, image_path, is_image_path, sort_findings
from pipeline.model import Category, Finding, Location, Severity

SCHEMA_VERSION = "15.0.7"
"""The security-report-schemas version every report declares (see the module docstring)."""

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
"""GitLab's scan times: UTC, whole seconds, no zone (the schema's pattern is ``YYYY-MM-DDTHH:MM:SS``)."""

NO_COMMIT = "0000000"
"""The commit sha GitLab's own secret detection writes when the scan did not look at git history."""

UNKNOWN_OS = "unknown"

MAX_NAME = 255
MAX_DESCRIPTION = 1_048_576
MAX_SOLUTION = 7_000
MAX_MESSAGE = 1_000

ID_NAMESPACE = uuid.UUID("6f1b7a3e-4c1d-5b0e-9a57-5ea0f0a7b1e2")
"""Namespace of the report ids: uuid5(namespace, "<report type>:<fingerprint>") is stable across runs."""

_SEVERITY = {
    Severity.CRITICAL: "Critical",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
    Severity.INFO: "Info",
    Severity.UNKNOWN: "Unknown",
}

_CVE = re.compile(r"CVE-\d{4}-\d{4,}", re.IGNORECASE)
_GHSA = re.compile(r"GHSA(-[23456789cfghjmpqrvwx]{4}){3}", re.IGNORECASE)
_CWE = re.compile(r"CWE-(\d+)", re.IGNORECASE)
_ID_SAFE = re.compile(r"[^a-z0-9_]+")


class ReportType(enum.StrEnum):
    SAST = "sast"
    DEPENDENCY_SCANNING = "dependency_scanning"
    CONTAINER_SCANNING = "container_scanning"
    SECRET_DETECTION = "secret_detection"

    @property
    def file_name(self) -> str:
        """The file name GitLab's own analyzers write (gl-sast-report.json, …)."""
        return f"gl-{self.value.replace('_', '-')}-report.json"


REPORT_TYPE_OF: Mapping[Category, ReportType] = {
    Category.SAST: ReportType.SAST,
    Category.MISCONFIGURATION: ReportType.SAST,
    Category.SECRET: ReportType.SECRET_DETECTION,
    Category.DEPENDENCY: ReportType.DEPENDENCY_SCANNING,
    Category.LICENSE: ReportType.DEPENDENCY_SCANNING,
    Category.IMAGE_VULNERABILITY: ReportType.CONTAINER_SCANNING,
}


@attrs.frozen
class ScanContext:
    """What a GitLab report says about the scan that the findings do not: passed in, never read from the clock."""

    start_time: datetime.datetime
    end_time: datetime.datetime
    tools: Mapping[str, str] = attrs.field(factory=dict[str, str])
    """Tool name -> version, of the tools that ran (ToolRun.tool/version)."""
    analyzer_version: str = "0.0.0"
    """Seaworthy's version."""
    image: str = ""
    """The scanned image reference (container_scanning requires one)."""
    operating_system: str = UNKNOWN_OS
    """The image's distribution, e.g. ``debian:12`` (container_scanning requires one)."""
    commit_sha: str = NO_COMMIT
    """The commit the source was scanned at (secret_detection requires one): $CI_COMMIT_SHA in GitLab CI."""
    failed: bool = False
    """True when a scanner of this run did not complete: the report says ``status: failure``."""
    messages: tuple[str, ...] = ()
    """Notes the user should read (tool notes, what was relaxed); they become ``scan.messages`` (warn)."""


def operating_system_of(cyclonedx_text: str) -> str:
    """``name:version`` of the image's distribution from its CycloneDX SBOM (the component of type
    ``operating-system`` trivy and syft write, e.g. ``debian:13.1``); `UNKNOWN_OS` when there is none."""
    try:
        doc: object = json.loads(cyclonedx_text)
    except ValueError:
        return UNKNOWN_OS
    if not isinstance(doc, dict):
        return UNKNOWN_OS
    components: object = cast("dict[str, object]", doc).get("components")
    if not isinstance(components, list):
        return UNKNOWN_OS
    for item in cast("list[object]", components):
        if not isinstance(item, dict):
            continue
        c = cast("dict[str, object]", item)
        name, version = c.get("name"), c.get("version")
        if c.get("type") == "operating-system" and isinstance(name, str) and name.strip():
            os_name = clean_text(name.strip())
            return (
                f"{os_name}:{clean_text(version.strip())}" if isinstance(version, str) and version.strip() else os_name
            )
    return UNKNOWN_OS


def report_type(f: Finding) -> ReportType:
    return REPORT_TYPE_OF[f.category]


def split_by_report(findings: Iterable[Finding]) -> dict[ReportType, list[Finding]]:
    """Every report type (even an empty one: "nothing found" must say so) -> its findings, sorted."""
    out: dict[ReportType, list[Finding]] = {t: [] for t in ReportType}
    for f in sort_findings(findings):
        out[report_type(f)].append(f)
    return out


def render_gitlab(kind: ReportType, findings: Iterable[Finding], ctx: ScanContext) -> bytes:
    """The GitLab `kind` report of the findings that belong in it (others are ignored)."""
    doc = gitlab_document(kind, findings, ctx)
    text = json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=2)
    return (text + "\n").encode("utf-8", errors="replace")


def render_all(findings: Iterable[Finding], ctx: ScanContext) -> dict[str, bytes]:
    """The four reports, by GitLab's file names."""
    items = tuple(findings)
    return {kind.file_name: render_gitlab(kind, items, ctx) for kind in ReportType}


def gitlab_document(kind: ReportType, findings: Iterable[Finding], ctx: ScanContext) -> dict[str, Any]:
    if kind is ReportType.CONTAINER_SCANNING and not ctx.image.strip():
        raise InputError(
            "a GitLab container_scanning report needs the scanned image reference; pass the image "
            "(e.g. --image registry.example.com/app@sha256:…) that was scanned."
        )
    if _utc(ctx.end_time) < _utc(ctx.start_time):
        raise InputError("the scan's end time is before its start time; pass the times in that order.")
    mine = [f for f in sort_findings(findings) if report_type(f) is kind]
    doc: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "scan": _scan(kind, mine, ctx),
        "vulnerabilities": [_vulnerability(kind, f, ctx) for f in mine],
        "remediations": [],
    }
    if kind is ReportType.DEPENDENCY_SCANNING:
        # required by 15.0.x; the dependency list itself comes from the CycloneDX SBOM (reports: cyclonedx)
        doc["dependency_files"] = []
    return doc


def _utc(moment: datetime.datetime) -> datetime.datetime:
    """`moment` in UTC; a naive datetime is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=datetime.UTC)
    return moment.astimezone(datetime.UTC)


def gitlab_time(moment: datetime.datetime) -> str:
    """A datetime in GitLab's scan-time format (UTC, seconds)."""
    return _utc(moment).strftime(TIME_FORMAT)


def _clip(text: str, limit: int) -> str:
    text = clean_text(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tool_id(tool: str) -> str:
    return _ID_SAFE.sub("_", tool.lower()).strip("_") or "unknown"


def _scan(kind: ReportType, findings: Sequence[Finding], ctx: ScanContext) -> dict[str, Any]:
    used = sorted({t for f in findings for t in f.tools} | _tools_for(kind, ctx.tools))
    # the scanner id is one stable word per report type: GitLab tracks a project's vulnerabilities by scanner,
    # so an id that changed with the set of tools that found something would churn "no longer detected"
    scanner_id = f"seaworthy-{kind.value.replace('_', '-')}"
    name = f"Seaworthy ({', '.join(used)})" if used else "Seaworthy"
    version = ", ".join(f"{t} {ctx.tools.get(t, '')}".strip() for t in used) or ctx.analyzer_version
    scan: dict[str, Any] = {
        "analyzer": {
            "id": "seaworthy",
            "name": "Seaworthy",
            "version": ctx.analyzer_version,
            "vendor": {"name": "Seaworthy"},
        },
        "scanner": {
            "id": scanner_id,
            "name": _clip(name, MAX_NAME),
            "version": _clip(version or "unknown", MAX_NAME),
            "vendor": {"name": "Seaworthy"},
        },
        "type": kind.value,
        "start_time": gitlab_time(ctx.start_time),
        "end_time": gitlab_time(ctx.end_time),
        "status": "failure" if ctx.failed else "success",
    }
    messages = [{"level": "warn", "value": _clip(m, MAX_MESSAGE)} for m in ctx.messages if m.strip()]
    if ctx.failed:
        messages.insert(
            0,
            {"level": "fatal", "value": "a scanner did not complete: this report is not a complete list of findings"},
        )
    if messages:
        scan["messages"] = messages
    return scan


_TOOLS_BY_TYPE: Mapping[ReportType, frozenset[str]] = {
    ReportType.SAST: frozenset({"semgrep", "hadolint"}),
    ReportType.SECRET_DETECTION: frozenset({"gitleaks"}),
    ReportType.DEPENDENCY_SCANNING: frozenset(),
    ReportType.CONTAINER_SCANNING: frozenset({"grype"}),
}


def _tools_for(kind: ReportType, tools: Mapping[str, str]) -> set[str]:
    """Tools that ran and only ever report into `kind` (so an empty report still names its scanner)."""
    return {t for t in tools if t in _TOOLS_BY_TYPE[kind]}


def report_id(kind: ReportType, f: Finding) -> str:
    return str(uuid.uuid5(ID_NAMESPACE, f"{kind.value}:{f.fingerprint}"))


def _vulnerability(kind: ReportType, f: Finding, ctx: ScanContext) -> dict[str, Any]:
    name = f.title or f.rule_id
    v: dict[str, Any] = {
        "id": report_id(kind, f),
        "name": _clip(name, MAX_NAME),
        "description": _clip(f.message or name, MAX_DESCRIPTION),
        "severity": _SEVERITY[f.severity],
        "identifiers": identifiers(f),
        "location": _location(kind, f, ctx),
    }
    solution = _solution(f)
    if solution:
        v["solution"] = _clip(solution, MAX_SOLUTION)
    if _is_url(f.help_uri):
        v["links"] = [{"url": f.help_uri}]
    return v


def _solution(f: Finding) -> str:
    p = f.package
    if p is not None and p.fixed_version:
        return f"Upgrade {p.name} from {p.version} to {p.fixed_version}."
    return ""


def _is_url(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def identifiers(f: Finding) -> list[dict[str, Any]]:
    """Primary identifier first (the CVE/GHSA or the tool's rule id), then CWEs from the tags; no duplicates."""
    out: list[dict[str, Any]] = []
    rid = f.rule_id.strip() or "unknown"
    if _CVE.fullmatch(rid):
        cve = rid.upper()
        out.append(_ident("cve", cve, cve, f"https://nvd.nist.gov/vuln/detail/{cve}"))
    elif _GHSA.fullmatch(rid):
        out.append(_ident("ghsa", rid, rid, f"https://github.com/advisories/{rid}"))
    else:
        tool = _tool_id(f.tool)
        kind = "seaworthy_license" if f.category is Category.LICENSE else f"{tool}_rule_id"
        label = "License" if f.category is Category.LICENSE else f"{f.tool} rule ID"
        out.append(_ident(kind, f"{label} {rid}", rid, f.help_uri if _is_url(f.help_uri) else ""))
    seen = {(i["type"], i["value"]) for i in out}
    for tag in f.tags:
        m = _CWE.fullmatch(tag.strip().split(":", 1)[0].strip())
        if m and ("cwe", m.group(1)) not in seen:
            seen.add(("cwe", m.group(1)))
            out.append(
                _ident(
                    "cwe", f"CWE-{m.group(1)}", m.group(1), f"https://cwe.mitre.org/data/definitions/{m.group(1)}.html"
                )
            )
    return out


def _ident(kind: str, name: str, value: str, url: str) -> dict[str, Any]:
    ident: dict[str, Any] = {"type": kind, "name": _clip(name, MAX_NAME), "value": _clip(value, MAX_NAME)}
    if url:
        ident["url"] = url
    return ident


def _first_file(f: Finding) -> Location | None:
    for loc in f.locations:
        if loc.path and not is_image_path(loc.path):
            return loc
    return f.locations[0] if f.locations else None


def _file(loc: Location | None, fallback: str) -> str:
    if loc is None or not loc.path:
        return fallback
    return clean_text(image_path(loc.path) if is_image_path(loc.path) else loc.path)


def _lines(loc: Location | None, into: dict[str, Any]) -> None:
    if loc is not None and loc.start_line is not None and loc.start_line >= 1:
        into["start_line"] = loc.start_line
        end = loc.end_line if loc.end_line is not None and loc.end_line >= loc.start_line else loc.start_line
        into["end_line"] = end


def _dependency(f: Finding) -> dict[str, Any]:
    p = f.package
    if p is None:
        return {"package": {"name": f.rule_id}, "version": ""}
    return {"package": {"name": p.name}, "version": p.version}


def _location(kind: ReportType, f: Finding, ctx: ScanContext) -> dict[str, Any]:
    loc = _first_file(f)
    if kind is ReportType.SAST:
        out: dict[str, Any] = {"file": _file(loc, "(unknown)")}
        _lines(loc, out)
        return out
    if kind is ReportType.SECRET_DETECTION:
        out = {"file": _file(loc, "(unknown)"), "commit": {"sha": ctx.commit_sha or NO_COMMIT}}
        _lines(loc, out)
        return out
    if kind is ReportType.DEPENDENCY_SCANNING:
        fallback = f.package.purl or f.package.name if f.package is not None else "(unknown)"
        return {"file": _file(loc, fallback or "(unknown)"), "dependency": _dependency(f)}
    return {
        "image": ctx.image,
        "operating_system": ctx.operating_system or UNKNOWN_OS,
        "dependency": _dependency(f),
    }
