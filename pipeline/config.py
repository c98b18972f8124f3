"""`seaworthy.toml`: optional configuration at the source root, validated strictly.

Every error names the key at fault and the fix in its first line. Function arguments override the file
(`Config.override`). Unknown keys are errors (with a "did you mean"), so a typo never silently disables a
check.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar, cast

import attrs

from pipeline import safetext
from pipeline.errors import ConfigError
from pipeline.model import Category, Severity
from pipeline.policy.config import DEFAULT_COPYLEFT_WARN

CONFIG_FILE = "seaworthy.toml"
_T = TypeVar("_T")

SCANNERS = ("semgrep", "gitleaks", "trivy", "hadolint", "bandit", "njsscan")
"""The source scanners, in report order (bandit and njsscan run only on trees with Python / JavaScript files)."""

SBOM_GENERATORS = ("trivy", "syft")
TRIVY_SCANNERS = ("vuln", "misconfig", "secret", "license")

DEFAULT_THRESHOLDS: Mapping[Category, Severity] = {
    Category.SAST: Severity.HIGH,
    Category.SECRET: Severity.UNKNOWN,  # any secret at all
    Category.DEPENDENCY: Severity.HIGH,
    Category.MISCONFIGURATION: Severity.HIGH,
    Category.IMAGE_VULNERABILITY: Severity.HIGH,
    Category.LICENSE: Severity.HIGH,
}
"""Fail on findings at or above these severities. UNKNOWN means "any finding of that category"."""

THRESHOLD_WORDS = {"any": Severity.UNKNOWN}
"""Besides severity names, a threshold may be "any" (every finding fails). There is no "off": a rule is
switched off only through the exception file, one reviewed finding at a time."""


@attrs.frozen
class SemgrepConfig:
    rules: tuple[str, ...] = ()
    """Extra rule files or folders, relative to the source root (added to the bundled rules)."""
    packs: tuple[str, ...] = ()
    """Registry packs such as `p/python`; need network access from the engine."""
    bundled_rules: bool = True


@attrs.frozen
class TrivyConfig:
    scanners: tuple[str, ...] = ("vuln", "misconfig", "secret")
    severities: tuple[str, ...] = ()
    """Always empty: trivy reports every severity to the gate (a non-empty list is refused at load)."""
    ignore_unfixed: bool = False
    """Always false: trivy reports unfixed vulnerabilities too (`gate.fixable_only` is the gate-side,
    visible switch); true is refused at load."""
    db_repositories: tuple[str, ...] = ()
    """OCI repositories of the vulnerability DB, tried in order (mirrors for air-gapped users)."""
    java_db_repositories: tuple[str, ...] = ()
    offline: bool = False
    """Never download the DB; refuse to run on one older than `max_db_age_hours`."""
    max_db_age_hours: int = 72
    insecure_registry: bool = False


DEFAULT_MAX_DB_AGE_HOURS = 72
MAX_DB_AGE_HOURS_LIMIT = 24 * 366
"""The largest `max_db_age_hours` accepted: a vulnerability DB older than a year is no DB."""


@attrs.frozen
class BuildConfig:
    dockerfile: str = "Dockerfile"
    target: str = ""
    platforms: tuple[str, ...] = ()
    """Empty means the engine's native platform."""
    build_args: tuple[tuple[str, str], ...] = ()


@attrs.frozen
class GateSettings:
    thresholds: Mapping[Category, Severity | None] = attrs.field(factory=lambda: dict(DEFAULT_THRESHOLDS))
    """None means the category never fails the gate ("off")."""
    fixable_only: bool = False
    required_labels: tuple[str, ...] = (
        "org.opencontainers.image.source",
        "org.opencontainers.image.revision",
    )
    license_deny: tuple[str, ...] = ()
    license_warn: tuple[str, ...] | None = None
    """None keeps the bundled strong-copyleft warn list."""
    policy_dirs: tuple[str, ...] = ()
    """Extra Rego policy folders, relative to the source root."""
    exceptions_file: str = ""
    """A separate TOML file holding `[[exceptions]]`, relative to the source root."""


@attrs.frozen
class Config:
    scanners: tuple[str, ...] = SCANNERS
    skip_paths: tuple[str, ...] = ()
    """Glob patterns, relative to the source root, that no source scanner looks at."""
    semgrep: SemgrepConfig = SemgrepConfig()
    trivy: TrivyConfig = TrivyConfig()
    build: BuildConfig = BuildConfig()
    sbom_generator: str = "trivy"
    gate: GateSettings = GateSettings()
    exceptions: tuple[Mapping[str, Any], ...] = ()
    """Raw `[[exceptions]]` tables; validated by pipeline.policy.exceptions."""
    source_file: str = ""
    """Where this configuration came from ("" for defaults)."""
    arguments: tuple[str, ...] = ()
    """Fields set by function arguments (`override`), so that messages name who asked: `--scanners`, not
    `scan.scanners`."""
    relaxed: tuple[tuple[str, str], ...] = ()
    """Relaxations the caller chose outside seaworthy.toml (who asked, what it relaxed), e.g. a registry
    reached without TLS; `relaxations` lists them after the file's."""

    def override(self, **changes: Any) -> Config:
        """Apply function arguments over the file. `None` and empty values mean "not given"."""
        given = {k: v for k, v in changes.items() if v is not None and v not in ((), [], "")}
        changed = {k for k, v in given.items() if getattr(self, k) != v}
        result = attrs.evolve(self, **given, arguments=tuple(sorted({*self.arguments, *changed})))
        # paths given as function arguments get the same check (and message) as the file's
        for i, item in enumerate(result.skip_paths):
            if item not in self.skip_paths:
                check_path(item, where=f"--skip[{i - len(self.skip_paths)}]", example="tests/fixtures/**")
        if result.build.dockerfile != self.build.dockerfile:
            check_path(result.build.dockerfile, where="--dockerfile", example="Dockerfile")
        return result

    def relaxations(self) -> tuple[tuple[str, str], ...]:
        """(seaworthy.toml key, what it relaxed) for every scan-side knob that makes the scan see less than
        the defaults; the gate shows each as a `config.relaxed` warning (`input.config.relaxations`).

        Gate-side relaxations (thresholds, fixable_only, required_labels) are derived by the gate itself
        from `input.config`, so they show whoever built the input."""
        out: list[tuple[str, str]] = []
        left_out = [s for s in SCANNERS if s not in self.scanners]
        if left_out:
            out.append(
                (
                    "--scanners" if "scanners" in self.arguments else "scan.scanners",
                    f"{', '.join(left_out)} did not run, so nothing {'they find' if len(left_out) > 1 else 'it finds'} "
                    "is gated",
                )
            )
        if "trivy" in self.scanners:
            trivy_out = [s for s in TrivyConfig().scanners if s not in self.trivy.scanners]
            if trivy_out:
                out.append(
                    ("scan.trivy.scanners", f"trivy's {', '.join(trivy_out)} scanner(s) did not run on the source")
                )
        if self.skip_paths:
            key = "scan.skip_paths and --skip" if "skip_paths" in self.arguments else "scan.skip_paths"
            out.append((key, f"no source scanner looked at {', '.join(self.skip_paths)}"))
        if "semgrep" in self.scanners and not self.semgrep.bundled_rules:
            out.append(("scan.semgrep.bundled_rules", "semgrep ran without the bundled rules"))
        if self.gate.license_warn is not None:
            unwarned = sorted(set(DEFAULT_COPYLEFT_WARN) - set(self.gate.license_warn))
            if unwarned:
                shown = ", ".join(unwarned[:5]) + (f" and {len(unwarned) - 5} more" if len(unwarned) > 5 else "")
                out.append(("gate.license_warn", f"strong-copyleft licenses no longer warned about: {shown}"))
        if self.trivy.insecure_registry:
            out.append(
                (
                    "scan.trivy.insecure_registry",
                    "the vulnerability DB is fetched without TLS verification, so a forged DB could hide findings",
                )
            )
        if self.trivy.offline and self.trivy.max_db_age_hours > DEFAULT_MAX_DB_AGE_HOURS:
            out.append(
                (
                    "scan.trivy.max_db_age_hours",
                    f"a vulnerability DB up to {self.trivy.max_db_age_hours} hours old is accepted "
                    f"(default {DEFAULT_MAX_DB_AGE_HOURS})",
                )
            )
        out.extend(self.relaxed)
        return tuple(out)


# --- parsing -----------------------------------------------------------------------------------------


def load(text: str | None, *, source: str = CONFIG_FILE) -> Config:
    """Parse and validate `seaworthy.toml` text. None (no file) gives the defaults."""
    if text is None:
        return Config()
    return from_mapping(parse_toml(text, source=source), source=source)


MAX_DEPTH = 16
"""Deepest nesting of tables and arrays accepted in a configuration or exception file."""


def parse_toml(text: str, *, source: str) -> dict[str, Any]:
    """TOML text to a document, with every failure a one-line ConfigError naming `source`.

    A leading UTF-8 byte-order mark (as some Windows editors write it) is accepted."""
    text = text.removeprefix("\ufeff")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc}); fix the syntax at that line.") from None
    except RecursionError:
        raise ConfigError(
            f"{source}: tables or arrays are nested too deeply to read; flatten the file (at most {MAX_DEPTH} levels)."
        ) from None
    except UnicodeEncodeError:
        raise ConfigError(f"{source}: is not valid Unicode text; save it as UTF-8.") from None
    check_document(data, source=source)
    return data


def check_document(data: Mapping[str, Any], *, source: str) -> None:
    """Refuse documents nested deeper than MAX_DEPTH and keys or strings with characters that have no
    place in configuration (lone surrogates, controls, bidi overrides); each error names the key."""
    stack: list[tuple[str, object, int]] = [("", data, 0)]
    while stack:
        where, value, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(
                f"{source}: {where or 'the document'} is nested more than {MAX_DEPTH} levels deep; flatten it."
            )
        if isinstance(value, dict):
            table = cast(dict[object, object], value)
            for key, item in table.items():
                problem = safetext.char_problem(str(key))
                name = f"{where}.{key}" if where else str(key)
                if problem:
                    raise ConfigError(
                        f"{source}: the key {safetext.show(name)} contains {problem}; retype the key in plain text."
                    )
                stack.append((name, item, depth + 1))
        elif isinstance(value, list):
            for i, item in enumerate(cast(list[object], value)):
                stack.append((f"{where}[{i}]", item, depth + 1))
        elif isinstance(value, str):
            free_text = where.rsplit(".", 1)[-1] in _FREE_TEXT_KEYS
            problem = safetext.char_problem(value, multiline=free_text)
            if problem:
                raise ConfigError(
                    f"{source}: {where} = {safetext.show(value)} contains {problem}; retype it in plain text."
                )


_FREE_TEXT_KEYS = frozenset({"reason"})
"""Keys whose strings may span lines (an exception's reason)."""


_SECTIONS = ("scan", "build", "sbom", "gate", "exceptions")


def from_mapping(data: Mapping[str, Any], *, source: str = CONFIG_FILE) -> Config:
    check_document(data, source=source)
    _known(data, _SECTIONS, source, "")
    scan = _table(data, "scan", source)
    _known(scan, ("scanners", "skip_paths", "semgrep", "trivy"), source, "scan.")
    scanners = _str_list(scan, "scanners", source, "scan.", choices=SCANNERS, default=SCANNERS)
    if not scanners:
        raise ConfigError(
            f"{source}: scan.scanners = [] runs no scanner, so nothing would be gated; list at least one of "
            f"{', '.join(SCANNERS)}, or remove the key to run them all."
        )
    skip = _path_list(scan, "skip_paths", source, "scan.", example="tests/fixtures/**")

    sem = _table(scan, "semgrep", source, "scan.")
    _known(sem, ("rules", "packs", "bundled_rules"), source, "scan.semgrep.")
    semgrep = SemgrepConfig(
        rules=_path_list(sem, "rules", source, "scan.semgrep.", example="ci/semgrep"),
        packs=_str_list(sem, "packs", source, "scan.semgrep."),
        bundled_rules=_bool(sem, "bundled_rules", source, "scan.semgrep.", True),
    )

    if not semgrep.bundled_rules and not semgrep.rules and not semgrep.packs and "semgrep" in scanners:
        raise ConfigError(
            f"{source}: scan.semgrep.bundled_rules = false leaves semgrep without rules; add scan.semgrep.rules "
            'or packs, keep the bundled rules, or drop "semgrep" from scan.scanners.'
        )

    tri = _table(scan, "trivy", source, "scan.")
    _known(
        tri,
        (
            "scanners",
            "severities",
            "ignore_unfixed",
            "db_repositories",
            "java_db_repositories",
            "offline",
            "max_db_age_hours",
            "insecure_registry",
        ),
        source,
        "scan.trivy.",
    )
    severities = _str_list(
        tri, "severities", source, "scan.trivy.", choices=("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
    )
    if severities:
        raise ConfigError(
            f"{source}: scan.trivy.severities = {list(severities)!r} would hide findings from the gate; remove it "
            "(trivy reports every severity) and set [gate] thresholds to choose what fails."
        )
    if _bool(tri, "ignore_unfixed", source, "scan.trivy.", False):
        raise ConfigError(
            f"{source}: scan.trivy.ignore_unfixed = true would hide unfixed vulnerabilities from the gate; remove "
            "it and set [gate] fixable_only = true instead (the verdict then says so)."
        )
    trivy_scanners = _str_list(
        tri, "scanners", source, "scan.trivy.", choices=TRIVY_SCANNERS, default=TrivyConfig().scanners
    )
    if not trivy_scanners:
        raise ConfigError(
            f"{source}: scan.trivy.scanners = [] runs trivy with nothing to look for; list some of "
            f'{", ".join(TRIVY_SCANNERS)}, or drop "trivy" from scan.scanners.'
        )
    trivy = TrivyConfig(
        scanners=trivy_scanners,
        db_repositories=_str_list(tri, "db_repositories", source, "scan.trivy."),
        java_db_repositories=_str_list(tri, "java_db_repositories", source, "scan.trivy."),
        offline=_bool(tri, "offline", source, "scan.trivy.", False),
        max_db_age_hours=_int(
            tri,
            "max_db_age_hours",
            source,
            "scan.trivy.",
            DEFAULT_MAX_DB_AGE_HOURS,
            minimum=1,
            maximum=MAX_DB_AGE_HOURS_LIMIT,
        ),
        insecure_registry=_bool(tri, "insecure_registry", source, "scan.trivy.", False),
    )

    bld = _table(data, "build", source)
    _known(bld, ("dockerfile", "target", "platforms", "build_args"), source, "build.")
    args_table = _table(bld, "build_args", source, "build.")
    build_args: list[tuple[str, str]] = []
    for key, value in sorted(args_table.items()):
        if not _ARG_NAME.fullmatch(key):
            raise ConfigError(
                f"{source}: build.build_args key {safetext.show(key)} is not a build argument name; use letters, "
                "digits and '_' (not starting with a digit), as in the Dockerfile's ARG."
            )
        if not isinstance(value, str):
            raise ConfigError(
                f"{source}: build.build_args.{key} must be a string, got {_tname(value)} (TOML reads 1.10 as the "
                f'number 1.1); quote the value exactly as meant, e.g. {key} = "1.10".'
            )
        build_args.append((key, value))
    build = BuildConfig(
        dockerfile=_path(bld, "dockerfile", source, "build.", "Dockerfile"),
        target=_str(bld, "target", source, "build.", ""),
        platforms=tuple(
            validate_platform(p, where=f"{source}: build.platforms")
            for p in _str_list(bld, "platforms", source, "build.")
        ),
        build_args=tuple(build_args),
    )

    sb = _table(data, "sbom", source)
    _known(sb, ("generator",), source, "sbom.")
    generator = _str(sb, "generator", source, "sbom.", "trivy")
    if generator not in SBOM_GENERATORS:
        raise ConfigError(
            f"{source}: sbom.generator = {generator!r} is not supported; use one of {', '.join(SBOM_GENERATORS)}."
        )

    gt = _table(data, "gate", source)
    _known(
        gt,
        (
            "thresholds",
            "fixable_only",
            "required_labels",
            "license_deny",
            "license_warn",
            "policy_dirs",
            "exceptions_file",
        ),
        source,
        "gate.",
    )
    thresholds: dict[Category, Severity | None] = dict(DEFAULT_THRESHOLDS)
    th = _table(gt, "thresholds", source, "gate.")
    spelled: dict[Category, str] = {}
    for key, value in th.items():
        try:
            category = Category.parse(key)
        except ValueError as exc:
            raise ConfigError(f"{source}: gate.thresholds.{key}: {exc}.") from None
        if category in spelled:
            raise ConfigError(
                f"{source}: gate.thresholds sets {category.value} twice ({spelled[category]!r} and {key!r}); keep "
                "one of them."
            )
        spelled[category] = key
        thresholds[category] = parse_threshold(value, where=f"{source}: gate.thresholds.{key}")
    gate = GateSettings(
        thresholds=thresholds,
        fixable_only=_bool(gt, "fixable_only", source, "gate.", False),
        required_labels=_str_list(gt, "required_labels", source, "gate.", default=GateSettings().required_labels),
        license_deny=_str_list(gt, "license_deny", source, "gate."),
        license_warn=(_str_list(gt, "license_warn", source, "gate.") if "license_warn" in gt else None),
        policy_dirs=_path_list(gt, "policy_dirs", source, "gate.", example="policy"),
        exceptions_file=_path(gt, "exceptions_file", source, "gate.", "", example="exceptions.toml"),
    )

    raw_exc = data.get("exceptions", [])
    if not isinstance(raw_exc, list) or not all(isinstance(e, dict) for e in raw_exc):  # pyright: ignore[reportUnknownVariableType]
        raise ConfigError(
            f"{source}: exceptions must be an array of tables; write each one as [[exceptions]] with "
            "owner, reason, expires and a target."
        )
    exceptions: tuple[Mapping[str, Any], ...] = tuple(raw_exc)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]

    return Config(
        scanners=scanners,
        skip_paths=skip,
        semgrep=semgrep,
        trivy=trivy,
        build=build,
        sbom_generator=generator,
        gate=gate,
        exceptions=exceptions,
        source_file=source,
    )


def parse_threshold(value: object, *, where: str) -> Severity:
    if not isinstance(value, str):
        raise ConfigError(f'{where} must be a severity name or "any", got {_tname(value)}; e.g. "HIGH".')
    word = value.strip().lower()
    if word in ("off", "none", "never"):
        raise ConfigError(
            f"{where} = {value!r}: a gate rule cannot be switched off in configuration; raise the threshold "
            '(e.g. "CRITICAL") or record reviewed exceptions (owner, reason, expires) in [[exceptions]].'
        )
    if word in THRESHOLD_WORDS:
        return THRESHOLD_WORDS[word]
    try:
        return Severity.parse(value)
    except ValueError as exc:
        raise ConfigError(f'{where}: {exc}, or "any".') from None


_OS = ("linux", "windows")
_ARCH = ("amd64", "arm64", "arm", "386", "ppc64le", "s390x", "riscv64", "mips64le", "loong64")


def validate_platform(value: str, *, where: str = "--platforms") -> str:
    """Check an OCI platform string such as `linux/amd64` or `linux/arm/v7`."""
    parts = value.strip().split("/")
    ok = 2 <= len(parts) <= 3 and parts[0] in _OS and parts[1] in _ARCH and all(parts)
    if not ok:
        raise ConfigError(
            f"{where}: unknown platform {value!r}; use os/arch[/variant] such as linux/amd64, "
            "linux/arm64 or linux/arm/v7."
        )
    return "/".join(parts)


# --- small typed readers ------------------------------------------------------------------------------


_TYPE_NAMES: dict[type[Any], str] = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    list: "an array",
    dict: "a table",
}


def _tname(value: object) -> str:
    return _TYPE_NAMES.get(type(value), type(value).__name__)


def _known(table: Mapping[str, Any], keys: Sequence[str], source: str, prefix: str) -> None:
    for key in table:
        if key not in keys:
            close = difflib.get_close_matches(key, keys, n=1)
            hint = f"did you mean {prefix}{close[0]}?" if close else f"known keys: {', '.join(keys)}"
            raise ConfigError(f"{source}: unknown key {prefix}{key}; remove it ({hint}).")


def _table(table: Mapping[str, Any], key: str, source: str, prefix: str = "") -> Mapping[str, Any]:
    value = table.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: {prefix}{key} must be a table ([{prefix}{key}]), got {_tname(value)}.")
    return value  # pyright: ignore[reportUnknownVariableType]


def _typed(
    table: Mapping[str, Any], key: str, source: str, prefix: str, default: _T, kind: type[Any], example: str
) -> _T:
    if key not in table:
        return default
    value = table[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        what, _, sample = example.partition(", e.g. ")
        raise ConfigError(f"{source}: {prefix}{key} must be {what}, got {_tname(value)}; e.g. {sample}.")
    return value  # pyright: ignore[reportReturnType]


def _str(table: Mapping[str, Any], key: str, source: str, prefix: str, default: str) -> str:
    return _typed(table, key, source, prefix, default, str, f'a string, e.g. {key} = "…"')


def _bool(table: Mapping[str, Any], key: str, source: str, prefix: str, default: bool) -> bool:
    return _typed(table, key, source, prefix, default, bool, f"true or false, e.g. {key} = true")


def _int(
    table: Mapping[str, Any],
    key: str,
    source: str,
    prefix: str,
    default: int,
    *,
    minimum: int = 0,
    maximum: int = 2**31 - 1,
) -> int:
    value = _typed(table, key, source, prefix, default, int, f"a whole number, e.g. {key} = {default}")
    if value < minimum:
        raise ConfigError(f"{source}: {prefix}{key} must be at least {minimum}, got {value}.")
    if value > maximum:
        raise ConfigError(f"{source}: {prefix}{key} must be at most {maximum}, got {value}; e.g. {key} = {default}.")
    return value


_ARG_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def path_error(where: str, value: str, problem: str, example: str) -> ConfigError:
    """The one message for a path that is not inside the source root (config keys and function arguments)."""
    return ConfigError(
        f"{where} = {safetext.show(value)} is not a path inside the source ({problem}); write it relative to the "
        f"source root with '/' separators, e.g. {example}."
    )


def check_path(value: str, *, where: str, example: str) -> str:
    """`value` if it is a relative path (or glob) inside the source root, else the ConfigError of `path_error`."""
    problem = safetext.path_problem(value)
    if problem:
        raise path_error(where, value, problem, example)
    return value


def _path(table: Mapping[str, Any], key: str, source: str, prefix: str, default: str, *, example: str = "") -> str:
    value = _str(table, key, source, prefix, default)
    if key not in table or (value == "" and default == ""):
        return value
    return check_path(value, where=f"{source}: {prefix}{key}", example=example or default)


def _path_list(table: Mapping[str, Any], key: str, source: str, prefix: str, *, example: str) -> tuple[str, ...]:
    items = _str_list(table, key, source, prefix)
    for i, item in enumerate(items):
        check_path(item, where=f"{source}: {prefix}{key}[{i}]", example=example)
    return items


def _str_list(
    table: Mapping[str, Any],
    key: str,
    source: str,
    prefix: str,
    *,
    choices: Sequence[str] | None = None,
    default: Sequence[str] = (),
) -> tuple[str, ...]:
    if key not in table:
        return tuple(default)
    value = table[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):  # pyright: ignore[reportUnknownVariableType]
        raise ConfigError(f'{source}: {prefix}{key} must be an array of strings, e.g. {key} = ["a", "b"].')
    items: list[str] = list(value)  # pyright: ignore[reportUnknownArgumentType]
    if choices is not None:
        for item in items:
            if item not in choices:
                raise ConfigError(
                    f"{source}: {prefix}{key} has unknown value {item!r}; use any of {', '.join(choices)}."
                )
    return tuple(items)
