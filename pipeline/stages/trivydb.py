"""trivy's vulnerability DB: one cache volume, refreshed at most once a day, then read by every scan offline."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import attrs
import dagger
from dagger import dag

from pipeline.config import Config
from pipeline.stages.runner import collect_fresh, tool_container
from pipeline.tools import trivy

VOLUME = "seaworthy-trivy-db"
"""Name of the cache volume holding trivy's vulnerability DB (shared by `trivy fs` and the image scan)."""


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


async def refresh(cfg: Config, *, now: datetime | None = None) -> trivy.DbStatus:
    """Fill or refresh the vulnerability DB (at most once a day), or check it in offline mode.

    Fails closed: a missing, corrupt or (offline) too old DB is an error, never "0 vulnerabilities".
    """
    now = now or datetime.now(UTC)
    db = options(cfg)
    max_age = timedelta(hours=db.max_age_hours)
    base = (
        dag.container()
        .from_(trivy.IMAGE.ref)
        .with_mounted_cache(db.cache_dir, cache(), sharing=dagger.CacheSharingMode.LOCKED)
    )
    if not db.offline:
        inv = trivy.download_db(db)

        def download(buster: str) -> dagger.Container:
            return tool_container(inv, {}, caches={db.cache_dir: cache()}, buster=buster)

        # at most once a day; a failed download is run again at once rather than served from the cache
        base, _ = await collect_fresh(download, inv, buster=trivy.cache_buster(now), report=False)
    # Read the metadata fresh (a minute-level buster: this read must never come from yesterday's cache).
    meta = await (
        base.with_env_variable("SEAWORTHY_READ_AT", now.strftime("%Y-%m-%dT%H:%M"))
        .with_exec(["sh", "-c", f"cat {db.metadata_path} 2>/dev/null || true"])
        .stdout()
    )
    return trivy.check_db_metadata(meta, now=now, max_age=max_age, offline=True)
