"""Read the gate's answer (the value of `data.seaworthy.gate`, from OPA or regorus) into a `Verdict`.

Fails closed: a rule that returns anything but `{id, msg, remedy?, findings?}` objects is a PolicyError
naming the rule, never a silent pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from pipeline.errors import PolicyError
from pipeline.model import Decision, Reason, Verdict

_SHAPE = "a set of objects {id: string, msg: string, remedy: string, findings: [fingerprints]}"


def read_verdict(result: Mapping[str, Any]) -> Verdict:
    """The verdict of a gate result document. `passed` is False as soon as there is one denial."""
    _check_malformed(result.get("malformed", []))
    denials = _reasons(result, "deny", Decision.DENY)
    warnings = _reasons(result, "warn", Decision.WARN)
    notes = [*_strings(result.get("notes", []), "notes"), *_applied(result.get("exceptions_applied", []))]
    return Verdict(
        passed=not denials,
        denials=denials,
        warnings=warnings,
        notes=tuple(sorted(set(notes))),
        policy="rego",
    )


def _check_malformed(items: Any) -> None:
    if not isinstance(items, list) or not items:
        return
    first: Any = cast(list[Any], items)[0]
    if isinstance(first, dict):
        entry = cast(dict[str, Any], first)
        module = entry.get("module", "?")
        kind = entry.get("kind", "?")
        value = entry.get("value")
        if kind == "overrides":
            raise PolicyError(
                f"rule data.seaworthy.rules.{module}.overrides is {_short(value)}; it must be a set of rule ids "
                f'(write `overrides contains "<rule id>"`, one line per id).'
            )
        raise PolicyError(
            f"rule data.seaworthy.rules.{module}.{kind} returned {_short(value)}; it must be {_SHAPE} "
            f'(write `{kind} contains {{"id": ..., "msg": ..., "remedy": ..., "findings": [...]}} '
            f"if {{ ... }}`)."
        )
    raise PolicyError(f"the gate reported a malformed rule it could not name: {_short(first)}")


def _reasons(result: Mapping[str, Any], kind: str, decision: Decision) -> tuple[Reason, ...]:
    if kind not in result:
        raise PolicyError(
            f"the gate result has no {kind!r} member; evaluate data.seaworthy.gate with the bundled gate.rego."
        )
    items: Any = result[kind]
    if not isinstance(items, list):
        raise PolicyError(f"data.seaworthy.gate.{kind} is {type(items).__name__}; it must be {_SHAPE}.")
    out: set[Reason] = set()
    for item in items:  # pyright: ignore[reportUnknownVariableType]
        out.add(_reason(item, kind, decision))
    return tuple(sorted(out))


def _reason(item: Any, kind: str, decision: Decision) -> Reason:
    if not isinstance(item, dict):
        raise PolicyError(f"a {kind} rule returned {_short(item)}; it must be {_SHAPE}.")
    entry = cast(dict[str, Any], item)
    rid: Any = entry.get("id")
    name = f"rule {rid!r}" if isinstance(rid, str) and rid else f"a {kind} rule"
    if not isinstance(rid, str) or not rid:
        raise PolicyError(f"{name} returned {_short(entry)} without a string 'id'; it must be {_SHAPE}.")
    msg: Any = entry.get("msg")
    if not isinstance(msg, str) or not msg:
        raise PolicyError(f"{name} ({kind}) has no string 'msg'; it must be {_SHAPE}.")
    remedy: Any = entry.get("remedy", "")
    if not isinstance(remedy, str):
        raise PolicyError(f"{name} ({kind}) has a 'remedy' that is not a string; it must be {_SHAPE}.")
    findings: Any = entry.get("findings", [])
    if not isinstance(findings, list) or not all(isinstance(x, str) for x in findings):  # pyright: ignore[reportUnknownVariableType]
        raise PolicyError(f"{name} ({kind}) has 'findings' that are not a list of fingerprints; it must be {_SHAPE}.")
    return Reason(
        rule_id=rid,
        decision=decision,
        message=msg,
        remedy=remedy,
        findings=tuple(sorted(set(findings))),  # pyright: ignore[reportUnknownArgumentType]
    )


def _strings(items: Any, what: str) -> list[str]:
    if not isinstance(items, list) or not all(isinstance(x, str) for x in items):  # pyright: ignore[reportUnknownVariableType]
        raise PolicyError(f"data.seaworthy.gate.{what} must be a set of strings.")
    return list(items)  # pyright: ignore[reportUnknownArgumentType]


def _applied(items: Any) -> list[str]:
    if not isinstance(items, list):
        raise PolicyError("data.seaworthy.gate.exceptions_applied must be a set of objects.")
    out: list[str] = []
    for a in items:  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(a, dict) or not _applied_shape(a):  # pyright: ignore[reportUnknownArgumentType]
            raise PolicyError(
                "data.seaworthy.gate.exceptions_applied must be a set of objects with string lists "
                f"'findings', 'rules' and 'targets'; got {_short(a)}."
            )
        out.append(applied_note(a))  # pyright: ignore[reportUnknownArgumentType]
    return out


def _applied_shape(a: Mapping[str, Any]) -> bool:
    for key in ("findings", "rules", "targets"):
        value: Any = a.get(key, [])
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):  # pyright: ignore[reportUnknownVariableType]
            return False
    return True


def applied_note(a: Mapping[str, Any]) -> str:
    """One line per applied exception, as the verdict's notes list it."""
    parts: list[str] = []
    n = len(a.get("findings", []))
    if n:
        parts.append(f"{n} finding(s)")
    rules: list[str] = list(a.get("rules", []))
    if rules:
        parts.append(f"rule(s) {', '.join(rules)}")
    targets = ", ".join(a.get("targets", []))
    return (
        f"exception applied: {a.get('exception')} ({targets}, owner {a.get('owner')}, "
        f"expires {a.get('expires')}) waived {' and '.join(parts) or 'nothing'}"
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 160 else text[:157] + "..."
