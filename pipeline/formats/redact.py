"""Keeping secret values out of every report. Pure: text in, text out.

Two mechanisms, both applied without asking the tool to cooperate:

1. **Redaction, decided by category and rule metadata** (`is_secret_rule`). A finding is about a secret when
   its category is `Category.SECRET`, or its rule says so in its metadata: a CWE about credentials in its
   tags (`SECRET_CWES`, e.g. ``CWE-798: Use of Hard-coded Credentials``), a tag or rule-id word such as
   ``secret``, ``credential``, ``password``, ``token``, ``api-key`` (`SECRET_WORDS`); a vulnerability of a
   package is never one (its advisory may carry a credentials CWE, its message quotes nothing of the tree).
   The rule id alone
   containing "secret" is one signal among these, not the test. The message of such a finding is never the
   tool's interpolated text: it is the rule's own template (``Hard-coded token $VAL``: metavariables shown
   by name, never by value) or, without one, the rule's title.
2. **Scrubbing** (`Scrubber`). Whatever values a tool interpolated into a secret rule's message (found by
   matching the message against the rule's template, `interpolated_values`), the arguments of a secret
   rule's message, and any interpolated value of *any* rule that looks like a credential (long, mixed
   letters and digits, high entropy: `looks_like_credential`), are collected per tool run
   (`pipeline.model.ToolRun.scrub`). Every text field of every finding, note, reason and report is then
   cleaned of each of them (replaced by `REDACTED`), whichever tool or field carries it.

3. **Neutralising** (`neutralize`): characters that make text display differently from what it is —
   bidirectional overrides and isolates (Trojan Source, CVE-2021-42574), invisible zero-width characters,
   control characters other than tab and newline — are shown as ``[U+202E]``; lone surrogates (not
   encodable as UTF-8: they come from undecodable file names) and non-characters become U+FFFD. Applied
   with the scrubbing, to every text field, so that no report renders tool text that lies about itself.

Values shorter than `MIN_SCRUB_LENGTH` are not scrubbed (replacing ``id`` everywhere would make every report
unreadable and protects nothing: such a value is not a credential).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from operator import attrgetter
from typing import Any

import attrs

from pipeline.model import Category, Finding, Location, Package, Reason, ToolRun, Verdict

REDACTED = "[REDACTED]"
MIN_SCRUB_LENGTH = 6

SECRET_CWES = frozenset(
    {
        "CWE-256",  # plaintext storage of a password
        "CWE-257",  # storing passwords in a recoverable format
        "CWE-259",  # use of hard-coded password
        "CWE-260",  # password in configuration file
        "CWE-312",  # cleartext storage of sensitive information
        "CWE-321",  # use of hard-coded cryptographic key
        "CWE-522",  # insufficiently protected credentials
        "CWE-532",  # insertion of sensitive information into log file
        "CWE-540",  # inclusion of sensitive information in source code
        "CWE-547",  # use of hard-coded, security-relevant constants
        "CWE-615",  # inclusion of sensitive information in source code comments
        "CWE-798",  # use of hard-coded credentials
    }
)
"""CWEs whose findings are, by definition, about a credential's value being where it should not be."""

SECRET_WORDS = frozenset(
    {
        "secret",
        "secrets",
        "credential",
        "credentials",
        "password",
        "passwords",
        "passwd",
        "token",
        "tokens",
        "apikey",
        "api-key",
        "api_key",
        "private-key",
        "privatekey",
        "hardcoded-credentials",
        "hardcoded-password",
    }
)
"""Words of a tag (whole tag, lower case) or of a rule id (a ``.``/``/``/``:``-separated segment, or a
word of one) that mark a rule as being about a secret."""

_CWE = re.compile(r"^\s*(CWE-\d+)\b", re.IGNORECASE)
_SEGMENT = re.compile(r"[./:\s]+")
_WORD = re.compile(r"[-_]+")
_METAVARIABLE = re.compile(r"\$[A-Z_][A-Z0-9_]*")
_MAX_TEMPLATE_VARS = 16
_DIGEST = re.compile(
    r"(?:sha(?:1|256|384|512):)?(?:[0-9a-f]{40}|[0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
    re.IGNORECASE,
)


_INVISIBLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
_UNENCODABLE = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _visible(m: re.Match[str]) -> str:
    return f"[U+{ord(m.group(0)):04X}]"


def neutralize(text: str) -> str:
    """`text` with bidi controls, invisible and control characters made visible (tab and newline kept),
    lone surrogates and non-characters replaced by U+FFFD (see the module docstring)."""
    if text.isprintable():  # fast path: no control, format (bidi), surrogate or unassigned character
        return text
    return _UNENCODABLE.sub("\ufffd", _INVISIBLE.sub(_visible, text))


def _cwe(tag: str) -> str:
    m = _CWE.match(tag)
    return m.group(1).upper() if m else ""


def is_secret_rule(
    category: Category | None, rule_id: str, tags: Iterable[str] = (), properties: Mapping[str, Any] | None = None
) -> bool:
    """Whether findings of this rule are about a secret (see the module docstring)."""
    if category is Category.SECRET:
        return True
    if category is not None and category.is_vulnerability:
        # an advisory about a package (CVE-2018-18074 is CWE-522) quotes no value from the scanned tree
        return False
    all_tags = list(tags)
    props = properties or {}
    for key in ("tags", "cwe", "category", "subcategory", "technology"):
        value = props.get(key)
        if isinstance(value, str):
            all_tags.append(value)
        elif isinstance(value, list):
            all_tags.extend(v for v in value if isinstance(v, str))  # pyright: ignore[reportUnknownVariableType]
    for tag in all_tags:
        low = tag.strip().lower()
        if low in SECRET_WORDS or _cwe(tag) in SECRET_CWES:
            return True
    low_id = rule_id.lower()
    for segment in _SEGMENT.split(low_id):
        if segment in SECRET_WORDS or any(w in SECRET_WORDS for w in _WORD.split(segment)):
            return True
    return any(w in low_id for w in ("api-key", "api_key", "private-key", "private_key", "hardcoded-cred"))


def entropy(value: str) -> float:
    """Shannon entropy per character, in bits."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def looks_like_credential(value: str) -> bool:
    """A long, high-entropy run of letters and digits (a token, a key), not a word, path or identifier."""
    v = value.strip().strip("\"'`")
    if len(v) < 16 or len(v) > 4096 or any(c.isspace() for c in v):
        return False
    if _DIGEST.fullmatch(v):  # a content digest, commit id or UUID names data, it does not open anything
        return False
    has_digit = any(c.isdigit() for c in v)
    has_alpha = any(c.isalpha() for c in v)
    return has_digit and has_alpha and entropy(v) >= 3.5


_TOKEN_SPLIT = re.compile(r"[\s\"'`=:,;()\[\]{}<>]+")


def credential_tokens(text: str) -> list[str]:
    """The tokens of `text` that `looks_like_credential`: what to scrub from a message when it is not known
    which part of it a tool interpolated from the scanned code."""
    return [t for t in _TOKEN_SPLIT.split(text) if looks_like_credential(t)]


def template_variables(template: str) -> list[str]:
    return _METAVARIABLE.findall(template)


def interpolated_values(template: str, message: str) -> list[str] | None:
    """The values a tool put in place of the ``$VAR`` metavariables of `template` to write `message`.

    None when the message does not follow the template (then nothing can be said about which part of it
    came from the scanned code). An empty list when the template has no metavariable.
    """
    pattern = _template_pattern(template)
    if pattern is None:
        return [] if template.strip() == message.strip() else None
    m = pattern.fullmatch(message.strip())
    if m is None:
        return None
    return [g for g in m.groups() if g]


@functools.lru_cache(maxsize=1024)
def _template_pattern(template: str) -> re.Pattern[str] | None:
    """The regex that reads a message written from `template` (None without metavariables, or too many)."""
    names = template_variables(template)
    if not names or len(names) > _MAX_TEMPLATE_VARS:
        return None
    parts = _METAVARIABLE.split(template.strip())
    return re.compile("(.*?)".join(re.escape(p) for p in parts), re.DOTALL)


def redacted_message(template: str, fallback: str) -> str:
    """What a secret finding says: the rule's template (metavariables by name) or `fallback`."""
    text = template.strip()
    return text if text else fallback


def scrub_values(values: Iterable[str]) -> tuple[str, ...]:
    """The values worth scrubbing, deduplicated and sorted (longest first, so that a longer value that
    contains a shorter one is replaced whole)."""
    kept = {v.strip() for v in values if len(v.strip()) >= MIN_SCRUB_LENGTH}
    # a quoted value ("abc…") is also scrubbed unquoted
    kept |= {v.strip("\"'`") for v in kept if len(v.strip("\"'`")) >= MIN_SCRUB_LENGTH}
    return tuple(sorted(kept, key=lambda v: (-len(v), v)))


@attrs.frozen
class Scrubber:
    """Replaces every occurrence of each value by `REDACTED` in any text, and `neutralize`s it."""

    values: tuple[str, ...] = attrs.field(default=(), converter=scrub_values, repr=False)
    _pattern: re.Pattern[str] | None = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        pattern = re.compile("|".join(re.escape(v) for v in self.values)) if self.values else None
        object.__setattr__(self, "_pattern", pattern)

    def __repr__(self) -> str:  # never show the values, even in a traceback
        return f"Scrubber({len(self.values)} values)"

    @classmethod
    def of(cls, runs: Iterable[ToolRun]) -> Scrubber:
        return cls(tuple(v for r in runs for v in r.scrub))

    def __bool__(self) -> bool:
        return bool(self.values)

    def text(self, value: str) -> str:
        if not value:
            return value
        if not value.isprintable():
            value = neutralize(value)
        if self._pattern is None:
            return value
        return self._pattern.sub(REDACTED, value)

    def texts(self, values: Sequence[str]) -> tuple[str, ...]:
        return tuple(self.text(v) for v in values)

    def location(self, loc: Location) -> Location:
        path = self.text(loc.path)
        return loc if path == loc.path else attrs.evolve(loc, path=path)

    def package(self, p: Package | None) -> Package | None:
        if p is None:
            return None
        fields = (p.name, p.version, p.ecosystem, p.purl, p.fixed_version)
        cleaned = tuple(self.text(x) for x in fields)
        if cleaned == fields:
            return p
        return Package(*cleaned)

    def finding(self, f: Finding) -> Finding:
        """`f` with every text field scrubbed; its fingerprint is kept (it never holds a value)."""
        if self._pattern is None and _printable(f):
            return f
        changes: dict[str, Any] = {}
        for name in ("rule_id", "message", "title", "help_uri"):
            old = getattr(f, name)
            new = self.text(old)
            if new != old:
                changes[name] = new
        tags = self.texts(f.tags)
        if tags != f.tags:
            changes["tags"] = tags
        tools = self.texts(f.tools)
        if tools != f.tools:
            changes["tools"] = tools
        locations = tuple(self.location(loc) for loc in f.locations)
        if locations != f.locations:
            changes["locations"] = locations
        package = self.package(f.package)
        if package is not f.package:
            changes["package"] = package
        if not changes:
            return f
        return attrs.evolve(f, **changes, fingerprint=f.fingerprint)

    def findings(self, findings: Iterable[Finding]) -> tuple[Finding, ...]:
        fs = tuple(findings)
        if not fs or not self._touches(_blob(fs)):
            return fs  # the common case: one C-speed scan of all the text, nothing to change
        return tuple(self.finding(f) for f in fs)

    def _touches(self, blob: str) -> bool:
        if _needs_work(blob):
            return True
        return self._pattern is not None and self._pattern.search(blob) is not None

    def run(self, run: ToolRun) -> ToolRun:
        return attrs.evolve(
            run,
            tool=self.text(run.tool),
            version=self.text(run.version),
            findings=self.findings(run.findings),
            notes=self.texts(run.notes),
            subject=self.text(run.subject),
        )

    def reason(self, r: Reason) -> Reason:
        return attrs.evolve(r, rule_id=self.text(r.rule_id), message=self.text(r.message), remedy=self.text(r.remedy))

    def verdict(self, v: Verdict) -> Verdict:
        return attrs.evolve(
            v,
            denials=tuple(self.reason(r) for r in v.denials),
            warnings=tuple(self.reason(r) for r in v.warnings),
            notes=self.texts(v.notes),
            policy=self.text(v.policy),
        )

    def data(self, data: bytes, kind: str = "text") -> bytes:
        """Last line of defence on a rendered file: each value, as the file's format writes it, replaced.

        `kind` is ``json`` (the value JSON-escaped, with and without ``ensure_ascii``), ``xml`` (escaped as
        text and as an attribute) or ``text`` (as it is). Only the forms a string of that format can hold,
        so that a hostile value such as ``a","b`` can never match across markup.
        """
        if not self.values:
            return data
        for value in self.values:
            for form in _encoded_forms(value, kind):
                if form in data:
                    data = data.replace(form, REDACTED.encode())
        return data


_NEEDS_WORK = re.compile(f"{_INVISIBLE.pattern[:-1]}\ud800-\udfff\ufffe\uffff]")


def _unique(values: Iterable[Any]) -> list[Any]:
    """Distinct objects by identity (parsers share tuples and packages between findings)."""
    return list({id(v): v for v in values}.values())


def _blob(fs: tuple[Finding, ...]) -> str:
    """Every text field of `fs` in one string (a value crossing a field boundary only costs a slow path)."""
    parts = [" ".join(map(attrgetter(name), fs)) for name in ("rule_id", "message", "title", "help_uri")]
    for name in ("tags", "tools"):
        parts.append(" ".join(" ".join(t) for t in _unique(map(attrgetter(name), fs))))
    parts.append(" ".join(loc.path for locs in _unique(map(attrgetter("locations"), fs)) for loc in locs))
    packages = [p for p in _unique(map(attrgetter("package"), fs)) if p is not None]
    parts.append(" ".join(f"{p.name} {p.version} {p.purl} {p.fixed_version} {p.ecosystem}" for p in packages))
    return " ".join(parts)


def _needs_work(blob: str) -> bool:
    """Whether `blob` holds a character `neutralize` changes (tab and newline are fine). C speed."""
    if blob.isprintable():
        return False
    plain = blob.replace("\n", " ").replace("\t", " ")
    return not plain.isprintable() and _NEEDS_WORK.search(plain) is not None


def _printable(f: Finding) -> bool:
    """True when no text field of `f` needs neutralising (the common case, checked at C speed)."""
    if not (f.message.isprintable() and f.rule_id.isprintable() and f.title.isprintable()):
        return False
    if f.help_uri and not f.help_uri.isprintable():
        return False
    if not all(loc.path.isprintable() for loc in f.locations):
        return False
    if f.tags and not all(t.isprintable() for t in f.tags):
        return False
    p = f.package
    return p is None or (p.name + p.version + p.purl + p.fixed_version + p.ecosystem).isprintable()


def _encoded_forms(value: str, kind: str) -> list[bytes]:
    import json
    from xml.sax.saxutils import escape

    if kind == "json":
        forms = {json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]}
    elif kind == "xml":
        forms = {escape(value), escape(value, {'"': "&quot;", "'": "&apos;"}), escape(value, {'"': "&quot;"})}
    else:
        forms = {value}
    return [f.encode("utf-8", "surrogatepass") for f in sorted(forms) if f]
