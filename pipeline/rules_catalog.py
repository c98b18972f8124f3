"""What each rule id Seaworthy can report means: from the bundled rules' own metadata (Semgrep rule YAML, the
METADATA block of our trivy Dockerfile checks) and the gate's rule table (docs/policy.md). Read-only file access
to the package's own data, no tools, no Dagger. Used by `seaworthy explain`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import attrs
import yaml

from pipeline.formats.sarif_in import severity_from_security_severity

RULES_DIR = Path(__file__).resolve().parent / "rules"

_SEMGREP_LEVEL = {"ERROR": "HIGH", "WARNING": "MEDIUM", "INFO": "LOW"}
_METADATA = re.compile(r"^# METADATA\n((?:#.*\n)+)", re.MULTILINE)
_HADOLINT = re.compile(r"(DL|SC)\d{4}", re.IGNORECASE)


@attrs.frozen
class RuleInfo:
    id: str
    source: str
    """Where the rule lives: "semgrep (pipeline/rules/semgrep/x.yml)", "trivy (…)", "gate"."""
    checks: str
    severity: str
    remedy: str
    references: tuple[str, ...] = ()

    def render(self) -> str:
        lines = [
            f"{self.id}  [{self.source}]",
            f"  checks:   {self.checks}",
            f"  severity: {self.severity}",
            f"  remedy:   {self.remedy}",
        ]
        lines += [f"  see:      {ref}" for ref in self.references]
        return "\n".join(lines) + "\n"


_CATEGORIES = ("sast", "secret", "dependency", "misconfiguration", "image-vulnerability", "license")
_THRESHOLD_REMEDY = {
    "sast": "Fix the flagged code, or record a reviewed exception (owner, reason, expiry) for a false positive.",
    "secret": "Remove the secret from the tree (and its history) and rotate it: treat it as leaked.",
    "dependency": "Upgrade the packages to the fixed versions shown and regenerate the lock file.",
    "misconfiguration": "Change the Dockerfile/IaC as each rule describes.",
    "image-vulnerability": "Rebuild on a patched base image, or upgrade the affected packages to their fixed versions.",
    "license": "Replace the component, or record a reviewed exception.",
}

GATE_RULES: Mapping[str, tuple[str, str, str]] = {
    **{
        f"threshold.{c}": (
            "deny",
            f"{c} findings at or above the gate.thresholds.{c} severity (after exceptions; fixable_only drops "
            "unfixable vulnerabilities)",
            _THRESHOLD_REMEDY[c],
        )
        for c in _CATEGORIES
    },
    "image.root-user": (
        "deny",
        "an inspected image's user is empty, root or 0",
        "Add a USER line with a non-root user (e.g. USER 10001) to the final stage.",
    ),
    "image.base-unpinned": (
        "deny",
        "the final FROM has no tag or uses latest",
        "Pin the base image to a version tag, better a digest (FROM image:tag@sha256:…).",
    ),
    "image.base-no-digest": (
        "warn",
        "the final FROM has a tag but no digest",
        "Add the digest: FROM image:tag@sha256:… (crane digest / skopeo inspect give it).",
    ),
    "image.labels": (
        "deny",
        "a required label (gate.required_labels) is missing or blank",
        "Add the label with LABEL in the Dockerfile, or --label at build time.",
    ),
    "image.digest-mismatch": (
        "deny",
        "a scanned config digest differs from the built one for its platform, or a built platform was not inspected",
        "Scan the image that was built (the digest ship reports), for every platform.",
    ),
    "license.denied": (
        "deny",
        "a component cannot be used without a denied license (every OR alternative has one)",
        "Replace the component, or record a reviewed exception.",
    ),
    "license.copyleft": (
        "warn",
        "a component cannot be used without a license of gate.license_warn (strong copyleft by default)",
        "Check the license obligations, or replace the component.",
    ),
    "sbom.empty": (
        "deny",
        "an SBOM was made and lists no component",
        "Check that the image has package metadata the SBOM generator can read.",
    ),
    "exception.expired": (
        "deny",
        "an exception is past its expires day (cannot be waived or overridden)",
        "Fix what the exception covered, or renew it with a new expires date after review.",
    ),
    "exception.long-lived": (
        "warn",
        "an exception expires more than a year after today",
        "Give the exception a nearer expires date so that it is reviewed again.",
    ),
    "config.relaxed": (
        "warn",
        "a knob is weaker than the default (thresholds, fixable_only, required_labels, scanners left out, "
        "skip_paths, …); the message names the key and the file",
        "Restore the default, or keep it knowingly: the warning stays in every verdict.",
    ),
    "policy.override": (
        "warn",
        'a user policy module declares overrides contains "<id>"',
        "None needed: it records that a bundled rule was replaced.",
    ),
    "policy.override-without-replacement": (
        "deny",
        "an override dropped reasons of a rule and no overriding module gave a reason with that id on this input",
        "Make the overriding module produce its own deny/warn with that id, or remove the override.",
    ),
    "policy.override-forbidden": (
        "deny",
        "a module overrides exception.expired or a policy.* id",
        "Remove that override: these rules cannot be replaced.",
    ),
    "policy.override-relaxed": (
        "warn",
        "an override turned a denial of the bundled rule into a warning; names the module and each finding",
        "Deny those findings in the overriding module, or waive them one by one in the exception file.",
    ),
    "policy.reserved-id": (
        "deny",
        "a user module gave a reason with one of the gate's own ids (policy.*, exception.*, config.*)",
        "Give the module's reasons ids of its own (e.g. <module>.<check>).",
    ),
    "dependency.dev-shipped": (
        "warn",
        "development-only dependencies over the dependency threshold are gated, and why (the image installs them, "
        "or no Dockerfile said)",
        "Install only production dependencies in the image (npm ci --omit=dev), or upgrade them.",
    ),
    "dependency.dev-not-shipped": (
        "warn",
        "development-only dependencies over the threshold are not gated: the image does not install them",
        "Upgrade them all the same: they run on developer and CI machines.",
    ),
    "sast.no-coverage": (
        "warn",
        "a language with source files had no SAST rule at all",
        "Add rules or an analyzer for that language (seaworthy.toml [scan.semgrep] rules/packs).",
    ),
}
"""The gate's rule ids (docs/policy.md, "Rule ids"): id -> (decision, what it checks, remedy)."""


def _semgrep_rules() -> list[RuleInfo]:
    out: list[RuleInfo] = []
    for path in sorted((RULES_DIR / "semgrep").glob("*.yml")):
        doc: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        for rule in cast(list[dict[str, Any]], doc.get("rules", [])):
            meta = cast(dict[str, Any], rule.get("metadata") or {})
            score = severity_from_security_severity(meta.get("security-severity"))
            level = str(rule.get("severity", ""))
            severity = score.name if score is not None else _SEMGREP_LEVEL.get(level, level or "UNKNOWN")
            message = " ".join(str(rule.get("message", "")).split())
            refs = [str(r) for r in cast(list[Any], meta.get("references") or [])]
            if meta.get("source"):
                refs.insert(0, str(meta["source"]))
            cwe = ", ".join(str(c) for c in cast(list[Any], meta.get("cwe") or []))
            checks = message.split(". ", 1)[0].rstrip(".") if message else str(rule["id"])
            checks += f" ({cwe})." if cwe else "."
            out.append(
                RuleInfo(
                    id=str(rule["id"]),
                    source=f"semgrep rule, pipeline/rules/semgrep/{path.name}",
                    checks=checks,
                    severity=severity,
                    remedy=message.split(". ", 1)[1] if ". " in message else message,
                    references=tuple(dict.fromkeys(refs)),
                )
            )
    return out


def _trivy_checks() -> list[RuleInfo]:
    out: list[RuleInfo] = []
    for path in sorted((RULES_DIR / "trivy").glob("*.rego")):
        m = _METADATA.search(path.read_text(encoding="utf-8"))
        if m is None:
            continue
        block = "\n".join(line[2:] if line.startswith("# ") else line[1:] for line in m.group(1).splitlines())
        meta: Any = yaml.safe_load(block)
        custom = cast(dict[str, Any], meta.get("custom") or {})
        out.append(
            RuleInfo(
                id=str(custom["id"]),
                source=f"Seaworthy Dockerfile check (trivy), pipeline/rules/trivy/{path.name}",
                checks=f"{meta.get('title', '')}: {meta.get('description', '')}".strip(": "),
                severity=str(custom.get("severity", "UNKNOWN")).upper(),
                remedy=str(custom.get("recommended_action", "")),
            )
        )
    return out


def _gate_rules() -> list[RuleInfo]:
    return [
        RuleInfo(id=rid, source="gate rule (pipeline/policy/rego)", checks=what, severity=decision, remedy=remedy)
        for rid, (decision, what, remedy) in GATE_RULES.items()
    ]


def catalog() -> dict[str, RuleInfo]:
    """Every bundled rule by id."""
    return {r.id: r for r in (*_semgrep_rules(), *_trivy_checks(), *_gate_rules())}


def explain(rule_id: str) -> RuleInfo | None:
    """The rule `rule_id` (case-insensitive), a pointer for hadolint's rules, or None."""
    wanted = rule_id.strip()
    rules = catalog()
    by_lower = {k.lower(): v for k, v in rules.items()}
    found = by_lower.get(wanted.lower())
    if found is not None:
        return found
    if _HADOLINT.fullmatch(wanted):
        code = wanted.upper()
        kind = "ShellCheck" if code.startswith("SC") else "hadolint"
        url = (
            f"https://www.shellcheck.net/wiki/{code}"
            if code.startswith("SC")
            else f"https://github.com/hadolint/hadolint/wiki/{code}"
        )
        return RuleInfo(
            id=code,
            source=f"{kind} rule (run by hadolint; not bundled)",
            checks=f"see the {kind} wiki",
            severity="as hadolint reports it (error → HIGH, warning → MEDIUM, info → LOW, style → INFO)",
            remedy=f"see {url}",
            references=(url,),
        )
    return None


def suggestions(rule_id: str) -> list[str]:
    wanted = rule_id.strip().lower()
    ids = sorted(catalog())
    contained = [i for i in ids if wanted and wanted in i.lower()]
    return (contained or difflib.get_close_matches(rule_id.strip(), ids, n=3, cutoff=0.5))[:3]
