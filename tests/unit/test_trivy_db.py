"""trivy DB handling: metadata checks (each way), the daily cache buster, DbOptions and the argv it adds."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.tools import trivy
from pipeline.tools.base import CACHE, OUT, SRC

FIXTURE_DB = Path(__file__).resolve().parent.parent / "fixtures" / "trivy-db"
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MAX_AGE = timedelta(hours=72)


def meta(updated: datetime | str, *, version: object = 2, next_update: str = "2026-11-28T06:00:00Z") -> str:
    stamp = updated if isinstance(updated, str) else updated.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return json.dumps({"Version": version, "NextUpdate": next_update, "UpdatedAt": stamp, "DownloadedAt": stamp})


# ------------------------------------------------------------------------------------- check_db_metadata


@pytest.mark.parametrize("offline", [True, False])
def test_fresh_db_is_usable(offline: bool) -> None:
    status = trivy.check_db_metadata(meta(NOW - timedelta(hours=5)), now=NOW, max_age=MAX_AGE, offline=offline)
    assert status.present
    assert not status.needs_download
    assert status.age == timedelta(hours=5)
    assert status.updated_at == NOW - timedelta(hours=5)
    assert status.next_update == datetime(2026, 11, 28, 6, 0, tzinfo=UTC)


def test_trivy_written_metadata_with_nanoseconds_parses() -> None:
    # what trivy itself writes after a download (compact JSON, nine fractional digits)
    text = (
        '{"Version":2,"NextUpdate":"2999-12-31T00:00:00Z","UpdatedAt":"2026-11-27T09:00:00.123456789Z",'
        '"DownloadedAt":"2026-11-27T10:12:44.921754786Z"}'
    )
    status = trivy.check_db_metadata(text, now=NOW, max_age=MAX_AGE, offline=True)
    assert status.updated_at == datetime(2026, 11, 27, 9, 0, 0, 123456, tzinfo=UTC)
    assert status.downloaded_at is not None
    assert status.downloaded_at.second == 44


def test_committed_fixture_metadata_is_valid_and_never_expires() -> None:
    text = (FIXTURE_DB / "metadata.json").read_text()
    status = trivy.check_db_metadata(text, now=datetime(2026, 11, 1, 1, 0, tzinfo=UTC), max_age=MAX_AGE, offline=True)
    assert status.next_update is not None
    assert status.next_update.year >= 2999
    # and it is old by now, so an offline scan with the default limit would refuse it later on
    with pytest.raises(ConfigError):
        trivy.check_db_metadata(text, now=datetime(2027, 1, 1, tzinfo=UTC), max_age=MAX_AGE, offline=True)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "missing"),
        ("   ", "missing"),
        ('{"Version": 2, "NextUpd', "corrupt"),
        ("[]", "corrupt"),
        (json.dumps({"Version": 2, "UpdatedAt": "yesterday"}), "corrupt"),
        (json.dumps({"Version": 2}), "corrupt"),
        (json.dumps({"Version": 1, "UpdatedAt": "2026-11-27T00:00:00Z"}), "schema Version 1"),
        (json.dumps({"UpdatedAt": "2026-11-27T00:00:00Z"}), "schema Version None"),
    ],
)
def test_missing_or_corrupt_db_fails_closed_offline(text: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        trivy.check_db_metadata(text, now=NOW, max_age=MAX_AGE, offline=True)
    message = str(err.value)
    assert words in message
    assert "offline" in message
    assert "download_db" in message  # names the fix
    assert "\n" not in message.split(";", maxsplit=1)[0]


@pytest.mark.parametrize(
    "text", ["", '{"Version": 2, "NextUpd', json.dumps({"Version": 1, "UpdatedAt": "2026-11-27T00:00:00Z"})]
)
def test_missing_or_corrupt_db_asks_for_a_download_online(text: str) -> None:
    status = trivy.check_db_metadata(text, now=NOW, max_age=MAX_AGE, offline=False)
    assert status.needs_download
    assert status.reason


def test_old_db_fails_offline_naming_age_and_limit() -> None:
    with pytest.raises(ConfigError, match=r"100 h old .* allowed 72 h.*max_age_hours"):
        trivy.check_db_metadata(meta(NOW - timedelta(hours=100)), now=NOW, max_age=MAX_AGE, offline=True)


def test_old_db_asks_for_a_download_online() -> None:
    status = trivy.check_db_metadata(meta(NOW - timedelta(hours=100)), now=NOW, max_age=MAX_AGE, offline=False)
    assert status.present
    assert status.needs_download
    assert "100 h old" in status.reason


def test_age_limit_boundary() -> None:
    ok = trivy.check_db_metadata(meta(NOW - MAX_AGE), now=NOW, max_age=MAX_AGE, offline=True)
    assert not ok.needs_download
    with pytest.raises(ConfigError):
        trivy.check_db_metadata(meta(NOW - MAX_AGE - timedelta(seconds=1)), now=NOW, max_age=MAX_AGE, offline=True)


def test_db_from_the_future_counts_as_fresh() -> None:
    status = trivy.check_db_metadata(meta(NOW + timedelta(hours=2)), now=NOW, max_age=MAX_AGE, offline=True)
    assert status.age == timedelta(0)


def test_naive_and_other_timezone_now_are_utc() -> None:
    text = meta(NOW - timedelta(hours=71))
    naive = trivy.check_db_metadata(text, now=NOW.replace(tzinfo=None), max_age=MAX_AGE, offline=True)
    plus2 = NOW.astimezone(timezone(timedelta(hours=2)))
    aware = trivy.check_db_metadata(text, now=plus2, max_age=MAX_AGE, offline=True)
    assert naive.age == aware.age == timedelta(hours=71)


# ---------------------------------------------------------------------------------------------- cache buster


def test_cache_buster_is_stable_within_a_utc_day_and_changes_the_next() -> None:
    morning = datetime(2026, 11, 27, 0, 0, 1, tzinfo=UTC)
    night = datetime(2026, 11, 27, 23, 59, 59, tzinfo=UTC)
    assert trivy.cache_buster(morning) == trivy.cache_buster(night) == "trivy-db-2026-11-27"
    assert trivy.cache_buster(night + timedelta(seconds=1)) == "trivy-db-2026-11-28"


def test_cache_buster_uses_the_utc_date() -> None:
    # 01:00 in UTC+2 is still the previous day in UTC
    local = datetime(2026, 11, 28, 1, 0, tzinfo=timezone(timedelta(hours=2)))
    assert trivy.cache_buster(local) == "trivy-db-2026-11-27"
    assert trivy.cache_buster(datetime(2026, 11, 27, 23, 0)) == "trivy-db-2026-11-27"  # naive = UTC


# -------------------------------------------------------------------------------------- DbOptions / argv


def _pairs(argv: tuple[str, ...], flag: str) -> list[str]:
    return [argv[i + 1] for i, a in enumerate(argv) if a == flag]


def test_db_options_flags() -> None:
    db = trivy.DbOptions(
        cache_dir=f"{CACHE}/t",
        repositories=("mirror.corp:5000/aquasec/trivy-db:2", "ghcr.io/aquasecurity/trivy-db:2"),
        java_repositories=("mirror.corp:5000/aquasec/trivy-java-db:1",),
        offline=True,
        insecure=True,
    )
    flags = db.flags()
    assert _pairs(flags, "--cache-dir") == [f"{CACHE}/t"]
    assert _pairs(flags, "--db-repository") == [
        "mirror.corp:5000/aquasec/trivy-db:2",
        "ghcr.io/aquasecurity/trivy-db:2",
    ]
    assert _pairs(flags, "--java-db-repository") == ["mirror.corp:5000/aquasec/trivy-java-db:1"]
    for flag in ("--skip-db-update", "--skip-java-db-update", "--offline-scan", "--insecure"):
        assert flag in flags
    assert db.metadata_path == f"{CACHE}/t/db/metadata.json"
    online = trivy.DbOptions().flags()
    assert "--skip-db-update" not in online
    assert "--insecure" not in online
    assert "--db-repository" not in online


@pytest.mark.parametrize(
    "kwargs",
    [
        {"cache_dir": "/root/.cache/trivy"},
        {"cache_dir": "/cachex"},
        {"max_age_hours": 0},
        {"repositories": ("https://mirror/trivy-db:2",)},
        {"repositories": ("a:2,b:2",)},
        {"repositories": (" ",)},
    ],
)
def test_db_options_reject_bad_values(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        trivy.DbOptions(**kwargs)  # type: ignore[arg-type]


def test_fs_scan_argv() -> None:
    inv = trivy.fs_scan(
        skip=("tests/data",),
        db=trivy.DbOptions(offline=True),
    )
    argv = inv.argv
    assert argv[:2] == ("trivy", "fs")
    assert argv[-1] == SRC
    assert _pairs(argv, "--scanners") == ["misconfig,secret,vuln"]
    assert _pairs(argv, "--skip-dirs") == ["tests/data"]
    assert _pairs(argv, "--skip-files") == ["tests/data"]
    assert "--severity" not in argv  # trivy reports every severity: the gate decides (issue 8)
    assert _pairs(argv, "--format") == ["json"]
    assert _pairs(argv, "--output") == [inv.report]
    assert inv.report.startswith(OUT + "/")
    assert _pairs(argv, "--exit-code") == [str(trivy.FINDINGS_EXIT_CODE)]
    assert _pairs(argv, "--ignorefile") == [""]
    assert "--ignore-unfixed" not in argv
    assert "--skip-check-update" in argv
    assert "--skip-db-update" in argv
    assert inv.exit_codes.check("trivy", 0, "") is False
    assert inv.exit_codes.check("trivy", trivy.FINDINGS_EXIT_CODE, "") is True
    assert inv.image.ref == "aquasec/trivy:0.76.0"


def test_exit_code_1_is_a_tool_failure() -> None:
    from pipeline.errors import ToolFailed

    inv = trivy.fs_scan(db=trivy.DbOptions())
    with pytest.raises(ToolFailed, match="DB error"):
        inv.exit_codes.check("trivy", 1, "FATAL run error: init error: DB error")


@pytest.mark.parametrize(
    "call",
    [
        lambda: trivy.fs_scan(scanners=(), db=trivy.DbOptions()),
        lambda: trivy.fs_scan(scanners=("vuln", "sast"), db=trivy.DbOptions()),  # type: ignore[arg-type]
        lambda: trivy.fs_scan(skip=("/etc",), db=trivy.DbOptions()),
        lambda: trivy.sbom(fmt="spdx"),  # type: ignore[arg-type]
        lambda: trivy.download_db(trivy.DbOptions(offline=True)),
    ],
)
def test_builders_reject_bad_arguments(call: object) -> None:
    assert callable(call)
    with pytest.raises(ConfigError):
        call()


def test_image_scan_sbom_and_download_argv() -> None:
    db = trivy.DbOptions(repositories=("127.0.0.1:5000/trivy-db:2",), insecure=True)
    img = trivy.image_scan(db=db)
    assert img.argv[:4] == ("trivy", "image", "--input", "/in/image.tar")
    assert _pairs(img.argv, "--scanners") == ["vuln"]
    assert _pairs(img.argv, "--db-repository") == ["127.0.0.1:5000/trivy-db:2"]
    cdx = trivy.sbom(input_path="/in/image.tar", fmt="cyclonedx")
    spdx = trivy.sbom(input_path="/in/image.tar", fmt="spdx-json")
    assert _pairs(cdx.argv, "--format") == ["cyclonedx"]
    assert _pairs(spdx.argv, "--format") == ["spdx-json"]
    assert cdx.report != spdx.report
    assert "--exit-code" not in cdx.argv
    src = trivy.source_sbom(fmt="cyclonedx")
    assert src.argv[:2] == ("trivy", "fs")
    assert src.argv[-1] == SRC
    dl = trivy.download_db(db)
    assert "--download-db-only" in dl.argv
    assert dl.report == f"{CACHE}/trivy/db/metadata.json"
