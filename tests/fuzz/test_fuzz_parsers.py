"""Property: whatever a parser or loader is given, nothing escapes but Seaworthy's own errors.

Every reader of outside input is fuzzed here with arbitrary input and with structure-aware mutations of a
realistic document (tests/fuzz/seeds.py). An accepted input or a `SeaworthyError` (with a message) are the
only allowed outcomes; a KeyError, RecursionError, UnicodeEncodeError… escaping is a crash and fails the test.
Bounded and deterministic (tests/fuzz/strategies.py, FUZZ): the same examples on every run.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline import config
from pipeline.formats import cyclonedx, dockerfile, intoto, json_report, oci, sarif_in, spdx
from pipeline.model import Category
from pipeline.model_gate import glob_match
from pipeline.policy.exceptions import load_exception_file, load_exceptions, parse_exceptions
from pipeline.policy.input import license_alternatives
from pipeline.policy.verdict import read_verdict
from pipeline.tools import cosign, gitleaks, hadolint, opa, semgrep, skopeo, syft, trivy
from tests.fuzz import seeds
from tests.fuzz.strategies import (
    FUZZ,
    INTS,
    JSON,
    STRINGS,
    TEXT,
    dumps,
    json_text,
    keys_of,
    mutated,
    only_own_errors,
    toml_document,
)

# --- tool outputs ----------------------------------------------------------------------------------------

TRIVY_KEYS = keys_of(seeds.TRIVY_REPORT)


@FUZZ
@given(json_text(seeds.TRIVY_REPORT, TRIVY_KEYS), st.sampled_from(["fs", "image"]))
def test_trivy_report(text: str, mode: Any) -> None:
    only_own_errors(lambda: trivy.parse(text, mode=mode))


@FUZZ
@given(json_text(seeds.GITLEAKS_SARIF, keys_of(seeds.GITLEAKS_SARIF)))
def test_gitleaks_sarif(text: str) -> None:
    only_own_errors(lambda: gitleaks.parse(text))


@FUZZ
@given(json_text(seeds.SEMGREP_SARIF, keys_of(seeds.SEMGREP_SARIF)))
def test_semgrep_sarif(text: str) -> None:
    only_own_errors(lambda: semgrep.parse(text))


@FUZZ
@given(json_text(seeds.SEMGREP_SARIF, keys_of(seeds.SEMGREP_SARIF)), st.sampled_from(list(Category)))
def test_sarif_in(text: str, category: Category) -> None:
    only_own_errors(lambda: sarif_in.parse_sarif(text, tool="sarif-tool", category=category))


@FUZZ
@given(json_text(seeds.HADOLINT, keys_of(seeds.HADOLINT)))
def test_hadolint_json(text: str) -> None:
    only_own_errors(lambda: hadolint.parse(text))


@FUZZ
@given(STRINGS)
def test_hadolint_stderr(text: str) -> None:
    only_own_errors(lambda: hadolint.check_stderr(text))


@FUZZ
@given(json_text(seeds.OPA_OUTPUT, keys_of(seeds.OPA_OUTPUT)))
def test_opa_output(text: str) -> None:
    only_own_errors(lambda: opa.parse(text))


@FUZZ
@given(
    json_text(seeds.TRIVY_DB_METADATA, keys_of(seeds.TRIVY_DB_METADATA)),
    st.booleans(),
    st.integers(0, 10**6),
)
def test_trivy_db_metadata(text: str, offline: bool, hours: int) -> None:
    now = datetime.datetime(2026, 11, 27, 12, tzinfo=datetime.UTC)
    only_own_errors(
        lambda: trivy.check_db_metadata(text, now=now, max_age=datetime.timedelta(hours=hours), offline=offline)
    )


# --- SBOMs -----------------------------------------------------------------------------------------------


@FUZZ
@given(json_text(seeds.CYCLONEDX, keys_of(seeds.CYCLONEDX)))
def test_cyclonedx_parse_and_normalize(text: str) -> None:
    only_own_errors(lambda: cyclonedx.parse(text, tool="syft"))
    only_own_errors(lambda: cyclonedx.normalize(text, tool="syft"))
    only_own_errors(lambda: syft.parse_cyclonedx(text))


@FUZZ
@given(json_text(seeds.CYCLONEDX, keys_of(seeds.CYCLONEDX)))
def test_cyclonedx_validate_and_relabel(text: str) -> None:
    only_own_errors(lambda: cyclonedx.validate(text, tool="trivy"))
    only_own_errors(lambda: cyclonedx.as_spec_version(text, "1.6", tool="trivy"))


@FUZZ
@given(json_text(seeds.SPDX, keys_of(seeds.SPDX)))
def test_spdx_parse_and_normalize(text: str) -> None:
    only_own_errors(lambda: spdx.parse(text, tool="syft"))
    only_own_errors(lambda: spdx.normalize(text, tool="syft"))
    only_own_errors(lambda: syft.parse_spdx(text))


@FUZZ
@given(json_text(seeds.SPDX, keys_of(seeds.SPDX)))
def test_spdx_validate(text: str) -> None:
    only_own_errors(lambda: spdx.validate(text, tool="syft"))


@FUZZ
@given(st.lists(st.lists(st.sampled_from(seeds.LICENSE_TOKENS), max_size=12).map(" ".join) | STRINGS, max_size=4))
def test_license_expressions(licenses: list[str]) -> None:
    only_own_errors(lambda: license_alternatives(licenses))


def test_license_expression_nested_deeply() -> None:
    only_own_errors(lambda: license_alternatives(["(" * 5000 + "MIT" + ")" * 5000]))


# --- image metadata: OCI layout, docker archive, skopeo ---------------------------------------------------


@FUZZ
@given(json_text(seeds.OCI_INDEX, keys_of(seeds.OCI_INDEX)), st.sampled_from([None, "latest"]))
def test_oci_index(text: str, tag: str | None) -> None:
    only_own_errors(lambda: oci.parse_index(text))
    only_own_errors(lambda: oci.select_manifest(text, tag=tag, platform="linux/amd64"))
    only_own_errors(lambda: oci.parse_index(text.encode("utf-8", "surrogatepass")))


@FUZZ
@given(
    json_text(seeds.OCI_MANIFEST, keys_of(seeds.OCI_MANIFEST)),
    json_text(seeds.OCI_CONFIG, keys_of(seeds.OCI_CONFIG)),
)
def test_oci_manifest_and_config(manifest: str, config_text: str) -> None:
    config_bytes = config_text.encode("utf-8", "surrogatepass")
    only_own_errors(lambda: oci.parse_manifest(manifest))
    only_own_errors(lambda: oci.facts_from_oci(manifest, config_bytes))
    only_own_errors(lambda: oci.facts_from_config(config_bytes))


@FUZZ
@given(
    json_text(seeds.DOCKER_ARCHIVE_MANIFEST, keys_of(seeds.DOCKER_ARCHIVE_MANIFEST)),
    st.sampled_from([None, "app:latest"]),
)
def test_docker_archive_manifest(text: str, tag: str | None) -> None:
    only_own_errors(lambda: oci.docker_archive_entry(text, tag=tag))


@FUZZ
@given(
    json_text(seeds.OCI_INDEX, keys_of(seeds.OCI_INDEX)) | json_text(seeds.OCI_MANIFEST, keys_of(seeds.OCI_MANIFEST))
)
def test_skopeo_manifest(text: str) -> None:
    only_own_errors(lambda: skopeo.parse_manifest(text))
    only_own_errors(lambda: skopeo.parse_manifest(text, expected_digest=seeds.DIGEST))


@FUZZ
@given(json_text(seeds.OCI_CONFIG, keys_of(seeds.OCI_CONFIG)))
def test_skopeo_config(text: str) -> None:
    only_own_errors(lambda: skopeo.parse_config(text))


@FUZZ
@given(STRINGS | st.just(seeds.DIGEST) | st.just("docker.io/library/alpine:3@" + seeds.DIGEST))
def test_skopeo_small_readers(text: str) -> None:
    only_own_errors(lambda: skopeo.parse_digestfile(text))
    only_own_errors(lambda: skopeo.parse_digest(text))
    only_own_errors(lambda: skopeo.normalize_reference(text))
    only_own_errors(lambda: skopeo.normalize_platform(text))
    only_own_errors(lambda: skopeo.classify_failure(text, registry="registry.example"))


# --- signatures and attestations -------------------------------------------------------------------------


@FUZZ
@given(json_text(seeds.STATEMENT, keys_of(seeds.STATEMENT)) | json_text(seeds.COSIGN_VULN_STATEMENT))
def test_intoto_statement(text: str) -> None:
    only_own_errors(lambda: intoto.parse_statement(text))


@FUZZ
@given(mutated(seeds.envelope(seeds.STATEMENT)) | st.builds(seeds.envelope, mutated(seeds.STATEMENT)) | JSON)
def test_dsse_envelope(envelope: Any) -> None:
    if isinstance(envelope, dict):
        only_own_errors(lambda: intoto.decode_envelope(envelope))  # pyright: ignore[reportUnknownArgumentType]


@FUZZ
@given(json_text(seeds.COSIGN_VERIFY, keys_of(seeds.COSIGN_VERIFY)), st.sampled_from([0, 1, 2]), STRINGS)
def test_cosign_verify_output(stdout: str, exit_code: int, stderr: str) -> None:
    only_own_errors(lambda: cosign.read_verify(exit_code, stdout, stderr))


@FUZZ
@given(
    st.builds(dumps, mutated(seeds.envelope(seeds.STATEMENT)))
    | st.builds(lambda s: dumps(seeds.envelope(s)), mutated(seeds.STATEMENT))
    | json_text(seeds.envelope(seeds.STATEMENT)),
    st.sampled_from([0, 1]),
    STRINGS,
)
def test_cosign_verify_attestation_output(stdout: str, exit_code: int, stderr: str) -> None:
    only_own_errors(lambda: cosign.read_verify_attestation("https://slsa.dev/provenance/v1", exit_code, stdout, stderr))


@FUZZ
@given(STRINGS, st.sampled_from(["sign", "attest", "verify", "verify-attestation", "public-key"]))
def test_cosign_small_readers(text: str, action: str) -> None:
    only_own_errors(lambda: cosign.classify_failure(text, ref="registry.example/app@" + seeds.DIGEST, action=action))
    only_own_errors(lambda: cosign.parse_credentials_env(text))
    only_own_errors(lambda: cosign.require_digest_ref(text))
    only_own_errors(lambda: cosign.kms_provider(text))
    only_own_errors(lambda: cosign.registry_of(text))


# --- configuration, exceptions, Dockerfile ---------------------------------------------------------------

CONFIG_KEYS = keys_of(seeds.CONFIG)


@FUZZ
@given(mutated(seeds.CONFIG, CONFIG_KEYS))
def test_config_mapping(doc: dict[str, Any]) -> None:
    only_own_errors(lambda: config.from_mapping(doc) if isinstance(doc, dict) else None)  # pyright: ignore[reportUnnecessaryIsInstance]


@FUZZ
@given(mutated(seeds.CONFIG, CONFIG_KEYS))
def test_config_toml_text(doc: Any) -> None:
    text = toml_document(doc) if isinstance(doc, dict) else dumps(doc)
    only_own_errors(lambda: config.load(text))
    only_own_errors(lambda: config.load("\ufeff" + text))


@FUZZ
@given(
    st.text(max_size=300)
    | st.sampled_from(["a = " + "[" * 2000 + "]" * 2000, "a = " + "{b = " * 2000 + "1" + "}" * 2000])
)
def test_config_any_text(text: str) -> None:
    only_own_errors(lambda: config.load(text))


@FUZZ
@given(mutated(seeds.EXCEPTIONS_FILE, keys_of(seeds.EXCEPTIONS_FILE)))
def test_exception_file(doc: Any) -> None:
    if isinstance(doc, dict):
        only_own_errors(lambda: load_exceptions(doc, own_file=True))  # pyright: ignore[reportUnknownArgumentType]
        only_own_errors(lambda: load_exception_file(toml_document(doc), source="exceptions.toml"))  # pyright: ignore[reportUnknownArgumentType]
    if isinstance(doc, dict) and isinstance(doc.get("exceptions"), list):  # pyright: ignore[reportUnknownMemberType]
        tables = [t for t in doc["exceptions"] if isinstance(t, dict)]  # pyright: ignore[reportUnknownVariableType]
        only_own_errors(lambda: parse_exceptions(tables))  # pyright: ignore[reportUnknownArgumentType]


@FUZZ
@given(STRINGS, STRINGS)
def test_exception_globs(pattern: str, path: str) -> None:
    only_own_errors(lambda: glob_match(pattern, path))


@FUZZ
@given(
    st.lists(st.sampled_from(seeds.DOCKERFILE_LINES) | TEXT, max_size=8).map("\n".join),
    st.dictionaries(st.sampled_from(["BASE", "D", "UNSET"]) | TEXT, STRINGS, max_size=3),
)
def test_dockerfile(text: str, build_args: dict[str, str]) -> None:
    only_own_errors(lambda: dockerfile.final_base(text, build_args=build_args))
    only_own_errors(lambda: dockerfile.classify_pin(text))


# --- the gate's verdict and Seaworthy's own report ------------------------------------------------------


@FUZZ
@given(mutated(seeds.GATE_RESULT, keys_of(seeds.GATE_RESULT)))
def test_gate_verdict_reader(result: Any) -> None:
    if isinstance(result, dict):
        only_own_errors(lambda: read_verdict(result))  # pyright: ignore[reportUnknownArgumentType]


def _report_seed() -> dict[str, Any]:
    from tests.unit.report_factories import image_facts, realistic, sbom

    runs, findings, verdict = realistic()
    data = json_report.render_report(runs, findings, verdict, image=image_facts(), sboms=[sbom()], notes=["n"])
    return json.loads(data)


REPORT = _report_seed()


@FUZZ
@given(json_text(REPORT, keys_of(REPORT)))
def test_json_report(text: str) -> None:
    only_own_errors(lambda: json_report.parse_report(text))
    only_own_errors(lambda: json_report.parse_report(text.encode("utf-8", "surrogatepass")))


JSON_READERS: tuple[Callable[[str], object], ...] = (
    lambda t: trivy.parse(t, mode="image"),
    gitleaks.parse,
    semgrep.parse,
    hadolint.parse,
    opa.parse,
    cyclonedx.parse,
    spdx.parse,
    oci.parse_index,
    skopeo.parse_manifest,
    intoto.parse_statement,
    json_report.parse_report,
)


@pytest.mark.parametrize(
    "text", ["[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000, "[" * 200_000 + "]" * 200_000]
)
@pytest.mark.parametrize("reader", range(len(JSON_READERS)))
def test_deep_nesting_in_every_json_reader(reader: int, text: str) -> None:
    only_own_errors(lambda: JSON_READERS[reader](text))


# --- the Rego gate on a mutated input document --------------------------------------------------------------


def _gate_input() -> dict[str, Any]:
    from tests.unit.report_factories import gate_input_for, realistic

    _, findings, _ = realistic()
    tables = [
        {**seeds.CONFIG["exceptions"][0], "path": ""},
        {"target": "image.root-user", "owner": "o", "reason": "r", "expires": datetime.date(2020, 1, 1)},
    ]
    return gate_input_for(findings, parse_exceptions(tables))


GATE_INPUT = _gate_input()


@FUZZ
@given(mutated(GATE_INPUT, keys_of(GATE_INPUT)))
def test_rego_gate_on_mutated_input(doc: Any) -> None:
    from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus

    if isinstance(doc, dict):
        only_own_errors(lambda: read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc)))  # pyright: ignore[reportUnknownArgumentType]


# --- verification of what cosign verified, registry targets, the SBOM pair -------------------------------

ATTESTATION_SEEDS = (seeds.STATEMENT, seeds.COSIGN_VULN_STATEMENT)


@FUZZ
@given(st.lists(st.sampled_from(ATTESTATION_SEEDS).flatmap(mutated), max_size=3), st.booleans())
def test_attestation_policy_on_mutated_statements(docs: list[Any], signed: bool) -> None:
    from pipeline.policy import attestations
    from pipeline.tools.cosign import SignatureCheck, SignedPayload

    statements = []
    for doc in docs:
        parsed = only_own_errors(lambda doc=doc: intoto.parse_statement(dumps(doc)))
        if parsed is not None:
            statements.append(parsed)
    signature = SignatureCheck(signed, "m", (SignedPayload("registry.example/app", seeds.DIGEST, "", ""),))
    now = datetime.datetime(2026, 11, 27, 12, tzinfo=datetime.UTC)
    only_own_errors(lambda: attestations.evaluate(seeds.DIGEST, signature, statements, now=now))


@FUZZ
@given(
    STRINGS | st.sampled_from(["ghcr.io/org/app", "localhost:5000/a/b", "Docker.io/Library/x", "a" * 300]),
    STRINGS | st.sampled_from(["latest", "v1.2.3", "1" * 200]),
)
def test_registry_target(repository: str, tag: str) -> None:
    from pipeline.stages import release

    only_own_errors(lambda: release.Target.parse(repository, tag))


@FUZZ
@given(st.lists(STRINGS | st.sampled_from(["sbom", "provenance", "vuln", "verdict"]), max_size=3), INTS)
def test_verification_policy_names(names: list[str], hours: int) -> None:
    from pipeline.policy import attestations

    only_own_errors(lambda: attestations.policy_for(names, max_vuln_age_hours=hours))


@FUZZ
@given(json_text(seeds.CYCLONEDX, keys_of(seeds.CYCLONEDX)), json_text(seeds.SPDX, keys_of(seeds.SPDX)))
def test_sbom_pair(cdx: str, spdx_text: str) -> None:
    from pipeline.formats import sbom_pair

    only_own_errors(lambda: sbom_pair.finalize(cdx, spdx_text, tool="syft"))
