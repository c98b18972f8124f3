"""Test images built daemonless (debootstrap + buildah/podman/skopeo), cached between runs.

Session fixtures (import them into tests/conftest.py):

* ``container_env``        -- :class:`ContainerEnv`: the isolated storage + runc config every podman/buildah/
  skopeo call in the tests must use (``env`` to pass to subprocess, ``run(...)`` helper).
* ``base_image``           -- :class:`BuiltImage`: Debian bookworm minbase from debootstrap with ``python3``.
* ``example_app_image``    -- :class:`BuiltImage`: ``examples/app`` built on ``base_image``.
* ``vulnerable_app_image`` -- :class:`BuiltImage`: ``tests/fixtures/vulnerable-app`` built on ``base_image``
  (root, no labels, requests 2.19.0 / Jinja2 2.10 / urllib3 1.23 in ``/opt/venv``, express 4.17.1 and its
  npm tree -- qs 6.7.0 among them -- in ``/app/node_modules``, from the fixture's ``package-lock.json``).
* ``static_image``         -- :class:`BuiltImage`: busybox-static alone on ``scratch`` (test-environment.md §4a):
  no dpkg/apk/rpm database, no OS release file, no language packages. ``context`` is None.

A build context with a ``package-lock.json`` is staged first: copied (without any ``node_modules``) to a
temporary folder where the host's ``npm ci --omit=dev --ignore-scripts`` installs the locked packages, so the
Dockerfile can ``COPY node_modules`` and the image needs no Node.js. The npm registry must be reachable
(``npm`` on PATH); the lock file is part of the cache key, ``node_modules`` is not.

Each ``BuiltImage`` is exported three ways: ``docker_archive`` (tar, what ``trivy image --input`` wants),
``oci_dir`` (OCI image layout directory) and ``oci_archive`` (OCI layout as a tar). The exports are shared,
cached files: **treat them as read-only** (copy them into ``tmp_path`` before changing anything).

Everything lives under ``/work/main/.cache/images/`` (override with ``SEAWORTHY_IMAGE_CACHE``):
``containers/`` (storage.conf, containers.conf, graph root), ``exports/<name>-<image id>/`` and a lock file
that serialises builds across pytest-xdist workers. The base image is keyed by a hash of its recipe, so the
~35 s debootstrap runs once per machine; the app builds use ``buildah bud --layers`` (cached layers) and are
only re-exported when their image id changes. Delete the cache dir to start from scratch.

A build failure fails the test with the tool's output (``pytest.fail``), never a skip.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

import attrs
import pytest

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("SEAWORTHY_IMAGE_CACHE", ROOT / ".cache" / "images"))
EXAMPLE_APP_DIR = ROOT / "examples" / "app"
VULNERABLE_APP_DIR = ROOT / "tests" / "fixtures" / "vulnerable-app"

DEBIAN_MIRROR = os.environ.get("SEAWORTHY_DEBIAN_MIRROR", "http://deb.debian.org/debian")
DEBIAN_SUITE = "bookworm"
# `python3` (not only python3-minimal): the example app is a stdlib web service and needs http/json.
BASE_PACKAGES = ("python3",)
BASE_ENV_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
BASE_RECIPE_VERSION = "1"

# Values the app images are built with; tests compare image facts against these.
EXAMPLE_SOURCE = "https://example.invalid/seaworthy/examples-app"
EXAMPLE_REVISION = "0123456789abcdef0123456789abcdef01234567"

CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")

CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
runtime = "runc"
"""


@attrs.frozen
class ContainerEnv:
    """Isolated container storage + runtime config (test-environment.md §3)."""

    root: Path
    env: Mapping[str, str]
    """os.environ + CONTAINERS_CONF / CONTAINERS_STORAGE_CONF: pass as ``env=`` to podman/buildah/skopeo."""

    def run(self, argv: Sequence[str], *, what: str, input_bytes: bytes | None = None, timeout: float = 900) -> str:
        """Run a podman/buildah/skopeo command; on failure ``pytest.fail`` with its whole output."""
        return _run(argv, env=self.env, what=what, input_bytes=input_bytes, timeout=timeout)

    def storage_ref(self, ref: str) -> str:
        """``containers-storage:`` reference for skopeo, pinned to this storage's graph root."""
        conf = self.root / "storage.conf"
        text = conf.read_text()
        graph = text.split('graphroot = "', 1)[1].split('"', 1)[0]
        run = text.split('runroot = "', 1)[1].split('"', 1)[0]
        return f"containers-storage:[overlay@{graph}+{run}]{ref}"


@attrs.frozen
class BuiltImage:
    """One built test image and its exports (read-only, shared across tests)."""

    name: str
    ref: str
    """Local tag, e.g. ``localhost/seaworthy-test/vulnerable-app:<key>`` (in ``container_env``'s storage)."""
    image_id: str
    """Hex image id (= config digest without ``sha256:``, as buildah/podman report it)."""
    docker_archive: Path
    oci_dir: Path
    oci_archive: Path
    oci_tag: str
    """The tag inside ``oci_dir`` / ``oci_archive`` (``org.opencontainers.image.ref.name``)."""
    build_args: Mapping[str, str] = attrs.field(factory=dict)
    context: Path | None = None

    @property
    def config_digest(self) -> str:
        return f"sha256:{self.image_id}"


# ---------------------------------------------------------------------------------------------- helpers


def _run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    what: str,
    input_bytes: bytes | None = None,
    timeout: float = 900,
    stdout_path: Path | None = None,
) -> str:
    if shutil.which(argv[0]) is None:
        pytest.fail(f"{argv[0]} is not installed; run scripts/setup.sh (apt: podman buildah skopeo debootstrap)")
    try:
        if stdout_path is not None:
            with stdout_path.open("wb") as fh:
                proc = subprocess.run(
                    list(argv),
                    env=dict(env),
                    input=input_bytes,
                    stdout=fh,
                    stderr=subprocess.PIPE,
                    timeout=timeout,
                    check=False,
                )
            out, err = b"", proc.stderr
        else:
            proc = subprocess.run(
                list(argv),
                env=dict(env),
                input=input_bytes,
                capture_output=True,
                timeout=timeout,
                check=False,
            )
            out, err = proc.stdout, proc.stderr
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"{what}: timed out after {timeout} s: {' '.join(argv)}\n{exc.output!r}")
    if proc.returncode != 0:
        tail = (out.decode(errors="replace") + "\n" + err.decode(errors="replace")).strip()[-8000:]
        pytest.fail(f"{what} failed (exit {proc.returncode}): {' '.join(argv)}\n{tail}", pytrace=False)
    return out.decode(errors="replace")


@contextlib.contextmanager
def _locked(name: str) -> Iterator[None]:
    CACHE.mkdir(parents=True, exist_ok=True)
    with (CACHE / f".{name}.lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


_NOT_CONTEXT = ("__pycache__", "node_modules")  # never part of a fixture's identity nor copied when staging

NPM_CI = ("npm", "ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error")


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and not any(part in _NOT_CONTEXT for part in p.relative_to(root).parts):
            h.update(p.relative_to(root).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(p.read_bytes()).digest())
    return h.hexdigest()


def _image_id(cenv: ContainerEnv, ref: str) -> str | None:
    proc = subprocess.run(
        ["podman", "image", "inspect", "--format", "{{.Id}}", ref],
        env=dict(cenv.env),
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout.strip() or None if proc.returncode == 0 else None


def _export(
    cenv: ContainerEnv,
    name: str,
    ref: str,
    image_id: str,
    build_args: Mapping[str, str],
    context: Path | None,
) -> BuiltImage:
    """Export once per image id: docker-archive, OCI layout dir, OCI archive (atomic rename when complete)."""
    tag = "latest"
    dest = CACHE / "exports" / f"{name}-{image_id[:16]}"
    if not (dest / ".complete").exists():
        dest.parent.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=dest.parent))
        work.chmod(0o755)
        src = cenv.storage_ref(ref)
        cenv.run(
            ["skopeo", "copy", "--quiet", src, f"docker-archive:{work}/image.docker.tar:{ref}"],
            what=f"export {name} as docker-archive",
        )
        cenv.run(["skopeo", "copy", "--quiet", src, f"oci:{work}/oci:{tag}"], what=f"export {name} as OCI dir")
        cenv.run(
            ["skopeo", "copy", "--quiet", src, f"oci-archive:{work}/image.oci.tar:{tag}"],
            what=f"export {name} as OCI archive",
        )
        (work / ".complete").write_text(json.dumps({"ref": ref, "image_id": image_id}))
        if dest.exists():
            shutil.rmtree(dest)
        work.rename(dest)
    return BuiltImage(
        name=name,
        ref=ref,
        image_id=image_id,
        docker_archive=dest / "image.docker.tar",
        oci_dir=dest / "oci",
        oci_archive=dest / "image.oci.tar",
        oci_tag=tag,
        build_args=dict(build_args),
        context=context,
    )


@contextlib.contextmanager
def _staged(context: Path, name: str) -> Iterator[Path]:
    """The folder to build: `context` itself, or, when it has a ``package-lock.json``, a temporary copy of it
    with ``node_modules`` installed by the host's npm from the lock file (removed after the build)."""
    if not (context / "package-lock.json").is_file():
        yield context
        return
    if shutil.which("npm") is None:
        pytest.fail(f"npm is not installed; it installs {context}/package-lock.json for the {name} test image")
    work = Path(tempfile.mkdtemp(prefix=f".context-{name}-", dir=CACHE))
    try:
        staged = work / "context"
        shutil.copytree(context, staged, ignore=shutil.ignore_patterns(*_NOT_CONTEXT))
        env = {**os.environ, "npm_config_update_notifier": "false"}
        _run([*NPM_CI, "--prefix", str(staged)], env=env, what=f"npm ci of {context}/package-lock.json", timeout=600)
        if not (staged / "node_modules").is_dir():
            pytest.fail(f"npm ci reported success but wrote no node_modules for {context}")
        yield staged
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _prune_exports(name: str, keep: str) -> None:
    for old in (CACHE / "exports").glob(f"{name}-*"):
        if old.name != keep:
            shutil.rmtree(old, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- builders


def make_container_env() -> ContainerEnv:
    root = CACHE / "containers"
    root.mkdir(parents=True, exist_ok=True)
    (root / "containers.conf").write_text(CONTAINERS_CONF)
    storage = f'[storage]\ndriver = "overlay"\ngraphroot = "{root}/graph"\nrunroot = "{root}/run"\n'
    if not (root / "storage.conf").exists() or (root / "storage.conf").read_text() != storage:
        (root / "storage.conf").write_text(storage)
    env = {
        **os.environ,
        "CONTAINERS_CONF": str(root / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(root / "storage.conf"),
    }
    return ContainerEnv(root=root, env=env)


def base_recipe_key() -> str:
    recipe = {
        "v": BASE_RECIPE_VERSION,
        "suite": DEBIAN_SUITE,
        "variant": "minbase",
        "mirror": DEBIAN_MIRROR,
        "include": BASE_PACKAGES,
        "cmd": ["/bin/bash"],
        "path": BASE_ENV_PATH,
    }
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]


def build_base(cenv: ContainerEnv) -> BuiltImage:
    key = base_recipe_key()
    ref = f"localhost/seaworthy-test/debian-base:{key}"
    with _locked("base"):
        image_id = _image_id(cenv, ref)
        if image_id is None:
            if shutil.which("debootstrap") is None:
                pytest.fail("debootstrap is not installed; run scripts/setup.sh (apt: debootstrap)")
            work = Path(tempfile.mkdtemp(prefix=".debootstrap-", dir=CACHE))
            try:
                rootfs = work / "rootfs"
                _run(
                    [
                        "debootstrap",
                        "--variant=minbase",
                        f"--include={','.join(BASE_PACKAGES)}",
                        DEBIAN_SUITE,
                        str(rootfs),
                        DEBIAN_MIRROR,
                    ],
                    env=os.environ,
                    what="debootstrap of the Debian base image",
                    timeout=900,
                )
                for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
                    for p in (rootfs / junk).glob("*"):
                        if p.is_file():
                            p.unlink()
                tar = work / "rootfs.tar"
                _run(
                    ["tar", "-C", str(rootfs), "--numeric-owner", "-cf", str(tar), "."],
                    env=os.environ,
                    what="tar of the debootstrap rootfs",
                )
                cenv.run(
                    [
                        "podman",
                        "import",
                        "--change",
                        'CMD ["/bin/bash"]',
                        "--change",
                        f"ENV PATH={BASE_ENV_PATH}",
                        str(tar),
                        ref,
                    ],
                    what="podman import of the Debian base image",
                )
            finally:
                shutil.rmtree(work, ignore_errors=True)
            image_id = _image_id(cenv, ref)
            if image_id is None:
                pytest.fail(f"podman import reported success but {ref} is not in {cenv.root}/graph")
        built = _export(cenv, "debian-base", ref, image_id, {}, None)
        _prune_exports("debian-base", built.docker_archive.parent.name)
        return built


def build_app(
    cenv: ContainerEnv,
    name: str,
    context: Path,
    base: BuiltImage,
    build_args: Mapping[str, str],
    *,
    fmt: str = "oci",
) -> BuiltImage:
    """``buildah bud --layers`` of `context` on `base`, with the host CA bundle mounted for pip (§4c).

    OCI format (what Dagger/BuildKit produce): then all three exports carry the *same* config blob, so the
    config digest is one identity. With ``fmt="docker"`` skopeo rewrites the config when exporting to OCI
    (different digest), though the docker format is the only one where buildah keeps HEALTHCHECK.
    """
    if not (context / "Dockerfile").is_file():
        pytest.fail(f"{context}/Dockerfile is missing; it is needed to build the {name} test image")
    args = {"BASE_IMAGE": base.ref, **build_args}
    key = hashlib.sha256(
        json.dumps(
            {
                "tree": _tree_hash(context),
                "base": base.image_id,
                "args": args,
                "fmt": fmt,
                "identity_label": False,
                "npm": list(NPM_CI) if (context / "package-lock.json").is_file() else None,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()[:16]
    ref = f"localhost/seaworthy-test/{name}:{key}"
    with _locked(name):
        image_id = _image_id(cenv, ref)
        if image_id is None:
            conf = CACHE / "build-conf"
            conf.mkdir(parents=True, exist_ok=True)
            (conf / "pip.conf").write_text("[global]\ncert = /etc/host-ca.crt\n")
            argv = [
                "buildah",
                "bud",
                "--layers",
                "--pull=never",
                "--runtime",
                "runc",
                "--format",
                fmt,
                "--identity-label=false",
                "-v",
                f"{CA_BUNDLE}:/etc/host-ca.crt:ro",
                "-v",
                f"{conf}/pip.conf:/etc/pip.conf:ro",
            ]
            for k, v in sorted(args.items()):
                argv += ["--build-arg", f"{k}={v}"]
            with _staged(context, name) as staged:
                cenv.run([*argv, "-t", ref, str(staged)], what=f"buildah bud of {context}")
            image_id = _image_id(cenv, ref)
            if image_id is None:
                pytest.fail(f"buildah bud reported success but {ref} is not in {cenv.root}/graph")
        built = _export(cenv, name, ref, image_id, args, context)
        _prune_exports(name, built.docker_archive.parent.name)
        return built


STATIC_RECIPE_VERSION = "1"
BUSYBOX = Path("/bin/busybox")  # Debian's busybox-static


def build_static(cenv: ContainerEnv) -> BuiltImage:
    """busybox-static on ``scratch``, applets linked in /bin, user 65534 (test-environment.md §4a)."""
    name = "static-busybox"
    if not BUSYBOX.is_file():
        pytest.fail(f"{BUSYBOX} is missing; run scripts/setup.sh (apt: busybox-static)")
    recipe = {
        "v": STATIC_RECIPE_VERSION,
        "busybox": hashlib.sha256(BUSYBOX.read_bytes()).hexdigest(),
        "entrypoint": ["/bin/sh"],
        "user": "65534:65534",
    }
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:16]
    ref = f"localhost/seaworthy-test/{name}:{key}"
    with _locked(name):
        image_id = _image_id(cenv, ref)
        if image_id is None:
            ctr = cenv.run(["buildah", "from", "--pull=never", "scratch"], what="buildah from scratch").strip()
            committed = False
            try:
                cenv.run(["buildah", "copy", ctr, str(BUSYBOX), "/bin/busybox"], what="buildah copy of busybox")
                cenv.run(
                    ["buildah", "run", "--runtime", "runc", ctr, "--", "/bin/busybox", "--install", "-s", "/bin"],
                    what="busybox --install in the static image",
                )
                cenv.run(
                    ["buildah", "config", "--entrypoint", json.dumps(recipe["entrypoint"]),
                     "--user", str(recipe["user"]), ctr],
                    what="buildah config of the static image",
                )  # fmt: skip
                cenv.run(
                    ["buildah", "commit", "--rm", "--format", "oci", "--identity-label=false", ctr, ref],
                    what="buildah commit of the static image",
                )
                committed = True
            finally:
                if not committed:
                    subprocess.run(["buildah", "rm", ctr], env=dict(cenv.env), capture_output=True, check=False)
            image_id = _image_id(cenv, ref)
            if image_id is None:
                pytest.fail(f"buildah commit reported success but {ref} is not in {cenv.root}/graph")
        built = _export(cenv, name, ref, image_id, {}, None)
        _prune_exports(name, built.docker_archive.parent.name)
        return built


# ---------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def container_env() -> ContainerEnv:
    return make_container_env()


@pytest.fixture(scope="session")
def base_image(container_env: ContainerEnv) -> BuiltImage:
    return _timed("base", lambda: build_base(container_env))


@pytest.fixture(scope="session")
def example_app_image(container_env: ContainerEnv, base_image: BuiltImage) -> BuiltImage:
    context = EXAMPLE_APP_DIR
    return _timed(
        "example-app",
        lambda: build_app(
            container_env,
            "example-app",
            context,
            base_image,
            {"SOURCE_URL": EXAMPLE_SOURCE, "REVISION": EXAMPLE_REVISION},
        ),
    )


@pytest.fixture(scope="session")
def vulnerable_app_image(container_env: ContainerEnv, base_image: BuiltImage) -> BuiltImage:
    return _timed(
        "vulnerable-app",
        lambda: build_app(
            container_env,
            "vulnerable-app",
            VULNERABLE_APP_DIR,
            base_image,
            {},
        ),
    )


@pytest.fixture(scope="session")
def static_image(container_env: ContainerEnv) -> BuiltImage:
    return _timed("static-busybox", lambda: build_static(container_env))


def _timed(name: str, fn: Callable[[], BuiltImage]) -> BuiltImage:
    start = time.monotonic()
    built = fn()
    took = time.monotonic() - start
    log = CACHE / "build-times.log"
    with log.open("a") as fh:
        fh.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {name} {took:.1f}s {built.ref}\n")
    return built


# ---------------------------------------------------------------------------------------------- clean-up
#
# containers/storage leaves mounts behind (a container's `merged` overlay, the graph's own `overlay` bind
# mount) when a build or run is interrupted or a container is not unmounted. With the storage inside the
# checkout (the default, .cache/images/containers), `rm -rf` of the clone then fails with "Device or resource
# busy". At the end of the last test session using the storage, every mount under it is unmounted.
#
# Several sessions may share one storage (pytest-xdist workers; other checkouts via SEAWORTHY_IMAGE_CACHE):
# each session holds a shared lock on SESSIONS_LOCK while it runs, and only a session that can then take the
# lock exclusively (nobody else is running) unmounts, and never lazily: a mount still in use stays.

SESSIONS_LOCK = ".sessions.lock"


def mounts_under(root: Path) -> list[str]:
    """Mount points at or below `root` in this mount namespace, deepest first."""
    prefix = str(root.resolve())
    points: list[str] = []
    with open("/proc/self/mountinfo") as fh:
        for line in fh:
            point = line.split()[4].replace("\\040", " ")
            if point == prefix or point.startswith(prefix + "/"):
                points.append(point)
    return sorted(set(points), key=lambda p: (-p.count("/"), p))


def release_mounts(root: Path) -> list[str]:
    """Unmount every mount under `root` (deepest first, not lazily); returns what could not be unmounted."""
    if not root.exists() or os.geteuid() != 0:
        return []  # rootless storage mounts live in a user namespace that ends with its processes
    stuck: list[str] = []
    for _ in range(3):  # a bind mount may sit under or over another one: repeat until nothing changes
        points = mounts_under(root)
        if not points:
            return []
        stuck = []
        for point in points:
            done = subprocess.run(["umount", point], capture_output=True, text=True, check=False)
            if done.returncode != 0 and point in mounts_under(root):
                stuck.append(f"{point}: {done.stderr.strip()}")
    return stuck


_session_lock: list[IO[str]] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    """Register this session as a user of the storage (a shared lock held until the session ends)."""
    del session
    CACHE.mkdir(parents=True, exist_ok=True)
    fh = (CACHE / SESSIONS_LOCK).open("w")
    fcntl.flock(fh, fcntl.LOCK_SH)
    _session_lock.append(fh)


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The last session out unmounts the storage, so that the checkout can be removed."""
    del session
    if not _session_lock:
        return
    fh = _session_lock.pop()
    fcntl.flock(fh, fcntl.LOCK_UN)
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return  # another session still uses the storage; the last one cleans up
    try:
        stuck = release_mounts(CACHE / "containers")
        if stuck:
            print("\n[tests.images] still mounted (in use?): " + "; ".join(stuck), file=sys.stderr)
    finally:
        fh.close()
