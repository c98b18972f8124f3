"""`seaworthy.toml`: optional configuration at the source root, validated strictly.

Every error names the key at fault and the fix in its first line. Function arguments override the file
(`Config.override`). Unknown keys are errors (with a "did you mean"), so a typo never silently disables a
check.
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import attrs

from pipeline.errors import ConfigError
from pipeline.model import Category, Severity

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
    """Severity floor of what trivy reports at all (e.g. ["HIGH", "CRITICAL"]); empty: everything.
    The gate's thresholds decide; this only keeps reports small."""
    ignore_unfixed: bool = False
    db_repositories: tuple[str, ...] = ()
    """OCI repositories of the vulnerability DB, tried in order (mirrors for air-gapped users)."""
    java_db_repositories: tuple[str, ...] = ()
    offline: bool = False
    """Never download the DB; refuse to run on one older than `max_db_age_hours`."""
    max_db_age_hours: int = 72
    insecure_registry: bool = False


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

    def override(self, **changes: Any) -> Config:
        """Apply function arguments over the file. `None` and empty values mean "not given"."""
        given = {k: v for k, v in changes.items() if v is not None and v not in ((), [], "")}
        return attrs.evolve(self, **given)


# --- parsing -----------------------------------------------------------------------------------------


def load(text: str | None, *, source: str = CONFIG_FILE) -> Config:
    """Parse and validate `seaworthy.toml` text. None (no file) gives the defaults."""
    if text is None:
        return Config()
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML ({exc}); fix the syntax at that line.") from None
    return from_mapping(data, source=source)


_SECTIONS = ("scan", "build", "sbom", "gate", "exceptions")


def from_mapping(data: Mapping[str, Any], *, source: str = CONFIG_FILE) -> Config:
    _known(data, _SECTIONS, source, "")
    scan = _table(data, "scan", source)
    _known(scan, ("scanners", "skip_paths", "semgrep", "trivy"), source, "scan.")
    scanners = _str_list(scan, "scanners", source, "scan.", choices=SCANNERS, default=SCANNERS)
    skip = _str_list(scan, "skip_paths", source, "scan.")

    sem = _table(scan, "semgrep", source, "scan.")
    _known(sem, ("rules", "packs", "bundled_rules"), source, "scan.semgrep.")
    semgrep = SemgrepConfig(
        rules=_str_list(sem, "rules", source, "scan.semgrep."),
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
    trivy = TrivyConfig(
        scanners=_str_list(
            tri, "scanners", source, "scan.trivy.", choices=TRIVY_SCANNERS, default=TrivyConfig().scanners
        ),
        severities=_str_list(
            tri, "severities", source, "scan.trivy.", choices=("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
        ),
        ignore_unfixed=_bool(tri, "ignore_unfixed", source, "scan.trivy.", False),
        db_repositories=_str_list(tri, "db_repositories", source, "scan.trivy."),
        java_db_repositories=_str_list(tri, "java_db_repositories", source, "scan.trivy."),
        offline=_bool(tri, "offline", source, "scan.trivy.", False),
        max_db_age_hours=_int(tri, "max_db_age_hours", source, "scan.trivy.", 72, minimum=1),
        insecure_registry=_bool(tri, "insecure_registry", source, "scan.trivy.", False),
    )

    bld = _table(data, "build", source)
    _known(bld, ("dockerfile", "target", "platforms", "build_args"), source, "build.")
    args_table = _table(bld, "build_args", source, "build.")
    build_args: list[tuple[str, str]] = []
    for key, value in sorted(args_table.items()):
        if not isinstance(value, str | int | float | bool):
            raise ConfigError(
                f"{source}: build.build_args.{key} must be a string, got {_tname(value)}; "
                f'quote it, e.g. {key} = "{value}".'
            )
        build_args.append((key, str(value).lower() if isinstance(value, bool) else str(value)))
    build = BuildConfig(
        dockerfile=_str(bld, "dockerfile", source, "build.", "Dockerfile"),
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
    for key, value in th.items():
        try:
            category = Category.parse(key)
        except ValueError as exc:
            raise ConfigError(f"{source}: gate.thresholds.{key}: {exc}.") from None
        thresholds[category] = parse_threshold(value, where=f"{source}: gate.thresholds.{key}")
    gate = GateSettings(
        thresholds=thresholds,
        fixable_only=_bool(gt, "fixable_only", source, "gate.", False),
        required_labels=_str_list(gt, "required_labels", source, "gate.", default=GateSettings().required_labels),
        license_deny=_str_list(gt, "license_deny", source, "gate."),
        license_warn=(_str_list(gt, "license_warn", source, "gate.") if "license_warn" in gt else None),
        policy_dirs=_str_list(gt, "policy_dirs", source, "gate."),
        exceptions_file=_str(gt, "exceptions_file", source, "gate.", ""),
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


def _int(table: Mapping[str, Any], key: str, source: str, prefix: str, default: int, *, minimum: int = 0) -> int:
    value = _typed(table, key, source, prefix, default, int, f"a whole number, e.g. {key} = {default}")
    if value < minimum:
        raise ConfigError(f"{source}: {prefix}{key} must be at least {minimum}, got {value}.")
    return value


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
