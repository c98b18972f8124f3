"""SARIF 2.1.0 in: turn any tool's SARIF log into `pipeline.model` findings. Pure: text in, values out.

What is read, per result:

- **rule**: ``ruleId`` (or ``rule.id``), else the rule at ``ruleIndex`` of the driver (or of the extension
  named by ``rule.toolComponent.index``). Its ``shortDescription`` becomes the title (unless it only
  repeats the rule id, as semgrep's does; then the first sentence of ``fullDescription``), its ``helpUri``
  the help link, its ``properties.tags`` (plus the result's) the tags, with ``CWE-<n>: long name`` cut to
  ``CWE-<n>``.
- **severity**, first match wins:
  1. the caller's ``severity_of(rule, level)`` hook (a tool with its own policy, e.g. gitleaks);
  2. a numeric ``security-severity`` property (result, then rule), read like GitHub code scanning reads it:
     >= 9.0 CRITICAL, >= 7.0 HIGH, >= 4.0 MEDIUM, > 0 LOW, 0 INFO;
  3. the level: the result's ``level``, else the rule's ``defaultConfiguration.level``, else ``warning``
     (the SARIF default), through ``levels`` (default: error HIGH, warning MEDIUM, note LOW, none INFO).
- **category**: the caller's ``category_of(rule)`` hook where it answers, else the ``category`` given.
- **locations**: every ``physicalLocation``: its URI made relative to the scanned root ('/'-separated):
  ``file://`` is stripped and percent-escapes decoded, a ``uriBaseId`` is resolved through
  ``originalUriBaseIds`` (an undefined one, such as semgrep's ``%SRCROOT%``, means "the scanned root"),
  an ``artifactLocation.index`` through ``run.artifacts``, and an absolute path under one of ``roots``
  (default ``/src``, the mount point of the scanned tree) loses that prefix. Region lines and columns are
  kept where present. Snippets are never copied into a finding (they may hold a secret's value): for a
  result about a secret, their credential-shaped tokens are only added to the values scrubbed from every
  report (`pipeline.formats.redact`).
- **identity**: the result's ``partialFingerprints`` (else ``fingerprints``) become `Finding.identity`, which
  the merge uses to tell results apart (`pipeline.model.merge_key`).
- A result **without any location is kept** (no location) and counted in a note. A result that names
  **no rule** is kept too, as rule ``no-rule-id`` (`NO_RULE_ID`), at the severity of its own level (the
  caller's severity and category hooks are rules' policies: they do not apply), and counted in a note; a
  result that is not a JSON object refuses the file. Results with
  ``kind`` ``pass``/``notApplicable`` are not problems and are left out; results carrying an accepted
  ``suppressions`` entry (suppressed in source) are left out too. Both are counted in a note.
- ``invocations[].executionSuccessful == false`` is a tool failure (`ToolOutputError`); tool execution and
  configuration notifications become notes (or an error with ``fail_on_error_notifications``).

Fail closed: empty, truncated or non-JSON text, a log that is not SARIF, a ``version`` other than 2.1.0,
no runs, or a run without a ``results`` array (SARIF: "the tool did not run or did not finish") raise
`ToolOutputError`. The work is linear in the number of results (rules are indexed once).
"""

from __future__ import annotations

import functools
import hashlib
import json
import posixpath
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

import attrs

from pipeline.errors import ToolOutputError
from pipeline.formats import redact
from pipeline.formats._common import loads_tool_json, strip_bom
from pipeline.model import Category, Finding, Location, Severity, ToolRun, bulk, sort_key

SARIF_VERSION = "2.1.0"
DEFAULT_ROOTS: tuple[str, ...] = ("/src",)
"""Absolute path prefixes that mean "the scanned root" (the tool containers mount the tree at /src)."""

DEFAULT_LEVELS: Mapping[str, Severity] = {
    "error": Severity.HIGH,
    "warning": Severity.MEDIUM,
    "note": Severity.LOW,
    "none": Severity.INFO,
}
"""SARIF ``level`` → `Severity` when a tool gives no finer signal."""

_MAX_NOTES_LISTED = 20
NO_RULE_ID = "no-rule-id"
"""The rule id of a result that names no rule (no ``ruleId``, ``rule`` or valid ``ruleIndex``)."""
NO_RULE_TITLE = "Result without a rule id (incomplete tool output)"
_CWE = re.compile(r"^(CWE-\d+)\b", re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")
_MESSAGE_ARG = re.compile(r"\{(\d+)\}")


@attrs.frozen
class SarifRule:
    """What a SARIF ``reportingDescriptor`` says about a rule, as the severity/category hooks see it."""

    id: str
    name: str = ""
    short_description: str = ""
    full_description: str = ""
    help_uri: str = ""
    level: str = ""
    """``defaultConfiguration.level``, "" when the rule does not set one."""
    tags: tuple[str, ...] = ()
    properties: Mapping[str, Any] = attrs.field(factory=dict[str, Any])
    message_strings: Mapping[str, str] = attrs.field(factory=dict[str, str])


SeverityHook = Callable[[SarifRule, str], Severity | None]
"""``(rule, effective SARIF level) -> Severity``, or None to fall back to the default mapping."""
CategoryHook = Callable[[SarifRule], Category | None]
"""``rule -> Category``, or None to use the category the caller gave."""


def severity_from_security_severity(value: object) -> Severity | None:
    """Read a CVSS-like ``security-severity`` score (number or numeric string); None if absent/invalid."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        score = float(value)
    elif isinstance(value, str):
        try:
            score = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if not 0.0 <= score <= 10.0:  # also rejects NaN
        return None
    if score >= 9.0:
        return Severity.CRITICAL
    if score >= 7.0:
        return Severity.HIGH
    if score >= 4.0:
        return Severity.MEDIUM
    if score > 0.0:
        return Severity.LOW
    return Severity.INFO


def normalize_tag(tag: str) -> str:
    """``CWE-78: Improper Neutralization…`` → ``CWE-78``; other tags are kept as they are (stripped)."""
    tag = tag.strip()
    m = _CWE.match(tag)
    return m.group(1).upper() if m else tag


_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
_DRIVE = re.compile(r"^/[A-Za-z]:/")


@functools.lru_cache(maxsize=64)
def _sorted_roots(roots: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(sorted((r.rstrip("/") for r in roots if r.strip("/")), key=len, reverse=True))


def _normpath(path: str) -> str:
    if path.startswith("./") or "/." in path or "//" in path or path in (".", ".."):
        path = posixpath.normpath(path)
    return "" if path == "." else path


def relative_path(uri: str, roots: Sequence[str] = DEFAULT_ROOTS) -> str:
    """A tool's file reference → a '/'-separated path relative to the scanned root.

    Strips ``file://``, decodes percent-escapes, turns backslashes into slashes, removes a leading ``./``
    and an absolute prefix that is one of ``roots``. A path outside every root stays absolute (it is then
    not a file of the scanned tree, and saying so is more honest than inventing a relative path).
    """
    path = uri.strip()
    if not path:
        return ""
    if path[:5].lower() == "file:":
        path = path[5:]
        if path.startswith("//"):  # file://authority/path: drop the authority (usually empty)
            slash = path.find("/", 2)
            path = path[slash:] if slash >= 0 else ""
        if "%" in path:  # decoded once, here: a URI's escapes (file:///c%3A/x -> /c:/x)
            path = unquote(path)
        if _DRIVE.match(path):  # file:///C:/x -> C:/x
            path = path[1:]
    elif ":" in path and _SCHEME.match(path):
        return path  # some other scheme (https://…): not a file of the tree; keep it verbatim
    elif "%" in path:
        path = unquote(path)
    if "\\" in path:
        path = path.replace("\\", "/")
    if path.startswith("/"):
        for root in _sorted_roots(tuple(roots)):
            if path == root:
                return ""
            if path.startswith(root) and path[len(root)] == "/":
                return _normpath(path[len(root) + 1 :])
        return posixpath.normpath(path)
    return _normpath(path)


# --------------------------------------------------------------------------------------------- helpers


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []  # pyright: ignore[reportUnknownVariableType]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _text(message: Any) -> str:
    msg = _obj(message)
    return (_str(msg.get("text")) or _str(msg.get("markdown"))).strip()


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip() if text.strip() else ""


def _rule_from(descriptor: Any) -> SarifRule | None:
    d = _obj(descriptor)
    rule_id = _str(d.get("id"))
    if not rule_id:
        return None
    props = _obj(d.get("properties"))
    strings: dict[str, str] = {}
    for key, value in _obj(d.get("messageStrings")).items():
        text = _text(value)
        if text:
            strings[key] = text
    return SarifRule(
        id=rule_id,
        name=_str(d.get("name")),
        short_description=_text(d.get("shortDescription")),
        full_description=_text(d.get("fullDescription")),
        help_uri=_str(d.get("helpUri")),
        level=_str(_obj(d.get("defaultConfiguration")).get("level")),
        tags=tuple(normalize_tag(t) for t in _list(props.get("tags")) if isinstance(t, str) and t.strip()),
        properties=props,
        message_strings=strings,
    )


def _title(rule: SarifRule) -> str:
    short = rule.short_description
    if short and not short.endswith(rule.id):
        return short
    if rule.full_description:
        return _first_sentence(rule.full_description)
    if rule.name and rule.name != rule.id:
        return rule.name
    return ""


@attrs.define
class _Run:
    """Per-run lookups, built once (so each result costs O(1) to resolve)."""

    driver_rules: list[SarifRule | None]
    extension_rules: list[list[SarifRule | None]]
    by_id: dict[str, SarifRule]
    base_ids: dict[str, tuple[str, str]]
    """uriBaseId -> (uri, its own uriBaseId)"""
    artifacts: list[tuple[str, str]]
    roots: Sequence[str]
    paths: dict[tuple[str, str], str] = attrs.field(factory=dict[tuple[str, str], str])
    """Cache: (uri, uriBaseId) -> relative path (tools repeat the same file many times)."""

    def rule(self, result: dict[str, Any]) -> SarifRule | None:
        rule_id = _str(result.get("ruleId"))
        ref = _obj(result.get("rule"))
        rule_id = rule_id or _str(ref.get("id"))
        if rule_id and rule_id in self.by_id:
            return self.by_id[rule_id]
        index = _int(result.get("ruleIndex"))
        if index is None:
            index = _int(ref.get("index"))
        component = _int(_obj(ref.get("toolComponent")).get("index"))
        table = self.driver_rules
        if component is not None:
            table = self.extension_rules[component] if component < len(self.extension_rules) else []
        if index is not None and index < len(table):
            found = table[index]
            if found is not None and (not rule_id or found.id == rule_id):
                return found
        if rule_id:
            return SarifRule(id=rule_id)
        return None

    def resolve_base(self, base_id: str, depth: int = 0) -> str | None:
        """The absolute-or-relative prefix a uriBaseId stands for; None when the log does not define it."""
        if depth > 8 or base_id not in self.base_ids:
            return None
        uri, parent = self.base_ids[base_id]
        if parent:
            head = self.resolve_base(parent, depth + 1)
            if head is not None:
                return head.rstrip("/") + "/" + uri if uri else head
        return uri

    def path(self, artifact: dict[str, Any]) -> str:
        uri = _str(artifact.get("uri"))
        base_id = _str(artifact.get("uriBaseId"))
        index = _int(artifact.get("index"))
        if not uri and index is not None and index < len(self.artifacts):
            uri, base_id = self.artifacts[index]
        if not uri:
            return ""
        key = (uri, base_id)
        cached = self.paths.get(key)
        if cached is not None:
            return cached
        full = uri
        if base_id and not _SCHEME.match(uri) and not uri.lower().startswith("file:"):
            base = self.resolve_base(base_id)
            if base:
                full = base.rstrip("/") + "/" + uri.lstrip("/")
        path = self.paths[key] = relative_path(full, self.roots)
        return path


def _run_tables(run: dict[str, Any], roots: Sequence[str]) -> _Run:
    tool_obj = _obj(run.get("tool"))
    driver = _obj(tool_obj.get("driver"))
    driver_rules = [_rule_from(r) for r in _list(driver.get("rules"))]
    extension_rules = [
        [_rule_from(r) for r in _list(_obj(ext).get("rules"))] for ext in _list(tool_obj.get("extensions"))
    ]
    by_id: dict[str, SarifRule] = {}
    for rule in (*driver_rules, *(r for ext in extension_rules for r in ext)):
        if rule is not None:
            by_id.setdefault(rule.id, rule)
    base_ids: dict[str, tuple[str, str]] = {}
    for key, value in _obj(run.get("originalUriBaseIds")).items():
        v = _obj(value)
        base_ids[key] = (_str(v.get("uri")), _str(v.get("uriBaseId")))
    artifacts: list[tuple[str, str]] = []
    for art in _list(run.get("artifacts")):
        loc = _obj(_obj(art).get("location"))
        artifacts.append((_str(loc.get("uri")), _str(loc.get("uriBaseId"))))
    return _Run(driver_rules, extension_rules, by_id, base_ids, artifacts, roots)


def _locations(run: _Run, result: dict[str, Any]) -> tuple[Location, ...]:
    found: list[Location] = []
    for loc in _list(result.get("locations")):
        physical = _obj(_obj(loc).get("physicalLocation"))
        path = run.path(_obj(physical.get("artifactLocation")))
        if not path:
            continue
        region = _obj(physical.get("region"))
        start = _int(region.get("startLine"))
        found.append(
            Location(
                path=path,
                start_line=start,
                end_line=_int(region.get("endLine")) if start is not None else None,
                start_column=_int(region.get("startColumn")) if start is not None else None,
                end_column=_int(region.get("endColumn")) if start is not None else None,
            )
        )
    # keep the tool's order but drop exact duplicates
    return tuple(dict.fromkeys(found))


def _message(result: dict[str, Any], rule: SarifRule | None) -> tuple[str, str, list[str]]:
    """(message text, the template it was written from or "", the values put into it)."""
    msg = _obj(result.get("message"))
    text = _text(msg)
    if not text and rule is not None:
        template = rule.message_strings.get(_str(msg.get("id")), "")
        if template:
            args = [str(a) for a in _list(msg.get("arguments"))]

            def fill(m: re.Match[str]) -> str:
                i = int(m.group(1))
                return args[i] if i < len(args) else m.group(0)

            return _MESSAGE_ARG.sub(fill, template), template, args
    if not text and rule is not None:
        return rule.short_description or rule.full_description, "", []
    if rule is not None:
        # semgrep writes the rule's message, with its $METAVARIABLES, as the rule's full description
        for template in (rule.full_description, rule.short_description):
            if redact.template_variables(template):
                values = redact.interpolated_values(template, text)
                if values is not None:
                    return text, template, values
    return text, "", []


def _snippet_tokens(result: dict[str, Any]) -> list[str]:
    """Credential-looking tokens of the result's snippets (only read for results about secrets, only to
    scrub them: nothing of a snippet is ever copied into a finding)."""
    tokens: list[str] = []
    for loc in _list(result.get("locations")):
        region = _obj(_obj(_obj(loc).get("physicalLocation")).get("region"))
        snippet = _text(region.get("snippet"))
        tokens.extend(redact.credential_tokens(snippet))
    return tokens


def _identity(result: dict[str, Any]) -> str:
    """The tool's own fingerprint of a result: its ``partialFingerprints`` (else ``fingerprints``), as
    sorted ``key=value`` pairs, hashed (a tool may put matched text in it); "" when it has none (semgrep
    without a login writes "requires login")."""
    for key in ("partialFingerprints", "fingerprints"):
        pairs = sorted(
            f"{k}={v}" for k, v in _obj(result.get(key)).items() if isinstance(v, str) and v and v != "requires login"
        )
        if pairs:
            return hashlib.sha256("\x1f".join(pairs).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return ""


def _is_suppressed(result: dict[str, Any]) -> bool:
    for s in _list(result.get("suppressions")):
        status = _str(_obj(s).get("status"))
        if status in ("", "accepted"):
            return True
    return False


def _summarize(counter: Counter[str]) -> str:
    items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    shown = ", ".join(f"{k} ({n})" for k, n in items[:_MAX_NOTES_LISTED])
    if len(items) > _MAX_NOTES_LISTED:
        shown += f", and {len(items) - _MAX_NOTES_LISTED} more rules"
    return shown


# --------------------------------------------------------------------------------------------- public


def load_sarif(tool: str, text: str) -> dict[str, Any]:
    """Parse and check the envelope of a SARIF 2.1.0 log; raise `ToolOutputError` if it is not one."""
    text = strip_bom(text)
    if not text.strip():
        raise ToolOutputError(tool, "the SARIF report is empty")
    try:
        data = loads_tool_json(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        if exc.pos >= len(text.rstrip()) - 1:
            raise ToolOutputError(tool, f"the SARIF report is truncated ({where})") from None
        raise ToolOutputError(tool, f"the report is not JSON ({exc.msg} at {where})") from None
    except ValueError as exc:
        raise ToolOutputError(tool, f"the SARIF report is {exc}") from None
    if not isinstance(data, dict):
        raise ToolOutputError(tool, f"the report is a JSON {type(data).__name__}, not a SARIF log object")
    log: dict[str, Any] = data  # pyright: ignore[reportUnknownVariableType]
    if "version" not in log or "runs" not in log:
        raise ToolOutputError(tool, "the report is JSON but not a SARIF log (no 'version' and 'runs')")
    if log["version"] != SARIF_VERSION:
        raise ToolOutputError(tool, f"the SARIF version is {log['version']!r}, expected {SARIF_VERSION!r}")
    runs = log["runs"]
    if not isinstance(runs, list) or not runs:
        raise ToolOutputError(tool, "the SARIF log has no runs")
    for i, run in enumerate(runs):  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        if not isinstance(run, dict):
            raise ToolOutputError(tool, f"SARIF run {i} is not an object")
        if not isinstance(_obj(_obj(run.get("tool")).get("driver")).get("name"), str):  # pyright: ignore[reportUnknownMemberType]
            raise ToolOutputError(tool, f"SARIF run {i} has no tool.driver.name")
        if not isinstance(run.get("results"), list):  # pyright: ignore[reportUnknownMemberType]
            raise ToolOutputError(
                tool, f"SARIF run {i} has no 'results' array (the tool did not run or did not finish)"
            )
    return log


@attrs.define
class _Parse:
    """The state of one parse: the options, and what was seen so far (for the notes)."""

    tool: str
    category: Category
    levels: Mapping[str, Severity]
    severity_of: SeverityHook | None
    category_of: CategoryHook | None
    roots: Sequence[str]
    findings: list[Finding] = attrs.field(factory=list[Finding])
    notes: list[str] = attrs.field(factory=list[str])
    errors: list[str] = attrs.field(factory=list[str])
    no_location: Counter[str] = attrs.field(factory=Counter[str])
    skipped_kind: Counter[str] = attrs.field(factory=Counter[str])
    suppressed: Counter[str] = attrs.field(factory=Counter[str])
    unknown_rule: int = 0
    secret_rules: dict[tuple[str, Category, tuple[str, ...]], bool] = attrs.field(
        factory=dict[tuple[str, Category, tuple[str, ...]], bool]
    )
    scrub: list[str] = attrs.field(factory=list[str])
    """Values to remove from every text (see `pipeline.formats.redact`)."""

    def invocations(self, run: dict[str, Any]) -> None:
        for inv in _list(run.get("invocations")):
            inv_obj = _obj(inv)
            listed: list[str] = []
            for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
                for n in _list(inv_obj.get(key)):
                    n_obj = _obj(n)
                    level = _str(n_obj.get("level")) or "warning"
                    msg = _text(n_obj.get("message")) or _str(_obj(n_obj.get("descriptor")).get("id"))
                    if not msg:
                        continue
                    listed.append(f"{self.tool} {level}: {msg}")
                    if level == "error":
                        self.errors.append(msg)
            if inv_obj.get("executionSuccessful") is False:
                detail = "; ".join(listed) or "no reason given"
                raise ToolOutputError(self.tool, f"the SARIF log says the run did not succeed ({detail})")
            self.notes.extend(listed)

    def severity(self, rule: SarifRule, level: str, props: dict[str, Any]) -> Severity:
        severity = self.severity_of(rule, level) if self.severity_of is not None else None
        if severity is None:
            severity = severity_from_security_severity(props.get("security-severity"))
        if severity is None:
            severity = severity_from_security_severity(rule.properties.get("security-severity"))
        if severity is None:
            severity = self.levels.get(level, Severity.UNKNOWN)
        return severity

    def is_secret(self, rule: SarifRule, category: Category, props: dict[str, Any]) -> bool:
        """`redact.is_secret_rule`, decided once per rule (and result tags, which are rare)."""
        extra = tuple(t for t in _list(props.get("tags")) if isinstance(t, str)) if "tags" in props else ()
        key = (rule.id, category, extra)
        known = self.secret_rules.get(key)
        if known is None:
            known = self.secret_rules[key] = redact.is_secret_rule(
                category, rule.id, (*rule.tags, *extra), rule.properties
            )
        return known

    def level_severity(self, level: str, props: dict[str, Any]) -> Severity:
        severity = severity_from_security_severity(props.get("security-severity"))
        return severity if severity is not None else self.levels.get(level, Severity.UNKNOWN)

    def result(self, tables: _Run, result: dict[str, Any]) -> None:
        rule = tables.rule(result)
        label = rule.id if rule is not None else "(no rule id)"
        if (_str(result.get("kind")) or "fail") in ("pass", "notApplicable"):
            self.skipped_kind[label] += 1
            return
        if _is_suppressed(result):
            self.suppressed[label] += 1
            return
        unidentified = rule is None
        if rule is None:
            # kept (fail closed), clearly labelled, at the severity its own level says: no rule-based hook
            # (a tool's "every secret is HIGH") applies to a result that names no rule
            self.unknown_rule += 1
            rule = SarifRule(id=NO_RULE_ID, short_description=NO_RULE_TITLE)
        level = _str(result.get("level")) or rule.level or "warning"
        props = _obj(result.get("properties"))
        locations = _locations(tables, result)
        if not locations:
            self.no_location[rule.id] += 1
        category = None if unidentified or self.category_of is None else self.category_of(rule)
        category = category or self.category
        tags = {normalize_tag(t) for t in _list(props.get("tags")) if isinstance(t, str) and t.strip()}
        message, template, values = _message(result, None if unidentified else rule)
        if self.is_secret(rule, category, props):
            # never the tool's interpolated text: the rule's template, else its title
            self.scrub.extend(values)
            self.scrub.extend(_snippet_tokens(result))
            if not template:  # no template to read the values from: whatever in it looks like a credential
                self.scrub.extend(redact.credential_tokens(message))
            message = redact.redacted_message(template, _title(rule) or f"possible secret found by rule {rule.id}")
        else:
            self.scrub.extend(v for v in values if redact.looks_like_credential(v))
        self.findings.append(
            Finding(
                category=category,
                rule_id=rule.id,
                severity=self.level_severity(level, props) if unidentified else self.severity(rule, level, props),
                message=message or f"{self.tool} reported a result that names no rule and says nothing",
                tools=(self.tool,),
                locations=locations,
                title=_title(rule),
                help_uri=rule.help_uri,
                tags=tuple(sorted({*rule.tags, *tags})),
                identity=_identity(result),
            )
        )

    def summary_notes(self) -> list[str]:
        notes: list[str] = []
        if self.no_location:
            total = sum(self.no_location.values())
            notes.append(
                f"{total} result(s) had no file location and are kept without one: {_summarize(self.no_location)}"
            )
        if self.unknown_rule:
            notes.append(
                f"{self.unknown_rule} result(s) named no rule; they are kept as rule '{NO_RULE_ID}' at the "
                "severity of their own level (the tool's output is incomplete: check its version and options)"
            )
        if self.suppressed:
            notes.append(
                f"{sum(self.suppressed.values())} result(s) suppressed in the source were left out: "
                f"{_summarize(self.suppressed)}"
            )
        if self.skipped_kind:
            notes.append(
                f"{sum(self.skipped_kind.values())} result(s) of kind pass/notApplicable were left out: "
                f"{_summarize(self.skipped_kind)}"
            )
        return notes


def parse_sarif(
    text: str,
    *,
    tool: str,
    category: Category,
    levels: Mapping[str, Severity] = DEFAULT_LEVELS,
    severity_of: SeverityHook | None = None,
    category_of: CategoryHook | None = None,
    roots: Sequence[str] = DEFAULT_ROOTS,
    fail_on_error_notifications: bool = False,
) -> ToolRun:
    """Parse a SARIF 2.1.0 log into a `ToolRun` named ``tool`` (see the module docstring for the mapping).

    ``ToolRun.version`` is the first run's ``driver.semanticVersion`` (else ``driver.version``), "" if
    neither is set; ``exit_code`` is left at 0 for the caller to fill in. Findings are sorted with
    `pipeline.model.sort_key`; notes are sorted too, so the same log always parses to the same value.
    With ``fail_on_error_notifications``, an error-level tool notification raises `ToolOutputError`.
    """
    log = load_sarif(tool, text)
    state = _Parse(tool, category, levels, severity_of, category_of, roots)
    version = ""
    with bulk():  # no cyclic GC passes while building many findings (linear time)
        for run_index, run in enumerate(_list(log["runs"])):
            run_obj = _obj(run)
            if run_index == 0:
                driver = _obj(_obj(run_obj.get("tool")).get("driver"))
                version = _str(driver.get("semanticVersion")) or _str(driver.get("version"))
            state.invocations(run_obj)
            tables = _run_tables(run_obj, roots)
            for result_index, raw in enumerate(_list(run_obj.get("results"))):
                if not isinstance(raw, dict):
                    raise ToolOutputError(
                        tool, f"SARIF run {run_index} result {result_index} is a {type(raw).__name__}, not an object"
                    )
                state.result(tables, _obj(raw))
        if fail_on_error_notifications and state.errors:
            raise ToolOutputError(tool, f"the tool reported an error: {state.errors[0]}")
        scrubber = redact.Scrubber(tuple(state.scrub))
        findings = sorted(scrubber.findings(state.findings), key=sort_key)
        notes = sorted(dict.fromkeys(scrubber.texts([*state.notes, *state.summary_notes()])))
    return ToolRun(tool=tool, version=version, findings=tuple(findings), notes=tuple(notes), scrub=scrubber.values)
