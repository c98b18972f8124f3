"""The SARIF writer's one-pass `_rules` and `_result` give exactly what their first versions gave.

Both were rewritten for speed (issue 8: 25,000 results per run): one pass over the findings for the rules,
one pass over a finding's locations for its result. The first versions are kept below as the reference;
on generated findings (places in the tree, in the image, outside it, URIs of other schemes, empty paths,
titles, help URIs, tags, mixed severities) the whole document renders byte for byte the same with either.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.formats import sarif
from pipeline.formats._common import clean_text, image_path, is_image_path
from pipeline.model import Category, Finding, Location, Package, Severity, ToolRun

PATHS = [
    "src/app.py",
    "src/b c/ü.py",
    "image:usr/lib/python3/dist-packages/x",
    "image://odd",
    "/home/u/outside.py",
    "C:/work/x.py",
    "https://example.com/x",
    "",
    "lone\udc80surrogate.py",
]


@st.composite
def findings(draw: st.DrawFn, index: int) -> Finding:
    locations = tuple(
        Location(path, line, line + 2 if line and draw(st.booleans()) else None)
        for path, line in draw(
            st.lists(st.tuples(st.sampled_from(PATHS), st.none() | st.integers(0, 5)), max_size=4, unique=True)
        )
    )
    package = draw(
        st.none()
        | st.builds(
            Package,
            st.sampled_from(["jinja2", "openssl"]),
            st.sampled_from(["1.0", "3.0.2"]),
            st.sampled_from(["", "pypi", "deb"]),
            st.just("pkg:pypi/x@1"),
            st.sampled_from(["", "3.1"]),
        )
    )
    return Finding(
        category=draw(st.sampled_from(list(Category))),
        rule_id=draw(st.sampled_from(["CVE-2024-1", "CVE-2024-2", "py.rule", "r\udc80"])),
        severity=draw(st.sampled_from(list(Severity))),
        message=draw(st.sampled_from(["", "m", f"message {index}"])),
        tools=tuple(sorted(draw(st.sets(st.sampled_from(["trivy", "semgrep"]), min_size=1)))),
        locations=locations,
        package=package,
        title=draw(st.sampled_from(["", "A title", "Другой"])),
        help_uri=draw(st.sampled_from(["", "https://avd.example/x", "not a uri", "http://h:80/p q"])),
        tags=tuple(draw(st.lists(st.sampled_from(["security", "cwe-79", "a", "b"]), max_size=3, unique=True))),
        identity=f"id{index}",
    )


@st.composite
def finding_lists(draw: st.DrawFn) -> list[Finding]:
    return [draw(findings(i)) for i in range(draw(st.integers(0, 12)))]


SMALL = sarif.SarifLimits(max_results_per_run=8, max_locations_per_result=2, max_tags_per_rule=2)


def _render(items: list[Finding], limits: sarif.SarifLimits) -> sarif.SarifOutput:
    runs = [ToolRun("trivy", "0.1", ()), ToolRun("semgrep", "1.0", ())]
    return sarif.render_sarif(runs, items, limits=limits, dockerfile="build/Dockerfile")


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(finding_lists(), st.sampled_from([sarif.GITHUB_LIMITS, SMALL]))
def test_the_writer_renders_what_the_reference_renders(items: list[Finding], limits: sarif.SarifLimits) -> None:
    got = _render(items, limits)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sarif, "_rules", reference_rules)
        patch.setattr(sarif, "_result", reference_result)
        want = _render(items, limits)
    assert got.data == want.data
    assert (got.results, got.omitted, got.notes) == (want.results, want.omitted, want.notes)


def test_the_reference_is_what_runs_when_patched() -> None:
    """The comparison above is not vacuous: a changed reference changes the document."""
    item = Finding(category=Category.SAST, rule_id="r", severity=Severity.HIGH, message="m", tools=("semgrep",))

    def other_result(f: Finding, limits: sarif.SarifLimits, dockerfile: str) -> dict[str, Any]:
        return {**reference_result(f, limits, dockerfile), "level": "note"}

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sarif, "_result", other_result)
        changed = _render([item], sarif.GITHUB_LIMITS)
    assert changed.data != _render([item], sarif.GITHUB_LIMITS).data


# --- the first versions (pipeline/formats/sarif.py before the one-pass rewrite) -----------------------------


def reference_rules(items: list[Finding], limits: sarif.SarifLimits) -> list[dict[str, Any]]:
    """The rules the results use, sorted by id, each described by its first (most severe) finding."""
    rule_ids = sorted({f.rule_id for f in items})
    worst: dict[str, Severity] = {}
    title: dict[str, str] = {}
    help_uri: dict[str, str] = {}
    tags: dict[str, set[str]] = {}
    severities: dict[str, set[Severity]] = {}
    for f in items:
        worst[f.rule_id] = max(worst.get(f.rule_id, Severity.UNKNOWN), f.severity)
        severities.setdefault(f.rule_id, set()).add(f.severity)
        if f.title:
            title.setdefault(f.rule_id, f.title)
        if f.help_uri and f.rule_id not in help_uri and sarif._is_absolute_uri(f.help_uri):
            help_uri[f.rule_id] = f.help_uri
        tags.setdefault(f.rule_id, set()).update((f.category.value, *f.tags))
    return [
        reference_rule(
            rule_id, worst[rule_id], title, help_uri, tags[rule_id], limits, mixed=len(severities[rule_id]) > 1
        )
        for rule_id in rule_ids
    ]


def reference_rule(
    rule_id: str,
    worst: Severity,
    titles: dict[str, str],
    help_uris: dict[str, str],
    tags: set[str],
    limits: sarif.SarifLimits,
    *,
    mixed: bool = False,
) -> dict[str, Any]:
    title = clean_text(titles.get(rule_id, "") or rule_id)
    properties: dict[str, Any] = {
        "tags": ["security", *sorted(tags - {"security"})][: limits.max_tags_per_rule],
    }
    # GitHub shows a rule's security-severity for every result of the rule: set it only when all of them
    # share it; otherwise each result is shown at its own `level` (and says its own security-severity)
    if worst in sarif.SECURITY_SEVERITY and not mixed:
        properties["security-severity"] = sarif.SECURITY_SEVERITY[worst]
    rule: dict[str, Any] = {
        "id": clean_text(rule_id),
        "shortDescription": {"text": title},
        "fullDescription": {"text": title},
        "defaultConfiguration": {"level": sarif.LEVELS[worst]},
        "properties": properties,
    }
    uri = help_uris.get(rule_id)
    if uri:
        rule["helpUri"] = uri
        rule["help"] = {"text": f"{title}\n{uri}"}
    else:
        rule["help"] = {"text": title}
    return rule


def reference_result(f: Finding, limits: sarif.SarifLimits, dockerfile: str) -> dict[str, Any]:
    """One result; text is cleaned of lone surrogates when serialized (`_serialize`)."""
    if all(sarif._placeable(loc.path) for loc in f.locations):
        tree, in_image, elsewhere = list(f.locations[: limits.max_locations_per_result]), [], []
    else:
        tree = sarif._tree_locations(f)[: limits.max_locations_per_result]
        in_image = [image_path(loc.path) for loc in f.locations if is_image_path(loc.path)]
        elsewhere = [loc.path for loc in f.locations if ":" in loc.path and sarif._SCHEME.match(loc.path)]
    locations = [sarif._physical(loc.path, loc) for loc in tree] or [sarif._physical(dockerfile, None)]

    text = f.message or f.title or f.rule_id
    if f.package is not None:
        p = f.package
        fix = f"fixed in {p.fixed_version}" if p.fixed_version else "no fixed version known"
        eco = f" ({p.ecosystem})" if p.ecosystem else ""
        text += f"\nPackage: {p.name} {p.version}{eco}; {fix}."
    if in_image:
        shown = in_image[:10]
        more = f" and {len(in_image) - len(shown)} more" if len(in_image) > len(shown) else ""
        text += "\nIn the image: " + ", ".join(shown) + more + "."
    properties: dict[str, Any] = {
        "category": sarif._CATEGORY[f.category],
        "severity": sarif._SEVERITY[f.severity],
        "tools": list(f.tools),
    }
    if f.severity in sarif.SECURITY_SEVERITY:
        properties["security-severity"] = sarif.SECURITY_SEVERITY[f.severity]
    outside = [loc.path for loc in tree if sarif._is_absolute_path(loc.path)] + elsewhere
    if outside:
        properties["outsideScannedTree"] = outside
        text += "\nOutside the scanned tree: " + ", ".join(outside[:10]) + "."
    if f.package is not None:
        properties["package"] = {
            "ecosystem": f.package.ecosystem,
            "fixedVersion": f.package.fixed_version,
            "name": f.package.name,
            "purl": f.package.purl,
            "version": f.package.version,
        }
    if in_image:
        properties["imagePaths"] = in_image
    return {
        "ruleId": f.rule_id,
        "level": sarif.LEVELS[f.severity],
        "message": {"text": text},
        "locations": locations,
        "partialFingerprints": {sarif.FINGERPRINT_KEY: f.fingerprint},
        "properties": properties,
    }
