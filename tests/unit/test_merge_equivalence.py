"""`merge_findings` after the speed work (issue 8: a lone finding kept without a call, the most specific
category picked by a lookup) gives exactly what its first version gave. The first version is kept below;
generated findings collide on purpose (same vulnerability under both vulnerability categories, same secret
line from two tools, licences, SAST results) so groups of several findings are merged.

Two rules changed since the first version, on purpose, so that the merge does not depend on the order of its input
(trivy's parser stopped sorting) and never gives two findings one fingerprint: ties on tools and message inside a
group are broken on every field the merge picks, and a merged finding keeps its group's fingerprint (the first
version computed it again from the merged fields, and sorting the locations could move it onto another finding's).
Overlapping secrets are joined by `_join_overlapping_secrets`, shared with the merge and tested below."""

from __future__ import annotations

import random
from collections.abc import Iterable

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.model import (
    Category,
    Finding,
    Location,
    Package,
    Severity,
    _join_overlapping_secrets,  # pyright: ignore[reportPrivateUsage]
    location_key,
    merge_findings,
    sort_key,
)


def _reference_merge_group(fingerprint: str, group: list[Finding]) -> Finding:
    if len(group) == 1:
        return group[0]
    # ties on tools and message are broken on every field picked below (the merge must not depend on input order)
    group = sorted(
        group,
        key=lambda f: (
            f.tools,
            f.message,
            f.title,
            f.help_uri,
            f.identity,
            () if f.package is None else attrs.astuple(f.package),
        ),
    )
    best = max(group, key=lambda f: f.severity)
    category = min((f.category for f in group), key=lambda c: list(Category).index(c))
    package = next((f.package for f in group if f.package and f.package.fixed_version), group[0].package)
    return Finding(
        category=category,
        rule_id=min(f.rule_id for f in group),
        severity=best.severity,
        message=best.message or next((f.message for f in group if f.message), ""),
        tools=tuple(sorted({t for f in group for t in f.tools})),
        locations=tuple(sorted({loc for f in group for loc in f.locations}, key=location_key)),
        package=package,
        title=next((f.title for f in group if f.title), ""),
        help_uri=next((f.help_uri for f in group if f.help_uri), ""),
        tags=tuple(sorted({t for f in group for t in f.tags})),
        identity=group[0].identity,
        dev=all(f.dev for f in group),
        fingerprint=fingerprint,
    )


def _reference_merge(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.fingerprint, []).append(f)
    merged = [_reference_merge_group(fp, g) for fp, g in _join_overlapping_secrets(groups).items()]
    merged.sort(key=sort_key)
    return tuple(merged)


PACKAGES = [Package("jinja2", "1.0", "pypi", "", ""), Package("jinja2", "1.0", "pypi", "", "3.1")]


@st.composite
def findings(draw: st.DrawFn) -> Finding:
    line = draw(st.integers(1, 3))
    return Finding(
        category=draw(st.sampled_from(list(Category))),
        rule_id=draw(st.sampled_from(["CVE-2024-1", "CVE-2024-2"])),
        severity=draw(st.sampled_from(list(Severity))),
        message=draw(st.sampled_from(["", "a", "b"])),
        tools=draw(st.sampled_from([("trivy",), ("grype",), ("gitleaks", "trivy")])),
        locations=draw(
            st.sampled_from(
                [
                    (),
                    (Location("a.txt", line, line + 1),),
                    (Location("a.txt", line, line + 12),),  # a secret reported over a block (gitleaks' private key)
                    (Location("a.txt", None),),
                    (Location("b.txt", line),),
                    (Location("b.txt", line + 2), Location("b.txt", line)),  # a tool's own order, not sorted
                ]
            )
        ),
        package=draw(st.none() | st.sampled_from(PACKAGES)),
        title=draw(st.sampled_from(["", "T"])),
        help_uri=draw(st.sampled_from(["", "https://a.invalid", "https://b.invalid"])),
        identity=draw(st.sampled_from(["", "", "id1"])),
        tags=tuple(draw(st.lists(st.sampled_from(["x", "y"]), max_size=2, unique=True))),
        dev=draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(st.lists(findings(), max_size=25))
def test_merge_gives_what_the_first_version_gave(items: list[Finding]) -> None:
    new, old = merge_findings(items), _reference_merge(items)
    assert new == old
    assert [f.fingerprint for f in new] == [f.fingerprint for f in old]


@settings(max_examples=100, deadline=None)
@given(st.lists(findings(), min_size=1, max_size=10), st.data())
def test_the_same_finding_object_given_twice_merges_as_before(items: list[Finding], data: st.DataObject) -> None:
    # the grouping keeps the first finding of a fingerprint without a list: a repeated object is still a group of two
    again = data.draw(st.lists(st.sampled_from(items), max_size=5))
    given_ = [*items, *again]
    new, old = merge_findings(given_), _reference_merge(given_)
    assert new == old
    assert [f.fingerprint for f in new] == [f.fingerprint for f in old]


@settings(max_examples=300, deadline=None)
@given(st.lists(findings(), max_size=25), st.randoms(use_true_random=False))
def test_the_merge_does_not_depend_on_the_order_of_its_input(items: list[Finding], rnd: random.Random) -> None:
    # trivy's parser returns findings in the report's order: the merged findings must not depend on it
    shuffled = list(items)
    rnd.shuffle(shuffled)
    a, b = merge_findings(items), merge_findings(shuffled)
    assert a == b
    assert [f.fingerprint for f in a] == [f.fingerprint for f in b]


@settings(max_examples=300, deadline=None)
@given(st.lists(findings(), max_size=25))
def test_no_two_merged_findings_share_a_fingerprint(items: list[Finding]) -> None:
    # the gate refuses a document with two findings of one fingerprint: the merge must never write one
    fingerprints = [f.fingerprint for f in merge_findings(items)]
    assert len(fingerprints) == len(set(fingerprints))


def test_a_result_listing_its_locations_out_of_order_keeps_its_own_fingerprint() -> None:
    # two tools report a.py:10 then a.py:1; another result is at a.py:1 alone. Merged, the first keeps its
    # fingerprint: computed again from its sorted locations, it was the second's, and the gate refused the input
    g1 = Finding(Category.SAST, "r", Severity.HIGH, "m", ("semgrep",), (Location("a.py", 10), Location("a.py", 1)))
    g2 = Finding(Category.SAST, "r", Severity.HIGH, "m", ("codeql",), (Location("a.py", 10), Location("a.py", 1)))
    alone = Finding(Category.SAST, "r", Severity.HIGH, "m", ("semgrep",), (Location("a.py", 1),))
    merged = merge_findings([g1, g2, alone])
    assert sorted(f.fingerprint for f in merged) == sorted({g1.fingerprint, alone.fingerprint})
    assert merge_findings([alone, g2, g1]) == merged


def test_overlapping_secrets_join_the_same_whatever_the_order() -> None:
    # one fingerprint (k.pem line 1) reported over lines 1-1 by trivy and 1-15 by gitleaks: the span is 1-15 from
    # either, so the key at line 5 joins it in both orders (it depended on which report came first)
    short = Finding(Category.SECRET, "private-key", Severity.HIGH, "m", ("trivy",), (Location("k.pem", 1, 1),))
    block = Finding(Category.SECRET, "private-key", Severity.HIGH, "m", ("gitleaks",), (Location("k.pem", 1, 15),))
    key = Finding(Category.SECRET, "aws-key", Severity.CRITICAL, "m", ("gitleaks",), (Location("k.pem", 5, 5),))
    a, b = merge_findings([short, block, key]), merge_findings([block, short, key])
    assert a == b
    assert [(f.severity, f.fingerprint) for f in a] == [(Severity.CRITICAL, short.fingerprint)]


def test_the_most_specific_category_wins_whatever_the_order() -> None:
    pkg = PACKAGES[0]
    image = Finding(Category.IMAGE_VULNERABILITY, "CVE-1", Severity.LOW, "m", ("trivy",), (), pkg)
    dep = Finding(Category.DEPENDENCY, "CVE-1", Severity.LOW, "m", ("grype",), (), pkg)
    assert [f.category for f in merge_findings([image, dep])] == [Category.DEPENDENCY]
    assert [f.category for f in merge_findings([dep, image])] == [Category.DEPENDENCY]
