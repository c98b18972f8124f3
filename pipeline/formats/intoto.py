"""in-toto Statement v1 documents about one image: SLSA Provenance v1, vulnerabilities, verdict, SBOMs.

Pure functions from model types and plain values to JSON-ready dicts, and the reading side (DSSE envelopes
and statements back into `Statement` values) that the verification policy works on.

Two uses:

- ``cosign attest --predicate FILE --type URI`` wraps a *predicate* into a statement itself, so stages write
  `canonical_json(<x>_predicate(...))` and pass the predicate type URI (always the URI, never cosign's short
  names: with a URI cosign keeps the predicate verbatim, with ``vuln``/``slsaprovenance1`` it re-encodes it
  through its Go structs and drops fields it does not know);
- a stage that signs in-process wraps the whole `<x>_statement(...)` in a DSSE envelope.

Every time value is passed in (no hidden clock). Output is deterministic: `canonical_json` sorts keys.
The JSON Schemas at the bottom are written from the in-toto Statement v1 and SLSA Provenance v1 specs
(neither project publishes a JSON Schema: they ship CUE and protobuf definitions); they are stricter than
the specs in one way: no unknown fields, so that a typo in our own output is caught.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, cast

import attrs

from pipeline.errors import InputError
from pipeline.model import Finding, ImageFacts, Reason, Severity, Verdict, count_by_severity, sort_key

STATEMENT_V1 = "https://in-toto.io/Statement/v1"
STATEMENT_V01 = "https://in-toto.io/Statement/v0.1"
"""Accepted when reading: cosign's statement generator has long emitted the v0.1 type for `cosign attest`."""
IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"

SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1"
COSIGN_VULN_V1 = "https://cosign.sigstore.dev/attestation/vuln/v1"
VERDICT_V1 = "https://seaworthy.dev/attestations/verdict/v1"
CYCLONEDX_BOM = "https://cyclonedx.org/bom"
SPDX_DOCUMENT = "https://spdx.dev/Document"

BUILD_TYPE = "https://seaworthy.dev/buildtypes/dockerfile/v1"
"""What `externalParameters`/`internalParameters` mean in our provenance (documented in docs/)."""
IMAGE_CONFIG_MEDIA_TYPE = "application/vnd.oci.image.config.v1+json"
IMAGE_CONFIG_BYPRODUCT = "image-config"
"""Name of the provenance byproduct that carries the image config digest (the scanned == pushed identity)."""

_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
_GIT_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
_SECRET_NAME = re.compile(
    r"(TOKEN|PASSW(OR)?D|PASSPHRASE|SECRET|API_?KEY|ACCESS_?KEY|PRIVATE|CREDENTIAL|AUTH)", re.IGNORECASE
)

# ----------------------------------------------------------------------------------------------------
# small helpers


def sha256_hex(value: str, what: str) -> str:
    """`sha256:<hex>` or bare `<hex>` -> 64 lowercase hex characters; InputError naming `what` otherwise."""
    hexpart = value.strip().removeprefix("sha256:")
    if not _SHA256_HEX.fullmatch(hexpart):
        raise InputError(
            f"{what} {value!r} is not a sha256 digest; pass 'sha256:' followed by 64 lowercase hex characters"
        )
    return hexpart


def rfc3339(when: datetime, what: str) -> str:
    """A timezone-aware datetime as the UTC RFC 3339 form the SLSA spec asks for (seconds, `Z`)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise InputError(f"{what} has no timezone; pass an aware datetime (e.g. datetime.now(UTC))")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object, what: str) -> datetime:
    """Parse an RFC 3339 timestamp (fractions of any length, `Z` or an offset) into an aware datetime."""
    if not isinstance(value, str) or not value:
        raise InputError(f"{what} is missing or not a string; expected an RFC 3339 timestamp")
    text = re.sub(r"(\.\d{6})\d+", r"\1", value.strip())  # Go writes nanoseconds; Python keeps microseconds
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"{what} {value!r} is not an RFC 3339 timestamp") from None
    if parsed.tzinfo is None:
        raise InputError(f"{what} {value!r} has no timezone; RFC 3339 requires 'Z' or an offset")
    return parsed


def as_map(value: object) -> Mapping[str, Any] | None:
    """`value` as a JSON object, or None."""
    return cast("Mapping[str, Any]", value) if isinstance(value, Mapping) else None


def as_list(value: object) -> list[Any] | None:
    """`value` as a JSON array, or None."""
    return cast("list[Any]", value) if isinstance(value, list) else None


def canonical_json(doc: Mapping[str, Any]) -> bytes:
    """Deterministic JSON bytes: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def looks_secret(name: str) -> bool:
    """True for build-arg names whose values must never be recorded (TOKEN, PASSWORD, SECRET, …)."""
    return bool(_SECRET_NAME.search(name))


def docker_purl(ref: str) -> str:
    """A `pkg:docker/…` purl for an image ref (registry as `repository_url`, tag or digest as version)."""
    name, _, digest = ref.partition("@")
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    registry = ""
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, name = first, rest
    if registry in ("docker.io", "index.docker.io"):
        registry = ""
    name = name.removeprefix("library/") if not registry else name
    version = f"@{tag}" if tag else (f"@{digest.replace(':', '%3A')}" if digest else "")
    quals: list[str] = []
    if digest and tag:
        quals.append(f"digest={digest.replace(':', '%3A')}")
    if registry:
        quals.append(f"repository_url={registry}")
    return f"pkg:docker/{name}{version}" + (f"?{'&'.join(quals)}" if quals else "")


def _image_descriptor(name: str, ref: str) -> dict[str, Any]:
    desc: dict[str, Any] = {"name": name, "uri": docker_purl(ref)}
    _, _, digest = ref.partition("@")
    if digest:
        desc["digest"] = {"sha256": sha256_hex(digest, f"digest of {name} ({ref})")}
    return desc


# ----------------------------------------------------------------------------------------------------
# the statement layer


def statement(
    subject_name: str, manifest_digest: str, predicate_type: str, predicate: Mapping[str, Any]
) -> dict[str, Any]:
    """An in-toto Statement v1 about one image: subject = repository name + the manifest's sha256."""
    if not subject_name or "@" in subject_name:
        raise InputError(
            f"statement subject {subject_name!r} must be the image repository name without tag or digest "
            "(e.g. registry.example.com/team/app)"
        )
    if not predicate_type:
        raise InputError("statement predicate type is empty; pass the predicate type URI")
    return {
        "_type": STATEMENT_V1,
        "subject": [{"name": subject_name, "digest": {"sha256": sha256_hex(manifest_digest, "image digest")}}],
        "predicateType": predicate_type,
        "predicate": dict(predicate),
    }


# ----------------------------------------------------------------------------------------------------
# SLSA Provenance v1


@attrs.frozen
class BuildRecord:
    """Everything the provenance says about one build that is not in `ImageFacts`. All values passed in."""

    source_repository: str
    """Where the source came from, e.g. https://github.com/org/app (recorded as a `git+` URI)."""
    source_revision: str
    """The git commit (40 or 64 hex) that was built."""
    builder_id: str
    """Who ran the build: e.g. the CI workflow URI, or https://seaworthy.dev/builders/local."""
    invocation_id: str
    """This run's id (CI run URL or id)."""
    started_on: datetime
    finished_on: datetime
    dockerfile: str = "Dockerfile"
    target: str = ""
    build_args: tuple[tuple[str, str], ...] = ()
    """(name, value) pairs as given to the build.

    Values of `secret_args` and of secret-looking names are dropped (the names are kept).
    """
    secret_args: tuple[str, ...] = ()
    """Names of build args/secrets whose values must not be recorded (their names are)."""
    platforms: tuple[str, ...] = ("linux/amd64",)
    source_ref: str = ""
    """The branch or tag the revision was reached from (refs/heads/main), if known."""
    base_image_digest: str = ""
    """sha256 digest the base image resolved to, if known (the Dockerfile may name it by tag only)."""
    tool_images: tuple[tuple[str, str], ...] = ()
    """(tool name, pinned image ref) of every tool image the run used."""
    builder_version: tuple[tuple[str, str], ...] = ()
    """(component, version), e.g. ("seaworthy", "0.1.0"), ("dagger", "0.21.11")."""
    internal_parameters: tuple[tuple[str, str], ...] = ()
    """Platform-internal settings worth recording (never secrets)."""


def _source_uri(repository: str, ref: str) -> str:
    uri = repository if repository.startswith("git+") else f"git+{repository}"
    return f"{uri}@{ref}" if ref else uri


def slsa_provenance_predicate(build: BuildRecord, facts: ImageFacts) -> dict[str, Any]:
    """The SLSA Provenance v1 predicate for an image Seaworthy built from a Dockerfile."""
    if not _GIT_COMMIT.fullmatch(build.source_revision):
        raise InputError(
            f"source revision {build.source_revision!r} is not a full git commit id; pass the 40-hex commit "
            "(git rev-parse HEAD)"
        )
    if not build.source_repository:
        raise InputError("source repository is empty; pass the repository URL the source came from")
    secret = set(build.secret_args)
    args: dict[str, str] = {}
    redacted: set[str] = set(secret)
    for name, value in build.build_args:
        if name in secret or looks_secret(name):
            redacted.add(name)
        else:
            args[name] = value
    external: dict[str, Any] = {
        "source": {
            "uri": _source_uri(build.source_repository, build.source_ref),
            "revision": build.source_revision,
        },
        "dockerfile": build.dockerfile,
        "platforms": sorted(build.platforms),
        "buildArgs": args,
    }
    if build.target:
        external["target"] = build.target
    if redacted:
        external["redactedBuildArgs"] = sorted(redacted)

    deps: list[dict[str, Any]] = [
        {
            "name": "source",
            "uri": _source_uri(build.source_repository, build.source_ref),
            "digest": {"gitCommit": build.source_revision},
        },
    ]
    if facts.base_image and facts.base_image != "scratch":
        base_ref = facts.base_image
        if build.base_image_digest and "@" not in base_ref:
            base_ref = f"{base_ref}@sha256:{sha256_hex(build.base_image_digest, 'base image digest')}"
        deps.append(_image_descriptor("base-image", base_ref))
    deps.extend(_image_descriptor(f"tool:{name}", ref) for name, ref in sorted(build.tool_images))

    run_details: dict[str, Any] = {
        "builder": {"id": build.builder_id},
        "metadata": {
            "invocationId": build.invocation_id,
            "startedOn": rfc3339(build.started_on, "build start time"),
            "finishedOn": rfc3339(build.finished_on, "build finish time"),
        },
        "byproducts": [
            {
                "name": IMAGE_CONFIG_BYPRODUCT,
                "digest": {"sha256": sha256_hex(facts.config_digest, "image config digest")},
                "mediaType": IMAGE_CONFIG_MEDIA_TYPE,
            }
        ],
    }
    if build.builder_version:
        run_details["builder"]["version"] = dict(sorted(build.builder_version))
    if build.finished_on < build.started_on:
        raise InputError("build finish time is before its start time; pass the times the build really ran")
    definition: dict[str, Any] = {
        "buildType": BUILD_TYPE,
        "externalParameters": external,
        "resolvedDependencies": deps,
    }
    if build.internal_parameters:
        definition["internalParameters"] = dict(sorted(build.internal_parameters))
    return {"buildDefinition": definition, "runDetails": run_details}


def provenance_statement(
    subject_name: str, manifest_digest: str, build: BuildRecord, facts: ImageFacts
) -> dict[str, Any]:
    return statement(subject_name, manifest_digest, SLSA_PROVENANCE_V1, slsa_provenance_predicate(build, facts))


def provenance_config_digest(predicate: Mapping[str, Any]) -> str:
    """The `sha256:…` image config digest a provenance predicate records, or "" if it records none."""
    run = as_map(predicate.get("runDetails")) or {}
    for item in as_list(run.get("byproducts")) or []:
        entry = as_map(item)
        if entry is None or entry.get("name") != IMAGE_CONFIG_BYPRODUCT:
            continue
        digest = as_map(entry.get("digest")) or {}
        value = digest.get("sha256")
        if isinstance(value, str) and value:
            return f"sha256:{value}"
    return ""


# ----------------------------------------------------------------------------------------------------
# vulnerabilities (cosign's vuln predicate)


@attrs.frozen
class ScanRecord:
    """Who scanned, with which database, and when (times passed in)."""

    scanner: str
    """Tool name, e.g. trivy."""
    version: str
    started_on: datetime
    finished_on: datetime
    scanner_uri: str = ""
    """Defaults to pkg:github/aquasecurity/<scanner>@<version>-like purl when empty (see `vuln_predicate`)."""
    db_uri: str = ""
    db_version: str = ""
    invocation_uri: str = ""
    builder_id: str = ""
    event_id: str = ""


_SCANNER_PURLS = {"trivy": "pkg:github/aquasecurity/trivy", "grype": "pkg:github/anchore/grype"}


def findings_summary(findings: Iterable[Finding]) -> dict[str, Any]:
    """Our vulnerability findings as the vuln predicate's `result`: counts per severity + one row each."""
    vulns = sorted((f for f in findings if f.category.is_vulnerability), key=sort_key)
    counts = count_by_severity(vulns)
    rows: list[dict[str, Any]] = []
    for f in vulns:
        row: dict[str, Any] = {
            "id": f.rule_id,
            "severity": f.severity.name,
            "category": f.category.value,
            "fingerprint": f.fingerprint,
            "tools": list(f.tools),
        }
        if f.package is not None:
            row["package"] = {
                "name": f.package.name,
                "version": f.package.version,
                "ecosystem": f.package.ecosystem,
                "purl": f.package.purl,
                "fixedVersion": f.package.fixed_version,
            }
        rows.append(row)
    return {
        "format": "seaworthy-findings/v1",
        "summary": {"total": len(vulns), **{s.name: counts[s] for s in Severity}},
        "vulnerabilities": rows,
    }


def vuln_predicate(scan: ScanRecord, result: Mapping[str, Any]) -> dict[str, Any]:
    """cosign's vulnerability predicate (`https://cosign.sigstore.dev/attestation/vuln/v1`).

    `result` is `findings_summary(...)` or the scanner's own JSON report (e.g. Trivy's).
    """
    if scan.finished_on < scan.started_on:
        raise InputError("scan finish time is before its start time; pass the times the scan really ran")
    uri = scan.scanner_uri or f"{_SCANNER_PURLS.get(scan.scanner, 'pkg:generic/' + scan.scanner)}@{scan.version}"
    return {
        "invocation": {
            "parameters": None,
            "uri": scan.invocation_uri,
            "event_id": scan.event_id,
            "builder.id": scan.builder_id,
        },
        "scanner": {
            "uri": uri,
            "version": scan.version,
            "db": {"uri": scan.db_uri, "version": scan.db_version},
            "result": dict(result),
        },
        "metadata": {
            "scanStartedOn": rfc3339(scan.started_on, "scan start time"),
            "scanFinishedOn": rfc3339(scan.finished_on, "scan finish time"),
        },
    }


def vuln_statement(
    subject_name: str, manifest_digest: str, scan: ScanRecord, result: Mapping[str, Any]
) -> dict[str, Any]:
    return statement(subject_name, manifest_digest, COSIGN_VULN_V1, vuln_predicate(scan, result))


# ----------------------------------------------------------------------------------------------------
# the gate verdict


def _reason(r: Reason) -> dict[str, Any]:
    return {
        "ruleId": r.rule_id,
        "decision": r.decision.value,
        "message": r.message,
        "remedy": r.remedy,
        "findings": list(r.findings),
    }


def verdict_predicate(verdict: Verdict, *, policy_digest: str, input_digest: str) -> dict[str, Any]:
    """The gate's answer as its own predicate: passed, every reason, and digests of policy and input."""
    return {
        "passed": verdict.passed,
        "policy": verdict.policy,
        "policyDigest": {"sha256": sha256_hex(policy_digest, "policy digest")},
        "inputDigest": {"sha256": sha256_hex(input_digest, "gate input digest")},
        "denials": [_reason(r) for r in sorted(verdict.denials)],
        "warnings": [_reason(r) for r in sorted(verdict.warnings)],
        "notes": sorted(verdict.notes),
    }


def verdict_statement(
    subject_name: str, manifest_digest: str, verdict: Verdict, *, policy_digest: str, input_digest: str
) -> dict[str, Any]:
    predicate = verdict_predicate(verdict, policy_digest=policy_digest, input_digest=input_digest)
    return statement(subject_name, manifest_digest, VERDICT_V1, predicate)


# ----------------------------------------------------------------------------------------------------
# SBOMs


def sbom_predicate_type(document: Mapping[str, Any]) -> str:
    """CycloneDX JSON -> https://cyclonedx.org/bom; SPDX JSON -> https://spdx.dev/Document."""
    if document.get("bomFormat") == "CycloneDX":
        return CYCLONEDX_BOM
    spdx = document.get("spdxVersion")
    if isinstance(spdx, str) and spdx.startswith("SPDX-"):
        return SPDX_DOCUMENT
    raise InputError(
        "the SBOM is neither CycloneDX JSON (bomFormat) nor SPDX JSON (spdxVersion); pass the JSON document "
        "syft or trivy wrote"
    )


def sbom_statement(subject_name: str, manifest_digest: str, document: Mapping[str, Any]) -> dict[str, Any]:
    """The SBOM document itself is the predicate (as `cosign attest --type cyclonedx|spdxjson` does)."""
    return statement(subject_name, manifest_digest, sbom_predicate_type(document), document)


# ----------------------------------------------------------------------------------------------------
# reading statements back


@attrs.frozen
class Subject:
    name: str
    digest: tuple[tuple[str, str], ...]
    """Sorted (algorithm, value) pairs."""

    def value(self, algorithm: str) -> str:
        return dict(self.digest).get(algorithm, "")


@attrs.frozen
class Statement:
    """A statement read back (from a DSSE envelope or cosign's output), enough for policy checks."""

    predicate_type: str
    subjects: tuple[Subject, ...]
    predicate: Mapping[str, Any] = attrs.field(eq=False)
    statement_type: str = STATEMENT_V1
    payload: bytes = attrs.field(default=b"", eq=False, repr=False)
    """The exact bytes that were signed, when read from an envelope."""

    def subject_digests(self, algorithm: str = "sha256") -> tuple[str, ...]:
        return tuple(v for s in self.subjects if (v := s.value(algorithm)))


def parse_statement(data: bytes | str | Mapping[str, Any], what: str = "statement") -> Statement:
    """Read an in-toto statement (v1, or cosign's v0.1) and check its shape; InputError naming `what`."""
    obj: object
    if isinstance(data, bytes | str):
        try:
            obj = json.loads(data)
        except RecursionError:
            raise InputError(f"{what} is nested too deeply to be an in-toto statement") from None
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{what} is not JSON ({exc}); expected an in-toto statement") from None
    else:
        obj = data
    doc = as_map(obj)
    if doc is None:
        raise InputError(f"{what} is not a JSON object; expected an in-toto statement")
    stype = doc.get("_type")
    if stype not in (STATEMENT_V1, STATEMENT_V01):
        raise InputError(f"{what} has _type {stype!r}; expected {STATEMENT_V1}")
    ptype = doc.get("predicateType")
    if not isinstance(ptype, str) or not ptype:
        raise InputError(f"{what} has no predicateType")
    predicate = as_map(doc.get("predicate"))
    if predicate is None:
        raise InputError(f"{what} ({ptype}) has no predicate object")
    raw_subjects = as_list(doc.get("subject"))
    if not raw_subjects:
        raise InputError(f"{what} ({ptype}) has no subject; an attestation must name what it is about")
    subjects: list[Subject] = []
    for i, raw in enumerate(raw_subjects):
        item = as_map(raw)
        if item is None:
            raise InputError(f"{what} ({ptype}) subject {i} is not an object")
        digest = as_map(item.get("digest"))
        if not digest:
            raise InputError(f"{what} ({ptype}) subject {i} has no digest")
        pairs = tuple(sorted((str(k), str(v)) for k, v in digest.items()))
        subjects.append(Subject(str(item.get("name", "")), pairs))
    payload = data.encode() if isinstance(data, str) else (data if isinstance(data, bytes) else b"")
    return Statement(
        predicate_type=ptype,
        subjects=tuple(subjects),
        predicate=dict(predicate),
        statement_type=str(stype),
        payload=payload,
    )


def decode_envelope(envelope: Mapping[str, Any], what: str = "attestation envelope") -> Statement:
    """A DSSE envelope (`payloadType`, base64 `payload`, `signatures`) -> the statement inside.

    This reads, it does not verify: signatures are checked by cosign (or securesystemslib) before this.
    """
    ptype = envelope.get("payloadType")
    if ptype != IN_TOTO_PAYLOAD_TYPE:
        raise InputError(f"{what} has payloadType {ptype!r}; expected {IN_TOTO_PAYLOAD_TYPE}")
    payload = envelope.get("payload")
    if not isinstance(payload, str) or not payload:
        raise InputError(f"{what} has no payload")
    try:
        if re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", payload):
            raw = base64.b64decode(payload, validate=True)
        elif re.fullmatch(r"[A-Za-z0-9_\-]*={0,2}", payload):  # DSSE allows URL-safe base64 too
            raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        else:
            raise ValueError(payload)
    except (binascii.Error, ValueError):
        raise InputError(f"{what} payload is not base64") from None
    if not as_list(envelope.get("signatures")):
        raise InputError(f"{what} carries no signature; an unsigned attestation cannot be trusted")
    return parse_statement(raw, what)


# ----------------------------------------------------------------------------------------------------
# JSON Schemas (draft 2020-12), written from the specs: in-toto Statement v1 (spec/v1/statement.md,
# resource_descriptor.md, digest_set.md) and SLSA Provenance v1 (slsa.dev/spec/v1.0/provenance).

_URI = {"type": "string", "pattern": r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$"}
_TIMESTAMP = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"}

DIGEST_SET_SCHEMA: dict[str, Any] = {
    "type": "object",
    "minProperties": 1,
    "propertyNames": {"pattern": r"^[a-zA-Z0-9_\-]+$"},
    "additionalProperties": {"type": "string", "minLength": 1},
    "properties": {
        "sha256": {"type": "string", "pattern": r"^[0-9a-f]{64}$"},
        "sha512": {"type": "string", "pattern": r"^[0-9a-f]{128}$"},
        "sha1": {"type": "string", "pattern": r"^[0-9a-f]{40}$"},
        "gitCommit": {"type": "string", "pattern": r"^[0-9a-f]{40}([0-9a-f]{24})?$"},
    },
}

RESOURCE_DESCRIPTOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "uri": _URI,
        "digest": DIGEST_SET_SCHEMA,
        "content": {"type": "string", "contentEncoding": "base64"},
        "downloadLocation": _URI,
        "mediaType": {"type": "string"},
        "annotations": {"type": "object"},
    },
    "anyOf": [{"required": ["name"]}, {"required": ["uri"]}, {"required": ["digest"]}],
    "additionalProperties": False,
}

STATEMENT_V1_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://seaworthy.dev/schemas/in-toto-statement-v1.json",
    "type": "object",
    "required": ["_type", "subject", "predicateType", "predicate"],
    "properties": {
        "_type": {"const": STATEMENT_V1},
        "subject": {
            "type": "array",
            "minItems": 1,
            "items": {"allOf": [RESOURCE_DESCRIPTOR_SCHEMA, {"required": ["digest"]}]},
        },
        "predicateType": _URI,
        "predicate": {"type": "object"},
    },
    "additionalProperties": False,
}

SLSA_PROVENANCE_V1_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://seaworthy.dev/schemas/slsa-provenance-v1.json",
    "type": "object",
    "required": ["buildDefinition", "runDetails"],
    "additionalProperties": False,
    "properties": {
        "buildDefinition": {
            "type": "object",
            "required": ["buildType", "externalParameters"],
            "additionalProperties": False,
            "properties": {
                "buildType": _URI,
                "externalParameters": {"type": "object"},
                "internalParameters": {"type": "object"},
                "resolvedDependencies": {"type": "array", "items": RESOURCE_DESCRIPTOR_SCHEMA},
            },
        },
        "runDetails": {
            "type": "object",
            "required": ["builder"],
            "additionalProperties": False,
            "properties": {
                "builder": {
                    "type": "object",
                    "required": ["id"],
                    "additionalProperties": False,
                    "properties": {
                        "id": _URI,
                        "version": {"type": "object", "additionalProperties": {"type": "string"}},
                        "builderDependencies": {"type": "array", "items": RESOURCE_DESCRIPTOR_SCHEMA},
                    },
                },
                "metadata": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "invocationId": {"type": "string"},
                        "startedOn": _TIMESTAMP,
                        "finishedOn": _TIMESTAMP,
                    },
                },
                "byproducts": {"type": "array", "items": RESOURCE_DESCRIPTOR_SCHEMA},
            },
        },
    },
}

VULN_PREDICATE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://seaworthy.dev/schemas/cosign-vuln-v1.json",
    "type": "object",
    "required": ["invocation", "scanner", "metadata"],
    "properties": {
        "invocation": {
            "type": "object",
            "required": ["parameters", "uri", "event_id", "builder.id"],
        },
        "scanner": {
            "type": "object",
            "required": ["uri", "version", "db", "result"],
            "properties": {
                "uri": {"type": "string"},
                "version": {"type": "string"},
                "db": {"type": "object", "required": ["uri", "version"]},
                "result": {"type": "object"},
            },
        },
        "metadata": {
            "type": "object",
            "required": ["scanStartedOn", "scanFinishedOn"],
            "properties": {"scanStartedOn": _TIMESTAMP, "scanFinishedOn": _TIMESTAMP},
        },
    },
}

VERDICT_PREDICATE_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://seaworthy.dev/schemas/verdict-v1.json",
    "type": "object",
    "required": ["passed", "policy", "policyDigest", "inputDigest", "denials", "warnings", "notes"],
    "additionalProperties": False,
    "$defs": {
        "reason": {
            "type": "object",
            "required": ["ruleId", "decision", "message", "remedy", "findings"],
            "additionalProperties": False,
            "properties": {
                "ruleId": {"type": "string", "minLength": 1},
                "decision": {"enum": ["deny", "warn"]},
                "message": {"type": "string"},
                "remedy": {"type": "string"},
                "findings": {"type": "array", "items": {"type": "string"}},
            },
        }
    },
    "properties": {
        "passed": {"type": "boolean"},
        "policy": {"type": "string"},
        "policyDigest": DIGEST_SET_SCHEMA,
        "inputDigest": DIGEST_SET_SCHEMA,
        "denials": {"type": "array", "items": {"$ref": "#/$defs/reason"}},
        "warnings": {"type": "array", "items": {"$ref": "#/$defs/reason"}},
        "notes": {"type": "array", "items": {"type": "string"}},
    },
}
