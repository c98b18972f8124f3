"""The source scanners' Invocations (semgrep, gitleaks, hadolint) as data, and their parsers' edge cases.

What runs for real is in tests/contract/test_{semgrep,gitleaks,hadolint}.py; here: argv shapes, mounts,
reports under OUT, exit-code tables, option validation, and that nothing secret-looking is in argv/env.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest

from pipeline.errors import ConfigError, InputError, ToolFailed, ToolOutputError
from pipeline.model import Category, Location, Severity
from pipeline.tools import gitleaks, hadolint, semgrep
from pipeline.tools.base import IN, OUT, SRC, Invocation

ROOT = Path(__file__).resolve().parents[2]


def _fixture_secrets() -> tuple[str, ...]:
    """The fake credentials of tests/fixtures/bad-project/config.py (read, not repeated here)."""
    text = (ROOT / "tests" / "fixtures" / "bad-project" / "config.py").read_text()
    found = tuple(re.findall(r'^(?:AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|GITHUB_TOKEN) = "([^"]+)"$', text, re.M))
    assert len(found) == 3
    return found


FIXTURE_SECRETS = _fixture_secrets()


def all_invocations() -> list[Invocation]:
    return [
        semgrep.scan(),
        semgrep.scan(rules=(".semgrep",), packs=("p/python",), exclude=("tests",)),
        gitleaks.scan(),
        gitleaks.scan(exclude=("vendor", "docs/*.md")),
        hadolint.lint(),
        hadolint.lint("docker/app.Dockerfile", ignore=("DL3008",), trusted_registries=("docker.io",)),
    ]


@pytest.mark.parametrize("inv", all_invocations(), ids=lambda i: i.tool)
def test_common_shape(inv: Invocation) -> None:
    assert inv.report.startswith(OUT + "/")
    assert inv.mounts.get(SRC) == "source"
    assert inv.workdir == SRC  # so that report paths come out relative to the tree
    assert inv.image.tag and inv.image.repository
    assert inv.image.ref.startswith(inv.image.repository + ":")
    for path in inv.mounts:
        assert path == SRC or path.startswith(IN + "/")


@pytest.mark.parametrize("inv", all_invocations(), ids=lambda i: i.tool)
def test_no_secrets_in_argv_or_env(inv: Invocation) -> None:
    text = "\n".join([*inv.argv, *inv.env.keys(), *inv.env.values()])
    for value in FIXTURE_SECRETS:
        assert value not in text
    for key in inv.env:
        assert not re.search(r"TOKEN|PASSWORD|PASSWD|SECRET|CREDENTIAL|API_KEY", key), key
    assert not any(re.search(r"(?i)(token|password|secret)=", a) for a in inv.argv)


# ------------------------------------------------------------------------------------------ semgrep


def test_semgrep_default_scan_uses_bundled_rules_offline() -> None:
    inv = semgrep.scan()
    assert semgrep.NAME == inv.tool == "semgrep"
    assert inv.image == semgrep.IMAGE
    assert semgrep.IMAGE.ref.startswith("semgrep/semgrep:1.185.0")
    argv = inv.argv
    assert argv[:2] == ("semgrep", "scan")
    assert argv[argv.index("--config") + 1] == semgrep.RULES_DIR == f"{IN}/rules"
    assert argv.count("--config") == 1
    assert argv[argv.index("--metrics") + 1] == "off"
    for flag in ("--disable-version-check", "--error"):
        assert flag in argv
    # with --no-rewrite-rule-ids semgrep keeps one of two rules sharing an id across files: never pass it
    assert "--no-rewrite-rule-ids" not in argv
    assert argv[argv.index("--json-output") + 1] == inv.report == f"{OUT}/semgrep.json"
    # the same run's SARIF, for every rule's message template (semgrep's JSON has none)
    assert argv[argv.index("--sarif-output") + 1] == semgrep.SARIF_REPORT == f"{OUT}/semgrep.sarif"
    assert argv[argv.index("--output") + 1] == "/dev/null"  # the text report (with source lines) goes nowhere
    assert argv[-1] == "."
    assert "--no-git-ignore" not in argv
    assert dict(inv.mounts) == {SRC: "source", semgrep.RULES_DIR: "rules"}
    assert inv.env["SEMGREP_SEND_METRICS"] == "off"
    assert not inv.stdout_to_report


def test_semgrep_bundled_rules_dir_holds_rules() -> None:
    files = sorted(p.name for p in semgrep.BUNDLED_RULES.glob("*.yml"))
    assert len(files) >= 5
    assert semgrep.BUNDLED_RULES == ROOT / "pipeline" / "rules" / "semgrep"


def test_semgrep_exit_codes_tell_findings_from_failures() -> None:
    codes = semgrep.scan().exit_codes
    assert codes.check("semgrep", 0, "") is False
    assert codes.check("semgrep", 1, "") is True
    for bad in (2, 4, 5, 7, 8, 13, 127):
        with pytest.raises(ToolFailed) as info:
            codes.check("semgrep", bad, "[ERROR] invalid configuration file found")
        assert info.value.exit_code == bad
        assert "invalid configuration" in info.value.tool_message


def test_semgrep_rules_packs_exclude() -> None:
    inv = semgrep.scan(
        rules=(semgrep.RULES_DIR, ".semgrep/rules", f"{SRC}/ci/extra.yml"),
        packs=("p/python", "r/python.lang.security.audit.eval-detected"),
        exclude=("tests", "*.min.js"),
        include_gitignored=True,
    )
    configs = [inv.argv[i + 1] for i, a in enumerate(inv.argv) if a == "--config"]
    assert configs == [
        semgrep.RULES_DIR,
        f"{SRC}/.semgrep/rules",
        f"{SRC}/ci/extra.yml",
        "p/python",
        "r/python.lang.security.audit.eval-detected",
    ]
    excludes = [inv.argv[i + 1] for i, a in enumerate(inv.argv) if a == "--exclude"]
    assert excludes == ["tests", "*.min.js"]
    assert "--no-git-ignore" in inv.argv
    assert inv.argv[-1] == "."


def test_semgrep_without_bundled_rules_mounts_no_rules_dir() -> None:
    inv = semgrep.scan(rules=(f"{SRC}/.semgrep",))
    assert semgrep.RULES_DIR not in inv.argv
    assert dict(inv.mounts) == {SRC: "source"}
    only_packs = semgrep.scan(packs=("p/ci",))
    assert dict(only_packs.mounts) == {SRC: "source"}


@pytest.mark.parametrize("bad", ["../rules", "/etc/semgrep", "rules/../../x", "", "C:\\rules"])
def test_semgrep_rejects_rules_outside_the_tree(bad: str) -> None:
    with pytest.raises(ConfigError, match="inside the scanned source tree"):
        semgrep.scan(rules=(bad,))


@pytest.mark.parametrize("bad", ["https://evil.example/rules.yml", "auto", "python", "p/", "/in/rules"])
def test_semgrep_rejects_non_registry_packs(bad: str) -> None:
    with pytest.raises(ConfigError, match="not a registry name"):
        semgrep.scan(packs=(bad,))


def test_semgrep_rejects_bad_exclude() -> None:
    with pytest.raises(ConfigError):
        semgrep.scan(exclude=("a\nb",))
    with pytest.raises(ConfigError):
        semgrep.scan(exclude=("  ",))


def test_semgrep_localized_for_the_host(tmp_path: Path) -> None:
    inv = semgrep.scan().localized({SRC: str(tmp_path / "src"), OUT: str(tmp_path / "out"), IN + "/rules": "/r"})
    assert inv.report == str(tmp_path / "out" / "semgrep.json")
    assert inv.argv[inv.argv.index("--config") + 1] == "/r"
    assert inv.workdir == str(tmp_path / "src")


def semgrep_json(results: list[dict[str, object]], errors: list[Any] | None = None) -> str:
    return json.dumps({"version": "1.185.0", "results": results, "errors": errors or [], "paths": {"scanned": []}})


def result(check_id: str, message: str, severity: str = "WARNING", **metadata: object) -> dict[str, object]:
    return {
        "check_id": check_id,
        "path": "a.py",
        "start": {"line": 3, "col": 5, "offset": 20},
        "end": {"line": 3, "col": 30, "offset": 45},
        "extra": {"message": message, "severity": severity, "metadata": metadata, "fingerprint": "requires login"},
    }


def test_semgrep_parse_categories_come_from_metadata_and_secret_messages_carry_no_match() -> None:
    value = "hunter2-very-secret-value"
    results = [
        result(
            "detected-aws-access-key-id-value",
            f"found key {value}",
            "ERROR",
            category="security",
            cwe=["CWE-798: Use of Hard-coded Credentials"],
            technology=["secrets", "aws"],
        ),
        result("python.flask.secret-key-from-env", "the secret key is read from the environment", "INFO"),
        result("no-user", "no USER", "ERROR", technology=["dockerfile"]),
        result("dockerfile.security.missing-user.missing-user", "no USER", "ERROR"),
        result("python.lang.eval", "eval", cwe="CWE-95: Eval injection", **{"security-severity": "7.5"}),
        result("own.jwt", f"jwt secret {value}", "WARNING", **{"seaworthy-category": "secret"}),
        result("own.not-secret", "x", "WARNING", cwe=["CWE-798"], **{"seaworthy-category": "sast"}),
    ]
    run = semgrep.parse(semgrep_json(results))
    by_id = {f.rule_id: f for f in run.findings}
    aws = by_id["detected-aws-access-key-id-value"]
    assert aws.category is Category.SECRET
    assert aws.severity is Severity.HIGH
    assert aws.tags == ("CWE-798", "security")
    assert by_id["python.flask.secret-key-from-env"].category is Category.SAST  # "secret" in the id is no signal
    assert by_id["python.flask.secret-key-from-env"].severity is Severity.LOW
    assert by_id["no-user"].category is Category.MISCONFIGURATION
    assert by_id["dockerfile.security.missing-user.missing-user"].category is Category.MISCONFIGURATION
    assert by_id["python.lang.eval"].category is Category.SAST
    assert by_id["python.lang.eval"].severity is Severity.HIGH
    assert by_id["python.lang.eval"].tags == ("CWE-95",)
    assert by_id["own.jwt"].category is Category.SECRET
    assert by_id["own.not-secret"].category is Category.SAST
    assert value not in repr(run)
    assert run.version == "1.185.0"
    assert aws.locations == (Location("a.py", 3, 3, 5, 30),)
    assert all(f.identity == "" for f in run.findings)  # "requires login" is no fingerprint


def test_semgrep_parse_each_result_takes_its_own_rules_severity_even_when_ids_are_shared() -> None:
    results = [
        result("shared.id", "first rule", "WARNING"),
        {**result("shared.id", "second rule", "ERROR"), "start": {"line": 4, "col": 1}, "end": {"line": 4, "col": 9}},
        result("new.levels", "critical", "CRITICAL"),
    ]
    run = semgrep.parse(semgrep_json(results))
    assert [(f.rule_id, f.message, f.severity) for f in run.findings] == [
        ("new.levels", "critical", Severity.CRITICAL),
        ("shared.id", "second rule", Severity.HIGH),
        ("shared.id", "first rule", Severity.MEDIUM),
    ]


def test_semgrep_parse_fails_on_error_entries_and_keeps_warnings_as_notes() -> None:
    broken = [{"code": 7, "level": "error", "type": "Invalid YAML", "message": "Invalid YAML file rules.yml\nmore"}]
    with pytest.raises(ToolOutputError, match=r"Invalid YAML file rules\.yml"):
        semgrep.parse(semgrep_json([], broken))
    slow = [{"level": "warn", "type": "Timeout", "message": "Timeout when running r on big.py", "path": "big.py"}]
    assert semgrep.parse(semgrep_json([], slow)).notes == ("semgrep warning: Timeout when running r on big.py",)
    doc = json.loads(semgrep_json([]))
    doc["skipped_rules"] = [{"rule_id": "r.new-syntax", "details": "needs 2.x"}]
    assert semgrep.parse(json.dumps(doc)).notes == ("semgrep skipped 1 rule(s) it cannot run: r.new-syntax",)
    for bad in ("", "[]", '{"errors": []}', '{"results": [', "{"):
        with pytest.raises(ToolOutputError):
            semgrep.parse(bad)


def test_semgrep_coverage_counts_files_per_language_and_drops_inventory_results() -> None:
    doc = json.loads(semgrep_json([result("seaworthy.inventory.go", "never")]))
    doc["paths"]["scanned"] = ["a.py", "b/c.py", "web/app.ts", "main.go", "README", "x.min.js", "dir.py/file"]
    run = semgrep.parse(json.dumps(doc), rules={"python": 6, "js": 2}, rules_known=True)
    assert run.findings == ()
    cov = run.coverage
    assert cov is not None
    assert cov.files == 7
    assert cov.languages == (("go", 1), ("javascript", 1), ("python", 2), ("typescript", 1))
    assert cov.rules == (("javascript", 2), ("python", 6))
    assert cov.rules_total == 8 and cov.rules_known
    assert semgrep.parse(json.dumps(doc)).coverage.rules_known is False  # pyright: ignore[reportOptionalMemberAccess]


def test_semgrep_rule_counts_read_the_bundled_rules_and_skip_inventory(tmp_path: Path) -> None:
    counts = semgrep.rule_counts()
    assert counts.get("python", 0) >= 6 and counts.get("javascript", 0) >= 2
    assert semgrep.rule_counts((semgrep.INVENTORY_RULES,)) == {}
    inventory = (semgrep.INVENTORY_RULES / "languages.yml").read_text()
    assert sorted(re.findall(r"id: seaworthy\.inventory\.(\S+)", inventory)) == sorted(semgrep.LANGUAGES)
    (tmp_path / "bad.yml").write_text("rules: [\n")
    with pytest.raises(ConfigError, match=r"bad\.yml cannot be read"):
        semgrep.rule_counts((tmp_path,))


def test_semgrep_id_prefixes_follow_semgreps_rewriting_and_parse_cuts_them() -> None:
    inv = semgrep.scan(rules=(semgrep.RULES_DIR, ".semgrep", "ci/extra.yml"), packs=("p/python",), inventory=True)
    assert semgrep.id_prefixes(inv) == ("in.inventory.", "in.rules.", "semgrep.", "ci.")
    host = inv.localized({SRC: "/tmp/x/src", IN + "/rules": "/work/repo/pipeline/rules/semgrep"})
    assert "work.repo.pipeline.rules.semgrep." in semgrep.id_prefixes(host)
    doc = semgrep_json(
        [
            result("in.rules.seaworthy.python.eval", "m"),
            result("semgrep.python.lang.security.audit.network.avoid-bind-to-all-interfaces", "py"),
            result("semgrep.go.lang.security.audit.net.avoid-bind-to-all-interfaces", "go"),
            result("in.inventory.seaworthy.inventory.go", "never"),
            result("python.lang.from-a-pack", "m"),
        ]
    )
    ids = sorted(f.rule_id for f in semgrep.parse(doc, prefixes=semgrep.id_prefixes(inv)).findings)
    assert ids == [
        "go.lang.security.audit.net.avoid-bind-to-all-interfaces",
        "python.lang.from-a-pack",
        "python.lang.security.audit.network.avoid-bind-to-all-interfaces",
        "seaworthy.python.eval",
    ]


def test_semgrep_inventory_mounts_its_rules() -> None:
    inv = semgrep.scan(inventory=True)
    configs = [inv.argv[i + 1] for i, a in enumerate(inv.argv) if a == "--config"]
    assert configs == [semgrep.RULES_DIR, semgrep.INVENTORY_DIR]
    assert inv.mounts[semgrep.INVENTORY_DIR] == "inventory"


# ------------------------------------------------------------------------------------------ gitleaks


def test_gitleaks_scan_argv() -> None:
    inv = gitleaks.scan()
    assert gitleaks.NAME == inv.tool == "gitleaks"
    assert gitleaks.IMAGE.ref.startswith("ghcr.io/gitleaks/gitleaks:v8.30.1")
    argv = inv.argv
    assert argv[:3] == ("gitleaks", "dir", ".")
    assert "--redact=100" in argv
    assert "--no-banner" in argv
    assert argv[argv.index("--report-format") + 1] == "sarif"
    assert argv[argv.index("--report-path") + 1] == inv.report == f"{OUT}/gitleaks.sarif"
    assert argv[argv.index("--exit-code") + 1] == "3"
    assert "--verbose" not in argv and "-v" not in argv  # verbose would print each match
    assert dict(inv.mounts) == {SRC: "source"}
    assert inv.env == {}


def test_gitleaks_exit_codes() -> None:
    codes = gitleaks.scan().exit_codes
    assert codes.check("gitleaks", 0, "") is False
    assert codes.check("gitleaks", 3, "") is True
    with pytest.raises(ToolFailed):
        codes.check("gitleaks", 1, "FTL failed to load config")  # gitleaks' own fatal code


def test_gitleaks_exclusion_config() -> None:
    inv = gitleaks.scan(exclude=("vendor", "docs/*.md", "**/fixtures/**", "*.lock"))
    toml = inv.env["GITLEAKS_CONFIG_TOML"]
    data = tomllib.loads(toml)
    assert data["extend"] == {"useDefault": True}
    (allow,) = data["allowlists"]
    regexes = [re.compile(r) for r in allow["paths"]]

    def skipped(path: str) -> bool:
        return any(r.search(path) for r in regexes)

    for path in (
        "vendor/a.py",
        "src/vendor/b.js",
        "docs/intro.md",
        "a/fixtures/x/y.py",
        "uv.lock",
        "x/Cargo.lock",
    ):
        assert skipped(path), path
    for path in ("vendors/a.py", "docs/sub/intro.md", "src/docs/intro.md", "lockfile.py", "config.py"):
        assert not skipped(path), path


@pytest.mark.parametrize("bad", ["", "  ", "/", "it's", "a\nb"])
def test_gitleaks_rejects_bad_exclude(bad: str) -> None:
    with pytest.raises(ConfigError):
        gitleaks.scan(exclude=(bad,))


@pytest.mark.parametrize(
    ("rule", "severity"),
    [
        ("aws-access-token", Severity.CRITICAL),
        ("github-pat", Severity.CRITICAL),
        ("github-fine-grained-pat", Severity.CRITICAL),
        ("private-key", Severity.CRITICAL),
        ("gitlab-pat-routable", Severity.CRITICAL),
        ("generic-api-key", Severity.HIGH),
        ("slack-webhook-url", Severity.HIGH),
        ("gitlab-feed-token", Severity.HIGH),
        ("private-keyring", Severity.HIGH),
    ],
)
def test_gitleaks_severity(rule: str, severity: Severity) -> None:
    assert gitleaks.severity_of(rule) is severity


def test_gitleaks_parse_ignores_the_bogus_sarif_version() -> None:
    text = json.dumps(
        {
            "version": "2.1.0",
            "runs": [
                {
                    "tool": {"driver": {"name": "gitleaks", "semanticVersion": "v8.0.0", "rules": [{"id": "jwt"}]}},
                    "results": [{"ruleId": "jwt", "message": {"text": "jwt has detected secret for file a.env."}}],
                }
            ],
        }
    )
    run = gitleaks.parse(text)
    assert run.version == ""
    (f,) = run.findings
    assert (f.category, f.severity, f.locations) == (Category.SECRET, Severity.HIGH, ())
    assert run.notes and "no file location" in run.notes[0]


# ------------------------------------------------------------------------------------------ hadolint


def test_hadolint_lint_argv() -> None:
    inv = hadolint.lint()
    assert hadolint.NAME == inv.tool == "hadolint"
    assert hadolint.IMAGE.ref.startswith("hadolint/hadolint:v2.15.1")
    assert inv.argv[0] == "/bin/hadolint"  # scratch image: no shell, no PATH lookup to rely on
    assert "--no-fail" in inv.argv
    assert inv.argv[inv.argv.index("--format") + 1] == "json"
    assert inv.argv[-1] == "Dockerfile"
    assert inv.stdout_to_report
    assert inv.report == f"{OUT}/hadolint.json"
    assert dict(inv.mounts) == {SRC: "source"}


def test_hadolint_options() -> None:
    inv = hadolint.lint(
        "./docker/app.Dockerfile",
        config=".config/hadolint.yaml",
        ignore=("DL3008", "SC2086"),
        trusted_registries=("docker.io", "ghcr.io"),
    )
    argv = inv.argv
    assert argv[-1] == "docker/app.Dockerfile"
    assert argv[argv.index("--config") + 1] == f"{SRC}/.config/hadolint.yaml"
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--ignore"] == ["DL3008", "SC2086"]
    assert [argv[i + 1] for i, a in enumerate(argv) if a == "--trusted-registry"] == ["docker.io", "ghcr.io"]


@pytest.mark.parametrize("bad", ["/src/Dockerfile", "../Dockerfile", "", ".", "a\\Dockerfile"])
def test_hadolint_rejects_dockerfile_outside_the_tree(bad: str) -> None:
    with pytest.raises(ConfigError, match="relative to the source tree"):
        hadolint.lint(bad)


def test_hadolint_rejects_bad_options() -> None:
    with pytest.raises(ConfigError):
        hadolint.lint(ignore=("DL3008; rm -rf /",))
    with pytest.raises(ConfigError):
        hadolint.lint(trusted_registries=("docker io",))


def test_hadolint_exit_codes_only_zero_is_success() -> None:
    codes = hadolint.lint().exit_codes
    assert codes.check("hadolint", 0, "") is False
    with pytest.raises(ToolFailed, match="does not exist"):
        codes.check("hadolint", 1, "hadolint: Dockerfile: withBinaryFile: does not exist")


def test_hadolint_parse_levels_and_help() -> None:
    items = [
        {
            "code": "DL4000",
            "column": 1,
            "file": "Dockerfile",
            "level": "error",
            "line": 5,
            "message": "MAINTAINER",
        },
        {
            "code": "DL3007",
            "column": 1,
            "file": "/src/Dockerfile",
            "level": "warning",
            "line": 2,
            "message": "latest",
        },
        {
            "code": "DL3059",
            "column": 1,
            "file": "./Dockerfile",
            "level": "info",
            "line": 4,
            "message": "RUNs",
        },
        {
            "code": "SC2086",
            "column": 1,
            "file": "Dockerfile",
            "level": "style",
            "line": 3,
            "message": "quote",
        },
        {"code": "DL9999", "column": 0, "file": "Dockerfile", "level": "weird", "line": 0, "message": "?"},
    ]
    run = hadolint.parse(json.dumps(items))
    got = {f.rule_id: (f.severity, f.locations[0]) for f in run.findings}
    assert got["DL4000"][0] is Severity.HIGH
    assert got["DL3007"] == (Severity.MEDIUM, hadolint_loc(2))
    assert got["DL3059"] == (Severity.LOW, hadolint_loc(4))
    assert got["SC2086"][0] is Severity.INFO
    assert got["DL9999"] == (Severity.UNKNOWN, Location("Dockerfile"))
    by_id = {f.rule_id: f for f in run.findings}
    assert by_id["DL3007"].help_uri == "https://github.com/hadolint/hadolint/wiki/DL3007"
    assert by_id["SC2086"].help_uri == "https://www.shellcheck.net/wiki/SC2086"
    assert by_id["SC2086"].tags == ("shellcheck",)
    assert all(f.category is Category.MISCONFIGURATION for f in run.findings)
    assert run.findings[0].rule_id == "DL4000"  # sorted, most severe first
    assert hadolint.parse("[]").findings == ()


def hadolint_loc(line: int) -> Location:
    return Location("Dockerfile", start_line=line, start_column=1)


@pytest.mark.parametrize(
    "text",
    ["", "[", '[{"code": "DL3007"', '{"code": "DL3007"}', "[1]", '[{"file": "Dockerfile", "level": "info"}]'],
)
def test_hadolint_parse_bad_output(text: str) -> None:
    with pytest.raises(ToolOutputError):
        hadolint.parse(text)


def test_hadolint_unparsable_dockerfile_is_an_input_error() -> None:
    item = {
        "code": "DL1000",
        "column": 1,
        "file": "Dockerfile",
        "level": "error",
        "line": 3,
        "message": "unexpected 'F'\nexpecting ...",
    }
    with pytest.raises(InputError, match=r"^Dockerfile:3 is not a valid Dockerfile \(unexpected 'F'\)"):
        hadolint.parse(json.dumps([item]))


def test_hadolint_check_stderr() -> None:
    hadolint.check_stderr("")
    with pytest.raises(ConfigError, match="could not read its config file"):
        hadolint.check_stderr("\"Error parsing your config file in  '/src/.hadolint.yaml':\nIt should contain …")


def test_semgrep_rule_templates_read_each_rules_message_and_drop_ambiguous_ids(tmp_path: Path) -> None:
    (tmp_path / "a.yml").write_text(
        "rules:\n"
        "  - {id: own.token, message: 'token $VAL in $NAME', languages: [python], severity: ERROR, pattern: x}\n"
        "  - {id: own.twice, message: 'one', languages: [python], severity: ERROR, pattern: x}\n"
    )
    (tmp_path / "b.yml").write_text(
        "rules:\n  - {id: own.twice, message: 'two', languages: [python], severity: ERROR, pattern: y}\n"
    )
    assert semgrep.rule_templates((tmp_path,)) == {"own.token": "token $VAL in $NAME"}
    assert semgrep.rule_templates() == semgrep.rule_templates((semgrep.BUNDLED_RULES,))


def test_semgrep_parse_with_a_template_shows_a_secret_rules_message_by_name_and_scrubs_its_values() -> None:
    token = "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
    results = [
        result("own.token", f"token {token} in settings_py", "ERROR", cwe=["CWE-798"]),
        result("own.call", f"call with {token}", "WARNING"),
    ]
    known = {"own.token": "token $VAL in $NAME", "own.call": "call with $X"}
    run = semgrep.parse(semgrep_json(results), templates=known)
    by_id = {f.rule_id: f for f in run.findings}
    assert by_id["own.token"].message == "token $VAL in $NAME"
    assert by_id["own.call"].message == "call with [REDACTED]"  # not a secret rule: its message kept, scrubbed
    assert set(run.scrub) == {token, "settings_py"}  # a secret rule's every value; another's credential only
    unknown = semgrep.parse(semgrep_json(results))  # a rule of the tree: no template here
    assert {f.rule_id: f.message for f in unknown.findings}["own.token"] == (
        "Hard-coded secret (semgrep rule own.token; the matched text is not shown)"
    )
    assert unknown.scrub == (token,)


def _sarif(*rules: tuple[str, str]) -> str:
    described = [{"id": i, "fullDescription": {"text": m}, "shortDescription": {"text": "x"}} for i, m in rules]
    return json.dumps({"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "Semgrep OSS", "rules": described}}}]})


def test_semgrep_sarif_templates_read_every_rule_that_ran_with_prefixes_cut_and_ambiguous_ids_dropped() -> None:
    text = _sarif(
        ("src.rules.own.password", "password $VAL in $NAME"),
        ("src.rules.own.twice", "one $X"),
        ("src.rules.own.twice", "two $X"),
        ("python.lang.registry-rule", "registry says $X"),
    )
    assert semgrep.sarif_templates(text, ("src.rules.",)) == {
        "own.password": "password $VAL in $NAME",
        "python.lang.registry-rule": "registry says $X",
    }


@pytest.mark.parametrize("broken", ["", "not json", "[]", '{"runs": {}}', "\ufeff"])
def test_semgrep_sarif_that_cannot_be_read_fails_closed(broken: str) -> None:
    with pytest.raises(ToolOutputError, match=r"its SARIF .* is empty or not SARIF"):
        semgrep.sarif_templates(broken)
    with pytest.raises(ToolOutputError, match="its SARIF"):
        semgrep.parse(semgrep_json([]), sarif=broken)


def test_semgrep_parse_with_the_runs_sarif_scrubs_a_short_plain_password_of_a_rule_of_the_tree() -> None:
    password = "kqzxwv"  # 6 letters: no credential shape, so only the template can tell it is a matched value
    results = [
        result("own.password", f"password {password} in DB_PASSWORD", "ERROR", cwe=["CWE-259"]),
        result("own.literal", f"string literal {password}", "INFO"),
    ]
    sarif = _sarif(("own.password", "password $VAL in $NAME"), ("own.literal", "string literal $X"))
    run = semgrep.parse(semgrep_json(results), sarif=sarif)
    by_id = {f.rule_id: f for f in run.findings}
    assert by_id["own.password"].message == "password $VAL in $NAME"
    assert by_id["own.literal"].message == "string literal [REDACTED]"  # scrubbed in another rule's text too
    assert set(run.scrub) == {password, "DB_PASSWORD"}
    # without the SARIF nothing says which part of the message was matched: the short value stays in the
    # other rule's message (what the SARIF is for)
    blind = semgrep.parse(semgrep_json(results))
    assert password in {f.rule_id: f.message for f in blind.findings}["own.literal"]


def test_semgrep_template_a_message_does_not_follow_is_not_used() -> None:
    """semgrep's SARIF keeps the first rule of a shared id: a result of the other rule must not take its text."""
    token = "ghp_" + "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
    results = [result("own.token", f"other rule says {token}", "ERROR", cwe=["CWE-798"])]
    run = semgrep.parse(semgrep_json(results), templates={"own.token": "token $VAL in $NAME"})
    (f,) = run.findings
    assert f.message == "Hard-coded secret (semgrep rule own.token; the matched text is not shown)"
    assert run.scrub == (token,)
