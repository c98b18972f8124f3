"""The exception file: validation, and how the gate applies it (real regorus, real policy files)."""

from __future__ import annotations

import datetime
import re
import tomllib

import pytest

from pipeline.errors import ConfigError
from pipeline.model import Category, Finding, Package, Severity
from pipeline.model_gate import covers, package_key
from pipeline.policy.config import GateConfig
from pipeline.policy.exceptions import load_exceptions, parse_exceptions
from pipeline.policy.input import build_input
from tests.policy_helpers import evaluate, exceptions, finding, good_build, good_image, ids, vuln

OK = {"target": "CVE-2018-18074", "owner": "team-app", "reason": "not reachable", "expires": "2026-12-31"}


def test_parses_toml_tables_with_dates_and_scopes() -> None:
    doc = tomllib.loads(
        """
        [[exceptions]]
        target = "CVE-2018-18074"
        package = "requests"
        version = "2.19.0"
        owner = "team-app"
        reason = "only talks to our own hosts"
        expires = 2026-12-31
        justification = "vulnerable_code_not_in_execute_path"

        [[exceptions]]
        target = ["image.root-user"]
        image = "registry.example/*"
        owner = "platform"
        reason = "legacy port 80 binding, migration ticket OPS-12"
        expires = "2026-07-01"
        """
    )
    first, second = load_exceptions(doc)
    assert first.name == "exceptions[0]" and first.targets == ("CVE-2018-18074",)
    assert first.scope.package == "requests" and first.scope.version == "2.19.0"
    assert first.expires == datetime.date(2026, 12, 31)
    assert second.scope.image == "registry.example/*" and second.expires == datetime.date(2026, 7, 1)
    assert first.expired(datetime.date(2027, 1, 1)) and not first.expired(datetime.date(2026, 12, 31))


@pytest.mark.parametrize("missing", ["owner", "reason", "expires", "target"])
def test_missing_key_names_exception_key_and_fix(missing: str) -> None:
    table = {k: v for k, v in OK.items() if k != missing}
    with pytest.raises(ConfigError) as err:
        parse_exceptions([OK, table])
    first_line = str(err.value).splitlines()[0]
    assert "exceptions[1]" in first_line and repr(missing) in first_line and "add " in first_line


@pytest.mark.parametrize("bad", ["2026-13-01", "31/12/2026", "soon", "2026-1-1"])
def test_unparseable_date(bad: str) -> None:
    with pytest.raises(ConfigError, match=r"exceptions\[0\]: 'expires' .* YYYY-MM-DD"):
        parse_exceptions([{**OK, "expires": bad}])


def test_other_validation_errors() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'ownr'.*did you mean 'owner'"):
        parse_exceptions([{**OK, "ownr": "x"}])
    with pytest.raises(ConfigError, match="'version' needs 'package'"):
        parse_exceptions([{**OK, "version": "1"}])
    with pytest.raises(ConfigError, match="scoped by image only"):
        parse_exceptions([{**OK, "target": "image.root-user", "path": "Dockerfile"}])
    with pytest.raises(ConfigError, match="cannot be waived"):
        parse_exceptions([{**OK, "target": "exception.expired"}])
    with pytest.raises(ConfigError, match="not an OpenVEX justification"):
        parse_exceptions([{**OK, "justification": "because"}])
    with pytest.raises(ConfigError, match="date without a time"):
        parse_exceptions([{**OK, "expires": datetime.datetime(2026, 1, 1, 12, 0)}])
    with pytest.raises(ConfigError, match="array of tables"):
        load_exceptions({"exceptions": {"target": "x"}})
    with pytest.raises(ConfigError, match=r"waivers\.toml: unexpected top-level key\(s\) gate"):
        load_exceptions({"gate": {}, "exceptions": [OK]}, source="waivers.toml", own_file=True)
    assert len(load_exceptions({"gate": {}, "exceptions": [OK]})) == 1


def test_exception_suppresses_exactly_its_target() -> None:
    waived = vuln("CVE-2018-18074")
    other = vuln("CVE-2019-10906", "jinja2", "2.10", "2.10.1")
    verdict, _ = evaluate([waived, other], waivers=exceptions({"target": "CVE-2018-18074"}))
    assert ids(verdict.denials) == ["threshold.dependency"]
    assert verdict.denials[0].findings == (other.fingerprint,)
    assert any("exception applied: exceptions[0]" in n and "1 finding(s)" in n for n in verdict.notes)

    verdict, _ = evaluate([waived], waivers=exceptions({"target": "CVE-2018-18074"}))
    assert verdict.passed and verdict.reasons == ()


def test_fingerprint_and_scopes() -> None:
    a = finding(Category.SAST, "R1", Severity.HIGH, path="src/app/a.py")
    b = finding(Category.SAST, "R1", Severity.HIGH, path="tests/b.py")
    verdict, _ = evaluate([a, b], waivers=exceptions({"target": a.fingerprint}))
    assert verdict.denials[0].findings == (b.fingerprint,)
    verdict, _ = evaluate([a, b], waivers=exceptions({"target": "R1", "path": "tests/**"}))
    assert verdict.denials[0].findings == (a.fingerprint,)
    verdict, _ = evaluate([a, b], waivers=exceptions({"target": "R1", "path": "*.py"}))  # * stays in one folder
    assert len(verdict.denials[0].findings) == 2

    old = vuln("CVE-1", "requests", "2.19.0")
    new = vuln("CVE-1", "requests", "2.31.0")
    other_pkg = vuln("CVE-1", "urllib3", "1.23")
    verdict, _ = evaluate(
        [old, new, other_pkg],
        waivers=exceptions({"target": "CVE-1", "package": "requests", "version": "2.19.0"}),
    )
    assert set(verdict.denials[0].findings) == {new.fingerprint, other_pkg.fingerprint}


def test_gate_rule_exception_with_image_scope() -> None:
    root = good_image(user="")
    waiver = exceptions({"target": "image.root-user", "image": "registry.example/*"})
    verdict, _ = evaluate(facts=[root], build=good_build(), waivers=waiver)
    assert verdict.passed
    assert any("waived rule(s) image.root-user" in n for n in verdict.notes)

    verdict, _ = evaluate(facts=[root], build=good_build(image="other.example/app"), waivers=waiver)
    assert ids(verdict.denials) == ["image.root-user"]
    assert any("exceptions[0]" in n and "matched nothing" in n for n in verdict.notes)


def test_expired_exception_fails_the_gate_and_does_not_apply() -> None:
    f = vuln("CVE-2018-18074")
    waiver = exceptions({"target": "CVE-2018-18074", "expires": "2026-05-31", "owner": "alice"})
    verdict, _ = evaluate([f], waivers=waiver, today=datetime.date(2026, 6, 1))
    assert ids(verdict.denials) == ["exception.expired", "threshold.dependency"]
    expired = next(r for r in verdict.denials if r.rule_id == "exception.expired")
    assert "exceptions[0]" in expired.message and "alice" in expired.message and "2026-05-31" in expired.message
    # valid through its last day
    assert evaluate([f], waivers=waiver, today=datetime.date(2026, 5, 31))[0].passed


def test_expired_exception_fails_even_when_nothing_else_does() -> None:
    verdict, _ = evaluate(waivers=exceptions({"target": "CVE-0", "expires": "2020-01-01"}))
    assert ids(verdict.denials) == ["exception.expired"]


def test_unmatched_exception_is_reported_not_failed() -> None:
    verdict, _ = evaluate([finding(severity=Severity.LOW)], waivers=exceptions({"target": "CVE-2000-1"}))
    assert verdict.passed
    assert verdict.notes == (
        "exceptions[0] (CVE-2000-1, owner team-app) matched nothing: remove it, or fix its target or scope",
    )


def _pkg_finding(name: str, version: str = "1.0", ecosystem: str = "pypi") -> Finding:
    pkg = Package(name, version, ecosystem, f"pkg:{ecosystem}/{name.lower()}@{version}", "9.9")
    return finding(Category.DEPENDENCY, "CVE-2099-1", Severity.HIGH, tool="trivy", path="lock", line=None, package=pkg)


@pytest.mark.parametrize(
    ("reported", "ecosystem", "scope", "waived"),
    [
        ("Jinja2", "pypi", {"package": "jinja2"}, True),
        ("jinja2", "pypi", {"package": "Jinja2"}, True),
        ("PyYAML", "pypi", {"package": "pyyaml"}, True),
        ("ruamel.yaml", "pypi", {"package": "ruamel-yaml"}, True),
        ("ruamel_yaml", "pypi", {"package": "Ruamel.YAML"}, True),
        ("zope.interface", "pypi", {"package": "zope--interface"}, True),  # runs collapse to one '-'
        ("requests", "pypi", {"package": "requests2"}, False),
        ("requests2", "pypi", {"package": "requests"}, False),
        ("Jinja2", "pypi", {"package": "jinja2", "version": "1.0"}, True),
        ("Jinja2", "pypi", {"package": "jinja2", "version": "1.0.0"}, False),  # versions stay exact
        ("Jinja2", "pypi", {"package": "jinja2", "version": "1.0rc1"}, False),
        ("Express", "npm", {"package": "express"}, True),  # case-insensitive everywhere ...
        ("foo_bar", "npm", {"package": "foo-bar"}, False),  # ... PEP 503 for pypi only
        ("libc6", "deb", {"package": "LIBC6"}, True),
    ],
)
def test_package_scope_is_case_insensitive_and_pep503_for_pypi(
    reported: str, ecosystem: str, scope: dict[str, str], waived: bool
) -> None:
    f = _pkg_finding(reported, ecosystem=ecosystem)
    waiver = exceptions({"target": "CVE-2099-1", **scope})
    verdict, _ = evaluate([f], waivers=waiver)
    assert verdict.passed is waived, verdict
    assert covers(waiver[0], f) is waived  # the Python mirror (OpenVEX, .trivyignore) decides alike


def test_package_keys_in_the_gate_input() -> None:
    doc = build_input(
        [_pkg_finding("Ruamel.YAML")],
        sbom=None,
        facts=(),
        build=None,
        config=GateConfig(),
        exceptions=exceptions({"target": "CVE-2099-1", "package": "Ruamel_Yaml"}, {"target": "x"}),
        today=datetime.date(2026, 6, 1),
    )
    assert doc["findings"][0]["package"]["name"] == "Ruamel.YAML"
    assert doc["findings"][0]["package"]["key"] == "ruamel-yaml"
    assert doc["exceptions"][0]["package"] == "Ruamel_Yaml"
    assert doc["exceptions"][0]["package_keys"] == {"*": "ruamel_yaml", "pypi": "ruamel-yaml"}
    assert doc["exceptions"][1]["package_keys"] == {}
    assert package_key(" PyYAML ", "pypi") == "pyyaml" and package_key("Foo.Bar", "maven") == "foo.bar"


@pytest.mark.parametrize("target", ["policy.override", "policy.override-without-replacement", "policy.anything"])
def test_gate_policy_checks_cannot_be_waived(target: str) -> None:
    with pytest.raises(ConfigError, match=rf"exceptions\[0\]: '{re.escape(target)}' is the gate's check"):
        parse_exceptions([{**OK, "target": target}])
