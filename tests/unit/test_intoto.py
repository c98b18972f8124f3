"""in-toto statements built from pipeline data: shape (JSON Schema + in-toto-attestation's protobuf
validators), content (subject, provenance fields, secrets left out), determinism, and reading them back."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta
from typing import Any

import attrs
import jsonschema
import pytest
from google.protobuf import json_format
from in_toto_attestation.predicates.provenance.v1 import provenance_pb2
from in_toto_attestation.v1 import statement_pb2
from in_toto_attestation.v1.statement import Statement as PbStatement

from pipeline.errors import InputError
from pipeline.formats import intoto
from tests.unit import _attestation_data as data

STATEMENT = jsonschema.Draft202012Validator(intoto.STATEMENT_V1_SCHEMA)
PROVENANCE = jsonschema.Draft202012Validator(intoto.SLSA_PROVENANCE_V1_SCHEMA)
VULN = jsonschema.Draft202012Validator(intoto.VULN_PREDICATE_SCHEMA)
VERDICT = jsonschema.Draft202012Validator(intoto.VERDICT_PREDICATE_SCHEMA)


def errors(validator: jsonschema.Draft202012Validator, doc: Any) -> list[str]:
    return [e.message for e in validator.iter_errors(doc)]


def pb_validate(doc: dict[str, Any]) -> None:
    """in-toto-attestation's own check: strict protobuf parse (unknown fields fail) + Statement.validate()."""
    pb = json_format.ParseDict(doc, statement_pb2.Statement(), ignore_unknown_fields=False)  # pyright: ignore[reportAttributeAccessIssue]
    PbStatement.copy_from_pb(pb).validate()
    if doc["predicateType"] == intoto.SLSA_PROVENANCE_V1:
        json_format.ParseDict(doc["predicate"], provenance_pb2.Provenance(), ignore_unknown_fields=False)  # pyright: ignore[reportAttributeAccessIssue]


def provenance() -> dict[str, Any]:
    return intoto.provenance_statement(data.REPO, data.MANIFEST, data.BUILD, data.FACTS)


# -------------------------------------------------------------------------------------------- validity


@pytest.mark.parametrize("index", range(6))
def test_every_statement_is_a_valid_in_toto_v1_statement(index: int) -> None:
    st = data.all_statements()[index]
    assert errors(STATEMENT, st) == []
    pb_validate(st)  # raises on any problem
    assert st["_type"] == "https://in-toto.io/Statement/v1"


def test_provenance_predicate_is_valid_slsa_v1_by_schema_and_by_protobuf() -> None:
    st = provenance()
    assert st["predicateType"] == "https://slsa.dev/provenance/v1"
    assert errors(PROVENANCE, st["predicate"]) == []
    pb = json_format.ParseDict(st["predicate"], provenance_pb2.Provenance(), ignore_unknown_fields=False)  # pyright: ignore[reportAttributeAccessIssue]
    assert pb.run_details.metadata.started_on.ToDatetime().isoformat() == "2026-11-27T09:58:12"
    assert pb.build_definition.build_type == intoto.BUILD_TYPE


@pytest.mark.parametrize(
    ("mutate", "expect"),
    [
        (lambda st: st.update(_type="https://in-toto.io/Statement/v0.1"), "Statement/v1"),
        (lambda st: st["subject"][0].pop("digest"), "digest"),
        (lambda st: st.update(subject=[]), "should be non-empty"),
        (lambda st: st["subject"][0]["digest"].update(sha256="XYZ"), "does not match"),
        (lambda st: st.update(predicateType="not a uri"), "does not match"),
        (lambda st: st.update(predicates={}), "Additional properties"),
    ],
)
def test_statement_schema_rejects_broken_statements(mutate: Any, expect: str) -> None:
    st = provenance()
    mutate(st)
    found = errors(STATEMENT, st)
    assert found, "the schema accepted a broken statement"
    assert any(expect in e for e in found), found


def test_protobuf_validators_reject_broken_statements() -> None:
    st = provenance()
    st["subject"][0]["digest"] = {}
    with pytest.raises(ValueError, match="digest"):
        pb_validate(st)
    st = provenance()
    st["predicate"]["runDetails"]["metadata"]["startedOn"] = "yesterday"
    with pytest.raises(json_format.ParseError):
        pb_validate(st)
    st = provenance()
    st["predicate"]["buildDefinition"]["externalParameter"] = {}  # typo
    with pytest.raises(json_format.ParseError):
        pb_validate(st)


@pytest.mark.parametrize(
    ("path", "value", "expect"),
    [
        (("runDetails", "metadata", "finishedOn"), "2026-11-27 10:03:40", "does not match"),
        (("runDetails", "builder", "id"), "", "does not match"),
        (("buildDefinition", "buildType"), 42, "is not of type"),
        (("runDetails", "byproducts"), [{"mediaType": "x"}], "is not valid under any"),
    ],
)
def test_provenance_schema_rejects_broken_predicates(path: tuple[str, ...], value: Any, expect: str) -> None:
    pred = provenance()["predicate"]
    target = pred
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    found = errors(PROVENANCE, pred)
    assert any(expect in e for e in found), found


# -------------------------------------------------------------------------------------------- content


def test_subject_is_repository_and_manifest_digest_not_config() -> None:
    for st in data.all_statements():
        assert st["subject"] == [{"name": data.REPO, "digest": {"sha256": data.MANIFEST.removeprefix("sha256:")}}]


def test_provenance_external_parameters_record_the_build_without_secret_values() -> None:
    ext = provenance()["predicate"]["buildDefinition"]["externalParameters"]
    assert ext["source"] == {
        "uri": "git+https://github.com/example/bad-project@refs/heads/main",
        "revision": data.COMMIT,
    }
    assert ext["dockerfile"] == "Dockerfile"
    assert ext["target"] == "runtime"
    assert ext["platforms"] == ["linux/amd64", "linux/arm64"]
    assert ext["buildArgs"] == {"PYTHON_VERSION": "3.12"}
    assert ext["redactedBuildArgs"] == ["NPM_RC", "PIP_INDEX_TOKEN"]
    text = intoto.canonical_json(provenance()).decode()
    assert "s3cr3t-value-never-recorded" not in text
    assert '"x"' not in text  # NPM_RC's value, named secret by the caller


def test_provenance_resolved_dependencies_name_source_base_and_every_tool() -> None:
    deps = {d["name"]: d for d in provenance()["predicate"]["buildDefinition"]["resolvedDependencies"]}
    assert deps["source"]["digest"] == {"gitCommit": data.COMMIT}
    assert deps["base-image"]["digest"] == {"sha256": data.BASE_DIGEST.removeprefix("sha256:")}
    assert deps["base-image"]["uri"].startswith("pkg:docker/python@3.12-slim-bookworm")
    assert set(deps) == {"source", "base-image", "tool:trivy", "tool:syft", "tool:cosign"}
    assert deps["tool:syft"]["digest"] == {"sha256": "5b0e" * 16}
    assert deps["tool:cosign"]["uri"] == "pkg:docker/sigstore/cosign/cosign@v3.1.2?repository_url=ghcr.io"
    assert "digest" not in deps["tool:trivy"]  # pinned by tag only: no digest is invented


def test_scratch_base_is_not_a_dependency() -> None:
    facts = attrs.evolve(data.FACTS, base_image="scratch")
    pred = intoto.slsa_provenance_predicate(data.BUILD, facts)
    assert "base-image" not in {d["name"] for d in pred["buildDefinition"]["resolvedDependencies"]}


def test_provenance_run_details_carry_passed_in_times_and_config_digest() -> None:
    run = provenance()["predicate"]["runDetails"]
    assert run["metadata"] == {
        "invocationId": data.BUILD.invocation_id,
        "startedOn": "2026-11-27T09:58:12Z",
        "finishedOn": "2026-11-27T10:03:40Z",
    }
    assert run["builder"] == {
        "id": data.BUILD.builder_id,
        "version": {"dagger": "0.21.11", "seaworthy": "0.1.0"},
    }
    assert intoto.provenance_config_digest(provenance()["predicate"]) == data.CONFIG
    assert intoto.provenance_config_digest({"runDetails": {"byproducts": []}}) == ""


def test_times_are_converted_to_utc() -> None:
    from zoneinfo import ZoneInfo

    local = data.STARTED.astimezone(ZoneInfo("Europe/Berlin"))
    build = attrs.evolve(data.BUILD, started_on=local)
    pred = intoto.slsa_provenance_predicate(build, data.FACTS)
    assert pred["runDetails"]["metadata"]["startedOn"] == "2026-11-27T09:58:12Z"


@pytest.mark.parametrize(
    ("change", "match"),
    [
        ({"started_on": datetime(2026, 11, 27, 9, 58)}, "no timezone"),
        ({"finished_on": data.STARTED - timedelta(seconds=1)}, "before its start"),
        ({"source_revision": "main"}, "not a full git commit"),
        ({"source_revision": data.COMMIT[:12]}, "not a full git commit"),
        ({"base_image_digest": "latest"}, "base image digest"),
        ({"tool_images": (("trivy", "aquasec/trivy@sha256:1234"),)}, "digest of tool:trivy"),
    ],
)
def test_bad_build_inputs_are_input_errors(change: dict[str, Any], match: str) -> None:
    with pytest.raises(InputError, match=match):
        intoto.slsa_provenance_predicate(attrs.evolve(data.BUILD, **change), data.FACTS)


def test_statement_rejects_a_tag_as_digest_and_a_ref_as_subject_name() -> None:
    with pytest.raises(InputError, match="image digest"):
        intoto.statement(data.REPO, "v1.2.3", intoto.VERDICT_V1, {})
    with pytest.raises(InputError, match="repository name without tag or digest"):
        intoto.statement(data.REF, data.MANIFEST, intoto.VERDICT_V1, {})


def test_output_is_deterministic_whatever_the_input_order() -> None:
    shuffled = attrs.evolve(
        data.BUILD,
        tool_images=tuple(reversed(data.TOOL_IMAGES)),
        build_args=tuple(reversed(data.BUILD.build_args)),
        platforms=tuple(reversed(data.BUILD.platforms)),
        builder_version=tuple(reversed(data.BUILD.builder_version)),
    )
    a = intoto.canonical_json(intoto.provenance_statement(data.REPO, data.MANIFEST, data.BUILD, data.FACTS))
    b = intoto.canonical_json(intoto.provenance_statement(data.REPO, data.MANIFEST, shuffled, data.FACTS))
    assert a == b
    assert a == json.dumps(json.loads(a), sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def test_vuln_predicate_has_cosigns_shape_same_as_trivys_own_cosign_vuln_output() -> None:
    ours = intoto.vuln_predicate(data.SCAN, intoto.findings_summary(data.FINDINGS))
    trivy = data.load("trivy-cosign-vuln.json")  # real trivy 0.76 --format cosign-vuln

    def shape(d: Any, depth: int = 0) -> Any:
        if isinstance(d, dict) and depth < 2:
            return {k: shape(v, depth + 1) for k, v in d.items()}
        return type(d).__name__

    assert shape(ours) == shape(trivy)
    assert errors(VULN, ours) == []
    assert errors(VULN, trivy) == []  # nanosecond timestamps from Go are fine
    assert ours["metadata"] == {
        "scanStartedOn": "2026-11-27T10:04:01Z",
        "scanFinishedOn": "2026-11-27T10:04:29Z",
    }
    assert ours["scanner"]["uri"] == "pkg:github/aquasecurity/trivy@0.76.0"
    broken = copy.deepcopy(ours)
    del broken["metadata"]["scanFinishedOn"]
    assert errors(VULN, broken)


def test_findings_summary_counts_only_vulnerabilities_most_severe_first() -> None:
    summary = intoto.findings_summary(data.FINDINGS)
    assert summary["summary"]["total"] == 4
    assert summary["summary"]["CRITICAL"] == 1
    assert summary["summary"]["HIGH"] == 3
    assert summary["summary"]["MEDIUM"] == 0  # the SAST finding is not a vulnerability
    assert summary["vulnerabilities"][0]["id"] == "CVE-2020-1747"
    assert summary["vulnerabilities"][0]["package"]["fixedVersion"] == "5.3.1"


def test_verdict_predicate_records_answer_reasons_and_digests() -> None:
    ok = intoto.verdict_predicate(data.PASSED, policy_digest=data.POLICY_DIGEST, input_digest=data.INPUT_DIGEST)
    bad = intoto.verdict_predicate(data.FAILED, policy_digest=data.POLICY_DIGEST, input_digest=data.INPUT_DIGEST)
    assert errors(VERDICT, ok) == [] and errors(VERDICT, bad) == []
    assert ok["passed"] is True and ok["denials"] == [] and ok["warnings"][0]["ruleId"] == "image.runs-as-root"
    assert bad["passed"] is False
    assert bad["denials"][0] == {
        "ruleId": "vuln.critical",
        "decision": "deny",
        "message": "1 critical vulnerability",
        "remedy": "upgrade pyyaml to 5.3.1",
        "findings": [data.FINDINGS[1].fingerprint],
    }
    assert ok["policyDigest"] == {"sha256": "7e" * 32} and ok["inputDigest"] == {"sha256": "c4" * 32}
    with pytest.raises(InputError, match="policy digest"):
        intoto.verdict_predicate(data.PASSED, policy_digest="rego-v1", input_digest=data.INPUT_DIGEST)
    ok["passed"] = "yes"
    assert errors(VERDICT, ok)


def test_sbom_statements_carry_the_document_with_the_right_type() -> None:
    cdx, spdx = data.load("sbom.cdx.json"), data.load("sbom.spdx.json")
    assert intoto.sbom_statement(data.REPO, data.MANIFEST, cdx)["predicateType"] == "https://cyclonedx.org/bom"
    assert intoto.sbom_statement(data.REPO, data.MANIFEST, spdx)["predicateType"] == "https://spdx.dev/Document"
    assert intoto.sbom_statement(data.REPO, data.MANIFEST, cdx)["predicate"] == cdx
    with pytest.raises(InputError, match="neither CycloneDX"):
        intoto.sbom_statement(data.REPO, data.MANIFEST, {"SchemaVersion": 2})


# -------------------------------------------------------------------------------------------- reading back


def test_parse_statement_round_trips_every_statement() -> None:
    for st in data.all_statements():
        raw = intoto.canonical_json(st)
        back = intoto.parse_statement(raw)
        assert back.predicate_type == st["predicateType"]
        assert back.subject_digests() == (data.MANIFEST.removeprefix("sha256:"),)
        assert back.subjects[0].name == data.REPO
        assert back.predicate == st["predicate"]
        assert back.payload == raw


def test_parse_statement_accepts_cosigns_v01_type_and_rejects_broken_ones() -> None:
    st = provenance()
    st["_type"] = intoto.STATEMENT_V01
    assert intoto.parse_statement(st).statement_type == intoto.STATEMENT_V01
    for broken, match in [
        (b"{not json", "not JSON"),
        (b"[]", "not a JSON object"),
        ({**provenance(), "_type": "https://example.com/x"}, "_type"),
        ({**provenance(), "subject": []}, "no subject"),
        ({**provenance(), "subject": [{"name": "x"}]}, "no digest"),
        ({**provenance(), "predicate": "text"}, "no predicate object"),
        ({**provenance(), "predicateType": ""}, "no predicateType"),
    ]:
        with pytest.raises(InputError, match=match):
            intoto.parse_statement(broken)


@pytest.mark.parametrize(
    ("ref", "purl"),
    [
        ("alpine:3.20", "pkg:docker/alpine@3.20"),
        ("docker.io/library/alpine:3.20", "pkg:docker/alpine@3.20"),
        ("aquasec/trivy:0.76.0", "pkg:docker/aquasec/trivy@0.76.0"),
        (
            "127.0.0.1:5000/app@sha256:" + "ab" * 32,
            "pkg:docker/app@sha256%3A" + "ab" * 32 + "?repository_url=127.0.0.1:5000",
        ),
        ("localhost/app:1", "pkg:docker/app@1?repository_url=localhost"),
    ],
)
def test_docker_purl(ref: str, purl: str) -> None:
    assert intoto.docker_purl(ref) == purl


def test_parse_time_handles_go_nanoseconds_and_rejects_naive() -> None:
    t = intoto.parse_time("2026-11-27T10:07:47.477840866Z", "t")
    assert t.microsecond == 477840 and t.utcoffset() == timedelta(0)
    with pytest.raises(InputError, match="no timezone"):
        intoto.parse_time("2026-11-27T10:07:47", "t")
    with pytest.raises(InputError, match="not an RFC 3339"):
        intoto.parse_time("last tuesday", "t")
