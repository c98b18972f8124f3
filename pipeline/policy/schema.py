"""Validate a gate input document against its published JSON Schema before any evaluation.

The schema is `gate-input.schema.json` next to this file (JSON Schema 2020-12, `seaworthy.gate-input/v2`): the
one source of truth, linked from docs/policy.md and read here. This module interprets the subset of JSON
Schema the file uses (type, const, enum, required, properties, additionalProperties, items, minItems,
minLength, minimum, maximum, pattern, anyOf, allOf, if/then, $ref into $defs); the tests check that the
`jsonschema` package agrees with it on every hostile case. It runs inside the Dagger module, where only the
runtime dependencies exist, and it stops at the first problem with one line naming the JSON path and the fix.
"""

from __future__ import annotations

import functools
import json
import math
import operator
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

from pipeline.errors import PolicyError

SCHEMA_FILE = Path(__file__).resolve().parent / "gate-input.schema.json"
SCHEMA_ID = "seaworthy.gate-input/v2"
OLD_SCHEMAS = frozenset({"seaworthy.gate-input/v1"})

_SUPPORTED = frozenset(
    {
        "$schema",
        "$id",
        "$defs",
        "$ref",
        "title",
        "description",
        "type",
        "const",
        "enum",
        "required",
        "properties",
        "additionalProperties",
        "items",
        "minItems",
        "minLength",
        "minimum",
        "maximum",
        "pattern",
        "anyOf",
        "allOf",
        "if",
        "then",
    }
)
_REGENERATE = (
    "re-run `ship` to regenerate gate-input.json, or fix the document to pipeline/policy/gate-input.schema.json"
)


Path_ = tuple[Any, ...] | None
"""A JSON path as a linked list (parent, key), turned into text only when there is an error."""


class _Invalid(Exception):
    def __init__(self, path: Path_, problem: str) -> None:
        super().__init__(path, problem)
        self.at = path
        self.problem = problem

    @property
    def path(self) -> str:
        keys: list[str | int] = []
        node = self.at
        while node is not None:
            node, key = node
            keys.append(key)
        text = ""
        for key in reversed(keys):
            text = _child(text, key)
        return text


@functools.cache
def gate_input_schema() -> Mapping[str, Any]:
    """The published schema (parsed once); a keyword this validator does not know is a PolicyError."""
    schema = cast(dict[str, Any], json.loads(SCHEMA_FILE.read_text(encoding="utf-8")))
    _check_keywords(schema, "#")
    return schema


def _check_keywords(node: Any, where: str) -> None:
    if isinstance(node, dict):
        for key, value in cast(dict[str, Any], node).items():
            if where.endswith(("/properties", "/$defs")):
                _check_keywords(value, f"{where}/{key}")
                continue
            if key not in _SUPPORTED:
                raise PolicyError(f"{SCHEMA_FILE}: keyword {key!r} at {where} is not supported by this validator")
            _check_keywords(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(cast(list[Any], node)):
            _check_keywords(item, f"{where}/{i}")


def load_gate_input(text: str, *, where: str) -> dict[str, Any]:
    """Parse and validate gate input JSON text; PolicyError (one line, naming `where`) if it is not valid."""
    if text.startswith("\ufeff"):
        raise PolicyError(
            f"gate input {where} starts with a UTF-8 byte order mark; save it without BOM (or {_REGENERATE})."
        )
    try:
        doc = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except _Invalid as exc:
        raise PolicyError(f"gate input {where}: {exc.problem}; {_REGENERATE}.") from None
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"gate input {where} is not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); {_REGENERATE}."
        ) from None
    except RecursionError:
        raise PolicyError(f"gate input {where} is nested too deeply to be a gate input; {_REGENERATE}.") from None
    validate_gate_input(doc, where=where)
    return cast(dict[str, Any], doc)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Invalid(None, f"the key {key!r} appears twice in one object (engines disagree on which one counts)")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise _Invalid(None, f"{name} is not a JSON number")


def validate_gate_input(doc: Any, *, where: str = "document") -> None:
    """Refuse (PolicyError) a document that does not match the published gate input schema."""
    version: Any = cast(dict[str, Any], doc).get("schema") if isinstance(doc, dict) else None
    if version is None:
        raise PolicyError(
            f"gate input {where} is not a Seaworthy gate input (it is {_describe(_json_type(doc))} without "
            f'"schema": "{SCHEMA_ID}"); pass the gate-input.json of a ship report.'
        )
    if isinstance(version, str) and version in OLD_SCHEMAS:
        raise PolicyError(
            f"gate input {where} is {version}, written by an older Seaworthy; re-run `ship` to regenerate "
            f"it as {SCHEMA_ID} (the gate decides only on the current schema)."
        )
    try:
        _validate(doc)
    except _Invalid as exc:
        path = exc.path or "the document"
        raise PolicyError(f"gate input {where}: {path} {exc.problem}; {_REGENERATE}.") from None
    except RecursionError:
        raise PolicyError(f"gate input {where} is nested too deeply to be a gate input; {_REGENERATE}.") from None
    _unique_fingerprints(cast(dict[str, Any], doc)["findings"], where)


def _unique_fingerprints(findings: list[dict[str, Any]], where: str) -> None:
    """Refuse two findings with one fingerprint (beyond what JSON Schema can say): the rules and exceptions tell
    findings apart by it, so a finding sharing another's could be set aside or waived with it (`ship` merges
    findings by fingerprint: its documents never have two)."""
    fingerprints = [f["fingerprint"] for f in findings]
    if len(set(fingerprints)) == len(fingerprints):
        return
    first: dict[str, int] = {}
    for i, fp in enumerate(fingerprints):
        j = first.setdefault(fp, i)
        if j != i:
            raise PolicyError(
                f"gate input {where}: findings[{i}].fingerprint {_show(fp)} is also findings[{j}]'s; each finding "
                f"needs its own (rules and exceptions tell findings apart by it): merge the two, or {_REGENERATE}."
            )


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if math.isfinite(value) and value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return type(a) in (int, float, str, type(None)) and bool(a == b)


def _show(value: Any) -> str:
    try:
        text = json.dumps(value, ensure_ascii=True)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _child(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=True)}]"


def _describe(kind: str) -> str:
    return {"null": "null", "object": "an object", "array": "an array", "integer": "an integer"}.get(kind, f"a {kind}")


def _resolve(root: Mapping[str, Any], ref: str) -> Mapping[str, Any]:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return cast(Mapping[str, Any], node)


Check = Callable[[Any, Path_], None]

_PATTERN_WORDS = {"#/$defs/date": "a date YYYY-MM-DD"}


@functools.cache
def _compiled() -> Check:
    root = gate_input_schema()
    return _Compiler(root).compile(root, "#")


def _validate(value: Any, path: Path_ = None) -> None:
    outer = _PASSED.checks
    _PASSED.checks = {}  # this call's: an id names one object only while the document holds it
    try:
        _compiled()(value, path)
    finally:
        _PASSED.checks = outer


class _Passed(threading.local):
    """The objects and arrays one validation has already seen pass, by identity: {id(value): check}.

    A document `build_input` made shares one package dict, locations list or tools list between many
    findings; each is checked once per call. A check is a pure function of the value (the path only names
    it in the message) and the document is not changed while it is validated, so a value that passed a
    check passes it again, and skipping it changes no outcome; a value that fails raises at its first
    place, as without this. Only successes are kept, only during one `_validate` call (None outside one:
    the compiled checks called directly keep nothing)."""

    checks: dict[int, Check] | None = None


_PASSED = _Passed()
_CONTAINERS = (dict, list)


class _Compiler:
    """Turns the schema into nested closures once, so that 100k findings validate in well under a second."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}

    def ref(self, ref: str) -> Check:
        if ref not in self.refs:
            self.refs[ref] = self.compile(_resolve(self.root, ref), ref)
        return self.refs[ref]

    def compile(self, schema: Mapping[str, Any], name: str = "") -> Check:
        checks: list[Check] = []
        if "$ref" in schema:
            checks.append(self.ref(schema["$ref"]))
        if "const" in schema:
            checks.append(_const(schema["const"]))
        if "enum" in schema:
            checks.append(_enum(list(schema["enum"])))
        kind = schema.get("type")
        is_object = any(k in schema for k in ("required", "properties", "additionalProperties"))
        is_array = "items" in schema or "minItems" in schema
        # an object (array) check that knows its type also refuses other types itself: one call less per value
        if kind is not None and not (kind == "object" and is_object) and not (kind == "array" and is_array):
            checks.append(_type(kind))
        if "anyOf" in schema:
            branches = list(schema["anyOf"])
            checks.append(_any_of([self.compile(b) for b in branches], [b.get("type") == "null" for b in branches]))
        table = _const_table(schema.get("allOf", ()))
        switch = None
        if table is not None:
            key, cases = table
            switch = _switch(
                key,
                {value: self.compile(then) for value, then in cases.items()},
                {value: pin for value, then in cases.items() if (pin := _pinned(then)) is not None},
            )
        if is_object:
            props = {k: (self.compile(v), _fast(v, self.root)) for k, v in schema.get("properties", {}).items()}
            extra = schema.get("additionalProperties", True)
            checks.append(
                _object(
                    tuple(schema.get("required", ())),
                    props,
                    extra is False,
                    self.compile(cast(Mapping[str, Any], extra)) if isinstance(extra, dict) else None,
                    typed=kind == "object",
                    then=switch,
                )
            )
            switch = None
        if is_array:
            items = schema.get("items")
            checks.append(
                _array(
                    self.compile(items) if items is not None else None,
                    schema.get("minItems", 0),
                    typed=kind == "array",
                    fast=_fast(items, self.root) if items is not None else None,
                )
            )
        if "minLength" in schema or "pattern" in schema:
            checks.append(_string(schema.get("minLength", 0), schema.get("pattern"), _PATTERN_WORDS.get(name)))
        if "minimum" in schema or "maximum" in schema:
            checks.append(_number(schema.get("minimum"), schema.get("maximum")))
        if switch is not None:
            checks.append(switch)
        elif table is None:
            for sub in schema.get("allOf", ()):
                if "if" in sub:
                    checks.append(_conditional(_predicate(self, sub["if"]), self.compile(sub.get("then", {}))))
                else:
                    checks.append(self.compile(sub))
        if not checks:
            return _anything
        if len(checks) == 1:
            return checks[0]

        def all_of(value: Any, path: Path_) -> None:
            for check in checks:
                check(value, path)

        return all_of


def _anything(value: Any, path: Path_) -> None:
    return None


def _const(expected: Any) -> Check:
    def check(value: Any, path: Path_) -> None:
        if not _equal(value, expected):
            raise _Invalid(path, f"is {_show(value)}, must be {_show(expected)}")

    return check


def _enum(options: list[Any]) -> Check:
    strings = frozenset(o for o in options if isinstance(o, str))

    def check(value: Any, path: Path_) -> None:
        if type(value) is str and value in strings:
            return
        if any(_equal(value, o) for o in options):
            return
        hint = ""
        if isinstance(value, str):
            near = [o for o in options if isinstance(o, str) and o.lower() == value.lower()]
            if near:
                hint = f" (write {near[0]!r}: the gate compares exactly)"
        raise _Invalid(path, f"is {_show(value)}, not one of {', '.join(map(str, options))}{hint}")

    return check


_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "object": (dict,),
    "array": (list,),
    "boolean": (bool,),
    "null": (type(None),),
}


def _type(types: str | list[str]) -> Check:
    allowed = [types] if isinstance(types, str) else list(types)
    fast = tuple(t for name in allowed for t in _PY_TYPES.get(name, ())) + ((int,) if "integer" in allowed else ())

    def check(value: Any, path: Path_) -> None:
        if type(value) in fast:
            return
        kind = _json_type(value)
        if kind in allowed or (kind == "integer" and "number" in allowed):
            return
        raise _Invalid(path, f"is {_describe(kind)}, must be {' or '.join(_describe(t) for t in allowed)}")

    return check


def _any_of(branches: list[Check], null_branch: list[bool]) -> Check:
    nullable = any(null_branch)
    # a non-null value is tried against the non-null branches first (no exception raised for the common case)
    ordered = [b for b, is_null in zip(branches, null_branch, strict=True) if not is_null]
    ordered += [b for b, is_null in zip(branches, null_branch, strict=True) if is_null]
    null_branch = [False] * (len(branches) - sum(null_branch)) + [True] * sum(null_branch)

    def check(value: Any, path: Path_) -> None:
        if value is None and nullable:
            return
        errors: list[_Invalid] = []
        for branch in ordered:
            try:
                branch(value, path)
            except _Invalid as exc:
                errors.append(exc)
            else:
                return
        # `null or X`: the value is not null, so what X says is the useful message
        real = [e for e, is_null in zip(errors, null_branch, strict=True) if not is_null]
        raise real[0] if len(real) == 1 else errors[0]

    return check


Fast = tuple[str, Any] | None
"""A shortcut for a leaf schema: ("types", python types) | ("enum", strings) | ("string", min length)."""


def _fast(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Fast:
    """How to accept a valid leaf value without a call (a failure still goes through the full check)."""
    if set(schema) == {"$ref"}:
        return _fast(_resolve(root, schema["$ref"]), root)
    if set(schema) == {"enum"} and all(isinstance(o, str) for o in schema["enum"]):
        return ("enum", frozenset(schema["enum"]))
    kind = schema.get("type")
    if isinstance(kind, str) and kind in _PY_TYPES:
        if set(schema) == {"type"}:
            return ("types", _PY_TYPES[kind])
        if kind == "string" and set(schema) == {"type", "minLength"}:
            return ("string", schema["minLength"])
    if kind == "integer" and set(schema) <= {"type", "minimum", "maximum"}:
        return ("int", (schema.get("minimum", -math.inf), schema.get("maximum", math.inf)))
    return None


def _object(
    required: tuple[str, ...],
    props: dict[str, tuple[Check, Fast]],
    closed: bool,
    extra: Check | None,
    *,
    typed: bool,
    then: Check | None,
) -> Check:
    known = ", ".join(props)
    names = frozenset(props)
    plan: list[tuple[str, Check, str, Any]] = [
        (key, check, fast[0] if fast else "", fast[1] if fast else None) for key, (check, fast) in props.items()
    ]

    def check(value: Any, path: Path_) -> None:
        if type(value) is not dict:
            if typed:
                raise _Invalid(path, f"is {_describe(_json_type(value))}, must be an object")
            return
        doc: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
        passed = _PASSED.checks
        for key in required:
            if key not in doc:
                raise _Invalid(path, f"has no {key!r} member (required)")
        if closed and not doc.keys() <= names:
            for key in doc:
                if key not in props:
                    raise _Invalid(
                        path, f"has an unknown member {_show(key)} (known: {known}); remove it or fix its spelling"
                    )
        for key, sub, how, arg in plan:
            if key not in doc:
                continue
            item = doc[key]
            if how == "types":
                if type(item) in arg:
                    continue
            elif how == "enum":
                if type(item) is str and item in arg:
                    continue
            elif how == "string":
                if type(item) is str and len(item) >= arg:
                    continue
            elif how == "int":
                if type(item) is int and arg[0] <= item <= arg[1]:
                    continue
            elif passed is not None and type(item) in _CONTAINERS:
                # shared between findings (a package, locations, tools): checked once per validation
                if passed.get(id(item)) is sub:
                    continue
                sub(item, (path, key))
                passed[id(item)] = sub
                continue
            sub(item, (path, key))
        if extra is not None:
            for key in sorted(doc):
                if key not in props:
                    extra(doc[key], (path, key))
        if then is not None:
            then(doc, path)

    whole = set(required) <= names  # every required member is a property: all properties present, all required

    def bulk(seq: list[Any]) -> bool:
        """True if every item of `seq` passes `check` (nothing raised): the findings array's 100k objects
        tested a member at a time over all of them (a column), each member of every object present; False:
        `check` them one by one (an absent optional member, a failure: its message comes from there)."""
        if not typed or extra is not None or not whole or set(map(type, seq)) != {dict}:
            return False
        docs = cast(list[dict[str, Any]], seq)
        if closed and set(map(len, docs)) != {len(names)}:  # with every member present: no other member
            return False
        columns: dict[str, list[Any]] = {}
        for key, sub, how, arg in plan:
            try:
                column: list[Any] = list(map(operator.itemgetter(key), docs))
            except KeyError:
                return False
            if not _column_passes(column, sub, how, arg):
                return False
            columns[key] = column
        if then is not None:
            then_bulk = _BULK.get(then)
            return then_bulk is not None and then_bulk(columns)
        return True

    _BULK[check] = bulk
    return check


def _array(items: Check | None, min_items: int, *, typed: bool, fast: Fast = None, bulk: bool = True) -> Check:
    # a non-empty string item (tools, targets, labels) is accepted without a call; any other goes to `items`
    strings = fast is not None and fast[0] == "string"
    min_length: int = fast[1] if fast is not None and strings else 0
    # objects (findings, components): all accepted at once where they all pass, else one by one
    all_pass = _BULK.get(items) if bulk and items is not None else None

    def check(value: Any, path: Path_) -> None:
        if type(value) is not list:
            if typed:
                raise _Invalid(path, f"is {_describe(_json_type(value))}, must be an array")
            return
        seq: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
        if len(seq) < min_items:
            raise _Invalid(path, f"has {len(seq)} item(s), needs at least {min_items}")
        if items is not None:
            if all_pass is not None and len(seq) >= _BULK_FROM and all_pass(seq):
                return
            for i, item in enumerate(seq):
                if strings and type(item) is str and len(item) >= min_length:
                    continue
                items(item, (path, i))

    return check


def _string(min_length: int, pattern: str | None, words: str | None) -> Check:
    compiled = re.compile(pattern) if pattern else None

    def check(value: Any, path: Path_) -> None:
        if type(value) is not str:
            return
        if len(value) < min_length:
            raise _Invalid(path, "is empty, must be a non-empty string")
        if compiled is not None and not compiled.search(value):
            raise _Invalid(path, f"is {_show(value)}, not {words or 'matching ' + compiled.pattern}")

    return check


def _number(minimum: float | None, maximum: float | None) -> Check:
    def check(value: Any, path: Path_) -> None:
        if _json_type(value) not in ("integer", "number"):
            return
        if minimum is not None and value < minimum:
            raise _Invalid(path, f"is {_show(value)}, below the minimum {minimum}")
        if maximum is not None and value > maximum:
            raise _Invalid(path, f"is {_show(value)}, above the maximum {maximum}")

    return check


def _const_table(subs: Any) -> tuple[str, dict[str, Mapping[str, Any]]] | None:
    """`allOf` of `if {key: const "a"} then A`, `if {key: const "b"} then B`, …: one lookup instead of N tests."""
    keys: set[str] = set()
    cases: dict[str, Mapping[str, Any]] = {}
    for sub in subs:
        condition = sub.get("if", {})
        props = condition.get("properties", {})
        if set(sub) != {"if", "then"} or set(condition) != {"properties"} or len(props) != 1:
            return None
        ((key, test),) = props.items()
        if set(test) != {"const"} or not isinstance(test["const"], str) or test["const"] in cases:
            return None
        keys.add(key)
        cases[test["const"]] = sub["then"]
    if len(keys) != 1:
        return None
    return keys.pop(), cases


def _pinned(then: Mapping[str, Any]) -> tuple[str, Any] | None:
    """(member, value) when `then` only says `{"properties": {member: {"const": value}}}` with an int or str value."""
    props = then.get("properties")
    if set(then) != {"properties"} or not isinstance(props, dict) or len(cast(dict[str, Any], props)) != 1:
        return None
    ((member, test),) = cast(dict[str, Any], props).items()
    if not isinstance(test, dict) or set(cast(dict[str, Any], test)) != {"const"}:
        return None
    expected: Any = cast(dict[str, Any], test)["const"]
    if type(expected) not in (int, str):
        return None
    return str(member), expected


def _switch(key: str, cases: dict[str, Check], pins: dict[str, tuple[str, Any]]) -> Check:
    """`cases[doc[key]]` applies; `pins` holds the cases that pin one member to an int or str constant, which
    a valid value passes by one lookup (hot: the rank of each of 100k findings). Anything else, and every
    failure, goes through the compiled case for its message."""

    def check(value: Any, path: Path_) -> None:
        if type(value) is not dict:
            return
        doc: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
        selected: Any = doc.get(key)
        if type(selected) is not str:
            return
        pin = pins.get(selected)
        if pin is not None:
            member, expected = pin
            got: Any = doc.get(member, _MISSING)
            if got is _MISSING or (type(got) is type(expected) and got == expected):
                return
        then = cases.get(selected)
        if then is not None:
            _rank_message(then, value, path)

    def bulk(columns: dict[str, list[Any]]) -> bool:
        """True if every object passes `check` by its pin, given their members as columns (all present)."""
        selected = columns.get(key)
        if selected is None or set(map(type, selected)) != {str}:
            return False
        chosen = set(cast(list[str], selected))
        if not chosen <= pins.keys() or len({pins[c][0] for c in chosen}) != 1:
            return False
        got = columns.get(pins[next(iter(chosen))][0])
        if got is None or not set(map(type, got)) <= {int, str}:  # no bool (True == 1), nothing else to compare
            return False
        # (str, int | str) pairs: equal only when the case's constant is the value, of its type
        return set(zip(selected, got, strict=True)) <= {(c, pins[c][1]) for c in chosen}

    _BULK[check] = bulk
    return check


_MISSING = object()

_BULK: dict[Check, Callable[[Any], bool]] = {}
"""The compiled object checks (and `_switch` checks) that can accept a whole array of values at once."""
_BULK_FROM = 32
"""Arrays of at least this many objects are tried at once first."""


def _column_passes(column: list[Any], sub: Check, how: str, arg: Any) -> bool:
    """True if every value of one member, over many objects, passes `sub`: by its shortcut (`_fast`) over the
    whole column, or by `sub` once per distinct object (a package dict, locations list… shared by many)."""
    types = set(map(type, column))
    if how == "types":
        return types <= set(arg)
    if how == "enum":
        return types <= {str} and set(column) <= arg
    if how == "string":
        return types <= {str} and (arg <= 0 or min(map(len, column), default=arg) >= arg)
    if how == "int":
        return types <= {int} and (not column or (arg[0] <= min(column) and max(column) <= arg[1]))
    for value in dict(zip(map(id, column), column, strict=True)).values():  # each distinct object once
        try:
            sub(value, None)
        except (_Invalid, RecursionError):  # checked again one object at a time: the first failure is named
            return False
    return True


def _rank_message(then: Check, value: Any, path: Path_) -> None:
    try:
        then(value, path)
    except _Invalid as exc:
        if isinstance(value, dict) and exc.at == (path, "rank"):
            doc = cast(dict[str, Any], value)
            expected = _RANKS.get(str(doc.get("severity")))
            raise _Invalid(
                exc.at,
                f"is {_show(doc.get('rank'))} but severity {doc.get('severity')} has rank {expected} "
                f"(UNKNOWN 0, INFO 1, LOW 2, MEDIUM 3, HIGH 4, CRITICAL 5): set it to {expected}",
            ) from None
        raise


def _predicate(compiler: _Compiler, condition: Mapping[str, Any]) -> Callable[[Any], bool]:
    props: Mapping[str, Any] = condition.get("properties", {})
    if set(condition) == {"properties"} and len(props) == 1:
        ((key, sub),) = props.items()
        if set(sub) == {"const"}:
            expected = sub["const"]
            # JSON Schema: `properties` holds vacuously for a non-object or an absent member
            return lambda v: type(v) is not dict or key not in v or _equal(v[key], expected)
    check = compiler.compile(condition)

    def holds(value: Any) -> bool:
        try:
            check(value, None)
        except _Invalid:
            return False
        return True

    return holds


def _conditional(condition: Callable[[Any], bool], then: Check) -> Check:
    def check(value: Any, path: Path_) -> None:
        if condition(value):
            _rank_message(then, value, path)

    return check


_RANKS = {"UNKNOWN": 0, "INFO": 1, "LOW": 2, "MEDIUM": 3, "HIGH": 4, "CRITICAL": 5}
