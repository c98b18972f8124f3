"""Hostile and odd SBOMs: real CycloneDX and SPDX documents of trivy and syft (the vulnerable-app fixture),
bent. Each case asserts the exact outcome: the component count of the document, or a one-line
`ToolOutputError` naming the producer and the problem.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from pipeline.errors import ToolOutputError
from pipeline.formats import cyclonedx, spdx
from pipeline.formats._sbom import MAX_DEPTH, MAX_LICENSE_NESTING
from pipeline.formats.json_report import render_report
from pipeline.model import SbomSummary, Verdict
from pipeline.policy.input import license_alternatives
from tests.hostile import _real

pytestmark = pytest.mark.contract

Doc = dict[str, Any]


def _cdx(producer: str) -> str:
    return _real.source_sbom("cyclonedx") if producer == "trivy" else _real.syft_sboms()["cyclonedx-json"]


def _spdx(producer: str) -> str:
    return _real.source_sbom("spdx-json") if producer == "trivy" else _real.syft_sboms()["spdx-json"]


def _spdx_packages(doc: Doc) -> list[Doc]:
    return doc["packages"]


def _count_in_report(summary: SbomSummary) -> int:
    report = json.loads(render_report((), (), Verdict(passed=True), sboms=(summary,)))
    (sbom,) = report["sboms"]
    assert sbom["component_count"] == len(sbom["components"])
    return sbom["component_count"]


def _one_line(err: pytest.ExceptionInfo[ToolOutputError]) -> str:
    text = str(err.value)
    assert "\n" not in text
    return text


@pytest.mark.parametrize("producer", ["trivy", "syft"])
def test_cyclonedx_and_spdx_of_one_tree_count_the_same_components(producer: str) -> None:
    cdx_doc = json.loads(_cdx(producer))
    cdx = cyclonedx.parse(_cdx(producer), tool=producer)
    sp = spdx.parse(_spdx(producer), tool=producer)
    assert len(cdx.components) == len(cdx_doc["components"])  # flat documents: one entry, one component
    assert len(sp.components) == len(cdx.components)
    # the scanned directory "." is what the SPDX document describes, not one of its packages
    assert all(c.name != "." for c in sp.components)
    assert _count_in_report(sp) == _count_in_report(cdx) == len(cdx_doc["components"])


@pytest.mark.parametrize("producer", ["trivy", "syft"])
def test_identical_cyclonedx_components_are_all_counted(producer: str) -> None:
    doc = json.loads(_cdx(producer))
    twin = dict(doc["components"][1], **{"bom-ref": "twin-ref"})
    doc["components"].append(twin)
    summary = cyclonedx.parse(json.dumps(doc), tool=producer)
    assert len(summary.components) == len(doc["components"])
    assert _count_in_report(summary) == len(doc["components"])


@pytest.mark.parametrize("producer", ["trivy", "syft"])
def test_identical_spdx_packages_are_all_counted(producer: str) -> None:
    doc = json.loads(_spdx(producer))
    library = next(p for p in _spdx_packages(doc) if "Package-" in p["SPDXID"])
    doc["packages"].append(dict(library, SPDXID="SPDXRef-Package-twin"))
    before = len(spdx.parse(_spdx(producer), tool=producer).components)
    summary = spdx.parse(json.dumps(doc), tool=producer)
    assert len(summary.components) == before + 1
    assert _count_in_report(summary) == before + 1


def test_an_spdx_document_describing_a_real_package_counts_it() -> None:
    """A library's own SBOM describes the library (with a purl): it is a component, unlike a directory."""
    doc = json.loads(_spdx("syft"))
    library = next(p for p in _spdx_packages(doc) if p["name"] == "express")
    doc["documentDescribes"] = [library["SPDXID"]]
    summary = spdx.parse(json.dumps(doc), tool="syft")
    assert any(c.name == "express" for c in summary.components)
    assert len(summary.components) == len(spdx.parse(_spdx("syft"), tool="syft").components)


@pytest.mark.parametrize(
    ("fmt", "parse"),
    [("cyclonedx", cyclonedx.parse), ("spdx", spdx.parse)],
)
def test_a_bom_before_a_real_sbom_is_accepted(fmt: str, parse: Callable[..., SbomSummary]) -> None:
    text = _cdx("trivy") if fmt == "cyclonedx" else _spdx("trivy")
    assert parse("\ufeff" + text, tool="trivy").components == parse(text, tool="trivy").components


@pytest.mark.parametrize(
    ("fmt", "parse"),
    [("cyclonedx", cyclonedx.parse), ("spdx", spdx.parse), ("cdx-normalize", cyclonedx.normalize)],
)
def test_json_nested_beyond_recursion_is_a_one_line_error(fmt: str, parse: Callable[..., Any]) -> None:
    with pytest.raises(ToolOutputError, match="nested deeper than any real report is") as err:
        parse("[" * 100_000 + "]" * 100_000, tool="trivy")
    assert _one_line(err).startswith("trivy output is unusable")


def _nest_components(doc: Doc, depth: int) -> None:
    leaf = doc["components"][0]
    node: Doc = {"type": "library", "name": "n0", "version": "1"}
    top = node
    for i in range(1, depth):
        child: Doc = {"type": "library", "name": f"n{i}", "version": "1"}
        node["components"] = [child]
        node = child
    node["components"] = [leaf]
    doc["components"].append(top)


@pytest.mark.parametrize("parse", [cyclonedx.parse, cyclonedx.normalize], ids=["parse", "normalize"])
def test_absurdly_nested_components_are_refused_naming_the_depth(parse: Callable[..., Any]) -> None:
    doc = json.loads(_cdx("trivy"))
    _nest_components(doc, 300)
    with pytest.raises(ToolOutputError) as err:
        parse(json.dumps(doc), tool="trivy")
    assert f"(at most {MAX_DEPTH} are read)" in _one_line(err)


def test_reasonably_nested_components_are_all_counted() -> None:
    doc = json.loads(_cdx("trivy"))
    flat = len(doc["components"])
    _nest_components(doc, 30)
    summary = cyclonedx.parse(json.dumps(doc), tool="trivy")
    assert len(summary.components) == flat + 30 + 1  # the chain and the (repeated) leaf at its end


def _expression(depth: int) -> str:
    return "(" * depth + "MIT OR Apache-2.0" + ")" * depth


def _cdx_with_license(expression: str) -> str:
    doc = json.loads(_cdx("trivy"))
    doc["components"][1]["licenses"] = [{"expression": expression}]
    return json.dumps(doc)


def _spdx_with_license(expression: str) -> str:
    doc = json.loads(_spdx("trivy"))
    library = next(p for p in _spdx_packages(doc) if "Package-" in p["SPDXID"])
    library["licenseDeclared"] = expression
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("fmt", "make", "parse"),
    [("cyclonedx", _cdx_with_license, cyclonedx.parse), ("spdx", _spdx_with_license, spdx.parse)],
)
def test_a_license_expression_nested_too_deep_is_refused_naming_the_component(
    fmt: str, make: Callable[[str], str], parse: Callable[..., SbomSummary]
) -> None:
    with pytest.raises(ToolOutputError) as err:
        parse(make(_expression(5000)), tool="trivy")
    text = _one_line(err)
    assert "nests parentheses 5000 deep" in text
    assert f"(at most {MAX_LICENSE_NESTING} are read)" in text
    assert ("component '" if fmt == "cyclonedx" else "package '") in text


@pytest.mark.parametrize(
    ("fmt", "make", "parse"),
    [("cyclonedx", _cdx_with_license, cyclonedx.parse), ("spdx", _spdx_with_license, spdx.parse)],
)
def test_a_license_expression_at_the_nesting_limit_is_read_and_expanded(
    fmt: str, make: Callable[[str], str], parse: Callable[..., SbomSummary]
) -> None:
    summary = parse(make(_expression(MAX_LICENSE_NESTING)), tool="trivy")
    (lic,) = [c.licenses[0] for c in summary.components if c.licenses and c.licenses[0].startswith("(")]
    assert license_alternatives([lic]) == [["apache-2.0"], ["mit"]]


def test_a_lone_surrogate_in_a_component_name_is_replaced() -> None:
    doc = json.loads(_cdx("trivy"))
    doc["components"][1]["name"] = "bad\ud800name"
    summary = cyclonedx.parse(json.dumps(doc), tool="trivy")
    assert any(c.name == "bad\ufffdname" for c in summary.components)
    render_report((), (), Verdict(passed=True), sboms=(summary,)).decode("utf-8")
