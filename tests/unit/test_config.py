from __future__ import annotations

import pytest

from pipeline import config
from pipeline.errors import ConfigError
from pipeline.model import Category, Severity


def test_no_file_gives_defaults() -> None:
    cfg = config.load(None)
    assert cfg.scanners == ("semgrep", "gitleaks", "trivy", "hadolint", "bandit", "njsscan")
    assert cfg.gate.thresholds[Category.SECRET] is Severity.UNKNOWN
    assert cfg.gate.thresholds[Category.DEPENDENCY] is Severity.HIGH
    assert cfg.build.dockerfile == "Dockerfile"


def test_full_file_parses() -> None:
    cfg = config.load(
        """
[scan]
scanners = ["gitleaks", "trivy"]
skip_paths = ["tests/fixtures/**"]
[scan.semgrep]
rules = ["rules/extra.yml"]
packs = ["p/python"]
[scan.trivy]
db_repositories = ["mirror.example/trivy-db:2"]
offline = true
max_db_age_hours = 24
[build]
dockerfile = "docker/Dockerfile"
target = "runtime"
platforms = ["linux/amd64", "linux/arm64"]
build_args = { VERSION = "1.2.3", DEBUG = "false", N = "3" }
[sbom]
generator = "syft"
[gate]
thresholds = { dependency = "critical", sast = "critical", secret = "any" }
fixable_only = true
license_deny = ["AGPL-3.0-only"]
[[exceptions]]
id = "CVE-2019-10906"
owner = "sec@example.com"
reason = "not reachable"
expires = 2027-01-31
"""
    )
    assert cfg.scanners == ("gitleaks", "trivy")
    assert cfg.skip_paths == ("tests/fixtures/**",)
    assert cfg.semgrep.packs == ("p/python",)
    assert cfg.trivy.offline and cfg.trivy.max_db_age_hours == 24
    assert cfg.build.platforms == ("linux/amd64", "linux/arm64")
    assert cfg.build.build_args == (("DEBUG", "false"), ("N", "3"), ("VERSION", "1.2.3"))
    assert cfg.sbom_generator == "syft"
    assert cfg.gate.thresholds[Category.DEPENDENCY] is Severity.CRITICAL
    assert cfg.gate.thresholds[Category.SAST] is Severity.CRITICAL
    assert cfg.gate.thresholds[Category.SECRET] is Severity.UNKNOWN
    assert cfg.gate.thresholds[Category.MISCONFIGURATION] is Severity.HIGH  # untouched default
    assert cfg.gate.fixable_only
    assert len(cfg.exceptions) == 1 and cfg.exceptions[0]["owner"] == "sec@example.com"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[scan]\nscaners = []", r"unknown key scan\.scaners; remove it \(did you mean scan\.scanners\?\)"),
        ("[scan]\nscanners = ['grype']", r"scan\.scanners has unknown value 'grype'; use any of semgrep"),
        ("[scan]\nscanners = 'trivy'", r"scan\.scanners must be an array of strings"),
        ("[gate]\nthresholds = { dependency = 'SEVERE' }", r"gate\.thresholds\.dependency: unknown severity 'SEVERE'"),
        ("[gate]\nthresholds = { vulns = 'HIGH' }", r"gate\.thresholds\.vulns: unknown category 'vulns'"),
        ("[gate]\nthresholds = { dependency = 3 }", r"gate\.thresholds\.dependency must be a severity name"),
        ("[scan.trivy]\noffline = 'yes'", r"scan\.trivy\.offline must be true or false, got a string"),
        ("[scan.trivy]\nmax_db_age_hours = 0", r"scan\.trivy\.max_db_age_hours must be at least 1"),
        ("[build]\nplatforms = ['linux/amd46']", r"unknown platform 'linux/amd46'; use os/arch"),
        ("[sbom]\ngenerator = 'grype'", r"sbom\.generator = 'grype' is not supported; use one of trivy, syft"),
        ("[build]\nbuild_args = { A = [1] }", r"build\.build_args\.A must be a string"),
        ("exceptions = 3", r"exceptions must be an array of tables"),
        ("[gate\nx=1", r"not valid TOML"),
        ("colour = 'blue'", r"unknown key colour; remove it"),
    ],
)
def test_invalid_config_is_one_line_naming_key_and_fix(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        config.load(text)
    assert "\n" not in str(info.value)
    assert str(info.value).startswith("seaworthy.toml: ")


def test_arguments_override_the_file_and_empty_means_not_given() -> None:
    cfg = config.load("[scan]\nscanners = ['trivy']\nskip_paths = ['a/**']")
    over = cfg.override(scanners=("gitleaks",), skip_paths=())
    assert over.scanners == ("gitleaks",)
    assert over.skip_paths == ("a/**",)


@pytest.mark.parametrize("platform", ["linux/amd64", "linux/arm64", "linux/arm/v7", "windows/amd64"])
def test_valid_platforms(platform: str) -> None:
    assert config.validate_platform(platform) == platform


@pytest.mark.parametrize("platform", ["amd64", "linux", "linux/", "darwin/arm64", "linux/x86_64", "a/b/c/d"])
def test_invalid_platforms(platform: str) -> None:
    with pytest.raises(ConfigError, match="--platforms: unknown platform"):
        config.validate_platform(platform)


def test_semgrep_without_any_rules_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"scan\.semgrep\.bundled_rules = false leaves semgrep without rules"):
        config.load("[scan.semgrep]\nbundled_rules = false")
    cfg = config.load("[scan]\nscanners = ['trivy']\n[scan.semgrep]\nbundled_rules = false")
    assert not cfg.semgrep.bundled_rules


@pytest.mark.parametrize("word", ["off", "OFF", "none"])
def test_a_gate_rule_cannot_be_switched_off_in_configuration(word: str) -> None:
    with pytest.raises(ConfigError, match=r"gate\.thresholds\.secret = .* cannot be switched off in configuration"):
        config.load(f"[gate]\nthresholds = {{ secret = '{word}' }}")
