"""The exception file as an OpenVEX v0.2.0 document, so that VEX-aware tools see the same waivers as the gate.

Only vulnerabilities can be said in VEX. An exception on a vulnerability becomes:
- `not_affected` with its `justification` (and the reason as impact statement) when the exception gives an
  OpenVEX justification: a claim that the product is not exploitable;
- otherwise `affected` with an action statement: a waiver is an accepted, owned, expiring risk, not a claim
  that the product is safe.
Exceptions on SAST, secret, misconfiguration, license findings or gate rules are not representable in VEX and
are left out (`left_out` lists them). Expired exceptions are left out too.
Deterministic: the timestamp is an argument, the document id is derived from the content.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from pipeline.model import Finding
from pipeline.model_gate import Exception_, covers

CONTEXT = "https://openvex.dev/ns/v0.2.0"
VULN_ID = re.compile(r"^(CVE-\d{4}-\d+|GHSA(-[0-9a-z]{4}){3}|[A-Z][A-Z0-9]*-\d{4}-[\w.-]+)$")
"""Vulnerability ids VEX can name: CVE, GHSA, and ecosystem ids like PYSEC-2023-1, GO-2024-1, RUSTSEC-…."""


def _vulns(exc: Exception_, findings: Sequence[Finding], image: str) -> dict[str, set[str]]:
    """Vulnerability id -> purls of the affected packages (empty set: not known) for one exception."""
    out: dict[str, set[str]] = {}
    for f in findings:
        if f.category.is_vulnerability and covers(exc, f, image=image):
            purls = out.setdefault(f.rule_id, set())
            if f.package is not None and f.package.purl:
                purls.add(f.package.purl)
    for target in exc.targets:
        if VULN_ID.match(target) and target not in out and not exc.scope.package and not exc.scope.path:
            out[target] = set()
    return out


def left_out(
    exceptions: Sequence[Exception_], findings: Sequence[Finding], *, today: datetime.date, image: str = ""
) -> tuple[str, ...]:
    """Why each exception (or part of one) is not in the VEX document, one line each."""
    notes: list[str] = []
    for exc in sorted(exceptions):
        if exc.expired(today):
            notes.append(f"{exc.name}: expired on {exc.expires.isoformat()}, not stated in VEX")
            continue
        vulns = _vulns(exc, findings, image)
        other = [
            t
            for t in exc.targets
            if t not in vulns and not any(f.fingerprint == t and f.category.is_vulnerability for f in findings)
        ]
        if other:
            notes.append(
                f"{exc.name}: {', '.join(sorted(other))} is not a vulnerability of this product; "
                f"VEX can only state vulnerabilities, so the exception applies in the gate only"
            )
    return tuple(notes)


def render_openvex(
    exceptions: Sequence[Exception_],
    *,
    findings: Sequence[Finding],
    product: str,
    timestamp: datetime.datetime,
    author: str = "Seaworthy exception file",
    image: str = "",
) -> dict[str, Any]:
    """One OpenVEX document for the exceptions in force at `timestamp` (timezone-aware).

    `product` identifies the image (e.g. `pkg:oci/app@sha256:…?repository_url=registry.example/app`, or
    `registry.example/app@sha256:…`). Affected packages, where the findings name their purl, are listed as
    subcomponents.
    """
    if timestamp.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware (e.g. datetime.now(UTC))")
    stamp = timestamp.astimezone(datetime.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    today = timestamp.astimezone(datetime.UTC).date()
    statements: list[dict[str, Any]] = []
    for exc in sorted(exceptions):
        if exc.expired(today):
            continue
        for vuln_id, purls in sorted(_vulns(exc, findings, image).items()):
            product_entry: dict[str, Any] = {"@id": product}
            if purls:
                product_entry["subcomponents"] = [{"@id": p} for p in sorted(purls)]
            statement: dict[str, Any] = {
                "vulnerability": {"name": vuln_id},
                "products": [product_entry],
                "status_notes": (f"Seaworthy {exc.name}, owner {exc.owner}, valid through {exc.expires.isoformat()}"),
            }
            if exc.justification:
                statement["status"] = "not_affected"
                statement["justification"] = exc.justification
                statement["impact_statement"] = exc.reason
            else:
                statement["status"] = "affected"
                statement["action_statement"] = (
                    f"Risk accepted by {exc.owner} until {exc.expires.isoformat()}: {exc.reason}. "
                    f"Upgrade to a fixed version before then."
                )
            statements.append(statement)
    body = json.dumps([stamp, author, product, statements], sort_keys=True, separators=(",", ":"))
    return {
        "@context": CONTEXT,
        "@id": f"urn:seaworthy:vex:{hashlib.sha256(body.encode()).hexdigest()}",
        "author": author,
        "role": "Document Creator",
        "timestamp": stamp,
        "version": 1,
        "tooling": "Seaworthy",
        "statements": statements,
    }
