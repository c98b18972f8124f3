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

Seaworthy's own Dockerfile checks
---------------------------------
`fs_scan(checks=CHECKS_DIR)` adds the Rego checks bundled in ``pipeline/rules/trivy`` (ids ``SW-DS-…``,
package namespace ``seaworthy``; ``--config-check``, ``--check-namespaces``): Node installs without the lock
file or with dev dependencies in the final stage, ``COPY . .`` with no ``.dockerignore``, bases not pinned by
digest, remote ``ADD`` without ``--checksum``, downloads run without a checksum. They run with trivy's own DS
checks and come back as ordinary misconfigurations. What a Dockerfile alone does not say comes as check data
(``--config-data``, `check_data`): the tree's ``.dockerignore`` files and the build arguments. Trivy only *logs*
a check that does not parse or fails to evaluate (exit 0, no finding): `check_stderr` turns such a log line
into `ToolFailed`, never "no findings".

An end-of-life base OS (``Metadata.OS.EOSL`` in an image report) becomes the finding ``SW-IMG-EOSL``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, cast

import attrs

from pipeline.errors import ConfigError, ToolFailed, ToolOutputError
from pipeline.model import (
    Category,
    Finding,
    Location,
    Package,
    Severity,
    ToolRun,
    bulk,
    finding_from_parts,
    fingerprint_key,
    vulnerability_key,
)
from pipeline.tools.base import (
    CACHE,
    IN,
    OUT,
    SRC,
    ExitCodes,
    Invocation,
    expect_dict,
    expect_list,
    load_json,
    pinned,
)

NAME = "trivy"
TOOLS = (NAME,)
IMAGE = pinned(NAME)
"""Pinned in images.toml. Never 0.69.4-0.69.6 (compromised releases)."""
VERSION = IMAGE.tag

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

CHECKS_DIR = f"{IN}/trivy-checks"
"""Where the stage mounts the bundled Rego checks (``pipeline/rules/trivy``)."""
CHECK_DATA_DIR = f"{IN}/trivy-check-data"
"""Where the stage mounts the check data folder (one ``seaworthy.json``, see `check_data`)."""
CHECK_DATA_FILE = "seaworthy.json"
CHECK_NAMESPACE = "seaworthy"
BUNDLED_CHECKS = Path(__file__).resolve().parent.parent / "rules" / "trivy"
"""Host path of the bundled checks."""
EOSL_RULE = "SW-IMG-EOSL"

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

    @property
    def java_metadata_path(self) -> str:
        """Container path of the Java index DB's ``metadata.json`` (present once a JAR was scanned)."""
        return f"{self.cache_dir}/java-db/metadata.json"

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


def _filters(ignorefile: str | None) -> list[str]:
    """No severity or fixed-only filter ever: trivy reports everything and the gate decides, so that no
    setting can hide a finding from it (issue 8; `gate.thresholds` and `gate.fixable_only` show in the verdict).
    An explicit ignore file only: an empty value stops trivy from picking up a .trivyignore by accident.
    Waivers belong in the policy gate, where they are visible and expire."""
    return ["--ignorefile", ignorefile or ""]


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
    ignorefile: str | None = None,
    db: DbOptions,
    checks: str | None = None,
    check_data: str | None = None,
) -> Invocation:
    """``trivy fs`` of SRC: dependencies (lock files), misconfigurations (Dockerfile, IaC), secrets.

    `skip`: paths or globs relative to SRC to leave out (given to both ``--skip-dirs`` and
    ``--skip-files``). `ignorefile`: container path of a .trivyignore to honour (default: none).
    `checks`: container path of extra Rego checks (`CHECKS_DIR` for the bundled ones, namespace
    ``seaworthy``), `check_data`: container path of their data folder (`CHECK_DATA_DIR`); both only
    with the ``misconfig`` scanner.
    """
    argv: list[str] = [NAME, "fs", "--scanners", _check_scanners(scanners)]
    for pattern in skip:
        if not pattern.strip() or pattern.startswith("/"):
            raise ConfigError(f"trivy skip path {pattern!r} must be relative to the source root, e.g. tests/data")
        argv += ["--skip-dirs", pattern, "--skip-files", pattern]
    argv += _filters(ignorefile)
    extra: dict[str, str] = {}
    if (checks or check_data) and "misconfig" not in scanners:
        raise ConfigError("trivy custom checks need the misconfig scanner; add 'misconfig' to [scan.trivy] scanners")
    if checks:
        argv += ["--config-check", checks, "--check-namespaces", CHECK_NAMESPACE]
        extra[checks] = "trivy-checks"
    if check_data:
        argv += ["--config-data", check_data]
        extra[check_data] = "trivy-check-data"
    # development dependencies too (npm, yarn, gradle): an image built with `npm install` ships them; the
    # parser marks them (`Finding.dev`) and the gate decides (rules/dev_dependencies.rego)
    argv += ["--include-dev-deps", "--skip-check-update", *db.flags(), *_common()]
    argv += ["--format", "json", "--output", FS_REPORT, "--exit-code", str(FINDINGS_EXIT_CODE), SRC]
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=tuple(argv),
        report=FS_REPORT,
        exit_codes=EXIT_CODES,
        mounts={SRC: "source", **db.mounts(), **_ignorefile_mount(ignorefile), **extra},
    )


def check_data(
    *,
    dockerignore: Iterable[str] = (),
    build_args: Mapping[str, str] | None = None,
    dockerfile: str = "",
    target: str = "",
) -> str:
    """The text of ``seaworthy.json``, the data the bundled checks read as ``data.seaworthy_input``:
    the tree's ``.dockerignore`` files (paths relative to the root, e.g. ``.dockerignore``,
    ``api/.dockerignore``, ``Dockerfile.app.dockerignore``), the build arguments (``KEY: value``) and the
    build target of the Dockerfile that is built (the stage that becomes the image)."""
    doc = {
        "seaworthy_input": {
            "dockerignore": sorted({p.removeprefix("./") for p in dockerignore}),
            "build_args": dict(sorted((build_args or {}).items())),
            "target": {"dockerfile": dockerfile.removeprefix("./") if target else "", "stage": target},
        }
    }
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


_REGO_ERROR = re.compile(r"\bERROR\s+\[rego\]\s*(.*)")


def check_stderr(stderr: str) -> None:
    """Raise `ToolFailed` when trivy logged that a Rego check did not load or evaluate.

    Trivy logs such errors and carries on with exit 0, reporting nothing for that check: a silent pass.
    """
    for line in stderr.splitlines():
        m = _REGO_ERROR.search(line)
        if m:
            raise ToolFailed(
                NAME,
                0,
                f"a misconfiguration check failed, so the scan is incomplete: {m.group(1).strip()} "
                "(fix or remove the check; a bundled check failing is a Seaworthy bug)",
            )


def image_scan(
    *,
    input_path: str = f"{IN}/image.tar",
    scanners: Sequence[Scanner] = ("vuln",),
    ignorefile: str | None = None,
    db: DbOptions,
) -> Invocation:
    """``trivy image --input`` of an image tarball (docker-archive, Dagger's ``as_tarball()``) or OCI
    layout directory: vulnerabilities of OS and language packages (add "secret" to `scanners` to look
    for secrets in the layers too)."""
    argv: list[str] = [NAME, "image", "--input", input_path, "--scanners", _check_scanners(scanners)]
    argv += _filters(ignorefile)
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


JAVA_DB_FIRST_RUN = "'--skip-java-db-update' cannot be specified on the first run"
"""What trivy says when a scan meets a JAR and the cache has no Java index DB yet (pkg/javadb/client.go)."""


def needs_java_db(tool_message: str) -> bool:
    """True when a scan failed only because the Java index DB is not in the cache yet."""
    return JAVA_DB_FIRST_RUN in tool_message or "first run cannot skip downloading Java DB" in tool_message


def download_java_db(db: DbOptions) -> Invocation:
    """Fetch (or refresh) the Java index DB into the cache (``--download-java-db-only``), scan nothing.

    Scans pass ``--skip-java-db-update``, and the vulnerability DB warm-up does not fetch this one: a scan
    that meets a JAR on a fresh cache fails with `JAVA_DB_FIRST_RUN`. The stage then runs this and scans
    again (fetched on demand: it is large and only JAR content needs it), and refreshes it daily once present.
    """
    if db.offline:
        raise ConfigError(
            "download_java_db was asked for with offline=True; fill the cache's java-db from a mirror "
            "(java_db_repositories) or set offline=False to allow the download"
        )
    argv = (NAME, "image", "--download-java-db-only", *db.flags(), *_common())
    return Invocation(
        tool=NAME,
        image=IMAGE,
        argv=argv,
        report=db.java_metadata_path,
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


@attrs.frozen
class _Pkg:
    version: str
    purl: str
    dev: bool
    licenses: tuple[str, ...]
    lines: tuple[int | None, int | None]


def _package_index(results: list[Any]) -> dict[tuple[str, str], list[_Pkg]]:
    """(target, package name) -> the packages of that name in that target's ``Packages`` (any result)."""
    index: dict[tuple[str, str], list[_Pkg]] = {}
    for res in results:
        if type(res) is not dict:
            continue
        r = cast("dict[str, Any]", res)
        target = r.get("Target")
        packages: Any = r.get("Packages")
        if type(target) is not str or type(packages) is not list:
            continue
        for raw in cast("list[Any]", packages):
            if type(raw) is not dict:
                continue
            p = cast("dict[str, Any]", raw)
            name, version = p.get("Name"), p.get("Version")
            if type(name) is not str or not name:
                continue
            purl, _ = _identifier(p.get("Identifier"))
            lics: Any = p.get("Licenses")
            locs: Any = p.get("Locations")
            first: Any = cast("list[Any]", locs)[0] if type(locs) is list and locs else None
            lines: tuple[int | None, int | None] = (None, None)
            if type(first) is dict:
                f = cast("dict[str, Any]", first)
                lines = (_opt_int(f.get("StartLine")), _opt_int(f.get("EndLine")))
            index.setdefault((target, name), []).append(
                _Pkg(
                    version=version if type(version) is str else "",
                    purl=purl,
                    dev=p.get("Dev") is True,
                    licenses=tuple(x for x in cast("list[Any]", lics) if type(x) is str) if type(lics) is list else (),
                    lines=lines,
                )
            )
    return index


def _dev_uids(res: dict[str, Any]) -> frozenset[str]:
    """fs: UIDs of the packages trivy marks as development dependencies (``--include-dev-deps``)."""
    uids: set[str] = set()
    packages: Any = res.get("Packages")
    for p in cast("list[Any]", packages) if type(packages) is list else []:
        if type(p) is dict and cast("dict[str, Any]", p).get("Dev") is True:
            _, uid = _identifier(cast("dict[str, Any]", p).get("Identifier"))
            if uid:
                uids.add(uid)
    return frozenset(uids)


LICENSE_SEVERITY_BY_CATEGORY: dict[str, Severity] = {
    "forbidden": Severity.CRITICAL,
    "restricted": Severity.HIGH,
    "reciprocal": Severity.MEDIUM,
    "notice": Severity.LOW,
    "permissive": Severity.LOW,
    "unencumbered": Severity.LOW,
    "unknown": Severity.UNKNOWN,
}
"""trivy's licence classification (``Category``) → severity, used when an entry has no ``Severity`` (trivy
writes both, and they agree: forbidden CRITICAL, restricted HIGH, reciprocal MEDIUM, notice/permissive/
unencumbered LOW, unknown UNKNOWN)."""


class _Parser:
    """One report's parse, with caches so that 100k vulnerabilities cost linear time."""

    def __init__(self, mode: Mode, artifact_name: str) -> None:
        self.mode: Mode = mode
        self.artifact_prefix = f"{artifact_name} (" if artifact_name else ""
        self.packages: dict[tuple[str, str, str, str], Package] = {}
        self.locations: dict[tuple[str, int | None, int | None], Location] = {}
        self.tags_cache: dict[tuple[str, ...], tuple[str, ...]] = {}
        self.no_target: list[int] = []
        """Indexes of results without a Target: their findings are kept, without a location."""
        self.package_index: dict[tuple[str, str], list[_Pkg]] = {}
        self.fingerprints: dict[tuple[str, ...], str] = {}
        """Fingerprint by merge key: a vulnerability reported in several places is hashed once."""

    def where(self, target: str) -> str:
        if self.mode == "fs":
            return target.removeprefix("./")
        # OS packages' target is "<artifact name> (debian 12.15)": drop the host/container path
        if self.artifact_prefix and target.startswith(self.artifact_prefix) and target.endswith(")"):
            target = target[len(self.artifact_prefix) : -1]
        return f"image:{target.lstrip('/')}"

    def place(self, path: str, start: int | None = None, end: int | None = None) -> tuple[Location, ...]:
        """The one location of a finding, or none when its result named no target (then lines mean nothing)."""
        if path in ("", "image:"):
            return ()
        return (self.location(path, start, end),)

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
        target = res.get("Target")
        if target is None or target == "":
            # one result without a Target must not reject the rest: keep its findings, without a file
            self.no_target.append(index)
            target = ""
        elif not isinstance(target, str):
            raise ToolOutputError(NAME, f"{what}.Target is {type(target).__name__}, expected a string")
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
        licenses = expect_list(NAME, res.get("Licenses"), f"{what}.Licenses")
        for j, lic in enumerate(licenses):
            self.license(f"{what}.Licenses[{j}]", target, rtype, lic, out)

    def vulnerabilities(
        self, what: str, target: str, rtype: str, res: dict[str, Any], vulns: list[Any], out: list[Finding]
    ) -> None:
        category = Category.DEPENDENCY if self.mode == "fs" else Category.IMAGE_VULNERABILITY
        result_path = self.where(target)
        default_eco = _ECOSYSTEM_BY_TYPE.get(rtype, rtype)
        lines = _package_lines(res, what) if self.mode == "fs" else {}
        dev_uids = _dev_uids(res) if self.mode == "fs" else frozenset[str]()
        # Hot loop (100k entries in big images): field checks inline, error texts built only on error,
        # packages/locations/tags shared between entries.
        fs_mode = self.mode == "fs"
        loc_cache: dict[str, tuple[Location, ...]] = {}
        pkg_cache = self.packages
        fp_cache = self.fingerprints
        append = out.append
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
            ident: Any = v.get("PkgIdentifier")  # `_identifier`, inline (once per entry)
            if type(ident) is dict:
                ident_d = cast("dict[str, Any]", ident)
                purl, uid = ident_d.get("PURL"), ident_d.get("UID")
                purl = purl if type(purl) is str else ""
                uid = uid if type(uid) is str else ""
            else:
                purl = uid = ""
            place: Any = uid if fs_mode else v.get("PkgPath") or ""
            if type(place) is not str:
                place = ""
            locs = loc_cache.get(place)
            if locs is None:
                if fs_mode:
                    locs = self.place(result_path, *lines.get(place, (None, None)))
                else:
                    locs = self.place(f"image:{place.lstrip('/')}" if place else result_path)
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
            dev = bool(dev_uids) and uid in dev_uids
            if dev:
                fix_text += "; a development dependency"
            key = vulnerability_key(vuln_id, package)  # its merge_key: the fingerprint is that key's hash
            fingerprint = fp_cache.get(key)
            if fingerprint is None:
                fingerprint = fp_cache[key] = fingerprint_key(key)
            append(
                finding_from_parts(
                    category,
                    vuln_id,
                    severity,
                    f"{name} {version} is affected by {vuln_id} ({fix_text})",
                    TOOLS,
                    locs,
                    package,
                    title if type(title) is str else "",
                    help_uri,  # pyright: ignore[reportArgumentType]
                    tags,
                    "",
                    dev,
                    fingerprint,
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
                locations=self.place(self.where(target), start, end),
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
                locations=self.place(self.where(target), start, end),
                title=title,
                tags=(category.lower(),) if category else (),
            )
        )

    def license(self, what: str, target: str, rtype: str, raw: Any, out: list[Finding]) -> None:
        """A licence trivy classified: of a package (``PkgName``), or found in a file (``--license-full``)."""
        lic = expect_dict(NAME, raw, what)
        name = _required_str(lic, "Name", what)
        classification = _opt_str(lic, "Category").lower()
        severity = _severity(lic.get("Severity"), what) if lic.get("Severity") else None
        if severity is None:
            severity = LICENSE_SEVERITY_BY_CATEGORY.get(classification, Severity.UNKNOWN)
        file_path = _opt_str(lic, "FilePath") or target
        pkg_name = _opt_str(lic, "PkgName")
        label = f"{name} (trivy: {classification or 'unclassified'})"
        tags = (f"license-{classification}",) if classification else ()
        if not pkg_name:
            out.append(
                Finding(
                    category=Category.LICENSE,
                    rule_id=name,
                    severity=severity,
                    message=f"{file_path} holds the licence {label}",
                    tools=TOOLS,
                    locations=(self.location(self.where(file_path)),),
                    title=f"licence {name}",
                    help_uri=_opt_str(lic, "Link"),
                    tags=tags,
                )
            )
            return
        candidates = self.package_index.get((target, pkg_name)) or self.package_index.get((file_path, pkg_name), [])
        matching = [p for p in candidates if name in p.licenses] or candidates
        eco = _ECOSYSTEM_BY_TYPE.get(rtype, rtype)
        for pkg in matching or [_Pkg("", "", False, (), (None, None))]:
            dev = pkg.dev
            version = f" {pkg.version}" if pkg.version else ""
            out.append(
                Finding(
                    category=Category.LICENSE,
                    rule_id=name,
                    severity=severity,
                    message=f"{pkg_name}{version} is under {label}" + ("; a development dependency" if dev else ""),
                    tools=TOOLS,
                    locations=(self.location(self.where(file_path), *pkg.lines),),
                    package=Package(pkg_name, pkg.version, _purl_type(pkg.purl) or eco, pkg.purl),
                    title=f"licence {name}",
                    help_uri=_opt_str(lic, "Link"),
                    tags=tags,
                    dev=dev,
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
    * ``Licenses`` (the ``license`` scanner) → LICENSE: rule id the licence (SPDX id as trivy names it),
      severity trivy's classification (forbidden CRITICAL, restricted HIGH, reciprocal MEDIUM, notice LOW,
      unknown UNKNOWN), the package's version, purl and lock-file lines taken from the same target's
      ``Packages``; a licence found in a file (``--license-full``) is a LICENSE finding at that file.
    * ``Packages[].Dev`` (``--include-dev-deps``) marks a dependency finding as ``dev``.

    Unknown fields are ignored. ``SchemaVersion`` (must be 2) and ``ArtifactType`` are required, as
    are each finding's identifying fields; a missing one is a `ToolOutputError` naming it. A result with
    an empty or missing ``Target`` does not reject the report: its findings are kept without a file
    location (a vulnerability keeps its package) and a note names the results. Trivy
    leaves ``Results`` out when it found nothing to scan: that gives no findings and a note.
    """
    if mode not in ("fs", "image"):
        raise ValueError(f"trivy parse mode {mode!r}; use 'fs' or 'image'")
    with bulk():  # json.loads builds a dict per entry: no cyclic collections while it does
        loaded = load_json(NAME, text)
    doc = expect_dict(NAME, loaded, "the report")
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
    if any(type(r) is dict and cast("dict[str, Any]", r).get("Licenses") for r in results):
        parser.package_index = _package_index(results)
    findings: list[Finding] = []
    with bulk():
        for i, res in enumerate(results):
            parser.result(i, res, findings)
        if mode == "image" and isinstance(meta, dict):
            eosl = _eosl_finding(cast("dict[str, Any]", meta))
            if eosl is not None:
                findings.append(eosl)
    if parser.no_target:
        listed = ", ".join(f"Results[{i}]" for i in parser.no_target[:10])
        more = f" and {len(parser.no_target) - 10} more" if len(parser.no_target) > 10 else ""
        notes.append(
            f"trivy: {len(parser.no_target)} result(s) named no Target ({listed}{more}); "
            "their findings are kept without a file location"
        )
    return ToolRun(tool=NAME, version=version, findings=tuple(findings), notes=tuple(notes), subject=subject)


def _eosl_finding(meta: dict[str, Any]) -> Finding | None:
    """``Metadata.OS.EOSL: true`` (the base OS release gets no more security updates) as a finding.

    HIGH, category image-vulnerability, no package (so no fix version): trivy cannot report the
    vulnerabilities nobody fixes any more, so a clean vulnerability list on an EOL OS means little."""
    os_info = meta.get("OS")
    if type(os_info) is not dict:
        return None
    os_d = cast("dict[str, Any]", os_info)
    if os_d.get("EOSL") is not True:
        return None
    family = _opt_str(os_d, "Family") or "the base OS"
    release = _opt_str(os_d, "Name")
    name = f"{family} {release}".strip()
    return Finding(
        category=Category.IMAGE_VULNERABILITY,
        rule_id=EOSL_RULE,
        severity=Severity.HIGH,
        message=(
            f"the image's OS, {name}, is end-of-life: it gets no more security fixes, so vulnerabilities "
            "found after its end of support are not reported. Move to a supported release of the base image"
        ),
        tools=TOOLS,
        locations=(Location(f"image:{name}"),),
        title=f"End-of-life base OS ({name})",
    )
