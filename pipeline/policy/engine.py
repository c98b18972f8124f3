"""Evaluate the gate in-process with regorus (pip `gordon-to-regorus`, import `regorus`).

The pipeline evaluates the gate with OPA in a container (pipeline/tools/opa.py); this evaluates the very
same policy files with regorus, for the tests and for library users who have regorus installed. Both give
the same result document (`data.seaworthy.gate`), read by `pipeline.policy.verdict.read_verdict`.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pipeline.errors import PolicyError

BUNDLED_POLICY_DIR = Path(__file__).resolve().parent / "rego"
"""The bundled policies: lib.rego (package seaworthy.lib), gate.rego (seaworthy.gate), rules/*.rego."""

GATE_QUERY = "data.seaworthy.gate"

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z0-9_.\[\]\"]+)", re.MULTILINE)
_USER_PACKAGE = re.compile(r"seaworthy\.rules\.[A-Za-z_][A-Za-z0-9_]*")
"""What a user policy module must be called: one level under seaworthy.rules."""
_LOCATION = re.compile(r"-->\s*(?P<file>[^\n]*?):(?P<line>\d+):(?P<col>\d+)")


def policy_files(policy_dir: str | Path) -> tuple[Path, ...]:
    """The `.rego` files of a policy folder (recursive, sorted); PolicyError if it is missing or empty."""
    root = Path(policy_dir)
    if not root.is_dir():
        raise PolicyError(
            f"policy folder {root} does not exist; create it with your .rego files or remove it from gate.policy_dirs."
        )
    files = tuple(sorted(p for p in root.rglob("*.rego") if p.is_file()))
    if not files:
        raise PolicyError(
            f"policy folder {root} holds no .rego file; add your rules (package seaworthy.rules.<name>) "
            f"or remove it from gate.policy_dirs."
        )
    return files


def package_of(text: str) -> str:
    m = _PACKAGE.search(text)
    return m.group(1) if m else ""


def check_packages(policy_dirs: Sequence[str | Path]) -> None:
    """Refuse a user policy that reuses a bundled package (it would merge into it, not replace it).

    The first folder is the bundled one. Rules are replaced by rule id (`overrides`), never by package name.
    """
    if not policy_dirs:
        return
    bundled = {package_of(p.read_text(encoding="utf-8")) for p in policy_files(policy_dirs[0])}
    for folder in policy_dirs[1:]:
        for path in policy_files(folder):
            pkg = package_of(path.read_text(encoding="utf-8"))
            if pkg in bundled or not _USER_PACKAGE.fullmatch(pkg):
                raise PolicyError(
                    f"{path}: package {pkg} is a bundled package; name yours seaworthy.rules.<your-name> "
                    f'and replace bundled rules with `overrides contains "<rule id>"` (docs/policy.md).'
                )


def evaluate_with_regorus(
    policy_dirs: Sequence[str | Path],
    input_doc: Mapping[str, Any] | str,
    *,
    query: str = GATE_QUERY,
) -> dict[str, Any]:
    """Load every `.rego` file of `policy_dirs` (bundled first, then the user's) and evaluate the gate.

    `input_doc` is the input document, or its JSON text (as `ship` writes gate-input.json: no second
    serialization of a large input).

    Returns the value of `data.seaworthy.gate` (the same document `pipeline.tools.opa.parse` returns).
    A syntax error raises PolicyError naming the file and line; so does an evaluation error.
    """
    try:
        regorus: Any = importlib.import_module("regorus")
    except ImportError:  # pragma: no cover - depends on the environment
        raise PolicyError(
            "regorus is not installed; install gordon-to-regorus (pip) or evaluate the gate with OPA."
        ) from None
    if not policy_dirs:
        raise PolicyError("no policy folder given; pass the bundled folder (BUNDLED_POLICY_DIR) at least.")
    check_packages(policy_dirs)
    engine: Any = regorus.Engine()
    for folder in policy_dirs:
        for path in policy_files(folder):
            text = path.read_text(encoding="utf-8")
            try:
                engine.add_policy(str(path), text)
            except RuntimeError as exc:
                raise PolicyError(_syntax_message(path, str(exc))) from None
    try:
        text = input_doc if isinstance(input_doc, str) else json.dumps(input_doc, allow_nan=False)
        engine.set_input_json(text)
    except (ValueError, RuntimeError) as exc:  # NaN/Infinity, or text regorus refuses (a lone surrogate)
        raise PolicyError(
            f"the gate input is not plain JSON ({_first_lines(str(exc))}); "
            "give the gate a document without NaN/Infinity and with valid Unicode text."
        ) from None
    try:
        raw: str = engine.eval_query_as_json(query)
    except RuntimeError as exc:
        raise PolicyError(f"evaluating {query} failed: {_first_lines(str(exc))}") from None
    return _value(json.loads(raw), query)


def _value(result: Any, query: str) -> dict[str, Any]:
    try:
        value = result["result"][0]["expressions"][0]["value"]
    except (KeyError, IndexError, TypeError):
        raise PolicyError(
            f"{query} is undefined: the gate package is not loaded; include the bundled policy folder."
        ) from None
    if not isinstance(value, dict):
        raise PolicyError(f"{query} is {type(value).__name__}, expected the gate's result object.")
    return value  # pyright: ignore[reportUnknownVariableType]


def _syntax_message(path: Path, message: str) -> str:
    m = _LOCATION.search(message)
    line = f":{m.group('line')}:{m.group('col')}" if m else ""
    detail = _first_lines(message)
    return f"{path}{line}: the policy does not parse ({detail}); fix the Rego at that line (Rego v1 syntax)."


def _first_lines(message: str) -> str:
    lines = [ln.strip() for ln in message.split("Stack backtrace:", maxsplit=1)[0].splitlines() if ln.strip()]
    errors = [ln for ln in lines if ln.startswith("error:")]
    return "; ".join(errors) if errors else " ".join(lines)[:300]


def bundled_packages() -> frozenset[str]:
    return frozenset(package_of(p.read_text(encoding="utf-8")) for p in policy_files(BUNDLED_POLICY_DIR))


def check_user_policy_texts(files: Mapping[str, str], *, where: str) -> None:
    """The checks of `policy_files` + `check_packages` on a user folder given as {relative name: text}.

    Used by the Dagger stage, which has the folder as a `dagger.Directory` rather than on disk.
    """
    if not files:
        raise PolicyError(
            f"policy folder {where} holds no .rego file; add your rules (package seaworthy.rules.<name>) "
            f"or drop it (--policy / gate.policy_dirs)."
        )
    bundled = bundled_packages()
    for name in sorted(files):
        pkg = package_of(files[name])
        if not pkg:
            raise PolicyError(
                f"{where}/{name}: no package declaration; start the file with package seaworthy.rules.<name>."
            )
        if pkg in bundled or not _USER_PACKAGE.fullmatch(pkg):
            what = "is a bundled package" if pkg in bundled else "is not seaworthy.rules.<one-name>"
            raise PolicyError(
                f"{where}/{name}: package {pkg} {what}; name yours seaworthy.rules.<your-name> "
                f'and replace bundled rules with `overrides contains "<rule id>"` (docs/policy.md).'
            )
