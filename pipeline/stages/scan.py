"""The source-scan stage: semgrep, gitleaks, trivy fs, hadolint, bandit and njsscan on the source tree, concurrently.

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
from pipeline.errors import InputError
from pipeline.formats import sbom_pair
from pipeline.model import ToolRun
from pipeline.stages import trivydb
from pipeline.stages.runner import Mountable, collect_fresh, day_buster, tool_container, unwrap
from pipeline.tools import bandit, gitleaks, hadolint, languages, njsscan, semgrep, trivy
from pipeline.tools.base import IN, SRC, Invocation

RULES_DIR = semgrep.RULES_DIR
IGNOREFILE = f"{IN}/trivyignore.yaml"
"""Where trivy's ignore file (rendered from the exceptions) is mounted."""


def bundled_rules() -> dagger.Directory:
    """The semgrep rules shipped with Seaworthy (offline by default)."""
    return dag.current_module().source().directory("pipeline/rules/semgrep")


def invocation(name: str, cfg: Config, *, ignorefile: str | None = None) -> Invocation:
    """The Invocation of one source scanner, from the configuration."""
    if name == "semgrep":
        rules = tuple(f"{SRC}/{r.lstrip('/')}" for r in cfg.semgrep.rules)
        return semgrep.scan(
            rules=((RULES_DIR,) if cfg.semgrep.bundled_rules else ()) + rules,
            packs=cfg.semgrep.packs,
            exclude=cfg.skip_paths,
        )
    if name == "gitleaks":
        return gitleaks.scan(exclude=cfg.skip_paths)
    if name == "hadolint":
        return hadolint.lint(dockerfile=cfg.build.dockerfile)
    if name == "trivy":
        return trivy.fs_scan(
            scanners=cfg.trivy.scanners,  # pyright: ignore[reportArgumentType]
            skip=cfg.skip_paths,
            severities=cfg.trivy.severities or None,
            ignore_unfixed=cfg.trivy.ignore_unfixed,
            ignorefile=ignorefile,
            db=trivydb.scan_options(cfg),
        )
    if name == "bandit":
        return bandit.scan(exclude=cfg.skip_paths)
    if name == "njsscan":
        return njsscan.scan(exclude=cfg.skip_paths)
    raise InputError(f"unknown scanner {name!r}; use any of {', '.join(config_mod.SCANNERS)}")


def parse(name: str, text: str) -> ToolRun:
    if name == "semgrep":
        return semgrep.parse(text)
    if name == "gitleaks":
        return gitleaks.parse(text)
    if name == "hadolint":
        return hadolint.parse(text)
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
) -> tuple[Invocation, dagger.Container]:
    """The lazily built container of one scanner; nothing runs until its exit code is awaited.

    `buster` overrides `scanner_buster` (a re-run after a failure uses a fresh one).
    """
    ignore_path = IGNOREFILE if ignorefile is not None else None
    inv = invocation(name, cfg, ignorefile=ignore_path)
    kinds: dict[str, Mountable] = {"source": source}
    if rules is not None:
        kinds["rules"] = rules
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


async def run_scanners(
    source: dagger.Directory,
    cfg: Config,
    *,
    names: Sequence[str] | None = None,
    ignorefile: dagger.File | None = None,
    now: datetime | None = None,
    refresh_db: bool = True,
) -> tuple[ToolRun, ...]:
    """Run the enabled scanners concurrently; the first tool failure is raised as itself (not a group).

    trivy reads its DB offline from the cache volume; `refresh_db` first fills or checks it (`ship` does
    that once for the source and the image scans together and passes False).
    """
    now = now or datetime.now(UTC)
    chosen = tuple(names) if names is not None else cfg.scanners
    if "trivy" in chosen and refresh_db:
        await trivydb.refresh(cfg, now=now)
    rules = bundled_rules() if "semgrep" in chosen and cfg.semgrep.bundled_rules else None
    results: dict[str, ToolRun] = {}
    analyzers = [n for n in chosen if n in languages.ANALYZER_FILES]
    if analyzers:
        for name in analyzers:
            files = [p for suffix in languages.ANALYZER_FILES[name] for p in await source.glob(f"**/*{suffix}")]
            if not languages.needed(name, files, cfg.skip_paths):
                results[name] = ToolRun(tool=name, version="", findings=(), notes=(languages.not_run_note(name),))

    async def one(name: str) -> None:
        def build(buster: str) -> dagger.Container:
            return scanner_container(name, cfg, source, rules=rules, ignorefile=ignorefile, buster=buster)[1]

        inv = invocation(name, cfg, ignorefile=IGNOREFILE if ignorefile is not None else None)
        _, got = await collect_fresh(build, inv, buster=scanner_buster(name, cfg, now))
        if name == "hadolint":
            hadolint.check_stderr(got.stderr)  # hadolint exits 0 when it ignored a broken config file
        results[name] = attrs.evolve(parse(name, got.report), exit_code=got.exit_code)

    try:
        async with anyio.create_task_group() as tg:
            for name in chosen:
                if name not in results:
                    tg.start_soon(one, name)
    except BaseExceptionGroup as group:
        raise unwrap(group) from None
    return tuple(results[n] for n in chosen)
