"""Plain value types shared by every layer. No I/O, no Dagger.

Everything here is frozen and ordered so that reports built from it are deterministic.
"""

from __future__ import annotations

import contextlib
import enum
import gc
import hashlib
from collections.abc import Generator, Iterable, Mapping
from typing import Any

import attrs


class Severity(enum.IntEnum):
    """One ordered severity scale. Every tool's levels are mapped onto it (see each tool module)."""

    UNKNOWN = 0
    INFO = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @classmethod
    def parse(cls, value: str) -> Severity:
        """Parse a severity name, case-insensitively. Raises ValueError naming the accepted values."""
        key = value.strip().upper()
        try:
            return cls[key]
        except KeyError:
            names = ", ".join(s.name for s in cls)
            raise ValueError(f"unknown severity {value!r}; use one of {names}") from None

    @property
    def label(self) -> str:
        return self.name


class Category(enum.StrEnum):
    """What kind of problem a finding is. The gate has a threshold per category."""

    SAST = "sast"
    SECRET = "secret"
    DEPENDENCY = "dependency"
    MISCONFIGURATION = "misconfiguration"
    IMAGE_VULNERABILITY = "image-vulnerability"
    LICENSE = "license"

    @classmethod
    def parse(cls, value: str) -> Category:
        try:
            return cls(value.strip().lower())
        except ValueError:
            names = ", ".join(c.value for c in cls)
            raise ValueError(f"unknown category {value!r}; use one of {names}") from None

    @property
    def is_vulnerability(self) -> bool:
        return self in _VULN_CATEGORIES


_VULN_CATEGORIES = frozenset({Category.DEPENDENCY, Category.IMAGE_VULNERABILITY})


@contextlib.contextmanager
def bulk() -> Generator[None]:
    """Pause the cyclic garbage collector while building many objects that form no cycles.

    Parsing a 100k-finding report creates a million small objects; each automatic collection walks all
    of them, which makes the work grow faster than the input. Reference counting still frees everything.

    On the way out, the objects built inside go straight to the oldest generation (`gc.freeze` then
    `gc.unfreeze`: two list splices) instead of being walked by the young generation's collection that
    re-enabling would trigger at once (about 40 ms after a 100k-entry report is decoded); any cyclic garbage
    among the process's young objects waits for the next full collection. Not done when the process holds
    frozen objects of its own (a pre-fork server's `gc.freeze`), which unfreezing would thaw.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if gc.get_freeze_count() == 0:
                gc.freeze()
                gc.unfreeze()
            gc.enable()


@attrs.frozen(order=True)
class Location:
    """Where a finding is. `path` is relative to the scanned root, '/'-separated.

    For image findings `path` names the place inside the image (e.g. a package database or a
    lock file inside a layer), prefixed with ``image:``.
    """

    path: str
    start_line: int | None = None
    end_line: int | None = None
    start_column: int | None = None
    end_column: int | None = None

    def render(self) -> str:
        if self.start_line is None:
            return self.path
        return f"{self.path}:{self.start_line}"


@attrs.frozen(order=True)
class Package:
    """A package a vulnerability or license finding is about."""

    name: str
    version: str
    ecosystem: str = ""
    """purl type where known (pypi, npm, deb, golang, ...), else the tool's own word."""
    purl: str = ""
    fixed_version: str = ""
    """Empty when no fix is known."""


@attrs.frozen(order=True)
class Finding:
    """One problem found by one or more tools.

    `fingerprint` is the hash of `merge_key`: stable across runs and machines for the same tool output. It
    never includes a timestamp, a path outside the scanned root or a secret's own message; it includes
    the tool's message only where the message tells two results of one rule at one place apart (SAST,
    location-less results). A merged finding keeps the fingerprint of the reports it merges (`merge_findings`).
    """

    category: Category
    rule_id: str
    """The tool's rule id, or the vulnerability id (CVE-…, GHSA-…) for vulnerabilities."""
    severity: Severity
    message: str
    tools: tuple[str, ...]
    """Which tools reported it (sorted, at least one)."""
    locations: tuple[Location, ...] = ()
    package: Package | None = None
    title: str = ""
    help_uri: str = ""
    tags: tuple[str, ...] = ()
    identity: str = ""
    """The tool's own fingerprint of this result where it has one (SARIF ``partialFingerprints``, a
    logged-in semgrep's ``fingerprint``…): then it, with the rule, is what tells two results apart."""
    dev: bool = False
    """A dependency finding about a package only declared for development (npm devDependencies…)."""
    fingerprint: str = attrs.field(default="", eq=False, order=False)

    def __attrs_post_init__(self) -> None:
        if not self.tools:
            raise ValueError("a finding needs at least one tool")
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint_of(self))

    @property
    def tool(self) -> str:
        return self.tools[0]

    @property
    def fixable(self) -> bool:
        return self.package is not None and bool(self.package.fixed_version)

    def merge_key(self) -> tuple[str, ...]:
        return merge_key(self)


def merge_key(f: Finding) -> tuple[str, ...]:
    """Identity of the *thing* a finding is about, so that several tools' reports of it merge once.

    - a vulnerability: same id in the same package and version (lock file and image alike, any tool);
    - a licence: same licence in the same package and version;
    - a secret: same file and line, whichever tool found it and whatever it calls the rule (and
      `merge_findings` joins secrets whose line ranges in one file overlap);
    - a result carrying the tool's own fingerprint (`Finding.identity`): same rule and fingerprint;
    - a misconfiguration: same rule at the same file and line (so two tools' reports of one line merge);
    - anything else (SAST…): same rule, file, line, column and message — one rule can report several
      distinct problems on one line.

    A finding without a location adds its message, so location-less results of one rule stay distinct.
    Linear: a tuple per finding, no comparison between findings.
    """
    first = f.locations[0] if f.locations else None
    if f.category in _VULN_CATEGORIES and f.package is not None:  # is_vulnerability, without a call (hot)
        return vulnerability_key(f.rule_id, f.package)
    if f.category is Category.LICENSE and f.package is not None:
        return ("license", f.rule_id, f.package.ecosystem, f.package.name, f.package.version)
    if first is None:
        return (f.category.value, f.rule_id, "", "0", f.identity or f.message)
    if f.category is Category.SECRET:
        return ("secret", first.path, str(first.start_line or 0))
    if f.identity:
        return (f.category.value, f.rule_id, "id", f.identity)
    if f.category is Category.MISCONFIGURATION:
        return (f.category.value, f.rule_id, first.path, str(first.start_line or 0))
    return (
        f.category.value,
        f.rule_id,
        first.path,
        str(first.start_line or 0),
        str(first.start_column or 0),
        f.message,
    )


def vulnerability_key(vuln_id: str, package: Package) -> tuple[str, ...]:
    """`merge_key` of a vulnerability finding (dependency or image) about `package`."""
    return ("vuln", vuln_id, package.ecosystem, package.name, package.version)


def location_key(loc: Location) -> tuple[str, int, int, int, int]:
    """Total order of locations (None sorts first), for deterministic output."""
    return (
        loc.path,
        loc.start_line if loc.start_line is not None else -1,
        loc.end_line if loc.end_line is not None else -1,
        loc.start_column if loc.start_column is not None else -1,
        loc.end_column if loc.end_column is not None else -1,
    )


def fingerprint_of(f: Finding) -> str:
    return fingerprint_key(merge_key(f))


def fingerprint_key(key: tuple[str, ...]) -> str:
    """The fingerprint of a merge key: `fingerprint_of(f)` is `fingerprint_key(merge_key(f))`."""
    text = "\x1f".join(key)
    try:
        data = text.encode()  # without an error handler: a fifth faster per call (100k calls)
    except UnicodeEncodeError:
        # undecodable file names reach us as lone surrogates and must still fingerprint (the same bytes
        # the "surrogatepass" handler always gave)
        data = text.encode("utf-8", "surrogatepass")
    return _sha256(data).hexdigest()[:32]


_sha256 = hashlib.sha256


def _finding_setters() -> tuple[Any, ...]:
    return tuple(Finding.__dict__[a.name].__set__ for a in attrs.fields(Finding))


def finding_from_parts(
    category: Category,
    rule_id: str,
    severity: Severity,
    message: str,
    tools: tuple[str, ...],
    locations: tuple[Location, ...],
    package: Package | None,
    title: str,
    help_uri: str,
    tags: tuple[str, ...],
    identity: str,
    dev: bool,
    fingerprint: str,
    *,
    _new: Any = object.__new__,
    _set: tuple[Any, ...] = _finding_setters(),
) -> Finding:
    """The `Finding(...)` a parser's hot loop builds, in half the time: every field given, in declaration order.

    For a loop over 100k entries (trivy's vulnerabilities) and the merge. The caller guarantees what `Finding`
    would check or compute: `tools` is not empty, and `fingerprint` is `fingerprint_key(merge_key(...))` of these
    fields (a parser) or the fingerprint of the group merged into them (`merge_findings`). The slots are set
    directly (attrs' frozen `__init__` goes through `object.__setattr__` by name, one lookup per field).
    tests/unit/test_model_fast_paths.py compares the result with `Finding(...)`'s.
    """
    f = _new(Finding)
    (s_category, s_rule_id, s_severity, s_message, s_tools, s_locations, s_package,
     s_title, s_help_uri, s_tags, s_identity, s_dev, s_fingerprint) = _set  # fmt: skip
    s_category(f, category)
    s_rule_id(f, rule_id)
    s_severity(f, severity)
    s_message(f, message)
    s_tools(f, tools)
    s_locations(f, locations)
    s_package(f, package)
    s_title(f, title)
    s_help_uri(f, help_uri)
    s_tags(f, tags)
    s_identity(f, identity)
    s_dev(f, dev)
    s_fingerprint(f, fingerprint)
    return f


def merge_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Merge findings about the same thing (see `merge_key`) and sort the result deterministically.

    The merged finding keeps the highest severity, the union of tools and locations, the first
    non-empty message/title/help text in tool order, and the most specific category
    (dependency before image-vulnerability).

    The result does not depend on the order of `findings` (ties inside a group are broken on every field the
    merge picks, `_group_order`; the output is sorted by `sort_key`, which ends with the fingerprint). So a
    parser need not sort what it returns for the reports to be deterministic: trivy's keeps the report's order.
    """
    # the fingerprint is the hash of the merge key, computed once per finding: group by it. Hot (100k findings):
    # the first finding of each fingerprint is kept as it is, a list is made only for the fingerprints seen twice.
    first: dict[str, Finding] = {}
    more: dict[str, list[Finding]] = {}
    secrets = False
    with bulk():
        for f in findings:
            fp = f.fingerprint
            head = first.get(fp)
            if head is None:
                first[fp] = f
                if f.category is Category.SECRET:
                    secrets = True
            else:
                if f.category is Category.SECRET:  # a group's secret need not come first
                    secrets = True
                group = more.get(fp)
                if group is None:
                    more[fp] = [head, f]
                else:
                    group.append(f)
        if secrets:  # overlapping secrets join their groups (same groups, same order as without the shortcut)
            groups = {fp: more.get(fp) or [f] for fp, f in first.items()}
            merged = [_merge_group(fp, g) for fp, g in _join_overlapping_secrets(groups).items()]
        else:
            merged = [f if fp not in more else _merge_group(fp, more[fp]) for fp, f in first.items()]
        merged.sort(key=sort_key)
    return tuple(merged)


def _secret_span(group: list[Finding]) -> tuple[str, int, int] | None:
    """The file and lines a group of secret reports covers, from all of its members (so not from whichever came
    first): the first path, and in it the lowest start and the highest end. None when no member is a secret with
    a line."""
    span: tuple[str, int, int] | None = None
    for f in group:
        loc = f.locations[0] if f.locations else None
        if f.category is not Category.SECRET or loc is None or loc.start_line is None:
            continue
        end = max(loc.end_line or loc.start_line, loc.start_line)
        if span is None or loc.path < span[0]:
            span = (loc.path, loc.start_line, end)
        elif loc.path == span[0]:
            span = (loc.path, min(span[1], loc.start_line), max(span[2], end))
    return span


def _join_overlapping_secrets(groups: dict[str, list[Finding]]) -> dict[str, list[Finding]]:
    """Secret groups in one file whose line ranges overlap are one secret: gitleaks reports a private key at
    lines 1-15 (BEGIN to END), trivy at 2-14 (its body). Sorted sweep per file: O(n log n), no pairs.

    Returns the groups by fingerprint: a joined group under the fingerprint of its first span (lowest start,
    then end, then fingerprint), which the merged finding keeps."""
    by_path: dict[str, list[tuple[int, int, str]]] = {}
    for key, group in groups.items():
        span = _secret_span(group)
        if span is not None:
            by_path.setdefault(span[0], []).append((span[1], span[2], key))
    joined: dict[str, str] = {}
    for spans in by_path.values():
        if len(spans) < 2:
            continue
        spans.sort()
        head, reach = spans[0][2], spans[0][1]
        for start, end, key in spans[1:]:
            if start <= reach:
                joined[key] = head
                reach = max(reach, end)
            else:
                head, reach = key, end
    if not joined:
        return groups
    out: dict[str, list[Finding]] = {}
    for key, group in groups.items():
        out.setdefault(joined.get(key, key), []).extend(group)
    return out


def _merge_group(fingerprint: str, group: list[Finding]) -> Finding:
    """One finding for a group (see `merge_findings`), under the group's `fingerprint`. One pass over the group,
    in `_group_order`, picks every field (10k groups in a 100k-finding report); tests/unit/test_merge_equivalence.py
    compares it with the first version, which took one pass per field.

    The merged finding keeps the group's fingerprint, as a finding reported once keeps its own: computed again
    from the merged fields it could move (the locations are sorted, so a result listing a.py:10 before a.py:1
    would take the fingerprint of another finding at a.py:1) and two findings would share one."""
    if len(group) == 1:
        return group[0]
    group = sorted(group, key=_group_order)
    head = group[0]
    best = head
    category = head.category
    order = _CATEGORY_ORDER[category]
    rule_id = head.rule_id
    package = head.package if head.package and head.package.fixed_version else None
    message, title, help_uri = head.message, head.title, head.help_uri
    tools = set(head.tools)
    locations = set(head.locations)
    tags = set(head.tags)
    dev = head.dev
    for f in group[1:]:
        if f.severity > best.severity:
            best = f
        if _CATEGORY_ORDER[f.category] < order:
            category, order = f.category, _CATEGORY_ORDER[f.category]
        rule_id = min(rule_id, f.rule_id)
        if package is None and f.package and f.package.fixed_version:
            package = f.package
        if not message:
            message = f.message
        if not title:
            title = f.title
        if not help_uri:
            help_uri = f.help_uri
        tools.update(f.tools)
        locations.update(f.locations)
        tags.update(f.tags)
        dev = dev and f.dev
    # every field given, `tools` not empty (a union of non-empty tuples): the fast constructor applies
    return finding_from_parts(
        category,
        rule_id,
        best.severity,
        best.message or message,
        tuple(sorted(tools)),
        tuple(sorted(locations, key=location_key)),
        head.package if package is None else package,
        title,
        help_uri,
        tuple(sorted(tags)),
        head.identity,
        dev,
        fingerprint,
    )


def _group_order(f: Finding) -> tuple[Any, ...]:
    """The order `_merge_group` reads a group in: by tools and message, then by every field it picks from a
    member (title, help text, identity, package). Members equal in all of these give the same merged finding
    whichever comes first, so the merge does not depend on the order its input came in."""
    p = f.package
    pkg = () if p is None else (p.name, p.version, p.ecosystem, p.purl, p.fixed_version)
    return (f.tools, f.message, f.title, f.help_uri, f.identity, pkg)


def sort_key(f: Finding) -> tuple[int, str, str, str, int, str]:
    """Most severe first, then by category, rule and place (path, then line as a number): the order of every report."""
    first = f.locations[0] if f.locations else None
    where = first.path if first else (f.package.name if f.package else "")
    line = first.start_line if first and first.start_line is not None else -1
    return (_NEGATED_RANK[f.severity], _CATEGORY_VALUE[f.category], f.rule_id, where, line, f.fingerprint)


# sort_key runs once per finding on every sort (100k findings): plain dict lookups, not enum properties.
_NEGATED_RANK = {s: -int(s) for s in Severity}
_CATEGORY_VALUE = {c: c.value for c in Category}
_CATEGORY_ORDER = {c: i for i, c in enumerate(Category)}
"""Declaration order of the categories (the most specific first), by lookup: `_merge_group` picks the lowest."""


@attrs.frozen
class Coverage:
    """What one scanner looked at: the files it scanned and the rules it ran, per language.

    `rules` counts the rules known to apply to each language; `rules_known` is False when some rules'
    languages could not be counted (registry packs, rules of your own), so a language missing from
    `rules` may still have been checked.
    """

    files: int = 0
    """Files the scanner read."""
    languages: tuple[tuple[str, int], ...] = ()
    """(language, source files of it the scanner saw), sorted by language."""
    rules: tuple[tuple[str, int], ...] = ()
    """(language, rules run on it), sorted by language."""
    rules_total: int = 0
    """Rules run in all (where known)."""
    rules_known: bool = True
    kind: str = "sast"
    """What the rules look for: "sast" for code analyzers (the gate's `sast.no-coverage` reads these)."""


@attrs.frozen
class ToolRun:
    """What one tool reported, parsed. `findings` are not yet merged across tools."""

    tool: str
    version: str
    findings: tuple[Finding, ...]
    exit_code: int = 0
    notes: tuple[str, ...] = ()
    """Anything the user should know that is not a finding (e.g. files the tool skipped)."""
    subject: str = ""
    """What was scanned, as the tool identifies it: for an image scan, the image config digest
    (sha256:…) — compared by the gate with the digest the build produced."""
    scrub: tuple[str, ...] = attrs.field(default=(), repr=False, eq=False)
    """Values the tool copied into its output that are (or may be) secrets: every report removes them
    from every text field (`pipeline.formats.redact`). Never rendered, never compared, never shown."""
    coverage: Coverage | None = None
    """What the scanner looked at, where it says (languages, files, rules); None when unknown."""


class Decision(enum.StrEnum):
    DENY = "deny"
    WARN = "warn"


@attrs.frozen(order=True)
class Reason:
    """One rule that denied or warned, with what caused it."""

    rule_id: str
    decision: Decision
    message: str
    remedy: str = ""
    findings: tuple[str, ...] = ()
    """Fingerprints of the findings that caused this reason (sorted)."""


@attrs.frozen
class Verdict:
    """The gate's answer. `passed` is False as soon as there is one denial."""

    passed: bool
    denials: tuple[Reason, ...] = ()
    warnings: tuple[Reason, ...] = ()
    notes: tuple[str, ...] = ()
    """E.g. exceptions that matched nothing, results left out of a capped report."""
    policy: str = "rego"
    """Which gate decided: "rego" (reports of the removed first threshold gate say "thresholds")."""

    @property
    def reasons(self) -> tuple[Reason, ...]:
        return (*self.denials, *self.warnings)


def count_by_severity(findings: Iterable[Finding]) -> Mapping[Severity, int]:
    counts = dict.fromkeys(Severity, 0)
    for f in findings:
        counts[f.severity] += 1
    return counts


@attrs.frozen(order=True)
class Component:
    """One entry of an SBOM, normalized across CycloneDX and SPDX."""

    name: str
    version: str
    purl: str = ""
    type: str = ""
    """purl type where known (deb, pypi, npm, …), else the SBOM's own component type."""
    licenses: tuple[str, ...] = ()
    """SPDX license ids or expressions, sorted."""


@attrs.frozen
class SbomSummary:
    """What the gate and the reports need of an SBOM."""

    format: str
    """"cyclonedx" or "spdx"."""
    spec_version: str
    components: tuple[Component, ...]
    tool: str = ""

    @property
    def licenses(self) -> tuple[str, ...]:
        return tuple(sorted({lic for c in self.components for lic in c.licenses}))


class BasePin(enum.StrEnum):
    """How the Dockerfile names its final base image."""

    DIGEST = "digest"
    TAG = "tag"
    NONE = "none"
    """No tag at all, or `latest`: moves under your feet."""
    SCRATCH = "scratch"


@attrs.frozen
class ImageFacts:
    """Facts about the built image that the gate reads. Read from the image config and the Dockerfile."""

    config_digest: str
    """sha256:… of the image config blob: the identity the scan, the push and the provenance share."""
    platform: str = "linux/amd64"
    user: str = ""
    """As in the config ("" means root)."""
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    exposed_ports: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    """Sorted (key, value) pairs of the image config labels."""
    base_image: str = ""
    """The final stage's FROM as written in the Dockerfile (after ARG substitution)."""
    base_pin: BasePin = BasePin.NONE
    size: int = 0
    """Bytes, sum of the compressed layer sizes where known, else of the uncompressed tarball."""
    layers: int = 0

    @property
    def runs_as_root(self) -> bool:
        user = self.user.split(":", 1)[0].strip()
        return user in ("", "root", "0")


def as_scanned(built: Iterable[ImageFacts], scans: Iterable[ToolRun]) -> tuple[ImageFacts, ...]:
    """The image facts as the gate sees them: each platform's config digest is the one its scan reports.

    `built` (from the build's tarball) and `scans` (one image scan per platform) are in the same platform
    order. Where a scan names what it scanned (`ToolRun.subject`), that digest replaces the built one, so
    the gate's digest rule compares what was built with what was really scanned.
    """
    out: list[ImageFacts] = []
    for facts, run in zip(built, scans, strict=True):
        out.append(attrs.evolve(facts, config_digest=run.subject) if run.subject else facts)
    return tuple(out)
