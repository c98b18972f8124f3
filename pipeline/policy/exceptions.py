"""The one exception file: `[[exceptions]]` tables in `seaworthy.toml` or in a TOML file of their own.

Parsing and validation only; the caller loads the TOML. Whether an exception is expired is decided against
an explicit `today` (no hidden clock); the gate itself (Rego) applies them, fails on expired ones and reports
the ones that matched nothing.

    [[exceptions]]
    target = ["CVE-2018-18074"]           # finding rule ids / CVE ids / fingerprints / gate rule ids
    package = "requests"                  # optional scope: package name (case-insensitive; PEP 503 for pypi) …
    version = "2.19.0"                    # … and version (exact)
    path = "requirements*.txt"            # optional scope: glob over finding locations
    image = "registry.example/app"        # optional scope: glob over the built image's repository
    owner = "team-payments"
    reason = "Not reachable: we never send requests with redirects to untrusted hosts"
    expires = 2026-03-31                  # last valid day (TOML date or "YYYY-MM-DD")
    justification = "vulnerable_code_not_in_execute_path"   # optional, OpenVEX
"""

from __future__ import annotations

import datetime
import difflib
from collections.abc import Mapping, Sequence
from typing import Any, cast

from pipeline import safetext
from pipeline.errors import ConfigError
from pipeline.model_gate import Exception_, ExceptionScope, glob_problem

__all__ = [
    "BUNDLED_RULE_IDS",
    "POLICY_RULE_IDS",
    "VEX_JUSTIFICATIONS",
    "ExceptionScope",
    "Exception_",
    "active",
    "expired",
    "load_exceptions",
    "parse_exception",
    "parse_exceptions",
    "unwaivable",
]

BUNDLED_RULE_IDS = (
    "dependency.dev-not-shipped",
    "dependency.dev-shipped",
    "exception.expired",
    "image.base-no-digest",
    "image.base-unpinned",
    "image.digest-mismatch",
    "image.labels",
    "image.root-user",
    "license.copyleft",
    "license.denied",
    "sast.no-coverage",
    "sbom.empty",
    "threshold.dependency",
    "threshold.image-vulnerability",
    "threshold.license",
    "threshold.misconfiguration",
    "threshold.sast",
    "threshold.secret",
)
"""Rule ids of the bundled Rego rules (pipeline/policy/rego); exceptions may target them."""

POLICY_RULE_IDS = (
    "policy.override",
    "policy.override-forbidden",
    "policy.override-relaxed",
    "policy.override-without-replacement",
    "policy.reserved-id",
)
"""Rule ids of the gate's checks on user policies (gate.rego). Like `exception.expired`, no exception waives
them and no policy overrides them (`policy.*`)."""

UNWAIVABLE = frozenset({"exception.expired", *POLICY_RULE_IDS})


RELAXATION_RULE_ID = "config.relaxed"
"""The gate's warning for a configuration knob that relaxes it (rules/relaxations.rego)."""

LONG_LIVED_RULE_ID = "exception.long-lived"
"""The gate's warning for an exception that expires more than a year ahead (rules/exceptions.rego)."""


def unwaivable(target: str) -> bool:
    """Whether no exception may name `target`: the gate's own checks, `exception.*`, `policy.*` and `config.*`
    (an exception cannot hide that the configuration or another exception relaxed the gate)."""
    return target in UNWAIVABLE or target.startswith(("policy.", "config.", "exception."))


VEX_JUSTIFICATIONS = (
    "component_not_present",
    "inline_mitigations_already_exist",
    "vulnerable_code_cannot_be_controlled_by_adversary",
    "vulnerable_code_not_in_execute_path",
    "vulnerable_code_not_present",
)

_KEYS = ("target", "package", "version", "path", "image", "owner", "reason", "expires", "justification")
_REQUIRED_HINT = {
    "target": 'target = ["CVE-2024-1234"] (finding ids, CVE ids, fingerprints or gate rule ids)',
    "owner": 'owner = "team-or-person" (who answers for this exception)',
    "reason": 'reason = "why the risk is accepted"',
    "expires": "expires = 2026-12-31 (last valid day, YYYY-MM-DD)",
}


def load_exceptions(
    document: Mapping[str, Any], *, source: str = "seaworthy.toml", own_file: bool = False
) -> tuple[Exception_, ...]:
    """Exceptions of a loaded `seaworthy.toml`, or (`own_file=True`) of a file of only `[[exceptions]]`."""
    unknown = sorted(set(document) - {"exceptions"})
    if own_file and unknown:
        raise ConfigError(
            f"{source}: unexpected top-level key(s) {', '.join(unknown)}; an exception file holds only "
            f"[[exceptions]] tables."
        )
    tables: Any = document.get("exceptions", [])
    if not isinstance(tables, list):
        raise ConfigError(
            f"{source}: exceptions must be an array of tables; write each one as [[exceptions]] with "
            f"target, owner, reason and expires."
        )
    return parse_exceptions(tables, source=source)  # pyright: ignore[reportUnknownArgumentType]


def load_exception_file(text: str, *, source: str) -> tuple[Exception_, ...]:
    """The exceptions of a separate exception file (`gate.exceptions_file`): TOML of only [[exceptions]], read
    like seaworthy.toml (`pipeline.config.parse_toml`: a BOM accepted, nesting and characters checked)."""
    from pipeline.config import parse_toml  # not at the top: pipeline.config imports pipeline.policy

    return load_exceptions(parse_toml(text, source=source), source=source, own_file=True)


def parse_exceptions(tables: Sequence[Mapping[str, Any]], *, source: str = "seaworthy.toml") -> tuple[Exception_, ...]:
    """Validate `[[exceptions]]` tables. Errors name the exception (`exceptions[i]`), the key and the fix."""
    return tuple(_parse_one(i, t, source) for i, t in enumerate(tables))


def expired(exceptions: Sequence[Exception_], today: datetime.date) -> tuple[Exception_, ...]:
    return tuple(e for e in exceptions if e.expired(today))


def active(exceptions: Sequence[Exception_], today: datetime.date) -> tuple[Exception_, ...]:
    return tuple(e for e in exceptions if not e.expired(today))


def _parse_one(index: int, table: Mapping[str, Any], source: str) -> Exception_:
    where = f"{source}: exceptions[{index}]"
    if not isinstance(table, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ConfigError(f"{where} is not a table; write it as [[exceptions]] with target, owner, reason, expires.")
    for key in table:
        if key not in _KEYS:
            close = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: unknown key {key!r}{hint}; allowed keys: {', '.join(_KEYS)}.")
    for key, hint in _REQUIRED_HINT.items():
        if key not in table or table[key] in ("", [], None):
            raise ConfigError(f"{where}: missing {key!r}; add {hint}.")

    targets = _targets(table["target"], where)
    owner = _text(table, "owner", where)
    reason = _text(table, "reason", where)
    expires = _date(table["expires"], where)
    scope = ExceptionScope(
        package=_text(table, "package", where, required=False),
        version=_text(table, "version", where, required=False),
        path=_text(table, "path", where, required=False),
        image=_text(table, "image", where, required=False),
    )
    for key, value in (("path", scope.path), ("image", scope.image)):
        problem = glob_problem(value) if value else None
        if problem is None and key == "path" and value:
            problem = safetext.path_problem(value)
        if problem:
            example = "src/**/*.py" if key == "path" else "registry.example/app*"
            raise ConfigError(
                f"{where}.{key} = {safetext.show(value)} is not a valid glob ({problem}); fix it, e.g. "
                f'{key} = "{example}".'
            )
    if scope.version and not scope.package:
        raise ConfigError(f"{where}: 'version' needs 'package'; add package = \"<name>\" or drop version.")
    justification = _text(table, "justification", where, required=False)
    if justification and justification not in VEX_JUSTIFICATIONS:
        raise ConfigError(
            f"{where}: justification {justification!r} is not an OpenVEX justification; use one of "
            f"{', '.join(VEX_JUSTIFICATIONS)}, or leave it out."
        )
    for target in targets:
        if target == "exception.expired":
            raise ConfigError(f"{where}: {target!r} cannot be waived; renew (or remove) the expired exception instead.")
        if target.startswith(("config.", "exception.")):
            raise ConfigError(
                f"{where}: {target!r} is the gate's notice of a relaxation and cannot be waived; change the "
                f"configuration key or the exception it names instead."
            )
        if unwaivable(target):
            raise ConfigError(
                f"{where}: {target!r} is the gate's check on user policies and cannot be waived; fix the policy "
                f"module it names (docs/policy.md, overrides)."
            )
        if target in BUNDLED_RULE_IDS and (scope.package or scope.path):
            raise ConfigError(
                f"{where}: gate rule {target!r} can be scoped by image only; drop package/path, "
                f"or target the "
                f"findings (their ids or fingerprints) to waive them under a path or package."
            )
    return Exception_(
        index=index,
        targets=targets,
        owner=owner,
        reason=reason,
        expires=expires,
        scope=scope,
        justification=justification,
        source=source,
    )


def _targets(value: Any, where: str) -> tuple[str, ...]:
    items: list[Any] = (
        [value] if isinstance(value, str) else cast(list[Any], value) if isinstance(value, list) else [None]
    )
    out: list[str] = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise ConfigError(
                f"{where}: 'target' must be a non-empty string or a list of them; write "
                f'target = ["CVE-2024-1234", "image.root-user"].'
            )
        problem = safetext.char_problem(item) or (" " in item.strip() and "it contains a space") or None
        if problem:
            raise ConfigError(
                f"{where}: target {safetext.show(item)} is not a finding id, fingerprint or rule id ({problem}); "
                f'write ids as the reports show them, e.g. target = ["CVE-2024-1234"].'
            )
        out.append(item.strip())
    return tuple(sorted(set(out)))


def _text(table: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> str:
    value = table.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f'{where}: {key!r} must be a string; write {key} = "...".')
    problem = safetext.char_problem(value, multiline=key == "reason")
    if problem:
        raise ConfigError(f"{where}: {key} = {safetext.show(value)} contains {problem}; retype it in plain text.")
    value = value.strip()
    if required and not value:
        raise ConfigError(f"{where}: missing {key!r}; add {_REQUIRED_HINT.get(key, key)}.")
    return value


def _date(value: Any, where: str) -> datetime.date:
    fix = "write expires = YYYY-MM-DD (the last day the exception is valid), e.g. expires = 2026-12-31"
    if isinstance(value, datetime.datetime):
        raise ConfigError(f"{where}: 'expires' must be a date without a time; {fix}.")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        try:
            if len(value.strip()) != 10:
                raise ValueError(value)
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            raise ConfigError(f"{where}: 'expires' = {value!r} is not a date; {fix}.") from None
    raise ConfigError(f"{where}: 'expires' must be a date; {fix}.")


def parse_exception(index: int, table: Mapping[str, Any], *, source: str = "seaworthy.toml") -> Exception_:
    """Validate the `[[exceptions]]` table at position `index` alone (so a checker can report every bad one)."""
    return _parse_one(index, table, source)
