"""Hostile `seaworthy.toml` input (issue 8): every case is either accepted with an exact result or refused
with one line that names the key and the fix; nothing crashes and nothing weakens the gate silently.

The relaxation cases evaluate the real bundled Rego gate (regorus): each knob that makes the gate or the
scan weaker than the defaults shows as a `config.relaxed` warning naming the key and the file.
"""

from __future__ import annotations

import random

import pytest

from pipeline import config
from pipeline.errors import ConfigError
from pipeline.model import Category, Severity
from pipeline.policy.config import gate_config_from
from pipeline.policy.engine import BUNDLED_POLICY_DIR, evaluate_with_regorus
from pipeline.policy.exceptions import parse_exceptions
from pipeline.policy.verdict import read_verdict
from tests.policy_helpers import evaluate

S = "seaworthy.toml: "


def refused(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        config.load(text)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(S), message
    return message[len(S) :]


# ------------------------------------------------------------------------------------------- refused


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # nothing scanned / tool-side filters
        (
            "[scan]\nscanners = []",
            "scan.scanners = [] runs no scanner, so nothing would be gated; list at least one of semgrep, "
            "gitleaks, trivy, hadolint, bandit, njsscan, or remove the key to run them all.",
        ),
        (
            "[scan.trivy]\nscanners = []",
            "scan.trivy.scanners = [] runs trivy with nothing to look for; list some of vuln, misconfig, secret, "
            'license, or drop "trivy" from scan.scanners.',
        ),
        (
            '[scan.trivy]\nseverities = ["HIGH"]',
            "scan.trivy.severities = ['HIGH'] would hide findings from the gate; remove it (trivy reports every "
            "severity) and set [gate] thresholds to choose what fails.",
        ),
        (
            '[scan.trivy]\nseverities = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNKNOWN"]',
            "scan.trivy.severities = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'] would hide findings from the "
            "gate; remove it (trivy reports every severity) and set [gate] thresholds to choose what fails.",
        ),
        (
            "[scan.trivy]\nignore_unfixed = true",
            "scan.trivy.ignore_unfixed = true would hide unfixed vulnerabilities from the gate; remove it and set "
            "[gate] fixable_only = true instead (the verdict then says so).",
        ),
        # numbers
        (
            "[scan.trivy]\nmax_db_age_hours = 1e11",
            "scan.trivy.max_db_age_hours must be a whole number, got a number; e.g. max_db_age_hours = 72.",
        ),
        (
            "[scan.trivy]\nmax_db_age_hours = 100000000000",
            "scan.trivy.max_db_age_hours must be at most 8784, got 100000000000; e.g. max_db_age_hours = 72.",
        ),
        (
            "[scan.trivy]\nmax_db_age_hours = 9223372036854775807",
            "scan.trivy.max_db_age_hours must be at most 8784, got 9223372036854775807; e.g. max_db_age_hours = 72.",
        ),
        (
            "[scan.trivy]\nmax_db_age_hours = -9223372036854775808",
            "scan.trivy.max_db_age_hours must be at least 1, got -9223372036854775808.",
        ),
        (
            "[scan.trivy]\nmax_db_age_hours = inf",
            "scan.trivy.max_db_age_hours must be a whole number, got a number; e.g. max_db_age_hours = 72.",
        ),
        (
            "[scan.trivy]\nmax_db_age_hours = nan",
            "scan.trivy.max_db_age_hours must be a whole number, got a number; e.g. max_db_age_hours = 72.",
        ),
        # the same threshold twice
        (
            '[gate]\nthresholds = { sast = "HIGH", SAST = "LOW" }',
            "gate.thresholds sets sast twice ('sast' and 'SAST'); keep one of them.",
        ),
        (
            '[gate]\nthresholds = { Secret = "any", "secret " = "CRITICAL" }',
            "gate.thresholds sets secret twice ('Secret' and 'secret '); keep one of them.",
        ),
        (
            '[gate.thresholds]\nIMAGE-VULNERABILITY = "HIGH"\nimage-vulnerability = "CRITICAL"',
            "gate.thresholds sets image-vulnerability twice ('IMAGE-VULNERABILITY' and 'image-vulnerability'); "
            "keep one of them.",
        ),
        # build args are strings, as written
        (
            "[build]\nbuild_args = { VERSION = 1.10 }",
            "build.build_args.VERSION must be a string, got a number (TOML reads 1.10 as the number 1.1); quote "
            'the value exactly as meant, e.g. VERSION = "1.10".',
        ),
        (
            "[build]\nbuild_args = { PORT = 8080 }",
            "build.build_args.PORT must be a string, got an integer (TOML reads 1.10 as the number 1.1); quote the "
            'value exactly as meant, e.g. PORT = "1.10".',
        ),
        (
            "[build]\nbuild_args = { DEBUG = false }",
            "build.build_args.DEBUG must be a string, got a boolean (TOML reads 1.10 as the number 1.1); quote the "
            'value exactly as meant, e.g. DEBUG = "1.10".',
        ),
        (
            '[build]\nbuild_args = { "A-B" = "x" }',
            "build.build_args key \"A-B\" is not a build argument name; use letters, digits and '_' (not starting "
            "with a digit), as in the Dockerfile's ARG.",
        ),
        # paths: one message for every key
        (
            '[build]\ndockerfile = "../Dockerfile"',
            'build.dockerfile = "../Dockerfile" is not a path inside the source (it leaves the source root with '
            "'..'); write it relative to the source root with '/' separators, e.g. Dockerfile.",
        ),
        (
            '[build]\ndockerfile = "/etc/passwd"',
            'build.dockerfile = "/etc/passwd" is not a path inside the source (it is absolute); write it relative '
            "to the source root with '/' separators, e.g. Dockerfile.",
        ),
        (
            '[build]\ndockerfile = "C:/src/Dockerfile"',
            'build.dockerfile = "C:/src/Dockerfile" is not a path inside the source (it is absolute); write it '
            "relative to the source root with '/' separators, e.g. Dockerfile.",
        ),
        (
            "[build]\ndockerfile = '\"Dockerfile\"'",
            'build.dockerfile = "\\"Dockerfile\\"" is not a path inside the source (it is quoted; TOML strings need '
            "no extra quotes); write it relative to the source root with '/' separators, e.g. Dockerfile.",
        ),
        (
            "[build]\ndockerfile = 'docker\\Dockerfile'",
            "build.dockerfile = \"docker\\Dockerfile\" is not a path inside the source (it uses '\\'; separate "
            "folders with '/'); write it relative to the source root with '/' separators, e.g. Dockerfile.",
        ),
        (
            '[build]\ndockerfile = ""',
            'build.dockerfile = "" is not a path inside the source (it is empty); write it relative to the source '
            "root with '/' separators, e.g. Dockerfile.",
        ),
        (
            '[build]\ndockerfile = " Dockerfile"',
            'build.dockerfile = " Dockerfile" is not a path inside the source (it starts or ends with spaces); '
            "write it relative to the source root with '/' separators, e.g. Dockerfile.",
        ),
        (
            '[scan]\nskip_paths = ["tests/**", "/var/lib/**"]',
            'scan.skip_paths[1] = "/var/lib/**" is not a path inside the source (it is absolute); write it '
            "relative to the source root with '/' separators, e.g. tests/fixtures/**.",
        ),
        (
            '[scan]\nskip_paths = ["src/../../etc"]',
            'scan.skip_paths[0] = "src/../../etc" is not a path inside the source (it leaves the source root with '
            "'..'); write it relative to the source root with '/' separators, e.g. tests/fixtures/**.",
        ),
        (
            '[scan.semgrep]\nrules = ["../shared-rules"]',
            'scan.semgrep.rules[0] = "../shared-rules" is not a path inside the source (it leaves the source root '
            "with '..'); write it relative to the source root with '/' separators, e.g. ci/semgrep.",
        ),
        (
            '[gate]\npolicy_dirs = ["/policies"]',
            'gate.policy_dirs[0] = "/policies" is not a path inside the source (it is absolute); write it relative '
            "to the source root with '/' separators, e.g. policy.",
        ),
        (
            '[gate]\nexceptions_file = "../exceptions.toml"',
            'gate.exceptions_file = "../exceptions.toml" is not a path inside the source (it leaves the source '
            "root with '..'); write it relative to the source root with '/' separators, e.g. exceptions.toml.",
        ),
        # characters that have no place in configuration
        (
            '[scan]\nskip_paths = ["src/\\u202Egnp.exe"]',
            'scan.skip_paths[0] = "src/\\u202egnp.exe" contains a bidirectional-override character (U+202E) that '
            "reorders what a reviewer sees; retype it in plain text.",
        ),
        (
            '[gate]\nrequired_labels = ["org.opencontainers.image.source\\u0007"]',
            'gate.required_labels[0] = "org.opencontainers.image.source\\x07" contains a control character '
            "(U+0007); retype it in plain text.",
        ),
        (
            '[gate]\npolicy_dirs = ["pol\\u200Bicy"]',
            'gate.policy_dirs[0] = "pol\\u200bicy" contains an invisible format character (U+200B); retype it in '
            "plain text.",
        ),
        (
            '[build]\ntarget = "runtime\\u0000"',
            'build.target = "runtime\\x00" contains a control character (U+0000); retype it in plain text.',
        ),
        (
            '[build.build_args]\n"VER\\u2066SION" = "1"',
            'the key "build.build_args.VER\\u2066SION" contains a bidirectional-override character (U+2066) that '
            "reorders what a reviewer sees; retype the key in plain text.",
        ),
        (
            '[scan]\nskip_paths = ["a\\nb"]',
            'scan.skip_paths[0] = "a\\x0ab" contains a control character (U+000A); retype it in plain text.',
        ),
        # structure
        (
            "x = " + "[" * 17 + "]" * 17,
            "x[0][0][0][0][0][0][0][0][0][0][0][0][0][0][0][0] is nested more than 16 levels deep; flatten it.",
        ),
        (
            "x = " + "[" * 100_000 + "]" * 100_000,
            "tables or arrays are nested too deeply to read; flatten the file (at most 16 levels).",
        ),
        (
            "x = " + "{a = " * 5000 + "1" + "}" * 5000,
            "tables or arrays are nested too deeply to read; flatten the file (at most 16 levels).",
        ),
        (
            "\ufeff\ufeff[scan]",
            "not valid TOML (Invalid statement (at line 1, column 1)); fix the syntax at that line.",
        ),
    ],
)
def test_refused_in_one_line_naming_key_and_fix(text: str, message: str) -> None:
    assert refused(text) == message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[build]\ndockerfile = "Docker\ud800file"', "contains a lone surrogate (U+D800)"),
        ('[scan]\nskip_paths = ["\udcff/**"]', "contains a lone surrogate (U+DCFF)"),
        ('["\ud83d"]\nx = 1', "contains a lone surrogate (U+D83D)"),
    ],
)
def test_lone_surrogates_are_refused_not_a_crash(text: str, message: str) -> None:
    # text that came from a lossy decode (surrogateescape) still gives a one-line error
    got = refused(text)
    assert message in got
    got.encode("utf-8")  # the message itself is printable anywhere


def test_surrogate_via_toml_escape_is_a_syntax_error() -> None:
    assert refused('[build]\ndockerfile = "\\uD800"').startswith("not valid TOML (")


# ------------------------------------------------------------------------------------------- accepted


def test_utf8_bom_is_accepted_and_changes_nothing() -> None:
    text = '[scan]\nscanners = ["trivy"]\n[gate]\nthresholds = { sast = "critical" }\n'
    assert config.load("\ufeff" + text) == config.load(text)
    assert config.load("\ufeff" + text).scanners == ("trivy",)


@pytest.mark.parametrize(
    ("text", "check"),
    [
        ('[build]\nbuild_args = { VERSION = "1.10" }', lambda c: c.build.build_args == (("VERSION", "1.10"),)),
        ("[scan.trivy]\nseverities = []\nignore_unfixed = false", lambda c: c.trivy.severities == ()),
        ("[scan.trivy]\nmax_db_age_hours = 8784", lambda c: c.trivy.max_db_age_hours == 8784),
        ('[gate]\nthresholds = { SAST = "critical" }', lambda c: c.gate.thresholds[Category.SAST] is Severity.CRITICAL),
        ('[scan]\nskip_paths = ["tests/**", "docs/*.md"]', lambda c: c.skip_paths == ("tests/**", "docs/*.md")),
        (
            '[build]\ndockerfile = "docker/app..v2/Dockerfile"',
            lambda c: c.build.dockerfile == "docker/app..v2/Dockerfile",
        ),
        ('[gate]\nexceptions_file = ""', lambda c: c.gate.exceptions_file == ""),
        ("x = " + "[" * 15 + "]" * 15, None),
    ],
)
def test_accepted_exactly(text: str, check: object) -> None:
    if check is None:  # unknown top-level key still refused, but by name: the depth itself was fine
        assert refused(text) == "unknown key x; remove it (known keys: scan, build, sbom, gate, exceptions)."
        return
    assert callable(check) and check(config.load(text))


# ------------------------------------------------------------------------------------------- relaxations


def relaxations(text: str, *, source: str = "seaworthy.toml") -> list[str]:
    cfg = config.load(text, source=source)
    gate_cfg = gate_config_from(cfg.gate, relaxations=cfg.relaxations(), source=cfg.source_file)
    verdict, _ = evaluate(config=gate_cfg)
    assert verdict.passed  # warnings, not denials: the knobs are allowed, and visible
    return sorted(r.message for r in verdict.warnings if r.rule_id == "config.relaxed")


R = "seaworthy.toml: "


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ('[gate]\nthresholds = { secret = "any", dependency = "LOW", sast = "high" }', []),
        ('[gate]\nrequired_labels = ["org.opencontainers.image.source", "org.opencontainers.image.revision", "x"]', []),
        ("[scan.trivy]\noffline = true\nmax_db_age_hours = 72", []),
        (
            "[gate]\nrequired_labels = []",
            [R + "gate.required_labels = [] relaxes the gate: the image.labels rule is off: no label is required"],
        ),
        (
            '[gate]\nrequired_labels = ["org.opencontainers.image.source"]',
            [
                R + "gate.required_labels relaxes the gate: the default label(s) org.opencontainers.image.revision "
                "are not required"
            ],
        ),
        (
            '[scan]\nscanners = ["semgrep"]',
            [
                R
                + "scan.scanners relaxes the gate: gitleaks, trivy, hadolint, bandit, njsscan did not run, so nothing "
                "they find is gated"
            ],
        ),
        (
            '[scan]\nscanners = ["semgrep", "gitleaks", "trivy", "bandit", "njsscan"]',
            [R + "scan.scanners relaxes the gate: hadolint did not run, so nothing it finds is gated"],
        ),
        (
            '[gate]\nthresholds = { sast = "CRITICAL" }',
            [
                R
                + 'gate.thresholds.sast = "CRITICAL" relaxes the gate: sast findings below CRITICAL do not fail the gate'
            ],
        ),
        (
            '[gate]\nthresholds = { secret = "HIGH" }',
            [R + 'gate.thresholds.secret = "HIGH" relaxes the gate: secret findings below HIGH do not fail the gate'],
        ),
        (
            '[gate]\nthresholds = { secret = "low" }',
            [R + 'gate.thresholds.secret = "LOW" relaxes the gate: secret findings below LOW do not fail the gate'],
        ),
        (
            "[gate]\nfixable_only = true",
            [
                R + "gate.fixable_only = true relaxes the gate: dependency and image-vulnerability findings without a "
                "fixed version do not fail the gate"
            ],
        ),
        (
            '[scan]\nskip_paths = ["vendor/**", "tests/**"]',
            [R + "scan.skip_paths relaxes the gate: no source scanner looked at vendor/**, tests/**"],
        ),
        (
            '[scan.semgrep]\nbundled_rules = false\nrules = ["ci/semgrep"]',
            [R + "scan.semgrep.bundled_rules relaxes the gate: semgrep ran without the bundled rules"],
        ),
        (
            '[scan.trivy]\nscanners = ["vuln"]',
            [
                R
                + "scan.trivy.scanners relaxes the gate: trivy's misconfig, secret scanner(s) did not run on the source"
            ],
        ),
        (
            "[scan.trivy]\noffline = true\nmax_db_age_hours = 720",
            [
                R + "scan.trivy.max_db_age_hours relaxes the gate: a vulnerability DB up to 720 hours old is accepted "
                "(default 72)"
            ],
        ),
        (
            "[scan.trivy]\ninsecure_registry = true",
            [
                R + "scan.trivy.insecure_registry relaxes the gate: the vulnerability DB is fetched without TLS "
                "verification, so a forged DB could hide findings"
            ],
        ),
        (
            '[gate]\nlicense_warn = ["GPL-3.0-only"]',
            [
                R + "gate.license_warn relaxes the gate: strong-copyleft licenses no longer warned about: AGPL-1.0, "
                "AGPL-1.0-only, AGPL-1.0-or-later, AGPL-3.0, AGPL-3.0-only and 9 more"
            ],
        ),
    ],
)
def test_every_relaxation_is_a_warning_naming_its_key(text: str, expected: list[str]) -> None:
    assert relaxations(text) == expected


def test_several_relaxations_each_show_and_name_the_file_they_came_from() -> None:
    got = relaxations(
        '[scan]\nscanners = ["trivy"]\n[gate]\nfixable_only = true\nrequired_labels = []\n'
        'thresholds = { image-vulnerability = "CRITICAL" }',
        source="ci/seaworthy.toml",
    )
    assert len(got) == 4
    assert all(m.startswith("ci/seaworthy.toml: ") for m in got)
    assert [m.split(" relaxes")[0].split(": ", 1)[1] for m in got] == [
        "gate.fixable_only = true",
        "gate.required_labels = []",
        'gate.thresholds.image-vulnerability = "CRITICAL"',
        "scan.scanners",
    ]


def test_the_gate_derives_gate_side_relaxations_from_any_input() -> None:
    # a hand-written gate input (the `gate` function evaluates any JSON) that says nothing about relaxations
    doc = {
        "schema": "seaworthy.gate-input/v2",
        "today": "2026-06-01",
        "config": {
            "thresholds": dict.fromkeys(
                ("dependency", "image-vulnerability", "license", "misconfiguration", "sast", "secret")
            ),
            "fixable_only": True,
            "required_labels": [],
            "license_deny": [],
            "license_warn": [],
            "relaxations": [],
            "source": "seaworthy.toml",
        },
        "findings": [],
        "sbom": None,
        "images": [],
        "build": None,
        "exceptions": [],
    }
    verdict = read_verdict(evaluate_with_regorus([BUNDLED_POLICY_DIR], doc))
    got = sorted(r.message.split(" relaxes")[0] for r in verdict.warnings if r.rule_id == "config.relaxed")
    assert got == [
        "seaworthy.toml: gate.fixable_only = true",
        "seaworthy.toml: gate.required_labels = []",
        "seaworthy.toml: gate.thresholds.dependency = off",
        "seaworthy.toml: gate.thresholds.image-vulnerability = off",
        "seaworthy.toml: gate.thresholds.license = off",
        "seaworthy.toml: gate.thresholds.misconfiguration = off",
        "seaworthy.toml: gate.thresholds.sast = off",
        "seaworthy.toml: gate.thresholds.secret = off",
    ]


@pytest.mark.parametrize("target", ["config.relaxed", "exception.long-lived", "exception.expired"])
def test_relaxation_notices_cannot_be_waived(target: str) -> None:
    with pytest.raises(ConfigError, match=rf"exceptions\[0\]: '{target}' .*cannot be waived"):
        parse_exceptions([{"target": target, "owner": "o", "reason": "r", "expires": "2026-12-31"}])


# ------------------------------------------------------------------------------------------- function arguments


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"skip_paths": ("tests/**", "../outside")},
            "--skip[0] = \"../outside\" is not a path inside the source (it leaves the source root with '..'); write "
            "it relative to the source root with '/' separators, e.g. tests/fixtures/**.",
        ),
        (
            {"build": config.BuildConfig(dockerfile="/abs/Dockerfile")},
            '--dockerfile = "/abs/Dockerfile" is not a path inside the source (it is absolute); write it relative to '
            "the source root with '/' separators, e.g. Dockerfile.",
        ),
    ],
)
def test_path_arguments_get_the_same_check_as_the_file(changes: dict[str, object], message: str) -> None:
    cfg = config.load('[scan]\nskip_paths = ["tests/**"]')
    with pytest.raises(ConfigError) as info:
        cfg.override(**changes)
    assert str(info.value) == message


def test_valid_path_arguments_are_applied() -> None:
    cfg = config.load('[scan]\nskip_paths = ["tests/**"]')
    over = cfg.override(skip_paths=("tests/**", "docs/**"), build=config.BuildConfig(dockerfile="docker/Dockerfile"))
    assert (over.skip_paths, over.build.dockerfile) == (("tests/**", "docs/**"), "docker/Dockerfile")


# ------------------------------------------------------------------------------------------- mutations

SAMPLE = """\ufeff[scan]
scanners = ["semgrep", "trivy"]
skip_paths = ["tests/**"]
[scan.trivy]
scanners = ["vuln", "secret"]
offline = true
max_db_age_hours = 96
[build]
dockerfile = "docker/Dockerfile"
build_args = { VERSION = "1.10" }
platforms = ["linux/amd64"]
[gate]
thresholds = { sast = "CRITICAL", secret = "any" }
required_labels = ["org.opencontainers.image.source"]
[[exceptions]]
target = ["CVE-2024-1234"]
owner = "team"
reason = "reviewed"
expires = 2026-12-31
"""
_NASTY = ["\x00", "\ud800", "\u202e", "[", "]", "{", "}", '"', "'", "=", "\n", "..", "/", "\\", "1e999", "-", "9" * 30]


def test_mutated_files_give_a_config_or_a_config_error() -> None:
    """3,000 seeded mutations of a valid file (characters replaced, inserted, deleted, lines duplicated):
    each loads (exceptions included), or raises ConfigError with a one-line message; nothing else escapes."""
    rng = random.Random(8)
    outcomes = {"loaded": 0, "refused": 0}
    for _ in range(3000):
        text = list(SAMPLE)
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(len(text))
            action = rng.randrange(4)
            if action == 0:
                text[pos] = rng.choice(_NASTY)
            elif action == 1:
                text.insert(pos, rng.choice(_NASTY))
            elif action == 2:
                del text[pos]
            else:
                lines = "".join(text).split("\n")
                k = rng.randrange(len(lines))
                lines.insert(k, lines[k])
                text = list("\n".join(lines))
        try:
            cfg = config.load("".join(text))
            parse_exceptions(cfg.exceptions)
        except ConfigError as exc:
            assert "\n" not in str(exc)
            outcomes["refused"] += 1
        else:
            outcomes["loaded"] += 1
    assert outcomes["loaded"] > 100 and outcomes["refused"] > 1000


def test_relaxations_from_function_arguments_name_the_argument() -> None:
    cfg = config.load('[scan]\nskip_paths = ["tests/**"]').override(
        scanners=("semgrep", "trivy"), skip_paths=("tests/**", "vendor/**")
    )
    assert cfg.relaxations() == (
        ("--scanners", "gitleaks, hadolint, bandit, njsscan did not run, so nothing they find is gated"),
        ("scan.skip_paths and --skip", "no source scanner looked at tests/**, vendor/**"),
    )
    # main passes the file's values back when no argument was given: still the file's key
    same = config.load('[scan]\nscanners = ["trivy"]\nskip_paths = ["a/**"]')
    assert [k for k, _ in same.override(scanners=("trivy",), skip_paths=("a/**",)).relaxations()] == [
        "scan.scanners",
        "scan.skip_paths",
    ]
