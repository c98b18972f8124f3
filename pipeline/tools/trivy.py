"""Trivy: dependencies, misconfigurations and secrets of a source tree; vulnerabilities and SBOM of an image.

Pinned to trivy 0.76.0 (the contract tests run exactly this version; 0.69.4-0.69.6 were compromised
releases and must never be used). Check ids look like ``DS-0002``, CycloneDX output is spec 1.7.

Uses
----
* `fs_scan` — ``trivy fs`` of SRC: vulnerable dependencies from lock files, Dockerfile/IaC
  misconfigurations, secrets. JSON report at ``OUT/trivy-fs.json``.
* `image_scan` — ``trivy image --input`` of the image tarball at ``IN/image.tar``: OS and language
  package vulnerabilities. Accepts a docker-archive and the tarball Dagger's ``Container.as_tarball()``
  writes (an OCI layout that also carries a docker ``manifest.json``). A *pure* OCI archive without
  ``manifest.json`` (``skopeo copy oci-archive:``) is rejected by trivy; give it an OCI layout
  *directory* instead (``input_path`` may be one).
* `sbom` / `source_sbom` — CycloneDX or SPDX JSON of the image tarball, resp. of SRC's lock files.
  No vulnerability DB is needed.
* `download_db` — the warm-up step that fills the DB cache (``--download-db-only``); run it once per
  day (`cache_buster`) and let every scan share the cache read-only with ``offline=True``-like flags.

Exit codes (every scan passes ``--exit-code 4``)
-------------------------------------------------
* 0 — scan completed, nothing reported (after ``--severity`` / ``--ignore-unfixed`` filtering);
* 4 (`FINDINGS_EXIT_CODE`) — scan completed and reported at least one vulnerability, failed
  misconfiguration or secret;
* anything else — trivy failed (1 is trivy's fatal error, 2 a Go runtime crash): `ToolFailed` with
  trivy's message, never "no findings". SBOM and DB download: 0 or failure.

Severity mapping
----------------
Trivy uses five levels for vulnerabilities, misconfigurations and secrets alike; they map one to one
onto `Severity`: CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN. A missing severity is UNKNOWN; any other word
is a `ToolOutputError` (the report is not what this parser was written for).

Vulnerability DB
----------------
`DbOptions` says where the DB lives (a cache volume under CACHE), where it comes from (OCI
repositories, e.g. an internal mirror for air-gapped users) and whether the scan may update it.
Misconfiguration checks always come from the checks embedded in the pinned trivy binary
(``--skip-check-update``): reproducible, and no download of the checks bundle.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

import attrs

from pipeline.errors import ConfigError, ToolOutputError
from pipeline.model import Category, Finding, Location, Package, Severity, ToolRun, bulk
from pipeline.tools.base import (
    CACHE,
    IN,
    OUT,
    SRC,
    ExitCodes,
    Image,
    Invocation,
    expect_dict,
    expect_list,
    load_json,
)

NAME = "trivy"
TOOLS = (NAME,)
VERSION = "0.76.0"
IMAGE = Image("aquasec/trivy", VERSION)
"""Never 0.69.4-0.69.6 (compromised releases). Lock a digest by setting `Image.digest` (README, "Pinning")."""

FINDINGS_EXIT_CODE = 4
EXIT_CODES = ExitCodes(clean=frozenset({0}), findings=frozenset({FINDINGS_EXIT_CODE}))
SBOM_EXIT_CODES = ExitCodes(clean=frozenset({0}))

SCHEMA_VERSION = 2
"""The JSON report schema (``SchemaVersion``) this parser reads."""
DB_SCHEMA_VERSION = 2
"""The vulnerability DB schema (``metadata.json`` ``Version``) trivy 0.76 reads."""

DEFAULT_CACHE_DIR = f"{CACHE}/trivy"
DB_MEDIA_TYPE = "application/vnd.aquasec.trivy.db.layer.v1.tar+gzip"
"""Layer media type of a trivy DB artifact (``db.tar.gz`` = ``trivy.db`` + ``metadata.json``)."""

FS_REPORT = f"{OUT}/trivy-fs.json"
IMAGE_REPORT = f"{OUT}/trivy-image.json"
SBOM_REPORTS = {"cyclonedx": f"{OUT}/sbom.cdx.json", "spdx-json": f"{OUT}/sbom.spdx.json"}
SOURCE_SBOM_REPORTS = {
    "cyclonedx": f"{OUT}/source-sbom.cdx.json",
    "spdx-json": f"{OUT}/source-sbom.spdx.json",
}
TIMEOUT = "15m"

Scanner = Literal["vuln", "misconfig", "secret", "license"]
SbomFormat = Literal["cyclonedx", "spdx-json"]
Mode = Literal["fs", "image"]

_SCANNERS: frozenset[str] = frozenset({"vuln", "misconfig", "secret", "license"})
_SEVERITIES = ("UNKNOWN", "LOW", "MEDIUM", "HIGH", "CRITICAL")
SEVERITY_MAP: dict[str, Severity] = {
    "CRITICAL": Severity.CRITICAL,
    "HIGH": Severity.HIGH,
    "MEDIUM": Severity.MEDIUM,
    "LOW": Severity.LOW,
    "UNKNOWN": Severity.UNKNOWN,
}

# purl type for a Result "Type" when a package carries no purl (trivy sets one for nearly everything).
_ECOSYSTEM_BY_TYPE: dict[str, str] = {
    "pip": "pypi",
    "pipenv": "pypi",
    "poetry": "pypi",
    "uv": "pypi",
    "python-pkg": "pypi",
    "npm": "npm",
    "yarn": "npm",
    "pnpm": "npm",
    "bun": "npm",
    "node-pkg": "npm",
    "gomod": "golang",
    "gobinary": "golang",
    "cargo": "cargo",
    "rust-binary": "cargo",
    "composer": "composer",
    "bundler": "gem",
    "gemspec": "gem",
    "nuget": "nuget",
    "dotnet-core": "nuget",
    "jar": "maven",
    "pom": "maven",
    "gradle": "maven",
    "debian": "deb",
    "ubuntu": "deb",
    "alpine": "apk",
    "wolfi": "apk",
    "chainguard": "apk",
    "redhat": "rpm",
    "centos": "rpm",
    "rocky": "rpm",
    "alma": "rpm",
    "amazon": "rpm",
    "oracle": "rpm",
    "fedora": "rpm",
    "opensuse.leap": "rpm",
    "sles": "rpm",
}


# ---------------------------------------------------------------------------------------------- DB


@attrs.frozen
class DbOptions:
    """Where trivy's vulnerability DB lives, where it comes from and whether a scan may update it."""

    cache_dir: str = DEFAULT_CACHE_DIR
    """Container path of trivy's cache (``--cache-dir``); the DB is ``<cache_dir>/db/trivy.db``.
    Mount a cache volume here. Must be under CACHE."""
    repositories: tuple[str, ...] = ()
    """OCI repositories of the DB in priority order (``--db-repository``), e.g. an internal mirror
    ``registry.corp/aquasec/trivy-db:2``. Empty: trivy's defaults (mirror.gcr.io, then ghcr.io)."""
    java_repositories: tuple[str, ...] = ()
    """Same for the Java index DB (``--java-db-repository``), only fetched when jars are scanned."""
    offline: bool = False
    """Never update the DB during a scan (``--skip-db-update``, ``--skip-java-db-update``,
    ``--offline-scan``). The DB must already be in the cache: see `check_db_metadata`."""
    max_age_hours: int = 72
    """How old (by the DB's ``UpdatedAt``) the DB may be before `check_db_metadata` refuses it in
    offline mode, or asks for a download otherwise."""
    ca_cert: str = ""
    """Container path of a PEM CA bundle to trust for the DB registry (``--cacert``), e.g. an internal
    mirror's CA. Registry credentials never go here: the stage sets TRIVY_USERNAME / TRIVY_PASSWORD
    as secret variables."""
    insecure: bool = False
    """Talk to the DB registry without TLS verification / over plain HTTP (``--insecure``). Only for
    a local mirror; also relaxes TLS for other registry access of the same trivy run."""

    def __attrs_post_init__(self) -> None:
        if self.cache_dir != CACHE and not self.cache_dir.startswith(CACHE + "/"):
            raise ConfigError(
                f"trivy cache_dir {self.cache_dir!r} is not under {CACHE}; use a path like {DEFAULT_CACHE_DIR}"
            )
        if self.max_age_hours <= 0:
            raise ConfigError(
                f"trivy max_age_hours must be positive, got {self.max_age_hours}; use e.g. 72 (three days)"
            )
        for repo in (*self.repositories, *self.java_repositories):
            if not repo.strip() or "://" in repo or "," in repo:
                raise ConfigError(
                    f"trivy DB repository {repo!r} is not an OCI reference; "
                    "write it as host[:port]/path:tag, e.g. registry.corp/aquasec/trivy-db:2"
                )

    @property
    def metadata_path(self) -> str:
        """Container path of the DB's ``metadata.json`` (read it and give it to `check_db_metadata`)."""
        return f"{self.cache_dir}/db/metadata.json"

    def mounts(self) -> dict[str, str]:
        """What the stage mounts for these options: the cache volume, and the CA bundle if any."""
        out = {self.cache_dir: "trivy-cache"}
        if self.ca_cert:
            out[self.ca_cert] = "trivy-ca-cert"
        return out

    def flags(self) -> tuple[str, ...]:
        """The trivy flags these options stand for (cache, source, update policy)."""
        argv: list[str] = ["--cache-dir", self.cache_dir]
        for repo in self.repositories:
            argv += ["--db-repository", repo]
        for repo in self.java_repositories:
            argv += ["--java-db-repository", repo]
        if self.offline:
            argv += ["--skip-db-update", "--skip-java-db-update", "--offline-scan"]
        if self.ca_cert:
            argv += ["--cacert", self.ca_cert]
        if self.insecure:
            argv.append("--insecure")
        return tuple(argv)


@attrs.frozen
class DbStatus:
    """What `check_db_metadata` found. A returned status is usable unless `needs_download`."""

    present: bool
    needs_download: bool
    """True only when not offline: the warm-up step must (re)fetch the DB before scanning."""
    reason: str
    """Why a download is needed, or a one-line summary of the DB in use."""
    updated_at: datetime | None = None
    next_update: datetime | None = None
    downloaded_at: datetime | None = None
    age: timedelta | None = None


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    # Go writes up to nine fractional digits; Python 3.11's fromisoformat takes at most six.
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        tz = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{tz}"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _utc(now: datetime) -> datetime:
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def check_db_metadata(metadata_json_text: str, *, now: datetime, max_age: timedelta, offline: bool) -> DbStatus:
    """Decide whether the cached trivy DB can be used, from the text of its ``metadata.json``.

    Pass "" when the file does not exist. Offline, a missing, unreadable, wrong-schema or too old DB
    raises `ConfigError` naming the fix (a scan against no DB would report "0 vulnerabilities").
    Online the same conditions return ``needs_download=True``: run `download_db`, then call this again
    with ``offline=True`` to require that the download produced a usable DB. Age is measured from the
    DB's ``UpdatedAt`` (when its data was built), not from when it was downloaded. A naive `now` is UTC.
    """
    now = _utc(now)
    fix_offline = (
        "fill the cache with download_db from a reachable DB repository (or an internal mirror via "
        "db repositories), or turn offline mode off"
    )

    def unusable(problem: str, *, present: bool) -> DbStatus:
        if offline:
            raise ConfigError(f"trivy vulnerability DB {problem}; offline mode cannot update it: {fix_offline}")
        return DbStatus(present=present, needs_download=True, reason=f"trivy vulnerability DB {problem}")

    if not metadata_json_text.strip():
        return unusable("is missing from the cache (no db/metadata.json)", present=False)
    try:
        meta = json.loads(metadata_json_text)
    except RecursionError:
        return unusable("metadata.json is corrupt (nested too deeply)", present=True)
    except json.JSONDecodeError as exc:
        return unusable(f"metadata.json is corrupt ({exc.msg} at line {exc.lineno})", present=True)
    if not isinstance(meta, dict):
        return unusable("metadata.json is corrupt (not a JSON object)", present=True)
    meta_d: dict[str, Any] = meta  # pyright: ignore[reportUnknownVariableType]
    version = meta_d.get("Version")
    if version != DB_SCHEMA_VERSION:
        return unusable(f"has schema Version {version!r}, trivy {VERSION} needs {DB_SCHEMA_VERSION}", present=True)
    updated = _parse_time(meta_d.get("UpdatedAt"))
    if updated is None:
        return unusable(
            f"metadata.json is corrupt (UpdatedAt {meta_d.get('UpdatedAt')!r} is not a timestamp)",
            present=True,
        )
    next_update = _parse_time(meta_d.get("NextUpdate"))
    downloaded = _parse_time(meta_d.get("DownloadedAt"))
    age = max(now - updated, timedelta(0))
    stamp = updated.strftime("%Y-%m-%dT%H:%M:%SZ")
    if age > max_age:
        hours = int(age.total_seconds() // 3600)
        limit = int(max_age.total_seconds() // 3600)
        if offline:
            raise ConfigError(
                f"trivy vulnerability DB is {hours} h old (UpdatedAt {stamp}), older than the allowed "
                f"{limit} h; refresh the DB in the cache or its mirror, or raise max_age_hours"
            )
        return DbStatus(
            present=True,
            needs_download=True,
            reason=f"trivy vulnerability DB is {hours} h old (UpdatedAt {stamp}), older than {limit} h",
            updated_at=updated,
            next_update=next_update,
            downloaded_at=downloaded,
            age=age,
        )
    return DbStatus(
        present=True,
        needs_download=False,
        reason=f"trivy vulnerability DB schema {version}, updated {stamp}",
        updated_at=updated,
        next_update=next_update,
        downloaded_at=downloaded,
        age=age,
    )


def cache_buster(now: datetime) -> str:
    """A value that changes once per UTC day: put it in the DB warm-up step's environment so the
    engine re-runs the download at most once a day. A naive `now` is UTC."""
    return f"trivy-db-{_utc(now).date().isoformat()}"


# ---------------------------------------------------------------------------------------------- argv


def _common() -> tuple[str, ...]:
    return ("--no-progress", "--skip-version-check", "--disable-telemetry", "--timeout", TIMEOUT)


def _filters(severities: Iterable[str] | None, ignore_unfixed: bool, ignorefile: str | None) -> list[str]:
    argv: list[str] = []
    if severities is not None:
        given = [s.strip().upper() for s in severities]
        if not given or any(s not in _SEVERITIES for s in given):
            raise ConfigError(f"trivy severities {given!r} are not valid; use some of {', '.join(_SEVERITIES)}")
        chosen = [s for s in _SEVERITIES if s in given]
        argv += ["--severity", ",".join(chosen)]
    if ignore_unfixed:
        argv.append("--ignore-unfixed")
    # An explicit ignore file only: an empty value stops trivy from picking up a .trivyignore by accident.
    # Waivers belong in the policy gate, where they are visible and expire.
    argv += ["--ignorefile", ignorefile or ""]
    return argv


def _ignorefile_mount(ignorefile: str | None) -> dict[str, str]:
    if not ignorefile or ignorefile.startswith(SRC + "/"):
        return {}
    return {ignorefile: "trivy-ignorefile"}


def _check_scanners(scanners: Sequence[str]) -> str:
    chosen = sorted(set(scanners))
    bad = [s for s in chosen if s not in _SCANNERS]
    if bad or not chosen:
        raise ConfigError(f"trivy scanners {list(scanners)!r} are not valid; use some of {sorted(_SCANNERS)}")
    return ",".join(chosen)


def fs_scan(
    *,
    scanners: Sequence[Scanner] = ("vuln", "misconfig", "secret"),
    skip: Sequence[str] = (),
    severities: Iterable[str] | None = None,
    ignore_unfixed: bool = False,
    ignorefile: str | None = None,
    db: DbOptions,
) -> Invocation:
    """``trivy fs`` of SRC: dependencies (lock files), misconfigurations (Dockerfile, IaC), secrets.

    `skip`: paths or globs relative to SRC to leave out (given to both ``--skip-dirs`` and
    ``--skip-files``). `ignorefile`: container path of a .trivyignore to honour (default: none).
    """
    argv: list[str] = [NAME, "fs", "--scanners", _check_scanners(scanners)]
    for pattern in skip:
        if not pattern.strip() or pattern.startswith("/"):
            raise ConfigError(f"trivy skip path {pattern!r} must be relative to the source root, e.g. tests/data")
        argv += ["--skip-dirs", pattern, "--skip-files", pattern]
    argv += _filters(severities, ignore_unfixed, ignorefile)
    argv += ["--skip-check-update", *db.flags(), *_common()]
    argv += ["--format", "json", "--output", FS_REPORT, "--exit-code", str(FINDINGS_EXIT_CODE), SRC]
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=tuple(argv),
        report=FS_REPORT,
        exit_codes=EXIT_CODES,
        mounts={SRC: "source", **db.mounts(), **_ignorefile_mount(ignorefile)},
    )


def image_scan(
    *,
    input_path: str = f"{IN}/image.tar",
    scanners: Sequence[Scanner] = ("vuln",),
    severities: Iterable[str] | None = None,
    ignore_unfixed: bool = False,
    ignorefile: str | None = None,
    db: DbOptions,
) -> Invocation:
    """``trivy image --input`` of an image tarball (docker-archive, Dagger's ``as_tarball()``) or OCI
    layout directory: vulnerabilities of OS and language packages (add "secret" to `scanners` to look
    for secrets in the layers too)."""
    argv: list[str] = [NAME, "image", "--input", input_path, "--scanners", _check_scanners(scanners)]
    argv += _filters(severities, ignore_unfixed, ignorefile)
    argv += ["--skip-check-update", *db.flags(), *_common()]
    argv += ["--format", "json", "--output", IMAGE_REPORT, "--exit-code", str(FINDINGS_EXIT_CODE)]
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=tuple(argv),
        report=IMAGE_REPORT,
        exit_codes=EXIT_CODES,
        mounts={input_path: "image", **db.mounts(), **_ignorefile_mount(ignorefile)},
    )


def _sbom_format(fmt: str) -> str:
    if fmt not in SBOM_REPORTS:
        raise ConfigError(f"SBOM format {fmt!r} is not supported by trivy here; use cyclonedx or spdx-json")
    return fmt


def sbom(
    *, input_path: str = f"{IN}/image.tar", fmt: SbomFormat = "cyclonedx", cache_dir: str = DEFAULT_CACHE_DIR
) -> Invocation:
    """SBOM (CycloneDX 1.7 or SPDX 2.3 JSON) of the image tarball. Needs no vulnerability DB."""
    report = SBOM_REPORTS[_sbom_format(fmt)]
    db = DbOptions(cache_dir=cache_dir)  # validates the cache dir
    argv = (
        NAME, "image", "--input", input_path, "--cache-dir", db.cache_dir, *_common(),
        "--format", fmt, "--output", report,
    )  # fmt: skip
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=argv,
        report=report,
        exit_codes=SBOM_EXIT_CODES,
        mounts={input_path: "image", db.cache_dir: "trivy-cache"},
    )


def source_sbom(*, fmt: SbomFormat = "cyclonedx", cache_dir: str = DEFAULT_CACHE_DIR) -> Invocation:
    """SBOM of SRC from its lock files (what the source declares, before the build)."""
    report = SOURCE_SBOM_REPORTS[_sbom_format(fmt)]
    db = DbOptions(cache_dir=cache_dir)
    argv = (
        NAME, "fs", "--cache-dir", db.cache_dir, *_common(), "--format", fmt, "--output", report, SRC,
    )  # fmt: skip
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=argv,
        report=report,
        exit_codes=SBOM_EXIT_CODES,
        mounts={SRC: "source", db.cache_dir: "trivy-cache"},
    )


def download_db(db: DbOptions) -> Invocation:
    """Warm-up: fetch (or refresh) the vulnerability DB into the cache, scan nothing.

    The report is the DB's ``metadata.json``: give its text to `check_db_metadata(..., offline=True)`.
    Trivy skips the download while the cached DB's ``NextUpdate`` is in the future.
    """
    if db.offline:
        raise ConfigError(
            "download_db was asked for with offline=True; drop the warm-up step in offline mode, "
            "or set offline=False to allow the download"
        )
    argv = (NAME, "image", "--download-db-only", *db.flags(), *_common())
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=argv,
        report=db.metadata_path,
        exit_codes=SBOM_EXIT_CODES,
        mounts=db.mounts(),
    )


# ---------------------------------------------------------------------------------------------- parse


def _severity(value: Any, what: str) -> Severity:
    if value is None or value == "":
        return Severity.UNKNOWN
    if not isinstance(value, str):
        raise ToolOutputError(NAME, f"{what}.Severity is {type(value).__name__}, expected a string")
    found = SEVERITY_MAP.get(value.upper())
    if found is None:
        raise ToolOutputError(NAME, f"{what}.Severity {value!r} is not one of {', '.join(_SEVERITIES)}")
    return found


def _required_str(obj: dict[str, Any], key: str, what: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise ToolOutputError(NAME, f"{what} has no {key}")
    return value


def _opt_str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _purl_type(purl: str) -> str:
    if not purl.startswith("pkg:"):
        return ""
    return purl[4:].lstrip("/").split("/", 1)[0].lower()


def _vuln_ids_or_error(v: dict[str, Any], what: str) -> tuple[str, str, str]:
    return (
        _required_str(v, "VulnerabilityID", what),
        _required_str(v, "PkgName", what),
        _required_str(v, "InstalledVersion", what),
    )


def _identifier(ident: Any) -> tuple[str, str]:
    """(purl, uid) of a PkgIdentifier object, "" where absent."""
    if type(ident) is not dict:
        return "", ""
    d = cast("dict[str, Any]", ident)
    purl, uid = d.get("PURL"), d.get("UID")
    return (purl if type(purl) is str else "", uid if type(uid) is str else "")


def _first_reference(v: dict[str, Any]) -> str:
    refs: Any = v.get("References")
    first: Any = cast("list[Any]", refs)[0] if type(refs) is list and refs else None
    return first if type(first) is str else ""


def _package_lines(res: dict[str, Any], what: str) -> dict[str, tuple[int | None, int | None]]:
    """fs: the lines of each package in its lock file, by package UID."""
    lines: dict[str, tuple[int | None, int | None]] = {}
    for p in expect_list(NAME, res.get("Packages"), f"{what}.Packages"):
        if not isinstance(p, dict):
            continue
        p_d: dict[str, Any] = p  # pyright: ignore[reportUnknownVariableType]
        ident = p_d.get("Identifier")
        locs = p_d.get("Locations")
        if isinstance(ident, dict) and isinstance(locs, list) and locs and isinstance(locs[0], dict):
            uid = ident.get("UID")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            first: dict[str, Any] = locs[0]  # pyright: ignore[reportUnknownVariableType]
            if isinstance(uid, str):
                lines[uid] = (_opt_int(first.get("StartLine")), _opt_int(first.get("EndLine")))
    return lines


class _Parser:
    """One report's parse, with caches so that 100k vulnerabilities cost linear time."""

    def __init__(self, mode: Mode, artifact_name: str) -> None:
        self.mode: Mode = mode
        self.artifact_prefix = f"{artifact_name} (" if artifact_name else ""
        self.packages: dict[tuple[str, str, str, str], Package] = {}
        self.locations: dict[tuple[str, int | None, int | None], Location] = {}
        self.tags_cache: dict[tuple[str, ...], tuple[str, ...]] = {}

    def where(self, target: str) -> str:
        if self.mode == "fs":
            return target.removeprefix("./")
        # OS packages' target is "<artifact name> (debian 12.15)": drop the host/container path
        if self.artifact_prefix and target.startswith(self.artifact_prefix) and target.endswith(")"):
            target = target[len(self.artifact_prefix) : -1]
        return f"image:{target.lstrip('/')}"

    def location(self, path: str, start: int | None = None, end: int | None = None) -> Location:
        key = (path, start, end)
        loc = self.locations.get(key)
        if loc is None:
            loc = self.locations[key] = Location(path, start, end if start is not None else None)
        return loc

    def tags(self, cwes: list[Any]) -> tuple[str, ...]:
        key: tuple[str, ...] = tuple(c for c in cwes if type(c) is str)
        cached = self.tags_cache.get(key)
        if cached is None:
            cached = self.tags_cache[key] = tuple(sorted(key))
        return cached

    def result(self, index: int, raw: Any, out: list[Finding]) -> None:
        what = f"Results[{index}]"
        res = expect_dict(NAME, raw, what)
        target = _required_str(res, "Target", what)
        rtype = _opt_str(res, "Type")
        vulns = expect_list(NAME, res.get("Vulnerabilities"), f"{what}.Vulnerabilities")
        if vulns:
            self.vulnerabilities(what, target, rtype, res, vulns, out)
        misconfs = expect_list(NAME, res.get("Misconfigurations"), f"{what}.Misconfigurations")
        for j, m in enumerate(misconfs):
            self.misconfiguration(f"{what}.Misconfigurations[{j}]", target, m, out)
        secrets = expect_list(NAME, res.get("Secrets"), f"{what}.Secrets")
        for j, s in enumerate(secrets):
            self.secret(f"{what}.Secrets[{j}]", target, s, out)

    def vulnerabilities(
        self, what: str, target: str, rtype: str, res: dict[str, Any], vulns: list[Any], out: list[Finding]
    ) -> None:
        category = Category.DEPENDENCY if self.mode == "fs" else Category.IMAGE_VULNERABILITY
        result_path = self.where(target)
        default_eco = _ECOSYSTEM_BY_TYPE.get(rtype, rtype)
        lines = _package_lines(res, what) if self.mode == "fs" else {}
        # Hot loop (100k entries in big images): field checks inline, error texts built only on error,
        # packages/locations/tags shared between entries.
        fs_mode = self.mode == "fs"
        loc_cache: dict[str, tuple[Location]] = {}
        pkg_cache = self.packages
        for j, raw in enumerate(vulns):
            if type(raw) is not dict:
                raise ToolOutputError(NAME, f"{what}.Vulnerabilities[{j}] is {type(raw).__name__}, expected an object")
            v: dict[str, Any] = raw  # pyright: ignore[reportUnknownVariableType]
            vuln_id = v.get("VulnerabilityID")
            name = v.get("PkgName")
            version = v.get("InstalledVersion")
            if not (type(vuln_id) is str and vuln_id and type(name) is str and name and type(version) is str):
                vuln_id, name, version = _vuln_ids_or_error(v, f"{what}.Vulnerabilities[{j}]")
            elif not version:
                _required_str(v, "InstalledVersion", f"{what}.Vulnerabilities[{j}]")
            fixed: Any = v.get("FixedVersion")
            fixed = fixed if type(fixed) is str else ""
            purl, uid = _identifier(v.get("PkgIdentifier"))
            place: Any = uid if fs_mode else v.get("PkgPath") or ""
            if type(place) is not str:
                place = ""
            locs = loc_cache.get(place)
            if locs is None:
                if fs_mode:
                    locs = (self.location(result_path, *lines.get(place, (None, None))),)
                else:
                    locs = (self.location(f"image:{place.lstrip('/')}" if place else result_path),)
                loc_cache[place] = locs
            pkg_key = (name, version, purl, fixed)
            package = pkg_cache.get(pkg_key)
            if package is None:
                package = pkg_cache[pkg_key] = Package(name, version, _purl_type(purl) or default_eco, purl, fixed)
            sev_word: Any = v.get("Severity")
            severity = SEVERITY_MAP.get(sev_word) if type(sev_word) is str else None
            if severity is None:
                severity = _severity(sev_word, f"{what}.Vulnerabilities[{j}]")
            cwes: Any = v.get("CweIDs")
            tags = self.tags(cast("list[Any]", cwes)) if type(cwes) is list and cwes else ()
            title = v.get("Title")
            help_uri = v.get("PrimaryURL")
            if type(help_uri) is not str or not help_uri:
                help_uri = _first_reference(v)
            fix_text = f"fixed in {fixed}" if fixed else "no fixed version yet"
            out.append(
                Finding(
                    category=category,
                    rule_id=vuln_id,
                    severity=severity,
                    message=f"{name} {version} is affected by {vuln_id} ({fix_text})",
                    tools=TOOLS,
                    locations=locs,
                    package=package,
                    title=title if type(title) is str else "",
                    help_uri=help_uri,  # pyright: ignore[reportArgumentType]
                    tags=tags,
                )
            )

    def misconfiguration(self, what: str, target: str, raw: Any, out: list[Finding]) -> None:
        m = expect_dict(NAME, raw, what)
        rule_id = _required_str(m, "ID", what)
        status = _required_str(m, "Status", what)
        if status != "FAIL":
            return
        cause = m.get("CauseMetadata")
        start = end = None
        if isinstance(cause, dict):
            start = _opt_int(cause.get("StartLine"))  # pyright: ignore[reportUnknownMemberType]
            end = _opt_int(cause.get("EndLine"))  # pyright: ignore[reportUnknownMemberType]
        title = _opt_str(m, "Title")
        message = _opt_str(m, "Message") or title or rule_id
        resolution = _opt_str(m, "Resolution")
        if resolution:
            message = f"{message}. Fix: {resolution}"
        out.append(
            Finding(
                category=Category.MISCONFIGURATION,
                rule_id=rule_id,
                severity=_severity(m.get("Severity"), what),
                message=message,
                tools=(NAME,),
                locations=(self.location(self.where(target), start, end),),
                title=title,
                help_uri=_opt_str(m, "PrimaryURL"),
            )
        )

    def secret(self, what: str, target: str, raw: Any, out: list[Finding]) -> None:
        # Only the rule and the place: never Match, Code or any other field that carries the value.
        s = expect_dict(NAME, raw, what)
        rule_id = _required_str(s, "RuleID", what)
        title = _opt_str(s, "Title") or rule_id
        start = _opt_int(s.get("StartLine"))
        end = _opt_int(s.get("EndLine"))
        category = _opt_str(s, "Category")
        out.append(
            Finding(
                category=Category.SECRET,
                rule_id=rule_id,
                severity=_severity(s.get("Severity"), what),
                message=f"{title} found; rotate it and remove it from the source and its history",
                tools=(NAME,),
                locations=(self.location(self.where(target), start, end),),
                title=title,
                tags=(category.lower(),) if category else (),
            )
        )


def parse(text: str, *, mode: Mode) -> ToolRun:
    """Turn trivy's JSON report (``--format json``) into findings.

    * ``Results[].Vulnerabilities`` → DEPENDENCY (``mode="fs"``, location: the lock file relative to
      SRC, with the package's line when trivy reports it) or IMAGE_VULNERABILITY (``mode="image"``,
      location ``image:<path of the package in the image>``, or ``image:<os> <version>`` for OS
      packages), with the package's purl type as ecosystem and its fixed version;
    * ``Misconfigurations`` with Status FAIL → MISCONFIGURATION at the cause's file and lines;
    * ``Secrets`` → SECRET at file and line; the matched value is never read.

    Unknown fields are ignored. ``SchemaVersion`` (must be 2) and ``ArtifactType`` are required, as
    are each finding's identifying fields; a missing one is a `ToolOutputError` naming it. Trivy
    leaves ``Results`` out when it found nothing to scan: that gives no findings and a note.
    """
    if mode not in ("fs", "image"):
        raise ValueError(f"trivy parse mode {mode!r}; use 'fs' or 'image'")
    doc = expect_dict(NAME, load_json(NAME, text), "the report")
    schema = doc.get("SchemaVersion")
    if schema is None:
        raise ToolOutputError(NAME, "the report has no SchemaVersion (is it trivy's --format json?)")
    if schema != SCHEMA_VERSION:
        raise ToolOutputError(NAME, f"the report has SchemaVersion {schema!r}, this parser reads {SCHEMA_VERSION}")
    artifact_type = doc.get("ArtifactType")
    if not isinstance(artifact_type, str) or not artifact_type:
        raise ToolOutputError(NAME, "the report has no ArtifactType")
    trivy_info = doc.get("Trivy")
    version = ""
    if isinstance(trivy_info, dict):
        v = trivy_info.get("Version")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        version = v if isinstance(v, str) else ""
    notes: list[str] = []
    subject = ""
    meta = doc.get("Metadata")
    if mode == "image" and isinstance(meta, dict):
        image_id = meta.get("ImageID")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        subject = image_id if isinstance(image_id, str) else ""
    if "Results" not in doc:
        notes.append(f"trivy found nothing to scan in the {artifact_type} (the report has no Results)")
    results = expect_list(NAME, doc.get("Results"), "Results")
    parser = _Parser(mode, _opt_str(doc, "ArtifactName"))
    findings: list[Finding] = []
    with bulk():
        for i, res in enumerate(results):
            parser.result(i, res, findings)
        findings.sort(key=_order)
    return ToolRun(tool=NAME, version=version, findings=tuple(findings), notes=tuple(notes), subject=subject)


def _order(f: Finding) -> tuple[int, str, str, str, int, str, str]:
    loc = f.locations[0]
    pkg = f.package
    return (_NEGATED_RANK[f.severity], _CATEGORY_VALUE[f.category], f.rule_id, loc.path, loc.start_line or 0,
            pkg.name if pkg else "", pkg.version if pkg else "")  # fmt: skip


_NEGATED_RANK = {s: -int(s) for s in Severity}
_CATEGORY_VALUE = {c: c.value for c in Category}
"""`_order` runs once per finding (100k in big images): dict lookups instead of enum properties."""
