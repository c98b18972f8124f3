"""trivy's vulnerability DB: one cache volume, refreshed at most once a day, then read by every scan offline.

The Java index DB lives in the same volume. It is fetched on demand, the first time an image scan meets a
JAR (`collect_trivy`; `trivy fs` reads lock files, not JARs, and never needs it), and refreshed daily with
the vulnerability DB once it is there.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import attrs
import dagger
from dagger import dag

from pipeline.config import Config
from pipeline.errors import ConfigError, ToolFailed
from pipeline.stages.runner import Collected, collect_fresh, rerun_buster, tool_container
from pipeline.tools import trivy
from pipeline.tools.base import Invocation

VOLUME = "seaworthy-trivy-db"
"""Name of the cache volume holding trivy's vulnerability DB (shared by `trivy fs` and the image scan)."""

_SEPARATOR = "----seaworthy-java-db----"


def cache() -> dagger.CacheVolume:
    return dag.cache_volume(VOLUME)


def options(cfg: Config) -> trivy.DbOptions:
    """The DB options the configuration asks for (what `refresh` uses)."""
    return trivy.DbOptions(
        repositories=cfg.trivy.db_repositories,
        java_repositories=cfg.trivy.java_db_repositories,
        offline=cfg.trivy.offline,
        max_age_hours=cfg.trivy.max_db_age_hours,
        insecure=cfg.trivy.insecure_registry,
    )


def scan_options(cfg: Config) -> trivy.DbOptions:
    """What every scan uses: the cache `refresh` filled or checked, never a download of its own."""
    return attrs.evolve(options(cfg), offline=True)


def _download(inv: Invocation, db: trivy.DbOptions) -> Callable[[str], dagger.Container]:
    def build(buster: str) -> dagger.Container:
        return tool_container(inv, {}, caches={db.cache_dir: cache()}, buster=buster)

    return build


async def read_metadata(db: trivy.DbOptions, now: datetime) -> tuple[str, str]:
    """The text of the vulnerability DB's and the Java DB's metadata.json ("" when absent), read now.

    A fresh exec every minute: contents of a cache volume take no part in cache keys, so this read must
    never come from an earlier run (dagger-python.md §3.4).
    """
    out = await (
        dag.container()
        .from_(trivy.IMAGE.ref)
        .with_mounted_cache(db.cache_dir, cache(), sharing=dagger.CacheSharingMode.LOCKED)
        .with_env_variable("SEAWORTHY_READ_AT", now.strftime("%Y-%m-%dT%H:%M:%S.%f"))
        .with_exec(
            [
                "sh",
                "-c",
                f"cat {db.metadata_path} 2>/dev/null || true; echo {_SEPARATOR}; "
                f"cat {db.java_metadata_path} 2>/dev/null || true",
            ]
        )
        .stdout()
    )
    main, _, java = out.partition(_SEPARATOR)
    return main.strip(), java.strip()


async def refresh(cfg: Config, *, now: datetime | None = None) -> trivy.DbStatus:
    """Fill or refresh the vulnerability DB (at most once a day), or check it in offline mode.

    Fails closed: a missing, corrupt or (offline) too old DB is an error, never "0 vulnerabilities".

    The daily download is an exec the engine caches for the day (its buster is the UTC date), but the cache
    volume it filled can be pruned while that cached result survives: the engine would then skip the
    download and the check would blame offline mode. So when the DB is unusable after the day's download,
    the download runs once more with a buster no earlier exec had, and only then is the DB judged.
    """
    now = now or datetime.now(UTC)
    db = options(cfg)
    max_age = timedelta(hours=db.max_age_hours)
    if not db.offline:
        inv = trivy.download_db(db)
        day = trivy.cache_buster(now)
        await collect_fresh(_download(inv, db), inv, buster=day, report=False)
        text, java = await read_metadata(db, now)
        status = trivy.check_db_metadata(text, now=now, max_age=max_age, offline=False)
        if status.needs_download:
            # the cached download did not leave a usable DB in the volume: download for real
            await collect_fresh(_download(inv, db), inv, buster=rerun_buster(day), report=False)
            text, java = await read_metadata(db, now + timedelta(microseconds=1))
        if java:
            jinv = trivy.download_java_db(db)
            await collect_fresh(_download(jinv, db), jinv, buster=f"{day}-java", report=False)
    else:
        text, _ = await read_metadata(db, now)
    return trivy.check_db_metadata(text, now=now, max_age=max_age, offline=True)


async def fetch_java_db(cfg: Config, *, now: datetime | None = None) -> None:
    """Download the Java index DB now (a scan met a JAR and the cache has none). Offline mode refuses."""
    db = options(cfg)
    if db.offline:
        raise ConfigError(
            "trivy needs its Java index DB to scan the JAR files found, and the cache has none; offline mode "
            "cannot download it: fill the cache with `trivy image --download-java-db-only` (a mirror via "
            "java_db_repositories), or turn offline mode off"
        )
    inv = trivy.download_java_db(db)
    # always a fresh exec: the scan just proved the volume has no Java DB, whatever the engine cached
    await collect_fresh(_download(inv, db), inv, buster=rerun_buster(trivy.cache_buster(now or datetime.now(UTC))))


async def collect_trivy(
    build: Callable[[str], dagger.Container],
    inv: Invocation,
    cfg: Config,
    *,
    buster: str = "",
    now: datetime | None = None,
) -> tuple[dagger.Container, Collected]:
    """`collect_fresh` for a trivy scan; when it fails only for want of the Java DB, fetch it and scan again."""
    try:
        return await collect_fresh(build, inv, buster=buster)
    except ToolFailed as exc:
        if not trivy.needs_java_db(exc.tool_message):
            raise
    await fetch_java_db(cfg, now=now)
    return await collect_fresh(build, inv, buster=rerun_buster(buster))
