"""Publishing by digest and the scanned-equals-pushed read-back, against a real registry.

The exact `pipeline.tools.skopeo` invocations run on the host (tests/hostrun.py) with Debian's skopeo against
Debian's distribution registry on loopback (tests/registry.py): plain HTTP, htpasswd over HTTP, TLS +
htpasswd. Images are tiny static busybox images built here with buildah (test-environment.md §4a): one
linux/amd64 image and a two-platform OCI index (amd64 + arm64/v8 over the same rootfs), exported as
oci-archive, i.e. the shape of Dagger's `Container.as_tarball()`. The "recorded at build time" config digests
are the image ids buildah printed at commit, cross-checked with `skopeo inspect --config --raw oci-archive:`.

Failure paths use real servers too: 401 from the htpasswd registry, 403/503 from a tiny loopback HTTP server
(bounded: it stops itself), and a closed port for "unreachable".
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest

from pipeline.errors import ToolFailed
from pipeline.tools import skopeo
from pipeline.tools.base import IN, OUT, Invocation
from pipeline.tools.skopeo import (
    FailureKind,
    Reference,
    RegistryFailure,
    ScannedImageMismatch,
    auth_config_json,
    classify_failure,
    compare_digests,
    config_digests,
    normalize_reference,
    parse_config,
    parse_digestfile,
    parse_manifest,
    with_retries,
)
from tests.hostrun import HostResult, run_on_host
from tests.registry import Registry, start_registry

pytestmark = pytest.mark.integration

SECRETS = str(Path(skopeo.AUTHFILE).parent)
USER, PASSWORD = "ciuser", "ci-Pa55-w0rd"

# ---------------------------------------------------------------------------------------------- images


@attrs.frozen
class BuiltImages:
    single: Path
    """OCI archive of one linux/amd64 image."""
    multi: Path
    """OCI archive holding an index of linux/amd64 + linux/arm64/v8."""
    amd64_config: str
    arm64_config: str
    multi_index_digest: str


def _run(argv: list[str], env: dict[str, str], what: str) -> str:
    if shutil.which(argv[0]) is None:
        pytest.fail(f"{argv[0]} is not installed; run scripts/setup.sh (apt: buildah skopeo busybox-static)")
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        pytest.fail(f"{what} failed ({proc.returncode}): {' '.join(argv)}\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


def _sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> BuiltImages:
    busybox = Path("/bin/busybox")
    if not busybox.is_file():
        pytest.fail("/bin/busybox is missing; run scripts/setup.sh (apt: busybox-static)")
    root = tmp_path_factory.mktemp("push-images")
    (root / "containers.conf").write_text(
        '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n[engine]\nruntime = "runc"\n'
    )
    (root / "storage.conf").write_text(
        f'[storage]\ndriver = "vfs"\ngraphroot = "{root}/graph"\nrunroot = "{root}/run"\n'
    )
    env = {
        **os.environ,
        "CONTAINERS_CONF": str(root / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(root / "storage.conf"),
    }
    rootfs = root / "rootfs"
    (rootfs / "bin").mkdir(parents=True)
    shutil.copy2(busybox, rootfs / "bin" / "busybox")

    def build(name: str, arch: str, variant: str) -> str:
        ctr = _run(["buildah", "from", "scratch"], env, "buildah from scratch").strip()
        _run(["buildah", "copy", ctr, str(rootfs), "/"], env, "buildah copy")
        config = ["buildah", "config", "--os", "linux", "--arch", arch, "--user", "65534:65534"]
        config += ["--entrypoint", '["/bin/busybox", "sh"]', "--label", f"seaworthy.test={name}"]
        if variant:
            config += ["--variant", variant]
        _run([*config, ctr], env, "buildah config")
        out = _run(["buildah", "commit", "--quiet", "--rm", ctr, f"localhost/seaworthy-push/{name}:1"], env, "commit")
        return "sha256:" + out.strip().splitlines()[-1]  # the image id is the config digest

    amd, arm = build("amd64", "amd64", ""), build("arm64", "arm64", "v8")
    single, multi = root / "single.tar", root / "multi.tar"
    _run(
        [
            "buildah",
            "push",
            "--quiet",
            "--format",
            "oci",
            "localhost/seaworthy-push/amd64:1",
            f"oci-archive:{single}",
        ],
        env,
        "buildah push",
    )
    _run(["buildah", "manifest", "create", "localhost/seaworthy-push/list:1"], env, "manifest create")
    for name in ("amd64", "arm64"):
        _run(
            [
                "buildah",
                "manifest",
                "add",
                "localhost/seaworthy-push/list:1",
                f"localhost/seaworthy-push/{name}:1",
            ],
            env,
            "manifest add",
        )
    _run(
        ["buildah", "manifest", "push", "--quiet", "--all", "--format", "oci",
         "localhost/seaworthy-push/list:1", f"oci-archive:{multi}"],
        env,
        "manifest push",
    )  # fmt: skip

    # Independent cross-check of the build-time record: the config blobs inside the archives.
    def archive_config(archive: Path, arch: str) -> str:
        raw = subprocess.run(
            ["skopeo", "--override-os", "linux", "--override-arch", arch, "inspect", "--config", "--raw",
             f"oci-archive:{archive}"],
            capture_output=True, check=True, timeout=60,
        ).stdout  # fmt: skip
        return _sha256(raw)

    assert archive_config(single, "amd64") == amd
    assert archive_config(multi, "amd64") == amd
    assert archive_config(multi, "arm64") == arm
    assert amd != arm
    index_raw = subprocess.run(
        ["skopeo", "inspect", "--raw", f"oci-archive:{multi}"], capture_output=True, check=True, timeout=60
    ).stdout
    assert json.loads(index_raw)["mediaType"] == skopeo.MEDIA_OCI_INDEX
    return BuiltImages(single, multi, amd, arm, _sha256(index_raw))


# ---------------------------------------------------------------------------------------------- plumbing


@attrs.frozen
class Dirs:
    inp: Path
    out: Path
    secrets: Path

    @property
    def mapping(self) -> dict[str, str]:
        return {IN: str(self.inp), OUT: str(self.out), SECRETS: str(self.secrets)}


@pytest.fixture
def dirs(tmp_path: Path) -> Dirs:
    d = Dirs(tmp_path / "in", tmp_path / "out", tmp_path / "secrets")
    for p in (d.inp, d.out, d.secrets):
        p.mkdir()
    return d


def stage_image(dirs: Dirs, archive: Path) -> None:
    shutil.copyfile(archive, dirs.inp / Path(skopeo.TARBALL).name)


def run(inv: Invocation, dirs: Dirs) -> HostResult:
    """run_on_host, plus mapping container paths that follow a transport prefix (``oci-archive:/in/...``).

    `Invocation.localized` maps bare paths and ``--flag=/path``; skopeo's ``oci-archive:PATH`` needs the same
    for ``:PATH`` (suggested addition to base.py; this is a no-op once it is there).
    """

    def swap(arg: str) -> str:
        for cpath, host in sorted(dirs.mapping.items(), key=lambda kv: -len(kv[0])):
            head, sep, tail = arg.partition(":" + cpath + "/")
            if sep and head.replace("-", "").isalpha():
                return f"{head}:{host}/{tail}"
        return arg

    return run_on_host(attrs.evolve(inv, argv=tuple(swap(a) for a in inv.argv)), dirs.mapping, timeout=180)


def checked(res: HostResult, registry: str, action: str) -> str:
    """What the stage does with a finished skopeo exec: the report, or the classified failure."""
    if res.exit_code == 0:
        return res.report
    failure = classify_failure(res.stderr, registry=registry, action=action)
    if failure is not None:
        raise failure
    raise ToolFailed("skopeo", res.exit_code, res.stderr)


@attrs.frozen
class Access:
    """How to reach one registry: the keyword arguments every skopeo invocation gets."""

    tls_verify: bool = False
    cert_dir: str | None = None
    authfile: str | None = None

    def kw(self) -> dict[str, Any]:
        return {"tls_verify": self.tls_verify, "cert_dir": self.cert_dir, "authfile": self.authfile}


@attrs.frozen
class Published:
    pinned: Reference
    digest: str
    top: str
    """Raw manifest or index as read back."""
    configs: dict[str, str]
    """platform → config digest as read back from the registry."""
    invocations: tuple[Invocation, ...]


def publish(dirs: Dirs, ref: str, access: Access, **push_kw: Any) -> Published:
    """The publish stage's flow, exec by exec: push, read the pinned manifest back, read every child, and
    (for a single image) its config to learn its platform."""
    dest = normalize_reference(ref)
    invs: list[Invocation] = []

    def do(inv: Invocation, action: str) -> str:
        invs.append(inv)
        return checked(run(inv, dirs), dest.registry, action)

    digest = parse_digestfile(do(skopeo.push(dest, **access.kw(), **push_kw), "push to"))
    pinned = dest.with_digest(digest)
    top = do(skopeo.inspect_raw(pinned.by_digest(), **access.kw(), report_name="top.json"), "read from")
    top_doc = parse_manifest(top, expected_digest=digest)

    def fetch(child: str) -> str:
        return do(
            skopeo.inspect_raw(pinned.by_digest(child), **access.kw(), report_name=f"{child[7:]}.json"),
            "read from",
        )

    platform = ""
    if not top_doc.is_index:
        cfg_text = do(skopeo.inspect_config(pinned.by_digest(), **access.kw()), "read from")
        platform = parse_config(cfg_text, expected_digest=top_doc.config_digest).platform
    configs = config_digests(top, fetch, digest=digest, platform=platform)
    return Published(pinned, digest, top, configs, tuple(invs))


def assert_no_secret_in(invocations: tuple[Invocation, ...] | list[Invocation], *secrets: str) -> None:
    for inv in invocations:
        blob = json.dumps([inv.argv, dict(inv.env), dict(inv.mounts)])
        for s in secrets:
            assert s not in blob
        assert not any(a.startswith(("--dest-creds", "--creds", "--src-creds")) for a in inv.argv)


@pytest.fixture
def http_registry(tmp_path: Path) -> Iterator[Registry]:
    with start_registry(tmp_path) as reg:
        yield reg


@pytest.fixture
def auth_registry(tmp_path: Path) -> Iterator[Registry]:
    with start_registry(tmp_path, htpasswd=(USER, PASSWORD)) as reg:
        yield reg


@pytest.fixture
def tls_auth_registry(tmp_path: Path) -> Iterator[Registry]:
    with start_registry(tmp_path, tls=True, htpasswd=(USER, PASSWORD)) as reg:
        yield reg


def write_authfile(dirs: Dirs, registry: str, password: str = PASSWORD) -> Access:
    path = dirs.secrets / Path(skopeo.AUTHFILE).name
    path.write_text(auth_config_json(registry, USER, password))
    path.chmod(0o400)
    return Access(authfile=skopeo.AUTHFILE)


# ---------------------------------------------------------------------------------------------- happy paths


def test_http_anonymous_single_platform(dirs: Dirs, http_registry: Registry, images: BuiltImages) -> None:
    stage_image(dirs, images.single)
    pub = publish(dirs, f"{http_registry.address}/Seaworthy/App:1.0", Access(tls_verify=False))
    assert str(pub.pinned) == f"{http_registry.address}/seaworthy/app:1.0@{pub.digest}"
    assert pub.configs == {"linux/amd64": images.amd64_config}
    compare_digests({"linux/amd64": images.amd64_config}, pub.configs, reference=str(pub.pinned))
    # the registry itself (not skopeo) serves that digest for the tag
    status, headers, body = http_registry.request(
        "GET", "/v2/seaworthy/app/manifests/1.0", headers={"Accept": skopeo.MEDIA_OCI_MANIFEST}
    )
    assert status == 200
    assert headers.get("Docker-Content-Digest") == pub.digest == _sha256(body)
    assert json.loads(body)["config"]["digest"] == images.amd64_config


def test_http_anonymous_multi_platform_keeps_the_index(
    dirs: Dirs, http_registry: Registry, images: BuiltImages
) -> None:
    stage_image(dirs, images.multi)
    pub = publish(dirs, f"{http_registry.address}/seaworthy/multi:2", Access(), preserve_digests=True)
    # --all + --preserve-digests: the registry holds the very index that was built
    assert pub.digest == images.multi_index_digest
    assert parse_manifest(pub.top).is_index
    expected = {"linux/amd64": images.amd64_config, "linux/arm64": images.arm64_config}
    assert pub.configs == expected
    compare_digests(expected, pub.configs, reference=str(pub.pinned))
    # each platform's config blob is really there, and hashes to its digest
    for platform, config in expected.items():
        res = run(skopeo.inspect_config(pub.pinned, platform=platform, tls_verify=False), dirs)
        assert res.exit_code == 0, res.stderr
        assert parse_config(res.report, expected_digest=config).platform == platform


def test_without_all_platforms_only_one_image_lands_and_the_comparison_says_so(
    dirs: Dirs, http_registry: Registry, images: BuiltImages
) -> None:
    stage_image(dirs, images.multi)
    pub = publish(dirs, f"{http_registry.address}/seaworthy/multi:one", Access(), all_platforms=False)
    assert not parse_manifest(pub.top).is_index
    assert pub.configs == {"linux/amd64": images.amd64_config}  # the host's platform
    with pytest.raises(ScannedImageMismatch) as info:
        compare_digests(
            {"linux/amd64": images.amd64_config, "linux/arm64": images.arm64_config},
            pub.configs,
            reference=str(pub.pinned),
        )
    assert "linux/arm64: built and scanned" in str(info.value)
    assert "linux/amd64" not in str(info.value)


def test_htpasswd_over_http_with_mounted_auth_file(dirs: Dirs, auth_registry: Registry, images: BuiltImages) -> None:
    stage_image(dirs, images.multi)
    access = write_authfile(dirs, auth_registry.address)
    pub = publish(dirs, f"{auth_registry.address}/team/app:auth", access)
    compare_digests({"linux/amd64": images.amd64_config, "linux/arm64": images.arm64_config}, pub.configs)
    assert all(skopeo.AUTHFILE in inv.argv for inv in pub.invocations)
    assert_no_secret_in(pub.invocations, PASSWORD, USER + ":")


def test_tls_and_htpasswd_with_cert_dir(dirs: Dirs, tls_auth_registry: Registry, images: BuiltImages) -> None:
    assert tls_auth_registry.certs_dir is not None
    stage_image(dirs, images.single)
    shutil.copytree(tls_auth_registry.certs_dir, dirs.inp / Path(skopeo.CERT_DIR).name)
    access = attrs.evolve(write_authfile(dirs, tls_auth_registry.address), tls_verify=True, cert_dir=skopeo.CERT_DIR)
    pub = publish(dirs, f"{tls_auth_registry.address}/team/app:tls", access)
    compare_digests({"linux/amd64": images.amd64_config}, pub.configs, reference=str(pub.pinned))
    push_argv = pub.invocations[0].argv
    assert "--dest-tls-verify=true" in push_argv
    assert push_argv[push_argv.index("--dest-cert-dir") + 1] == skopeo.CERT_DIR
    assert_no_secret_in(pub.invocations, PASSWORD)


# ---------------------------------------------------------------------------------------------- failures


def push_failure(dirs: Dirs, ref: str, access: Access, **kw: Any) -> RegistryFailure:
    with pytest.raises(RegistryFailure) as info:
        publish(dirs, ref, access, **kw)
    err = info.value
    assert str(err).splitlines()[0].startswith(f"push to registry {normalize_reference(ref).registry} failed: ")
    return err


def test_tls_registry_without_its_ca_is_a_tls_error(
    dirs: Dirs, tls_auth_registry: Registry, images: BuiltImages
) -> None:
    stage_image(dirs, images.single)
    access = attrs.evolve(write_authfile(dirs, tls_auth_registry.address), tls_verify=True)
    err = push_failure(dirs, f"{tls_auth_registry.address}/team/app:x", access, retry_times=0)
    assert err.kind is FailureKind.TLS and not err.retryable
    assert "cert dir" in str(err).splitlines()[0]


def test_plain_http_registry_with_tls_verify_says_to_turn_it_off(
    dirs: Dirs, http_registry: Registry, images: BuiltImages
) -> None:
    stage_image(dirs, images.single)
    err = push_failure(dirs, f"{http_registry.address}/app:x", Access(tls_verify=True), retry_times=0)
    assert err.kind is FailureKind.TLS
    assert "tls_verify=False" in str(err).splitlines()[0]


def test_401_without_credentials(dirs: Dirs, auth_registry: Registry, images: BuiltImages) -> None:
    stage_image(dirs, images.single)
    err = push_failure(dirs, f"{auth_registry.address}/team/app:1", Access(), retry_times=0)
    assert err.kind is FailureKind.UNAUTHORIZED and not err.retryable
    assert "credentials" in str(err).splitlines()[0]
    # reading back without credentials is refused the same way
    res = run(skopeo.inspect_raw(f"{auth_registry.address}/team/app:1", tls_verify=False), dirs)
    assert res.exit_code != 0
    failure = classify_failure(res.stderr, registry=auth_registry.address, action="read from")
    assert failure is not None and failure.kind is FailureKind.UNAUTHORIZED


def test_401_with_a_wrong_password_does_not_leak_it(dirs: Dirs, auth_registry: Registry, images: BuiltImages) -> None:
    stage_image(dirs, images.single)
    wrong = "Wr0ng-secret-Value"
    access = write_authfile(dirs, auth_registry.address, password=wrong)
    err = push_failure(dirs, f"{auth_registry.address}/team/app:1", access, retry_times=0)
    assert err.kind is FailureKind.UNAUTHORIZED
    assert wrong not in str(err)


def test_reading_back_a_missing_image_is_not_found(dirs: Dirs, http_registry: Registry) -> None:
    res = run(skopeo.inspect_raw(f"{http_registry.address}/nothing/here:1", tls_verify=False, retry_times=0), dirs)
    assert res.exit_code != 0
    failure = classify_failure(res.stderr, registry=http_registry.address, action="read from")
    assert failure is not None and failure.kind is FailureKind.NOT_FOUND and not failure.retryable


class StatusServer:
    """A loopback HTTP server that answers `/v2/` with 200 (or the status, when `fail_ping`) and every other
    request with `status`. Bounded: it shuts itself down after `lifetime` seconds whatever happens."""

    def __init__(self, status: int, *, fail_ping: bool = False, lifetime: float = 60) -> None:
        self.status = status
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                outer.requests.append(f"{self.command} {self.path}")
                if self.path == "/v2/" and not fail_ping:
                    code, body = 200, b"{}"
                elif outer.status == 403:
                    code = 403
                    body = json.dumps({"errors": [{"code": "DENIED", "message": "push not allowed"}]}).encode()
                else:
                    code, body = outer.status, b"upstream unavailable"
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = _answer

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.timer = threading.Timer(lifetime, self.server.shutdown)
        self.timer.daemon = True

    def __enter__(self) -> StatusServer:
        self.thread.start()
        self.timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.cancel()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def test_403_is_denied_and_not_retried(dirs: Dirs, images: BuiltImages) -> None:
    stage_image(dirs, images.single)
    calls = 0

    def attempt() -> Published:
        nonlocal calls
        calls += 1
        return publish(dirs, f"{srv.address}/team/app:1", Access(), retry_times=0)

    with StatusServer(403) as srv:
        slept: list[float] = []
        with pytest.raises(RegistryFailure) as info:
            with_retries(attempt, attempts=3, sleep=slept.append)
    assert info.value.kind is FailureKind.DENIED and not info.value.retryable
    assert calls == 1 and slept == []
    assert "push to this repository" in str(info.value).splitlines()[0]
    assert srv.requests, "skopeo really talked to the server"


@pytest.mark.parametrize("fail_ping", [False, True], ids=["503-on-blobs", "503-on-ping"])
def test_503_is_retried_then_reported(dirs: Dirs, images: BuiltImages, fail_ping: bool) -> None:
    stage_image(dirs, images.single)
    calls = 0
    slept: list[float] = []

    def attempt() -> Published:
        nonlocal calls
        calls += 1
        return publish(dirs, f"{srv.address}/team/app:1", Access(), retry_times=0)

    with StatusServer(503, fail_ping=fail_ping) as srv, pytest.raises(RegistryFailure) as info:
        with_retries(attempt, attempts=3, backoff=0.5, sleep=slept.append)
    err = info.value
    assert err.kind is FailureKind.SERVER_ERROR and err.retryable
    assert "HTTP 503" in str(err).splitlines()[0]
    assert calls == 3 and slept == [0.5, 1.0]


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_unreachable_registry_is_retried_then_reported(dirs: Dirs, images: BuiltImages) -> None:
    stage_image(dirs, images.single)
    ref = f"127.0.0.1:{_closed_port()}/team/app:1"
    results: list[HostResult] = []
    slept: list[float] = []

    def attempt() -> str:
        res = run(skopeo.push(ref, tls_verify=False, retry_times=1), dirs)
        results.append(res)
        return checked(res, "127.0.0.1", "push to")

    with pytest.raises(RegistryFailure) as info:
        with_retries(attempt, attempts=2, backoff=3, sleep=slept.append)
    err = info.value
    assert err.kind is FailureKind.UNREACHABLE and err.retryable
    assert "unreachable" in str(err).splitlines()[0]
    assert len(results) == 2 and slept == [3]
    # skopeo's own --retry-times also retried inside each attempt
    assert all("retrying in" in r.stderr for r in results)


def test_mismatched_expected_digest_fails_the_comparison(
    dirs: Dirs, http_registry: Registry, images: BuiltImages
) -> None:
    stage_image(dirs, images.single)
    pub = publish(dirs, f"{http_registry.address}/seaworthy/app:mismatch", Access())
    wrong = {"linux/amd64": images.arm64_config}  # "scanned" something else than what was pushed
    with pytest.raises(ScannedImageMismatch) as info:
        compare_digests(wrong, pub.configs, reference=str(pub.pinned))
    lines = str(info.value).splitlines()
    assert lines[0].startswith(f"registry image {pub.pinned} is not the image that was scanned")
    assert lines[1:] == [f"  - linux/amd64: config {images.amd64_config} was pushed, {images.arm64_config} was scanned"]


def test_tag_moved_by_someone_else_is_caught_by_reading_back_by_digest(
    dirs: Dirs, http_registry: Registry, images: BuiltImages
) -> None:
    """A concurrent push to the same tag after ours: reading back by tag would see their image; by digest
    we still see ours, and the comparison against *their* config would fail."""
    stage_image(dirs, images.single)
    ours = publish(dirs, f"{http_registry.address}/seaworthy/app:race", Access())
    stage_image(dirs, images.multi)
    theirs = publish(dirs, f"{http_registry.address}/seaworthy/app:race", Access())
    assert theirs.digest != ours.digest
    by_tag = run(skopeo.inspect_raw(f"{http_registry.address}/seaworthy/app:race", tls_verify=False), dirs)
    assert parse_manifest(by_tag.report).digest == theirs.digest
    by_digest = run(skopeo.inspect_raw(ours.pinned.by_digest(), tls_verify=False), dirs)
    assert parse_manifest(by_digest.report, expected_digest=ours.digest).config_digest == images.amd64_config
    with pytest.raises(ScannedImageMismatch):
        compare_digests({"linux/amd64": images.amd64_config}, theirs.configs)


def test_invocations_are_exactly_what_the_stage_runs(dirs: Dirs, http_registry: Registry, images: BuiltImages) -> None:
    """The argv run above is the module's, unchanged except for the host paths of the mount points."""
    stage_image(dirs, images.single)
    pub = publish(dirs, f"{http_registry.address}/seaworthy/app:argv", Access())
    push_inv = pub.invocations[0]
    assert push_inv == skopeo.push(f"{http_registry.address}/seaworthy/app:argv", tls_verify=False)
    assert push_inv.argv[-2] == "oci-archive:/in/image.tar"
    assert push_inv.argv[-1] == f"docker://{http_registry.address}/seaworthy/app:argv"
    assert (dirs.out / "pushed.digest").read_text().strip() == pub.digest
