"""A real OCI registry on loopback for tests: Debian's ``docker-registry`` (distribution 2.8).

    reg = start_registry(tmp_path)                                   # plain HTTP, anonymous
    reg = start_registry(tmp_path, tls=True)                         # HTTPS, self-signed CA in reg.ca_cert
    reg = start_registry(tmp_path, tls=True, htpasswd=("ciuser", "cipass"))   # + basic auth (bcrypt)
    try: ... reg.address ("127.0.0.1:<port>"), reg.url, reg.certs_dir (skopeo --cert-dir) ...
    finally: reg.stop()

Use it from a fixture so it is always stopped. The registry has no referrers API (404): use tag fallbacks.
`push_artifact` pushes an arbitrary OCI artifact (config + layers with any media types) with the
standard distribution API, so no client tool is needed for that.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

import attrs


@attrs.frozen
class Registry:
    host: str
    port: int
    root: Path
    """Folder with the config, storage and log of this registry."""
    process: subprocess.Popen[bytes]
    tls: bool = False
    ca_cert: Path | None = None
    """The self-signed certificate the registry serves (it is its own CA), when `tls`."""
    certs_dir: Path | None = None
    """A folder with ``ca.crt`` for ``skopeo --cert-dir`` / ``--src-cert-dir`` / ``--dest-cert-dir``."""
    username: str | None = None
    password: str | None = None

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    @property
    def log(self) -> Path:
        return self.root / "registry.log"

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        return ssl.create_default_context(cafile=str(self.ca_cert))

    def auth_header(self) -> dict[str, str]:
        if self.username is None:
            return {}
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def request(
        self, method: str, path: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request (path: /v2/... or a full URL). Answers 4xx/5xx instead of raising."""
        url = path if path.startswith("http") else self.url + path
        req = urllib.request.Request(url, data=data, method=method, headers={**self.auth_header(), **(headers or {})})
        try:
            with urllib.request.urlopen(req, context=self.ssl_context(), timeout=30) as resp:
                return resp.status, dict(resp.headers.items()), resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, dict(exc.headers.items()), exc.read()

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _need(binary: str, package: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise AssertionError(f"{binary} is not installed; run scripts/setup.sh (apt: {package})")
    return path


def start_registry(
    tmp_path: Path, *, tls: bool = False, htpasswd: tuple[str, str] | None = None, timeout: float = 10
) -> Registry:
    """Start ``docker-registry serve`` on a free 127.0.0.1 port; return once ``/v2/`` answers."""
    binary = _need("docker-registry", "docker-registry")
    root = tmp_path / f"registry-{time.monotonic_ns()}"
    (root / "storage").mkdir(parents=True)
    lines = [
        "version: 0.1",
        "log: {level: warn}",
        f"storage: {{filesystem: {{rootdirectory: {root / 'storage'}}}, delete: {{enabled: true}}}}",
    ]
    ca_cert = certs_dir = None
    port = _free_port()
    http = f"http: {{addr: 127.0.0.1:{port}"
    if tls:
        openssl = _need("openssl", "openssl")
        key, ca_cert = root / "tls.key", root / "tls.crt"
        subprocess.run(
            [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
             "-keyout", str(key), "-out", str(ca_cert)],
            check=True, capture_output=True,
        )  # fmt: skip
        certs_dir = root / "certs.d"
        certs_dir.mkdir()
        shutil.copy(ca_cert, certs_dir / "ca.crt")
        http += f", tls: {{certificate: {ca_cert}, key: {key}}}"
    lines.append(http + "}")
    if htpasswd is not None:
        tool = _need("htpasswd", "apache2-utils")
        user, password = htpasswd
        out = subprocess.run([tool, "-Bbn", user, password], check=True, capture_output=True, text=True)
        (root / "htpasswd").write_text(out.stdout.strip() + "\n")
        lines.append(f"auth: {{htpasswd: {{realm: seaworthy-test, path: {root / 'htpasswd'}}}}}")
    config = root / "config.yml"
    config.write_text("\n".join(lines) + "\n")
    log = (root / "registry.log").open("wb")
    proc = subprocess.Popen([binary, "serve", str(config)], stdout=log, stderr=subprocess.STDOUT)
    log.close()
    reg = Registry(
        host="127.0.0.1",
        port=port,
        root=root,
        process=proc,
        tls=tls,
        ca_cert=ca_cert,
        certs_dir=certs_dir,
        username=htpasswd[0] if htpasswd else None,
        password=htpasswd[1] if htpasswd else None,
    )
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"docker-registry exited with {proc.returncode}:\n{reg.log.read_text()}")
        try:
            status, _, _ = reg.request("GET", "/v2/")
            if status == 200:
                return reg
        except (OSError, ssl.SSLError):
            pass
        if time.monotonic() > deadline:
            reg.stop()
            raise AssertionError(f"docker-registry did not answer on {reg.url} in {timeout} s:\n{reg.log.read_text()}")
        time.sleep(0.05)


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def push_blob(reg: Registry, repo: str, data: bytes) -> str:
    digest = _digest(data)
    status, _, _ = reg.request("HEAD", f"/v2/{repo}/blobs/{digest}")
    if status == 200:
        return digest
    status, headers, body = reg.request("POST", f"/v2/{repo}/blobs/uploads/")
    if status != 202:
        raise AssertionError(f"blob upload start for {repo} answered {status}: {body[:500]!r}")
    location = headers.get("Location") or headers.get("location") or ""
    if location.startswith("/"):
        location = reg.url + location
    sep = "&" if "?" in location else "?"
    status, _, body = reg.request(
        "PUT",
        f"{location}{sep}digest={digest}",
        data=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    if status != 201:
        raise AssertionError(f"blob upload of {digest} to {repo} answered {status}: {body[:500]!r}")
    return digest


def _layer(reg: Registry, repo: str, layer: tuple[bytes, str] | tuple[bytes, str, dict[str, str]]) -> dict[str, object]:
    data, media_type = layer[0], layer[1]
    desc: dict[str, object] = {
        "mediaType": media_type,
        "digest": push_blob(reg, repo, data),
        "size": len(data),
    }
    if len(layer) == 3:
        desc["annotations"] = layer[2]
    return desc


def push_artifact(
    reg: Registry,
    ref: str,
    *,
    config: tuple[bytes, str],
    layers: Sequence[tuple[bytes, str] | tuple[bytes, str, dict[str, str]]],
    annotations: dict[str, str] | None = None,
) -> str:
    """Push an OCI artifact to ``[host:port/]repo:tag``; return the manifest digest.

    ``config`` is (bytes, media type); each layer is (bytes, media type[, annotations]).
    """
    repo, _, tag = ref.removeprefix(f"{reg.address}/").rpartition(":")
    cfg_data, cfg_type = config
    manifest: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": cfg_type, "digest": push_blob(reg, repo, cfg_data), "size": len(cfg_data)},
        "layers": [_layer(reg, repo, layer) for layer in layers],
    }
    if annotations:
        manifest["annotations"] = annotations
    body = json.dumps(manifest, separators=(",", ":")).encode()
    status, _, answer = reg.request(
        "PUT",
        f"/v2/{repo}/manifests/{tag}",
        data=body,
        headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"},
    )
    if status != 201:
        raise AssertionError(f"manifest PUT of {ref} answered {status}: {answer[:500]!r}")
    return _digest(body)
