"""Image reference normalization (skopeo.normalize_reference) and the push argv built from it."""

from __future__ import annotations

import pytest

from pipeline.errors import InputError
from pipeline.tools import skopeo
from pipeline.tools.skopeo import Reference, normalize_reference

D = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alpine", Reference("docker.io", "library/alpine")),
        ("alpine:3.20", Reference("docker.io", "library/alpine", "3.20")),
        ("library/alpine:3", Reference("docker.io", "library/alpine", "3")),
        ("bitnami/redis:7", Reference("docker.io", "bitnami/redis", "7")),
        ("index.docker.io/bitnami/redis:7", Reference("docker.io", "bitnami/redis", "7")),
        ("registry-1.docker.io/alpine", Reference("docker.io", "library/alpine")),
        ("docker.io/alpine", Reference("docker.io", "library/alpine")),
        ("Ghcr.io/My-Org/App:V1.0", Reference("ghcr.io", "my-org/app", "V1.0")),
        ("ghcr.io/org/app:1.4.0", Reference("ghcr.io", "org/app", "1.4.0")),
        ("localhost/app:1", Reference("localhost", "app", "1")),
        ("localhost:5000/team/app:dev", Reference("localhost:5000", "team/app", "dev")),
        ("127.0.0.1:5000/app", Reference("127.0.0.1:5000", "app")),
        ("[::1]:5000/app:x", Reference("[::1]:5000", "app", "x")),
        ("registry:5000/seaworthy/app:t", Reference("registry:5000", "seaworthy/app", "t")),
        (f"ghcr.io/org/app@{D}", Reference("ghcr.io", "org/app", "", D)),
        (f"ghcr.io/org/app:1.4.0@{D}", Reference("ghcr.io", "org/app", "1.4.0", D)),
        ("a.b-c.example.com/x__y/z-w.v:tag_1-2.3", Reference("a.b-c.example.com", "x__y/z-w.v", "tag_1-2.3")),
        ("  ghcr.io/org/app:1  ", Reference("ghcr.io", "org/app", "1")),
        # "foo:5000" alone is a repository with a tag, as in Docker
        ("foo:5000", Reference("docker.io", "library/foo", "5000")),
    ],
)
def test_normalizes(text: str, expected: Reference) -> None:
    assert normalize_reference(text) == expected


def test_string_forms() -> None:
    ref = normalize_reference("Ghcr.io/Org/App:1.4.0")
    assert str(ref) == "ghcr.io/org/app:1.4.0"
    assert ref.name == "ghcr.io/org/app"
    assert ref.docker_transport == "docker://ghcr.io/org/app:1.4.0"
    pinned = ref.with_digest(D)
    assert str(pinned) == f"ghcr.io/org/app:1.4.0@{D}"
    # skopeo refuses tag+digest together: the transport form drops the tag
    assert pinned.docker_transport == f"docker://ghcr.io/org/app@{D}"
    assert str(ref.by_digest(D)) == f"ghcr.io/org/app@{D}"
    assert normalize_reference("alpine").docker_transport == "docker://docker.io/library/alpine:latest"
    assert normalize_reference(str(pinned)) == pinned


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is empty"),
        ("   ", "is empty"),
        ("ghcr.io/org/app:1 extra", "whitespace"),
        ("docker://ghcr.io/org/app:1", "scheme or transport"),
        ("https://ghcr.io/org/app", "scheme or transport"),
        ("ghcr.io/org/app:", "invalid tag"),
        ("ghcr.io/org/app:-x", "invalid tag"),
        ("ghcr.io/org/app:" + "t" * 129, "invalid tag"),
        ("ghcr.io/org/app:a:b", "invalid repository path"),
        ("ghcr.io/org/app@sha256:abc", "invalid digest"),
        (f"ghcr.io/org/app@{D.upper()}", "invalid digest"),
        (f"ghcr.io/org/app@md5:{'a' * 32}", "invalid digest"),
        (f"ghcr.io/org/app@{D}@{D}", "more than one '@'"),
        ("ghcr.io//app", "invalid repository path"),
        ("ghcr.io/org/app/", "invalid repository path"),
        ("ghcr.io/-app", "invalid repository path"),
        ("ghcr.io/app-", "invalid repository path"),
        ("ghcr.io/a..b", "invalid repository path"),
        ("ghcr.io/", "invalid repository path"),
        ("my_registry.com/app", "invalid registry host"),
        ("-bad.example.com/app", "invalid registry host"),
        ("ghcr.io:99999999/app", "invalid registry host"),
        (":1", "no repository name"),
        ("ghcr.io/" + "a" * 250, "longer than 255"),
    ],
)
def test_rejects_invalid(text: str, words: str) -> None:
    with pytest.raises(InputError) as info:
        normalize_reference(text)
    message = str(info.value)
    first = message.splitlines()[0]
    assert first == message, "one line"
    assert words in first
    assert repr(text) in first, "names the reference"
    assert ";" in first, "says what to do"


def test_digest_helpers_reject_garbage() -> None:
    ref = normalize_reference("ghcr.io/org/app:1")
    with pytest.raises(InputError, match="not a content digest"):
        ref.with_digest("sha256:xyz")
    with pytest.raises(InputError, match="no digest to pin"):
        ref.by_digest()


def test_push_destination_needs_tag_and_no_digest() -> None:
    with pytest.raises(InputError, match="needs a tag"):
        skopeo.push("ghcr.io/org/app")
    with pytest.raises(InputError, match="cannot carry a digest"):
        skopeo.push(f"ghcr.io/org/app:1@{D}")
    with pytest.raises(InputError, match="invalid tag"):
        skopeo.push("ghcr.io/org/app:")


def test_push_argv_carries_no_credentials_and_normalized_ref() -> None:
    inv = skopeo.push("Ghcr.io/Org/App:1.4.0", authfile=skopeo.AUTHFILE, cert_dir=skopeo.CERT_DIR)
    assert inv.argv[0] == "skopeo"
    assert inv.argv[-2:] == ("oci-archive:/in/image.tar", "docker://ghcr.io/org/app:1.4.0")
    assert "--all" in inv.argv
    assert "--dest-tls-verify=true" in inv.argv
    assert inv.argv[inv.argv.index("--dest-authfile") + 1] == skopeo.AUTHFILE
    assert inv.argv[inv.argv.index("--digestfile") + 1] == inv.report == skopeo.DIGESTFILE
    assert not any(a.startswith(("--dest-creds", "--creds", "--dest-password", "--dest-username")) for a in inv.argv)
    assert "--dest-no-creds" not in inv.argv
    assert inv.mounts[skopeo.AUTHFILE].endswith("(secret)")
    assert inv.image.ref == skopeo.IMAGE.ref and inv.image.ref.startswith("quay.io/skopeo/stable:v1.22.")
    anon = skopeo.push("localhost:5000/app:1", tls_verify=False, all_platforms=False)
    assert "--dest-no-creds" in anon.argv and "--dest-tls-verify=false" in anon.argv
    assert "--all" not in anon.argv


def test_invocation_paths_must_stay_under_mount_points() -> None:
    with pytest.raises(ValueError, match="digestfile"):
        skopeo.push("localhost:5000/app:1", digestfile="/etc/digest")
    with pytest.raises(ValueError, match="tarball"):
        skopeo.push("localhost:5000/app:1", tarball="/src/image.tar")
    with pytest.raises(ValueError, match="report_name"):
        skopeo.inspect_raw("localhost:5000/app:1", report_name="../x")


def test_inspect_config_platform_flags_are_global_and_normalized() -> None:
    inv = skopeo.inspect_config(f"localhost:5000/app@{D}", platform="linux/aarch64/v8", tls_verify=False)
    argv = list(inv.argv)
    assert argv[: argv.index("inspect")] == [
        "skopeo", "--command-timeout", "2m", "--override-os", "linux", "--override-arch", "arm64",
    ]  # fmt: skip
    assert argv[argv.index("inspect") :][:3] == ["inspect", "--config", "--raw"]
    assert argv[-1] == f"docker://localhost:5000/app@{D}"
    assert inv.stdout_to_report and inv.report == "/tmp/seaworthy-out/config.json"
    arm = skopeo.inspect_config("localhost:5000/app:1", platform="linux/arm/v6")
    assert arm.argv[arm.argv.index("--override-variant") + 1] == "v6"
