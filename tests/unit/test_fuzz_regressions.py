"""Crashes found by the property-based fuzzing (tests/fuzz), each kept as a plain regression test.

Every one of these used to escape as a Python exception (a crash with a traceback) instead of the
project's own one-line error naming the input.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.errors import InputError, SeaworthyError, ToolOutputError
from pipeline.formats import cyclonedx, intoto, json_report, oci, sarif_in, spdx
from pipeline.model import Category
from pipeline.tools import cosign, gitleaks, hadolint, opa, semgrep, skopeo, trivy

DEEP_ARRAY = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 5_000 + "1" + "}" * 5_000

JSON_READERS: dict[str, Callable[[str], object]] = {
    "trivy": lambda t: trivy.parse(t, mode="image"),
    "gitleaks": gitleaks.parse,
    "semgrep": semgrep.parse,
    "sarif": lambda t: sarif_in.parse_sarif(t, tool="x", category=Category.SAST),
    "hadolint": hadolint.parse,
    "opa": opa.parse,
    "cyclonedx": cyclonedx.parse,
    "spdx": spdx.parse,
    "oci index": oci.parse_index,
    "oci manifest": oci.parse_manifest,
    "docker archive": oci.docker_archive_entry,
    "skopeo manifest": skopeo.parse_manifest,
    "skopeo config": skopeo.parse_config,
    "in-toto statement": intoto.parse_statement,
    "cosign verify": lambda t: cosign.read_verify(0, t, ""),
    "report.json": json_report.parse_report,
}


@pytest.mark.parametrize("text", [DEEP_ARRAY, DEEP_OBJECT], ids=["array", "object"])
@pytest.mark.parametrize("reader", sorted(JSON_READERS))
def test_json_nested_too_deeply_is_an_error_not_a_recursion_error(reader: str, text: str) -> None:
    with pytest.raises(SeaworthyError) as err:
        JSON_READERS[reader](text)
    assert isinstance(err.value, ToolOutputError | InputError)
    assert "deep" in str(err.value) or "not JSON" in str(err.value)


def test_trivy_db_metadata_nested_too_deeply_is_unusable() -> None:
    import datetime

    status = trivy.check_db_metadata(
        DEEP_ARRAY,
        now=datetime.datetime(2026, 11, 27, tzinfo=datetime.UTC),
        max_age=datetime.timedelta(hours=72),
        offline=False,
    )
    assert status.needs_download
    assert "nested too deeply" in status.reason


SPDX_DOC = Path(__file__).resolve().parent.parent / "fixtures" / "attestations" / "sbom.spdx.json"


@pytest.mark.parametrize("refs", [True, 5, "pkg:pypi/x@1", {"referenceType": "purl"}])
def test_spdx_package_external_refs_not_a_list(refs: object) -> None:
    doc = json.loads(SPDX_DOC.read_text())
    doc["packages"][0]["externalRefs"] = refs
    summary = spdx.parse(json.dumps(doc), tool="syft")  # the package is kept, without a purl
    assert doc["packages"][0]["name"] in {c.name for c in summary.components}
    with pytest.raises(ToolOutputError, match=r"syft output is unusable: not a valid SPDX-2\.3 document"):
        spdx.validate(json.dumps(doc), tool="syft")


def test_spdx_external_ref_not_an_object_is_invalid_not_a_crash() -> None:
    doc = json.loads(SPDX_DOC.read_text())
    doc["packages"][0]["externalRefs"] = [[{"referenceType": "purl", "referenceLocator": "pkg:pypi/x@1"}]]
    with pytest.raises(ToolOutputError, match=r"not a valid SPDX-2\.3 document"):
        spdx.validate(json.dumps(doc), tool="syft")


GATE_RESULT = {"deny": [], "warn": [], "notes": [], "malformed": []}


@pytest.mark.parametrize(
    "applied",
    [
        {"exception": "e", "targets": ["x"], "findings": None, "rules": []},
        {"exception": "e", "targets": ["x"], "findings": [], "rules": None},
        {"exception": "e", "targets": [["x"]], "findings": ["f"], "rules": []},
        {"exception": "e", "targets": 5, "findings": ["f"], "rules": []},
    ],
)
def test_gate_result_with_malformed_applied_exception_is_a_policy_error(applied: dict[str, object]) -> None:
    from pipeline.errors import PolicyError
    from pipeline.policy.verdict import read_verdict

    with pytest.raises(PolicyError, match="exceptions_applied must be a set of objects with string lists"):
        read_verdict({**GATE_RESULT, "exceptions_applied": [applied]})


def test_license_expression_nested_thousands_deep_is_one_opaque_license() -> None:
    from pipeline.policy.input import license_alternatives

    expression = "(" * 5_000 + "GPL-3.0-only" + ")" * 5_000
    assert license_alternatives([expression]) == [[expression.lower()]]
    assert license_alternatives(["((MIT))"]) == [["mit"]]  # ordinary nesting still parses


@pytest.mark.parametrize("text", ["a = " + "[" * 5_000 + "]" * 5_000, "a = " + "{b = " * 2_000 + "1" + "}" * 2_000])
def test_toml_nested_too_deeply_is_a_config_error(text: str) -> None:
    from pipeline import config
    from pipeline.errors import ConfigError
    from pipeline.policy.exceptions import load_exception_file

    with pytest.raises(ConfigError, match=r"^seaworthy\.toml: tables or arrays are nested too deeply"):
        config.load(text)
    with pytest.raises(ConfigError, match=r"^exceptions\.toml: tables or arrays are nested too deeply"):
        load_exception_file(text, source="exceptions.toml")


DIGEST = "sha256:" + "a" * 64
MANIFEST = {
    "schemaVersion": 2,
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": DIGEST, "size": 1},
    "layers": [],
}


@pytest.mark.parametrize("media_type", [["application/vnd.oci.image.index.v1+json"], {"a": 1}])
def test_manifest_media_type_not_a_string_is_an_error(media_type: object) -> None:
    text = json.dumps({**MANIFEST, "mediaType": media_type})
    with pytest.raises(ToolOutputError, match="mediaType that is not a string"):
        skopeo.parse_manifest(text)
    assert oci.parse_manifest(text).config.digest == DIGEST  # the OCI layout reader does not need it


def test_index_entry_media_type_not_a_string_is_skipped() -> None:
    entry = {"mediaType": ["x"], "digest": DIGEST, "size": 1}
    text = json.dumps(
        {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [entry]}
    )
    with pytest.raises(ToolOutputError, match="lists no image manifests"):
        skopeo.parse_manifest(text)


@pytest.mark.parametrize("repo_tags", [True, 3, None])
def test_docker_archive_repo_tags_not_a_list_matches_no_tag(repo_tags: object) -> None:
    text = json.dumps([{"Config": "c.json", "RepoTags": repo_tags, "Layers": []}])
    with pytest.raises(InputError, match=r"manifest\.json holds 0 matching images"):
        oci.docker_archive_entry(text, tag="app:1")


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "\ud800", {"k\udcff": 1}])
def test_gate_input_that_is_not_plain_json_is_a_policy_error(value: object) -> None:
    """NaN, Infinity and lone surrogates never reach a verdict: the schema refuses them where a date or a rank is
    expected, and regorus' own refusal of a lone surrogate in free text is a PolicyError too."""
    from pipeline.errors import PolicyError
    from pipeline.policy.config import GateConfig
    from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
    from pipeline.policy.input import build_input
    from tests.factories import finding

    base = build_input(
        [finding()],
        sbom=None,
        facts=(),
        build=None,
        config=GateConfig(source="seaworthy.toml"),
        exceptions=(),
        today=__import__("datetime").date(2026, 6, 1),
    )
    with pytest.raises(PolicyError, match=r"today is"):
        evaluate_with_regorus([BUNDLED_POLICY_DIR], {**base, "today": value})
    if isinstance(value, str):
        base["findings"][0]["where"] = value
        with pytest.raises(PolicyError, match="the gate input is not plain JSON"):
            evaluate_with_regorus([BUNDLED_POLICY_DIR], base)


@pytest.mark.parametrize("hours", [2**63, 10**12, 87_841])
def test_vuln_age_hours_beyond_ten_years_is_an_input_error(hours: int) -> None:
    from pipeline.policy.attestations import policy_for

    with pytest.raises(InputError, match=r"^--max-vuln-age-hours \d+ is more than ten years"):
        policy_for([], max_vuln_age_hours=hours)
    assert policy_for([], max_vuln_age_hours=87_840).max_scan_age.days == 3660
