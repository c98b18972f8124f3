"""`seaworthy`: what a newcomer can do without Dagger (console script and ``python -m pipeline``).

    seaworthy check [DIR]                       validate seaworthy.toml and the exception file
    seaworthy gate gate-input.json [--policy DIR]   evaluate a saved gate input (regorus in-process, else OPA)
    seaworthy report report.json --format F     re-render a saved report.json (sarif, junit, markdown, gitlab-…)
    seaworthy explain RULE                      what a rule checks, its severity and the remedy
    seaworthy image-name REF                    the valid (lower-cased) form of a reference built from CI variables

Exit codes: 0 ok (check clean, gate passed); 1 the answer is no (problems found, gate denied);
2 could not answer (bad input, no policy engine, unknown rule, usage). Every error is one line on stderr.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

from pipeline import config as config_mod
from pipeline import rules_catalog
from pipeline.errors import ConfigError, InputError, PolicyError, SeaworthyError
from pipeline.formats import gitlab
from pipeline.formats.json_report import Report, parse_report, verdict_to_json
from pipeline.formats.junit import render_junit
from pipeline.formats.markdown import render_markdown
from pipeline.formats.sarif import render_sarif
from pipeline.model import ToolRun, Verdict
from pipeline.policy import engine
from pipeline.policy.exceptions import Exception_, expired, load_exceptions, parse_exception
from pipeline.policy.schema import load_gate_input
from pipeline.policy.verdict import read_verdict
from pipeline.reports import verdict_messages
from pipeline.tools import opa
from pipeline.tools.image_name import ci_image_name

OK, NO, ERROR = 0, 1, 2

FORMATS = {
    "sarif": "seaworthy.sarif",
    "junit": "junit.xml",
    "markdown": "summary.md",
    "gitlab-sast": gitlab.ReportType.SAST.file_name,
    "gitlab-dependency-scanning": gitlab.ReportType.DEPENDENCY_SCANNING.file_name,
    "gitlab-container-scanning": gitlab.ReportType.CONTAINER_SCANNING.file_name,
    "gitlab-secret-detection": gitlab.ReportType.SECRET_DETECTION.file_name,
}


def version() -> str:
    try:
        return importlib.metadata.version("seaworthy")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        return "0.0.0"


# --- check ----------------------------------------------------------------------------------------------


def check(directory: Path, config_file: Path | None, today: datetime.date) -> tuple[list[str], list[str]]:
    """(problems, notes) of the configuration in `directory`: every problem on one line."""
    problems: list[str] = []
    notes: list[str] = []
    path = config_file or directory / config_mod.CONFIG_FILE
    if not path.is_file():
        if config_file is not None:
            return [f"{path}: no such file; pass the seaworthy.toml to check."], notes
        notes.append(f"{path}: not found, the defaults apply.")
        return problems, notes
    source = path.name if config_file is None else str(path)
    try:
        data = config_mod.parse_toml(_read(path), source=source)
    except ConfigError as e:
        return [_line(e)], notes
    # each section on its own, so that one bad section does not hide the others
    for section in sorted(data):
        if section != "exceptions":
            problems += _section_problems(section, data[section], source)
    cfg: config_mod.Config | None = None
    if not problems:
        try:
            cfg = config_mod.from_mapping(data, source=source)
        except ConfigError as e:
            problems.append(_line(e))
    found: list[Exception_] = []
    tables: Any = data.get("exceptions", [])
    if isinstance(tables, list):
        for i, table in enumerate(cast(list[Any], tables)):
            try:
                found.append(parse_exception(i, table, source=source))
            except ConfigError as e:
                problems.append(_line(e))
    elif cfg is None and not problems:  # pragma: no cover - from_mapping refuses it first
        problems.append(f"{source}: exceptions must be an array of tables; write each one as [[exceptions]].")
    if cfg is not None:
        problems += _check_exceptions_file(directory, cfg, source, found)
        problems += _check_policy_dirs(directory, cfg, source)
    for e in expired(found, today):
        problems.append(
            f"{e.source}: exceptions[{e.index}] ({', '.join(e.targets)}) expired on {e.expires.isoformat()}; "
            "the gate denies it (exception.expired): fix what it covered or renew it after review."
        )
    if not problems:
        notes.append(f"{path}: OK ({len(found)} exception(s)).")
    return problems, notes


def _section_problems(section: str, value: Any, source: str) -> list[str]:
    """Problems of one section. When the section fails, each key is also tried alone, so that every bad key
    gets its own line (a key valid only with a sibling is never reported when the section as a whole passes)."""
    try:
        config_mod.from_mapping({section: value}, source=source)
    except ConfigError as whole:
        first = _line(whole)
    else:
        return []
    out: list[str] = []
    if isinstance(value, dict):
        for key, item in cast(dict[str, Any], value).items():
            try:
                config_mod.from_mapping({section: {key: item}}, source=source)
            except ConfigError as e:
                out.append(_line(e))
    return out if first in out else [first, *out]


def _check_exceptions_file(directory: Path, cfg: config_mod.Config, source: str, found: list[Exception_]) -> list[str]:
    rel = cfg.gate.exceptions_file
    if not rel:
        return []
    file = directory / rel
    if not file.is_file():
        return [
            f"{source}: gate.exceptions_file {rel!r} does not exist in {directory}; fix the path (relative to the "
            "source root) or remove the key."
        ]
    try:
        doc = config_mod.parse_toml(_read(file), source=rel)
        extra = load_exceptions(doc, source=rel, own_file=True)
    except ConfigError as e:
        return [_line(e)]
    found.extend(extra)
    return []


def _check_policy_dirs(directory: Path, cfg: config_mod.Config, source: str) -> list[str]:
    out: list[str] = []
    for rel in cfg.gate.policy_dirs:
        folder = directory / rel
        if not folder.is_dir():
            out.append(f"{source}: gate.policy_dirs {rel!r} does not exist in {directory}; fix the path or drop it.")
            continue
        texts = {str(p.relative_to(folder)): _read(p) for p in sorted(folder.rglob("*.rego")) if p.is_file()}
        try:
            engine.check_user_policy_texts(texts, where=rel)
        except PolicyError as e:
            out.append(_line(e))
    return out


# --- gate -----------------------------------------------------------------------------------------------


def evaluate(input_doc: dict[str, Any], policy_dirs: Sequence[Path], engine_name: str) -> dict[str, Any]:
    dirs: list[str | Path] = [engine.BUNDLED_POLICY_DIR, *policy_dirs]
    engine.check_packages(dirs)
    use = engine_name
    if use == "auto":
        if importlib.util.find_spec("regorus") is not None:
            use = "regorus"
        elif shutil.which("opa"):
            use = "opa"
        else:
            raise PolicyError(
                "no policy engine: install the CLI extra (pip install 'seaworthy[cli]', which brings regorus) or put "
                "opa on PATH."
            )
    if use == "regorus":
        return engine.evaluate_with_regorus(dirs, input_doc)
    binary = shutil.which("opa")
    if binary is None:
        raise PolicyError("--engine opa: opa is not on PATH; install OPA or use --engine regorus.")
    with tempfile.TemporaryDirectory(prefix="seaworthy-gate-") as tmp:
        input_file = Path(tmp) / "gate-input.json"
        input_file.write_text(json.dumps(input_doc), encoding="utf-8")
        argv = [binary, "eval", "--format", "json"]
        for d in dirs:
            argv += ["--data", str(d)]
        argv += ["--input", str(input_file), opa.QUERY]
        got = subprocess.run(argv, capture_output=True, text=True, check=False)
    if got.returncode != 0 and not got.stdout.strip():
        raise PolicyError(f"opa eval failed (exit {got.returncode}): {got.stderr.strip()[:300]}")
    return opa.parse(got.stdout)


def _print_verdict(verdict: Verdict) -> None:
    print("PASSED" if verdict.passed else "FAILED")
    for kind, reasons in (("deny", verdict.denials), ("warn", verdict.warnings)):
        for r in sorted(reasons):
            remedy = f" Fix: {r.remedy}" if r.remedy else ""
            print(f"{kind} {r.rule_id}: {r.message}{remedy}")
    for n in verdict.notes:
        print(f"note: {n}")


# --- report ---------------------------------------------------------------------------------------------


def _runs(report: Report) -> list[ToolRun]:
    """Tool runs rebuilt from the report (their findings are the merged findings each tool took part in)."""
    return [
        ToolRun(
            tool=r.tool,
            version=r.version,
            findings=tuple(f for f in report.findings if r.tool in f.tools),
            exit_code=r.exit_code,
            notes=r.notes,
        )
        for r in report.runs
    ]


def _time(value: str, what: str) -> datetime.datetime:
    try:
        moment = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"{what} {value!r} is not a time; write it as ISO 8601, e.g. 2026-11-27T10:00:00Z") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=datetime.UTC)


def _default_time() -> datetime.datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.UTC)
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def render(report: Report, fmt: str, args: argparse.Namespace) -> bytes:
    runs = _runs(report)
    if fmt == "sarif":
        return render_sarif(runs, report.findings).data
    if fmt == "junit":
        return render_junit(runs, report.findings, report.verdict)
    if fmt == "markdown":
        return render_markdown(runs, report.findings, report.verdict, notes=report.notes).encode("utf-8", "replace")
    end = _time(args.end_time, "--end-time") if args.end_time else _default_time()
    start = _time(args.start_time, "--start-time") if args.start_time else end
    image = ci_image_name(args.image, what="--image") if args.image else ""
    ctx = gitlab.ScanContext(
        start_time=start,
        end_time=end,
        tools={r.tool: r.version for r in report.runs},
        analyzer_version=version(),
        image=image,
        operating_system=args.operating_system or gitlab.UNKNOWN_OS,
        commit_sha=args.commit_sha or os.environ.get("CI_COMMIT_SHA", "") or gitlab.NO_COMMIT,
        messages=(*verdict_messages(report.verdict), *report.notes, *(n for r in report.runs for n in r.notes)),
    )
    kind = gitlab.ReportType(fmt.removeprefix("gitlab-").replace("-", "_"))
    return gitlab.render_gitlab(kind, report.findings, ctx)


# --- plumbing -------------------------------------------------------------------------------------------


def _read(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{path}: is not UTF-8 text; save it as UTF-8.") from None
    except OSError as e:
        raise InputError(f"{path}: cannot be read ({e.strerror}); check the path and its permissions.") from None


def _line(e: BaseException) -> str:
    return " ".join(str(e).split("\n", 1)[0].split())


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="seaworthy", description="Seaworthy without an engine.")
    p.add_argument("--version", action="version", version=f"seaworthy {version()}")
    sub = p.add_subparsers(dest="command", required=True)

    c = sub.add_parser("check", help="validate seaworthy.toml and the exception file")
    c.add_argument("directory", nargs="?", default=".", help="source root holding seaworthy.toml (default: .)")
    c.add_argument("--config", help="a seaworthy.toml elsewhere (paths in it stay relative to DIRECTORY)")
    c.add_argument("--today", help="the day exceptions are checked against (YYYY-MM-DD; default: today)")

    g = sub.add_parser("gate", help="evaluate a saved gate-input.json")
    g.add_argument("input", help="gate-input.json from a ship report")
    g.add_argument("--policy", action="append", default=[], help="your Rego policy folder (repeatable)")
    g.add_argument("--engine", choices=("auto", "regorus", "opa"), default="auto")
    g.add_argument("--json", action="store_true", help="print the verdict as JSON")

    r = sub.add_parser("report", help="render a saved report.json in another format")
    r.add_argument("report", help="report.json from a ship or scan")
    r.add_argument("--format", required=True, choices=sorted(FORMATS))
    r.add_argument("--output", "-o", help="file to write (default: stdout)")
    r.add_argument("--image", default="", help="gitlab-container-scanning: the scanned image reference")
    r.add_argument("--operating-system", default="", help="gitlab-container-scanning: e.g. debian:12")
    r.add_argument("--commit-sha", default="", help="gitlab-secret-detection: default $CI_COMMIT_SHA")
    r.add_argument("--start-time", default="", help="gitlab-*: ISO 8601 (default: the end time)")
    r.add_argument("--end-time", default="", help="gitlab-*: ISO 8601 (default: $SOURCE_DATE_EPOCH, else now)")

    e = sub.add_parser("explain", help="what a rule checks, its severity and the remedy")
    e.add_argument("rule")

    n = sub.add_parser("image-name", help="the valid (lower-cased) form of an image reference")
    n.add_argument("reference")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except SeaworthyError as e:
        print(f"seaworthy {args.command}: {_line(e)}", file=sys.stderr)
        return ERROR


def _run(args: argparse.Namespace) -> int:
    if args.command == "check":
        today = datetime.date.today()
        if args.today:
            try:
                today = datetime.date.fromisoformat(args.today)
            except ValueError:
                raise InputError(f"--today {args.today!r} is not a date; write it as YYYY-MM-DD") from None
        directory = Path(args.directory)
        if not directory.is_dir():
            raise InputError(f"{directory}: not a folder; pass the source root that holds seaworthy.toml")
        problems, notes = check(directory, Path(args.config) if args.config else None, today)
        for line in problems:
            print(line)
        for line in notes:
            print(line)
        return NO if problems else OK
    if args.command == "gate":
        path = Path(args.input)
        input_doc = load_gate_input(_read(path), where=str(path))  # the published JSON Schema, as `gate` does
        verdict = read_verdict(evaluate(input_doc, [Path(p) for p in args.policy], args.engine))
        if args.json:
            print(json.dumps(verdict_to_json(verdict), sort_keys=True, indent=2))
        else:
            _print_verdict(verdict)
        return OK if verdict.passed else NO
    if args.command == "report":
        report = parse_report(_read(Path(args.report)).encode("utf-8"))
        data = render(report, args.format, args)
        if args.output:
            Path(args.output).write_bytes(data)
        else:
            sys.stdout.buffer.write(data)
        return OK
    if args.command == "explain":
        info = rules_catalog.explain(args.rule)
        if info is None:
            close = rules_catalog.suggestions(args.rule)
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise InputError(f"no bundled rule {args.rule!r}{hint}; the ids are in the report's rule_id fields")
        sys.stdout.write(info.render())
        return OK
    print(ci_image_name(args.reference))
    return OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
