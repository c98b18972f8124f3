"""Evaluate the gate in-process with regorus (pip `gordon-to-regorus`, import `regorus`).

The pipeline evaluates the gate with OPA in a container (pipeline/tools/opa.py); this evaluates the very
same policy files with regorus, for the tests and for library users who have regorus installed. Both give
the same result document (`data.seaworthy.gate`), read by `pipeline.policy.verdict.read_verdict`.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import select
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, cast

from pipeline.errors import PolicyError
from pipeline.policy.schema import load_gate_input, validate_gate_input

BUNDLED_POLICY_DIR = Path(__file__).resolve().parent / "rego"
"""The bundled policies: lib.rego (package seaworthy.lib), gate.rego (seaworthy.gate), rules/*.rego."""

GATE_QUERY = "data.seaworthy.gate"

_PACKAGE = re.compile(r"^\s*package\s+([A-Za-z0-9_.\[\]\"]+)", re.MULTILINE)
_USER_PACKAGE = re.compile(r"seaworthy\.rules\.[A-Za-z_][A-Za-z0-9_]*")
"""What a user policy module must be called: one level under seaworthy.rules."""
_LOCATION = re.compile(r"-->\s*(?P<file>[^\n]*?):(?P<line>\d+):(?P<col>\d+)")

POLICY_TIMEOUT_SECONDS = 60.0
"""How long one gate evaluation may take (OPA `--timeout`, regorus in a child process); then it is an error."""

FORBIDDEN_BUILTINS = (
    "http.send",
    "net.*",
    "opa.runtime",
    "rego.parse_module",
    "time.now_ns",
    "rand.intn",
    "uuid.rfc4122",
    "io.jwt.decode_verify",
    "crypto.x509.parse_and_verify_certificates",
    "crypto.x509.parse_and_verify_certificates_with_options",
    "trace",
    "print",
)
"""Built-ins a policy may not call (docs/policy.md, "Built-ins"): the network, the runtime's environment, the
clock and randomness (a verdict must depend on the input document only), parsing further policy at run time,
and output channels that bypass the verdict. `net.*` is every built-in of that namespace."""


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


def read_policy_text(path: Path, *, name: str | None = None) -> str:
    """The text of one `.rego` file; PolicyError naming it if it is not UTF-8 or starts with a BOM."""
    shown = name or str(path)
    data = path.read_bytes()
    return decode_policy(data, shown)


def decode_policy(data: bytes, shown: str) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        raise PolicyError(
            f"{shown} starts with a UTF-8 byte order mark; save it as UTF-8 without BOM "
            f"(engines differ on whether they accept one)."
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PolicyError(
            f"{shown} is not UTF-8 text (byte 0x{data[exc.start]:02x} at line {line}); "
            f"save it as UTF-8 (Rego source is UTF-8)."
        ) from None


def check_packages(policy_dirs: Sequence[str | Path]) -> dict[Path, str]:
    """Check every user policy folder (all but the first, the bundled one) as `check_user_policy_texts` does.

    Rules are replaced by rule id (`overrides`), never by package name. Returns {path: text} of the user files.
    """
    out: dict[Path, str] = {}
    for folder in policy_dirs[1:]:
        root = Path(folder)
        files = policy_files(root)
        data_files = {p.relative_to(root).as_posix() for ext in ("json", "yaml", "yml") for p in root.rglob(f"*.{ext}")}
        check_no_data_files(sorted(data_files), where=str(root))
        texts = {p.relative_to(root).as_posix(): read_policy_text(p, name=str(p)) for p in files}
        check_user_policy_texts(texts, where=str(root))
        out.update({root / name: text for name, text in texts.items()})
    return out


def evaluate_with_regorus(
    policy_dirs: Sequence[str | Path],
    input_doc: Mapping[str, Any] | str,
    *,
    input_text: str | None = None,
    query: str = GATE_QUERY,
    timeout: float = POLICY_TIMEOUT_SECONDS,
) -> dict[str, Any]:
    """Load every `.rego` file of `policy_dirs` (bundled first, then the user's) and evaluate the gate.

    `input_doc` is the input document, or its JSON text (read back and validated). A caller that has both,
    as `ship` has (the document it built and the gate-input.json text it writes), passes the document and
    `input_text=` its `json.dumps`: the document is validated as it is, the text goes to regorus as it is,
    and neither is parsed or serialized again (issue 8: 100k findings). The text must be the document's JSON.

    Returns the value of `data.seaworthy.gate` (the same document `pipeline.tools.opa.parse` returns).
    Fails closed with a one-line PolicyError: an input that does not match the gate input schema, a user
    file that is empty, not UTF-8, outside seaworthy.rules.<name>, calls a forbidden built-in or is
    recursive (regorus would crash), a syntax error (file and line), an evaluation error, an evaluation that
    takes longer than `timeout` seconds or crashes. A forked child reads the text and evaluates while this
    process validates the document; an invalid document stops the child, and no verdict comes from it.
    """
    try:
        regorus: Any = importlib.import_module("regorus")
    except ImportError:  # pragma: no cover - depends on the environment
        raise PolicyError(
            "regorus is not installed; install gordon-to-regorus (pip) or evaluate the gate with OPA."
        ) from None
    if not policy_dirs:
        raise PolicyError("no policy folder given; pass the bundled folder (BUNDLED_POLICY_DIR) at least.")
    if input_text is not None and isinstance(input_doc, str):
        raise TypeError("input_text= goes with an input document (a mapping), not with JSON text")

    def validate() -> None:
        if query != GATE_QUERY:
            return
        if isinstance(input_doc, str):
            load_gate_input(input_doc, where="(in-process)")  # parsed and validated; regorus reads the text
        else:
            validate_gate_input(input_doc, where="(in-process)")

    # The input's own errors come first, then the policies', then what regorus makes of the text, as when each
    # step waited for the one before; but the valid case (all of them pass) validates the document in this
    # process while a forked child reads the text and evaluates (two cores: issue 8, 100k findings). A verdict
    # is only read once the document is valid: an invalid one stops the child and raises.
    try:
        engine = _load_policies(regorus, policy_dirs)
    except PolicyError:
        validate()
        raise
    if input_text is not None:
        text = input_text
    elif isinstance(input_doc, str):
        text = input_doc
    else:
        try:
            text = json.dumps(input_doc, allow_nan=False)
        except Exception as exc:  # the document's own error first (its validation used to run before this)
            validate()
            if isinstance(exc, ValueError):  # NaN/Infinity in a document the schema accepts
                raise _not_plain_json(exc) from None
            raise
    raw = _eval_bounded(engine, query, timeout, input_text=text, meanwhile=validate)
    return _value(json.loads(raw), query)


def _load_policies(regorus: Any, policy_dirs: Sequence[str | Path]) -> Any:
    """A fresh engine holding the bundled policies (parsed once per process) and the user's, checked."""
    user_texts = check_packages(policy_dirs)
    first = tuple((str(path), read_policy_text(path)) for path in policy_files(policy_dirs[0]))
    engine: Any = _parsed_policies(regorus, first).clone()  # the bundled folder, parsed once per process
    user_files: set[str] = set()
    for folder in policy_dirs[1:]:
        for path in policy_files(folder):
            text = user_texts.get(path)
            if text is None:  # pragma: no cover - check_packages read every file of these folders
                text = read_policy_text(path)
            user_files.add(str(path))
            _add_policy(engine, str(path), text)
    if user_files:  # the bundled policies alone have no cycle (tests/hostile/test_user_policies.py checks it)
        check_recursion(json.loads(engine.get_ast_as_json()), user_files)
    return engine


def _not_plain_json(exc: Exception) -> PolicyError:
    return PolicyError(
        f"the gate input is not plain JSON ({_first_lines(str(exc))}); "
        "give the gate a document without NaN/Infinity and with valid Unicode text."
    )


_PARSED: dict[tuple[tuple[str, str], ...], Any] = {}
"""Engines holding a policy folder's files as parsed ({(name, text), …}: a changed file is a new key); each
evaluation works on a clone (copy on write: microseconds), never on the cached engine itself."""


def _parsed_policies(regorus: Any, sources: tuple[tuple[str, str], ...]) -> Any:
    engine = _PARSED.get(sources)
    if engine is None:
        engine = regorus.Engine()
        for name, text in sources:
            _add_policy(engine, name, text)
        if len(_PARSED) >= 8:  # a long-lived process that evaluates many edited folders: keep the newest
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[sources] = engine
    return engine


def _add_policy(engine: Any, name: str, text: str) -> None:
    try:
        engine.add_policy(name, text)
    except RuntimeError as exc:
        raise PolicyError(_syntax_message(Path(name), str(exc))) from None


def _eval_bounded(
    engine: Any, query: str, timeout: float, *, input_text: str, meanwhile: Callable[[], None] = lambda: None
) -> str:
    """Read the input and evaluate in a forked child: a time limit that can be enforced, a crash of regorus
    stays there, and this process runs `meanwhile` (the input's validation) at the same time. If `meanwhile`
    raises, the child is stopped and the error goes on. `timeout` counts from the fork."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child process (its coverage is not collected)
        try:
            os.close(read_end)
            try:
                engine.set_input_json(input_text)
            except BaseException as exc:  # NaN/Infinity, or text regorus refuses (a lone surrogate)
                payload = b"input\n" + str(exc).encode("utf-8", "replace")
            else:
                try:
                    payload = b"ok\n" + engine.eval_query_as_json(query).encode()
                except BaseException as exc:  # reported to the parent, which raises PolicyError
                    payload = b"error\n" + str(exc).encode("utf-8", "replace")
            view = memoryview(payload)
            while view:
                view = view[os.write(write_end, view) :]
        finally:
            os._exit(0)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    finished = False
    try:
        meanwhile()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise PolicyError(
                    f"evaluating {query} took longer than {timeout:g} s and was stopped; a policy iterates too much "
                    f"(e.g. findings x findings): make your rules linear in the input, or split the input."
                )
            ready, _, _ = select.select([read_end], [], [], remaining)
            if not ready:
                continue
            data = os.read(read_end, 1 << 20)
            if not data:
                finished = True
                break
            chunks.append(data)
    finally:
        os.close(read_end)
        if not finished:  # timed out, invalid input or interrupted: the child must not outlive the call
            os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise PolicyError(
            f"regorus crashed (signal {os.WTERMSIG(status)}) evaluating {query}; no verdict. Check your policies "
            f"for deep recursion or huge values, or evaluate the gate with OPA."
        )
    out = b"".join(chunks)
    head, _, body = out.partition(b"\n")
    text = body.decode("utf-8", "replace")
    if head == b"input":
        raise _not_plain_json(RuntimeError(text))
    if head != b"ok":
        raise PolicyError(f"evaluating {query} failed: {_first_lines(text)}")
    return text


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


DATA_FILE_PATTERNS = ("**/*.json", "**/*.yaml", "**/*.yml")
"""What `opa eval --data <folder>` would load from a policy folder as data documents besides the `.rego` files."""


def check_no_data_files(names: Sequence[str], *, where: str) -> None:
    """Refuse data files in a user policy folder: OPA would load them under `data` (regorus would not), so
    they could add `deny`/`warn`/`overrides` members that no `.rego` check ever saw."""
    for name in sorted(names):
        raise PolicyError(
            f"{where}/{name}: a data file in a policy folder, which OPA would load into data.*; move it out "
            f"(policy folders hold .rego files only: docs/policy.md)."
        )


def check_user_policy_texts(files: Mapping[str, str], *, where: str) -> None:
    """The checks of `policy_files` + `check_packages` on a user folder given as {relative name: text}.

    Used by the Dagger stage, which has the folder as a `dagger.Directory` rather than on disk. Each file
    must hold a package seaworthy.rules.<name> (not a bundled one) and call no forbidden built-in.
    """
    if not files:
        raise PolicyError(
            f"policy folder {where} holds no .rego file; add your rules (package seaworthy.rules.<name>) "
            f"or drop it (--policy / gate.policy_dirs)."
        )
    bundled = bundled_packages()
    for name in sorted(files):
        text = files[name]
        shown = f"{where}/{name}"
        if text.startswith("\ufeff"):
            raise PolicyError(
                f"{shown} starts with a UTF-8 byte order mark; save it as UTF-8 without BOM "
                f"(engines differ on whether they accept one)."
            )
        if "\ufffd" in text:
            raise PolicyError(
                f"{shown}:{text.count(chr(10), 0, text.index(chr(0xFFFD))) + 1}: holds U+FFFD, the mark of bytes "
                f"that are not UTF-8 (as the file was read); save it as UTF-8 (Rego source is UTF-8)."
            )
        code = code_only(text)
        if not code.strip():
            raise PolicyError(
                f"{shown} is empty (no package, no rule); write package seaworthy.rules.<name> and your rules "
                f"in it, or delete it."
            )
        pkg = package_of(code)
        if not pkg:
            raise PolicyError(f"{shown}: no package declaration; start the file with package seaworthy.rules.<name>.")
        if pkg in bundled or not _USER_PACKAGE.fullmatch(pkg):
            what = "is a bundled package" if pkg in bundled else "is not seaworthy.rules.<one-name>"
            raise PolicyError(
                f"{shown}: package {pkg} {what}; name yours seaworthy.rules.<your-name> "
                f'and replace bundled rules with `overrides contains "<rule id>"` (docs/policy.md).'
            )
        for builtin, line in forbidden_calls(code):
            raise PolicyError(
                f"{shown}:{line}: package {pkg} calls {builtin}, a built-in the gate forbids (network, "
                f"environment, clock, randomness or output: docs/policy.md); decide on the input document only."
            )
        for target, line in replaced_with(code):
            raise PolicyError(
                f"{shown}:{line}: package {pkg} replaces {target} with `with`; which rule of the gate reads which "
                f"member of data (or which built-in) is not part of its interface, so the replacement could "
                f"silently change nothing: read the lib's members and filter them, or replace only input "
                f"(`with input as …`; docs/policy.md)."
            )


# --- static checks over Rego source ------------------------------------------------------------------------

_CODE_TOKEN = re.compile(r'#[^\n]*|"(?:[^"\\\n]|\\.)*"?|`[^`]*`?')
_CALL = re.compile(r"(?<![\w.\]])([A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*\(")


def code_only(text: str) -> str:
    """The Rego text with comments and string contents blanked (newlines kept, so offsets and lines hold)."""

    def blank(m: re.Match[str]) -> str:
        token = m.group(0)
        if token.startswith("#"):
            return " " * len(token)
        inner = re.sub(r"[^\n]", " ", token[1:-1]) if len(token) > 1 else ""
        return token[0] + inner + (token[-1] if len(token) > 1 else "")

    return _CODE_TOKEN.sub(blank, text)


def forbidden_calls(code: str) -> Iterator[tuple[str, int]]:
    """(built-in, line) for each call of a FORBIDDEN_BUILTINS entry in `code` (see `code_only`)."""
    for m in _CALL.finditer(code):
        name = re.sub(r"\s+", "", m.group(1))
        for banned in FORBIDDEN_BUILTINS:
            if name == banned or (banned.endswith(".*") and name.startswith(banned[:-1])):
                yield name, code.count("\n", 0, m.start()) + 1


_WITH = re.compile(r"(?<![\w.])with\s+([A-Za-z_][A-Za-z0-9_]*(?:\s*\.\s*[A-Za-z_][A-Za-z0-9_]*)*)")


def replaced_with(code: str) -> Iterator[tuple[str, int]]:
    """(target, line) for each `with <target> as …` in `code` (see `code_only`) whose target is not `input`:
    `with data.…` replaces a rule or a lib member, `with count` mocks a built-in, for what is evaluated
    under it."""
    for m in _WITH.finditer(code):
        target = re.sub(r"\s+", "", m.group(1))
        if target != "input" and not target.startswith("input."):
            yield target, code.count("\n", 0, m.start()) + 1


Node = tuple[str, str]
"""A rule in the call graph: (package path without `data.`, first name of the rule's head)."""


def check_recursion(modules: Any, user_files: set[str]) -> None:
    """Refuse a user module that takes part in a cycle of rule or function references.

    Rego forbids recursion (OPA's compiler refuses it); regorus 0.13 does not check and overflows its stack,
    killing the process. `modules` is regorus' `get_ast_as_json()`; references through a computed key
    (`data.seaworthy.rules[name]`) count as references to every rule they could name, so a user rule that
    reads `data.seaworthy.gate` (which reads every module's deny/warn) is a cycle too.
    """
    rules: dict[Node, list[list[str | None]]] = {}
    files: dict[Node, tuple[str, int]] = {}
    for module in cast(list[dict[str, Any]], modules):
        file = str(module.get("source", {}).get("file", ""))
        ast: Any = module.get("ast", {})
        package = ".".join(str(k) for k in _ref_path(ast.get("package", {}).get("refr")) if k is not None)
        package = package.removeprefix("data.")
        source = str(module.get("source", {}).get("contents", "")).encode()
        aliases: dict[str, list[str | None]] = {}
        for imp in ast.get("imports", []):
            path = _ref_path(imp.get("refr"))
            alias: Any = path[-1] if path else None
            start: Any = _at(imp, "as", "start")
            end: Any = _at(imp, "as", "end")
            if isinstance(start, int) and isinstance(end, int):  # regorus gives the alias as its place in the source
                alias = source[start:end].decode("utf-8", "replace")
            if isinstance(alias, str) and path and path[0] == "data":
                aliases[alias] = path
        for rule in ast.get("rules", []):
            spec: Any = rule.get("Spec") or rule.get("Default") or {}
            head_path = _head_path(spec)
            if not head_path or not isinstance(head_path[0], str):
                continue
            node = (package, head_path[0])
            span = _first_span(rule)
            files.setdefault(node, (file, span))
            refs = rules.setdefault(node, [])
            for path in _refs(spec.get("bodies", [])):
                refs.append(_absolute(path, package, aliases))
            for path in _refs(_head_values(spec.get("head", {}))):
                refs.append(_absolute(path, package, aliases))
    graph = {node: _targets(refs, rules) for node, refs in rules.items()}
    for component in _components(graph):
        user = [n for n in component if files[n][0] in user_files]
        if not user:
            continue
        node = user[0]
        loop = [*_cycle_from(node, set(component), graph), node]
        file, line = files[node]
        chain = " -> ".join(f"data.{p}.{r}" for p, r in loop)
        raise PolicyError(
            f"{file}:{line}: package {node[0]} rule {node[1]} is recursive ({chain}); Rego forbids recursion "
            f"(OPA refuses it, regorus would crash): rewrite it without referring back to itself or to "
            f"data.seaworthy.gate / data.seaworthy.collect."
        )


def _ref_path(node: Any) -> list[str | None]:
    """`a.b["c"][x]` -> ["a", "b", "c", None]; [] when `node` is not a reference."""
    if not isinstance(node, dict):
        return []
    entry = cast(dict[str, Any], node)
    if "Var" in entry:
        return [str(entry["Var"].get("value"))]
    if "RefDot" in entry:
        dot: Any = entry["RefDot"]
        field: Any = dot.get("field")
        name: Any = field
        if isinstance(field, list):
            name = cast(list[Any], field)[-1] if field else ""
        return [*_ref_path(dot.get("refr")), str(name)]
    if "RefBrack" in entry:
        brack: Any = entry["RefBrack"]
        index: Any = brack.get("index")
        key = _at(index, "String", "value")
        return [*_ref_path(brack.get("refr")), None if key is None else str(key)]
    return []


def _at(node: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(node, dict):
            return None
        node = cast(dict[str, Any], node).get(key)
    return node


def _head_path(spec: Mapping[str, Any]) -> list[str | None]:
    head = spec.get("head", spec)
    if not isinstance(head, dict):
        return []
    entry = cast(dict[str, Any], head)
    for value in entry.values():
        if isinstance(value, dict) and "refr" in value:
            return _ref_path(cast(dict[str, Any], value)["refr"])
    return _ref_path(entry.get("refr"))


def _head_values(head: Any) -> Any:
    """What a rule head computes (its value, key, arguments' defaults), without the head's own name."""
    if not isinstance(head, dict):
        return []
    out: list[Any] = []
    for value in cast(dict[str, Any], head).values():
        if isinstance(value, dict):
            out.extend(v for k, v in cast(dict[str, Any], value).items() if k not in ("refr", "span"))
    return out


def _first_span(node: Any) -> int:
    stack = [node]
    while stack:
        item = stack.pop(0)
        if isinstance(item, dict):
            entry = cast(dict[str, Any], item)
            span = entry.get("span")
            if isinstance(span, dict) and "line" in span:
                return int(cast(dict[str, Any], span)["line"])
            stack.extend(entry.values())
        elif isinstance(item, list):
            stack.extend(cast(list[Any], item))
    return 0


def _refs(node: Any) -> Iterator[list[str | None]]:
    """Every reference in an AST subtree (outermost only; index expressions are searched too)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(cast(list[Any], item))
            continue
        if not isinstance(item, dict):
            continue
        entry = cast(dict[str, Any], item)
        if "Var" in entry or "RefDot" in entry or "RefBrack" in entry:
            yield _ref_path(entry)
            stack.extend(_indexes(entry))
            continue
        stack.extend(v for k, v in entry.items() if k != "span")


def _indexes(node: Mapping[str, Any]) -> Iterator[Any]:
    while True:
        if "RefDot" in node:
            node = node["RefDot"].get("refr", {})
        elif "RefBrack" in node:
            yield node["RefBrack"].get("index")
            node = node["RefBrack"].get("refr", {})
        else:
            return


def _absolute(path: list[str | None], package: str, aliases: Mapping[str, list[str | None]]) -> list[str | None]:
    """A reference as a path under `data` ([] for input, locals and built-ins outside the package)."""
    if not path or path[0] is None:
        return []
    if path[0] == "data":
        return path[1:] or [None]  # `data` itself: every rule
    if path[0] in aliases:
        return [*aliases[path[0]][1:], *path[1:]]
    if path[0] == "input":
        return []
    return [*package.split("."), *path]  # a local name: a rule of this package if one has it


def _targets(refs: list[list[str | None]], rules: Mapping[Node, object]) -> set[Node]:
    out: set[Node] = set()
    for node in rules:
        full = [*node[0].split("."), node[1]]
        for ref in refs:
            if ref and all(r is None or r == f for r, f in zip(ref, full, strict=False)):
                out.add(node)
                break
    return out


def _components(graph: Mapping[Node, set[Node]]) -> Iterator[list[Node]]:
    """The strongly connected components that hold a cycle, each sorted (Tarjan, iterative), in a stable order."""
    index: dict[Node, int] = {}
    low: dict[Node, int] = {}
    on_stack: set[Node] = set()
    stack: list[Node] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work: list[tuple[Node, Iterator[Node]]] = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, set())))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: list[Node] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.get(node, set()):
                    yield sorted(component)


def _cycle_from(start: Node, members: set[Node], graph: Mapping[Node, set[Node]]) -> list[Node]:
    """The shortest path start -> ... (back to start) inside one strongly connected component (breadth first)."""
    previous: dict[Node, Node] = {}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph.get(node, set()) & members):
            if child == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return list(reversed(path))
            if child not in previous:
                previous[child] = node
                queue.append(child)
    return [start]
