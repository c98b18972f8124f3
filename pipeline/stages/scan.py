"""The source-scan stage: semgrep, gitleaks, trivy fs, hadolint, bandit and njsscan on the source tree,
concurrently.

Dockerfiles: hadolint lints every Dockerfile/Containerfile of the tree outside the skip paths (plus the one
that is built, `[build] dockerfile`), in one run; trivy's misconfiguration scanner reads the same files by
itself and also runs Seaworthy's own checks (``pipeline/rules/trivy``) with their data (the tree's
``.dockerignore`` files, the build arguments). When both ran, their findings about the same problem on the
same line are merged (`pipeline.tools.dockerfile_rules.fold`).

bandit and njsscan run only when the tree has files of their language (`pipeline.tools.languages`); when
it has none, their run carries a note saying so instead of findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import anyio
import attrs
import dagger
from dagger import dag

from pipeline import config as config_mod
from pipeline.config import Config
from pipeline.errors import InputError, ToolOutputError
from pipeline.formats import sbom_pair
from pipeline.model import ToolRun
from pipeline.stages import image as image_stage
from pipeline.stages import trivydb
from pipeline.stages.bundled import directory as bundled_directory
from pipeline.stages.runner import Mountable, collect_fresh, day_buster, tool_container, unwrap
from pipeline.tools import bandit, dockerfile_rules, gitleaks, hadolint, languages, njsscan, semgrep, trivy
from pipeline.tools.base import IN, SRC, Invocation

RULES_DIR = semgrep.RULES_DIR
INVENTORY_DIR = semgrep.INVENTORY_DIR
IGNOREFILE = f"{IN}/trivyignore.yaml"
"""Where trivy's ignore file (rendered from the exceptions) is mounted."""


def bundled_rules() -> dagger.Directory:
    """The semgrep rules shipped with Seaworthy (offline by default)."""
    return bundled_directory("rules/semgrep")


def bundled_trivy_checks() -> dagger.Directory:
    """Seaworthy's own trivy checks (Rego, ``SW-DS-…``)."""
    return bundled_directory("rules/trivy")


DOCKERIGNORE_GLOBS = ("**/.dockerignore", "**/*.dockerignore", ".dockerignore", "*.dockerignore")


async def _glob(source: dagger.Directory, patterns: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for pattern in patterns:
        found.update(await source.glob(pattern))
        if pattern.startswith("**/"):  # the tree's root as well, whatever the engine's ** matches
            found.update(await source.glob(pattern[3:]))
    return found


async def find_dockerfiles(source: dagger.Directory, cfg: Config, *, explicit: str = "") -> tuple[str, ...]:
    """Every Dockerfile/Containerfile of the tree outside the skip paths, plus the one that is built.

    `explicit` (a ``--dockerfile`` argument) must exist: `InputError` naming ``--dockerfile`` otherwise. The
    configured ``[build] dockerfile`` is added when it exists (it may have any name).
    """
    always: list[str] = []
    if explicit:
        await image_stage.check_source(source, explicit)
        always.append(explicit)
    elif await source.exists(cfg.build.dockerfile, expected_type=dagger.ExistsType.REGULAR_TYPE):
        always.append(cfg.build.dockerfile)
    found = await _glob(source, dockerfile_rules.GLOBS)
    return dockerfile_rules.select_dockerfiles(found, cfg.skip_paths, always=always)


async def trivy_check_data(source: dagger.Directory, cfg: Config) -> dagger.Directory:
    """The data folder of the bundled trivy checks: the tree's .dockerignore files and the build arguments."""
    ignores = await _glob(source, DOCKERIGNORE_GLOBS)
    text = trivy.check_data(
        dockerignore=ignores,
        build_args=dict(cfg.build.build_args),
        dockerfile=cfg.build.dockerfile,
        target=cfg.build.target,
    )
    return dag.directory().with_new_file(trivy.CHECK_DATA_FILE, text)


def inventory_rules() -> dagger.Directory:
    """semgrep's coverage inventory rules (one never-matching rule per language: see `semgrep`)."""
    return bundled_directory("rules/inventory")


def invocation(
    name: str,
    cfg: Config,
    *,
    ignorefile: str | None = None,
    dockerfiles: Sequence[str] | None = None,
    trivy_checks: bool = False,
) -> Invocation:
    """The Invocation of one source scanner, from the configuration.

    `dockerfiles`: what hadolint lints (default: ``[build] dockerfile``). `trivy_checks`: add Seaworthy's own
    trivy checks and their data (mounted at `trivy.CHECKS_DIR` and `trivy.CHECK_DATA_DIR`).
    """
    if name == "semgrep":
        rules = tuple(f"{SRC}/{r.lstrip('/')}" for r in cfg.semgrep.rules)
        return semgrep.scan(
            rules=((RULES_DIR,) if cfg.semgrep.bundled_rules else ()) + rules,
            packs=cfg.semgrep.packs,
            exclude=cfg.skip_paths,
            inventory=True,
        )
    if name == "gitleaks":
        return gitleaks.scan(exclude=cfg.skip_paths)
    if name == "hadolint":
        return hadolint.lint(dockerfile=tuple(dockerfiles) if dockerfiles else cfg.build.dockerfile)
    if name == "trivy":
        return trivy.fs_scan(
            scanners=cfg.trivy.scanners,  # pyright: ignore[reportArgumentType]
            skip=cfg.skip_paths,
            ignorefile=ignorefile,
            db=trivydb.scan_options(cfg),
            checks=trivy.CHECKS_DIR if trivy_checks else None,
            check_data=trivy.CHECK_DATA_DIR if trivy_checks else None,
        )
    if name == "bandit":
        return bandit.scan(exclude=cfg.skip_paths)
    if name == "njsscan":
        return njsscan.scan(exclude=cfg.skip_paths)
    raise InputError(f"unknown scanner {name!r}; use any of {', '.join(config_mod.SCANNERS)}")


def parse(
    name: str, text: str, cfg: Config | None = None, inv: Invocation | None = None, *, sarif: str | None = None
) -> ToolRun:
    """One scanner's report, parsed. With `cfg`, only the built Dockerfile (``[build] dockerfile``) must parse
    for hadolint; another Dockerfile hadolint cannot parse is a finding (see `hadolint.parse`). For semgrep,
    `cfg` says which rules ran (for its coverage counts), `inv` (the invocation that ran, default: this
    stage's) where its rule ids' prefixes come from, and `sarif` (its `semgrep.SARIF_REPORT`) the message
    templates of every rule that ran (`semgrep.sarif_templates`)."""
    if name == "semgrep":
        cfg = cfg or Config()
        counts: dict[str, int] | None = {}
        templates: dict[str, str] = {}
        if cfg.semgrep.bundled_rules:  # None (not counted) if the module's rules folder is not on this disk
            counts = semgrep.rule_counts() if semgrep.BUNDLED_RULES.is_dir() else None
            templates = semgrep.rule_templates() if semgrep.BUNDLED_RULES.is_dir() else {}
        return semgrep.parse(
            text,
            prefixes=semgrep.id_prefixes(inv or invocation(name, cfg)),
            rules=counts,
            rules_known=not (cfg.semgrep.rules or cfg.semgrep.packs),
            templates=templates,
            sarif=sarif,
        )
    if name == "gitleaks":
        return gitleaks.parse(text, version=gitleaks.VERSION)  # the pinned image's: its SARIF says v8.0.0
    if name == "hadolint":
        return hadolint.parse(text, must_parse=None if cfg is None else (cfg.build.dockerfile,))
    if name == "bandit":
        return bandit.parse(text)
    if name == "njsscan":
        return njsscan.parse(text)
    return trivy.parse(text, mode="fs")


def scanner_buster(name: str, cfg: Config, now: datetime | None = None) -> str:
    """The cache buster of a scanner that reads live data: trivy's DB, semgrep's registry packs (daily).

    The other scanners read only the source and their pinned image: same inputs, same result.
    """
    if name == "trivy" or (name == "semgrep" and cfg.semgrep.packs):
        return day_buster(now)
    return ""


def scanner_container(
    name: str,
    cfg: Config,
    source: dagger.Directory,
    *,
    rules: dagger.Directory | None = None,
    ignorefile: dagger.File | None = None,
    now: datetime | None = None,
    buster: str | None = None,
    dockerfiles: Sequence[str] | None = None,
    trivy_checks: dagger.Directory | None = None,
    trivy_check_data: dagger.Directory | None = None,
) -> tuple[Invocation, dagger.Container]:
    """The lazily built container of one scanner; nothing runs until its exit code is awaited.

    `buster` overrides `scanner_buster` (a re-run after a failure uses a fresh one). `trivy_checks` and
    `trivy_check_data` (both or neither) add Seaworthy's own checks to trivy's misconfiguration scan.
    """
    ignore_path = IGNOREFILE if ignorefile is not None else None
    with_checks = name == "trivy" and trivy_checks is not None and trivy_check_data is not None
    inv = invocation(name, cfg, ignorefile=ignore_path, dockerfiles=dockerfiles, trivy_checks=with_checks)
    kinds: dict[str, Mountable] = {"source": source}
    if rules is not None:
        kinds["rules"] = rules
    if with_checks and trivy_checks is not None and trivy_check_data is not None:
        kinds["trivy-checks"] = trivy_checks
        kinds["trivy-check-data"] = trivy_check_data
    if "inventory" in inv.mounts.values():
        kinds["inventory"] = inventory_rules()
    if name == "njsscan":
        kinds["njsscan-config"] = (
            dag.directory().with_new_file("njsscan.yml", njsscan.config_text(cfg.skip_paths)).file("njsscan.yml")
        )
    mounts: dict[str, Mountable] = {}
    for path, kind in inv.mounts.items():
        if kind in kinds:
            mounts[path] = kinds[kind]
    if ignorefile is not None and ignore_path is not None:
        mounts[ignore_path] = ignorefile
    caches: dict[str, dagger.CacheVolume] = {}
    if name == "trivy":
        caches[trivy.DEFAULT_CACHE_DIR] = trivydb.cache()
    chosen = scanner_buster(name, cfg, now) if buster is None else buster
    return inv, tool_container(inv, mounts, caches=caches, buster=chosen)


async def source_sbom(source: dagger.Directory) -> str:
    """CycloneDX SBOM of what the source's lock files declare (trivy fs; no vulnerability DB needed)."""
    inv = trivy.source_sbom()

    def run(buster: str) -> dagger.Container:
        return tool_container(inv, {SRC: source}, caches={trivy.DEFAULT_CACHE_DIR: trivydb.cache()}, buster=buster)

    _, got = await collect_fresh(run, inv)
    return sbom_pair.finalize_cyclonedx(got.report, tool="trivy")


async def semgrep_sarif(ctr: dagger.Container) -> str:
    """semgrep's SARIF of the run in `ctr` (its rules' message templates); a `ToolOutputError` when missing."""
    if not await ctr.exists(semgrep.SARIF_REPORT):
        raise ToolOutputError(
            semgrep.NAME, f"it wrote no SARIF at {semgrep.SARIF_REPORT}: its rules' messages are unknown"
        )
    return await ctr.file(semgrep.SARIF_REPORT).contents()


async def run_scanners(
    source: dagger.Directory,
    cfg: Config,
    *,
    names: Sequence[str] | None = None,
    ignorefile: dagger.File | None = None,
    now: datetime | None = None,
    refresh_db: bool = True,
    dockerfile: str = "",
) -> tuple[ToolRun, ...]:
    """Run the enabled scanners concurrently; the first tool failure is raised as itself (not a group).

    trivy reads its DB offline from the cache volume; `refresh_db` first fills or checks it (`ship` does
    that once for the source and the image scans together and passes False). hadolint lints every
    Dockerfile (`find_dockerfiles`; `dockerfile` is a ``--dockerfile`` argument that must exist); a tree
    without any gives a hadolint run with no findings and a note saying nothing was linted.
    """
    now = now or datetime.now(UTC)
    chosen = tuple(names) if names is not None else cfg.scanners
    if "trivy" in chosen and refresh_db:
        await trivydb.refresh(cfg, now=now)
    rules = bundled_rules() if "semgrep" in chosen and cfg.semgrep.bundled_rules else None
    dockerfiles = await find_dockerfiles(source, cfg, explicit=dockerfile) if "hadolint" in chosen else ()
    checks = data = None
    if "trivy" in chosen and "misconfig" in cfg.trivy.scanners:
        checks, data = bundled_trivy_checks(), await trivy_check_data(source, cfg)
    results: dict[str, ToolRun] = {}
    analyzers = [n for n in chosen if n in languages.ANALYZER_FILES]
    if analyzers:
        for name in analyzers:
            files = sorted(await _glob(source, [f"**/*{suffix}" for suffix in languages.ANALYZER_FILES[name]]))
            if not languages.needed(name, files, cfg.skip_paths):
                results[name] = ToolRun(tool=name, version="", findings=(), notes=(languages.not_run_note(name),))

    async def one(name: str) -> None:
        if name == "hadolint" and not dockerfiles:
            note = "the source has no Dockerfile or Containerfile outside the skip paths: nothing was linted"
            results[name] = ToolRun(tool=name, version="", findings=(), notes=(note,))
            return

        def build(buster: str) -> dagger.Container:
            return scanner_container(
                name,
                cfg,
                source,
                rules=rules,
                ignorefile=ignorefile,
                buster=buster,
                dockerfiles=dockerfiles,
                trivy_checks=checks,
                trivy_check_data=data,
            )[1]

        inv = invocation(
            name,
            cfg,
            ignorefile=IGNOREFILE if ignorefile is not None else None,
            dockerfiles=dockerfiles,
            trivy_checks=checks is not None,
        )
        ctr, got = await collect_fresh(build, inv, buster=scanner_buster(name, cfg, now))
        sarif = await semgrep_sarif(ctr) if name == "semgrep" else None
        if name == "hadolint":
            hadolint.check_stderr(got.stderr)  # hadolint exits 0 when it ignored a broken config file
        if name == "trivy":
            trivy.check_stderr(got.stderr)  # trivy exits 0 when a Rego check failed to load or evaluate
        results[name] = attrs.evolve(parse(name, got.report, cfg, inv, sarif=sarif), exit_code=got.exit_code)

    try:
        async with anyio.create_task_group() as tg:
            for name in chosen:
                if name not in results:
                    tg.start_soon(one, name)
    except BaseExceptionGroup as group:
        raise unwrap(group) from None
    if "hadolint" in results and "trivy" in results:
        results["hadolint"], results["trivy"] = dockerfile_rules.fold(results["hadolint"], results["trivy"])
    return tuple(results[n] for n in chosen)
