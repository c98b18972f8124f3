"""The first gate: per-category severity thresholds, in plain Python.

The Rego gate (pipeline/policy/rego) is the gate `ship` uses; this one stays as the dependency-free
fallback for library users and as the reference the Rego `threshold` rules are tested against. Both give a
`Verdict` with one reason per category that breaks its threshold.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pipeline.model import Category, Decision, Finding, Reason, Severity, Verdict

REMEDY = {
    Category.SAST: "Fix the flagged code, or record an exception with owner, reason and expiry.",
    Category.SECRET: "Remove the secret from the tree and rotate it: it must be treated as leaked.",
    Category.DEPENDENCY: "Upgrade the packages to the fixed versions shown, then regenerate the lock file.",
    Category.MISCONFIGURATION: "Change the Dockerfile/IaC as the rule describes.",
    Category.IMAGE_VULNERABILITY: "Rebuild on a patched base image or upgrade the packages to the fixed versions.",
    Category.LICENSE: "Replace the component or record a reviewed exception.",
}


def evaluate(
    findings: Iterable[Finding],
    thresholds: Mapping[Category, Severity | None],
    *,
    fixable_only: bool = False,
) -> Verdict:
    """Deny once per category that has findings at or above its threshold (None = never)."""
    hits: dict[Category, list[Finding]] = {}
    for f in findings:
        limit = thresholds.get(f.category)
        if limit is None or f.severity < limit:
            continue
        if fixable_only and f.category.is_vulnerability and not f.fixable:
            continue
        hits.setdefault(f.category, []).append(f)
    denials: list[Reason] = []
    for category in Category:
        found = hits.get(category)
        if not found:
            continue
        limit = thresholds[category]
        assert limit is not None
        counts: dict[Severity, int] = {}
        for f in found:
            counts[f.severity] = counts.get(f.severity, 0) + 1
        detail = ", ".join(f"{n} {s.name}" for s, n in sorted(counts.items(), reverse=True))
        floor = "any severity" if limit is Severity.UNKNOWN else f"{limit.name} or above"
        denials.append(
            Reason(
                rule_id=f"threshold.{category.value}",
                decision=Decision.DENY,
                message=f"{len(found)} {category.value} finding(s) at {floor} ({detail})",
                remedy=REMEDY[category],
                findings=tuple(sorted(f.fingerprint for f in found)),
            )
        )
    return Verdict(passed=not denials, denials=tuple(denials), policy="thresholds")
