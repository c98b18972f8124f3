"""Hypothesis strategies for fuzzing Seaworthy's parsers and loaders.

Two kinds of input: arbitrary values (any JSON, any text, including lone surrogates, huge numbers and deep
nesting) and structure-aware mutations of a realistic seed document (a subtree replaced by arbitrary JSON,
a key deleted, a value's type changed, a list duplicated), serialized and sometimes truncated.
"""

from __future__ import annotations

import copy
import datetime
import json
import math
import os
from collections.abc import Callable, Iterator
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from pipeline.errors import SeaworthyError

FUZZ = settings(
    # bounded so that the whole fuzz suite runs in well under 2 minutes; raise it for a longer hunt:
    # SEAWORTHY_FUZZ_EXAMPLES=2000 SEAWORTHY_FUZZ_RANDOM=1 .venv/bin/pytest tests/fuzz
    max_examples=int(os.environ.get("SEAWORTHY_FUZZ_EXAMPLES", "100")),
    deadline=None,
    derandomize=not os.environ.get("SEAWORTHY_FUZZ_RANDOM"),  # by default the same examples on every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
"""Settings of every fuzz test: bounded, deterministic, no example database."""

# Any character, lone surrogates included (they survive json.loads of "\ud800" and break encoders).
ANY_CHAR = st.one_of(st.characters(), st.integers(0xD800, 0xDFFF).map(chr))
TEXT = st.text(ANY_CHAR, max_size=30)
NASTY_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\ud800",
        "a\udcffb",
        "\u202e",
        "\x00",
        "\ufeff",
        "..",
        "../../etc/passwd",
        "/abs/path",
        "C:\\x\\y",
        "C:/x",
        "file:///a/b",
        "%2e%2e/x",
        "sha256:",
        "sha256:" + "a" * 64,
        "a" * 300,
        "[",
        "**/[",
        "*",
        "CRITICAL",
        "critical",
        "HIGH",
        "error",
        "warning",
        "note",
        "none",
        "1e400",
        "NaN",
        "9999-12-31",
        "2026-01-01",
        "MIT OR (GPL-2.0-only AND",
        "((((",
    ]
)
STRINGS = st.one_of(TEXT, NASTY_TEXT)
INTS = st.one_of(
    st.integers(-5, 70_000),
    st.sampled_from([0, -1, 2**31, 2**63, -(2**63) - 1, 10**30]),
)
FLOATS = st.floats(allow_nan=True, allow_infinity=True)
SCALARS = st.one_of(st.none(), st.booleans(), INTS, FLOATS, STRINGS)


def json_values(keys: st.SearchStrategy[str] = STRINGS) -> st.SearchStrategy[Any]:
    return st.recursive(
        SCALARS,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4),
            st.dictionaries(st.one_of(keys, STRINGS), inner, max_size=4),
        ),
        max_leaves=12,
    )


JSON = json_values()


def deep(depth: int, leaf: Any = 1, *, kind: str = "list") -> Any:
    """A value nested `depth` levels deep (lists or objects): breaks recursive descent."""
    value = leaf
    for _ in range(depth):
        value = [value] if kind == "list" else {"a": value}
    return value


DEEP_JSON_TEXT = st.sampled_from(
    [
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        "[" * 5000,
    ]
)


def _slots(doc: Any) -> Iterator[tuple[Any, Any]]:
    """Every (container, key) of a JSON document, depth first."""
    stack = [doc]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for k in list(node):  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
                yield node, k
                stack.append(node[k])
        elif isinstance(node, list):
            for i in range(len(node)):  # pyright: ignore[reportUnknownArgumentType]
                yield node, i
                stack.append(node[i])


def _retype(value: Any) -> list[Any]:
    return [
        None,
        True,
        0,
        -1,
        1.5,
        math.inf,
        "",
        "x",
        [],
        {},
        [value],
        {"x": value},
        str(value)[:50],
    ]


@st.composite
def mutated(draw: st.DrawFn, seed: Any, keys: tuple[str, ...] = ()) -> Any:
    """`seed` (deep-copied) with one to four structural mutations."""
    doc = copy.deepcopy(seed)
    key_strategy = st.sampled_from(keys) if keys else STRINGS
    for _ in range(draw(st.integers(1, 4))):
        slots = list(_slots(doc))
        if not slots:
            return draw(JSON)
        container, key = draw(st.sampled_from(slots))
        op = draw(st.sampled_from(["replace", "delete", "retype", "duplicate", "add-key", "nasty"]))
        if op == "replace":
            container[key] = draw(json_values(key_strategy))
        elif op == "delete":
            del container[key]
        elif op == "retype":
            container[key] = draw(st.sampled_from(_retype(container[key])))
        elif op == "duplicate":
            container[key] = [container[key], copy.deepcopy(container[key])]
        elif op == "nasty":
            container[key] = draw(NASTY_TEXT)
        elif isinstance(container, dict):
            container[draw(key_strategy)] = draw(SCALARS)
    return doc


def dumps(doc: Any) -> str:
    """JSON text as tools write it (NaN/Infinity allowed: Python's reader accepts them)."""
    return json.dumps(doc)


@st.composite
def json_text(draw: st.DrawFn, seed: Any, keys: tuple[str, ...] = ()) -> str:
    """Text of a mutated seed, sometimes truncated or prefixed, or arbitrary text and deep nesting."""
    kind = draw(st.sampled_from(["mutated", "mutated", "mutated", "truncated", "bom", "any-json", "text", "deep"]))
    if kind == "text":
        return draw(st.text(ANY_CHAR, max_size=200))
    if kind == "deep":
        return draw(DEEP_JSON_TEXT)
    if kind == "any-json":
        return dumps(draw(JSON))
    text = dumps(draw(mutated(seed, keys)))
    if kind == "truncated":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if kind == "bom":
        return "\ufeff" + text
    return text


def keys_of(doc: Any) -> tuple[str, ...]:
    """Every key of a seed document: mutations reuse them so they reach deep code paths."""
    found: set[str] = set()
    for container, key in _slots(doc):
        if isinstance(container, dict):
            found.add(str(key))
    return tuple(sorted(found))


def only_own_errors(fn: Callable[[], Any]) -> Any:
    """Run `fn`; a Seaworthy error is an accepted outcome, anything else escapes and fails the test."""
    try:
        return fn()
    except SeaworthyError as exc:
        message = str(exc)
        assert message.strip(), f"{type(exc).__name__} with an empty message"
        return None


TOML_DATES = st.sampled_from([datetime.date(2026, 1, 1), datetime.date(9999, 12, 31), datetime.date(1, 1, 1)])


def toml_value(value: Any) -> str:
    """A TOML inline rendering of a JSON-like value (dates bare), for loaders that read TOML text."""
    if value is None:
        return '""'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, dict):
        items = [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        return "{" + ", ".join(items) + "}"
    raise TypeError(type(value))


def toml_document(doc: dict[str, Any]) -> str:
    """A whole TOML document: each top-level key as `key = <inline value>`."""
    return "".join(f"{json.dumps(str(k))} = {toml_value(v)}\n" for k, v in doc.items())
