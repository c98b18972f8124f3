"""Pure parts of the publish read-back: manifests, config digests, the comparison, failure classification,
and the auth file. The stderr samples are verbatim from Debian's skopeo 1.9.3 against a loopback registry
(tests/integration/test_registry_push.py checks the same classification on live output)."""

from __future__ import annotations

import base64
import json

import pytest

from pipeline.errors import InputError, RegistryError, ToolOutputError
from pipeline.tools.skopeo import (
    MEDIA_OCI_INDEX,
    MEDIA_OCI_MANIFEST,
    FailureKind,
    ScannedImageMismatch,
    auth_config_json,
    classify_failure,
    compare_digests,
    config_digests,
    digest_of,
    normalize_platform,
    parse_config,
    parse_digestfile,
    parse_manifest,
)

C_AMD = "sha256:" + "a" * 64
C_ARM = "sha256:" + "b" * 64
LAYER = "sha256:" + "c" * 64


def manifest(config: str) -> str:
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": 10},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": LAYER, "size": 1}],
        },
        separators=(",", ":"),
    )


def index(entries: list[tuple[str, dict[str, str] | None, dict[str, str] | None]], media: str = MEDIA_OCI_INDEX) -> str:
    manifests: list[dict[str, object]] = []
    for text, platform, notes in entries:
        entry: dict[str, object] = {
            "mediaType": MEDIA_OCI_MANIFEST,
            "digest": digest_of(text),
            "size": len(text),
        }
        if platform is not None:
            entry["platform"] = platform
        if notes is not None:
            entry["annotations"] = notes
        manifests.append(entry)
    return json.dumps({"schemaVersion": 2, "mediaType": media, "manifests": manifests})


AMD = manifest(C_AMD)
ARM = manifest(C_ARM)
ATTEST = manifest("sha256:" + "d" * 64)
MULTI = index(
    [
        (AMD, {"os": "linux", "architecture": "amd64"}, None),
        (ARM, {"os": "linux", "architecture": "arm64", "variant": "v8"}, None),
        # buildkit attestation manifest: not an image
        (
            ATTEST,
            {"os": "unknown", "architecture": "unknown"},
            {"vnd.docker.reference.type": "attestation-manifest"},
        ),
    ]
)
BLOBS = {digest_of(t): t for t in (AMD, ARM, ATTEST)}


def test_config_digests_of_an_index_follow_every_platform() -> None:
    fetched: list[str] = []

    def fetch(d: str) -> str:
        fetched.append(d)
        return BLOBS[d]

    got = config_digests(MULTI, fetch, digest=digest_of(MULTI))
    assert got == {"linux/amd64": C_AMD, "linux/arm64": C_ARM}
    assert list(got) == sorted(got)
    assert fetched == [digest_of(AMD), digest_of(ARM)], "attestation entries are not read"


def test_config_digests_of_a_single_manifest() -> None:
    assert config_digests(AMD, BLOBS.__getitem__) == {"": C_AMD}
    assert config_digests(AMD, BLOBS.__getitem__, platform="linux/x86_64") == {"linux/amd64": C_AMD}


def test_nested_index_is_followed() -> None:
    inner = index([(AMD, {"os": "linux", "architecture": "amd64"}, None)])
    outer = json.dumps(
        {
            "schemaVersion": 2,
            "manifests": [{"mediaType": MEDIA_OCI_INDEX, "digest": digest_of(inner), "size": 1}],
        }
    )  # like an OCI layout's index.json: no mediaType
    blobs = {**BLOBS, digest_of(inner): inner}
    assert config_digests(outer, blobs.__getitem__) == {"linux/amd64": C_AMD}


def test_a_child_that_does_not_hash_to_its_digest_fails_closed() -> None:
    def lying_fetch(d: str) -> str:
        return ARM if d == digest_of(AMD) else BLOBS[d]

    with pytest.raises(ToolOutputError, match=r"hashes to .* not to the requested"):
        config_digests(MULTI, lying_fetch)
    with pytest.raises(ToolOutputError, match="not to the requested"):
        parse_manifest(AMD, expected_digest=digest_of(ARM))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ('{"schemaVersion": 2, "mediaType": "application/vnd.oci', "not JSON"),
        ("[]", "expected an object"),
        ('{"schemaVersion": 1, "name": "x"}', "schemaVersion 1"),
        ('{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json"}', "config"),
        (
            '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",'
            ' "config": {"digest": "sha256:short"}}',
            "no valid config digest",
        ),
        (
            '{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": []}',
            "no image",
        ),
        ('{"schemaVersion": 2, "mediaType": "text/plain"}', "media type"),
    ],
)
def test_parse_manifest_fails_closed(text: str, words: str) -> None:
    with pytest.raises(ToolOutputError, match=words):
        parse_manifest(text)


def test_parse_config_checks_digest_and_reads_platform() -> None:
    text = '{"architecture":"arm64","os":"linux","variant":"v8","config":{}}'
    cfg = parse_config(text, expected_digest=digest_of(text))
    assert cfg.platform == "linux/arm64"
    assert cfg.digest == digest_of(text)
    with pytest.raises(ToolOutputError, match="hashes to"):
        parse_config(text, expected_digest=C_AMD)
    with pytest.raises(ToolOutputError, match="os/architecture"):
        parse_config('{"config":{}}')


@pytest.mark.parametrize(
    ("given", "normal"),
    [
        ("linux/amd64", "linux/amd64"),
        ("Linux/x86_64", "linux/amd64"),
        ("linux/amd64/v1", "linux/amd64"),
        ("linux/amd64/v3", "linux/amd64/v3"),
        ("linux/arm64/v8", "linux/arm64"),
        ("linux/aarch64", "linux/arm64"),
        ("linux/arm", "linux/arm/v7"),
        ("linux/arm/v6", "linux/arm/v6"),
    ],
)
def test_normalize_platform(given: str, normal: str) -> None:
    assert normalize_platform(given) == normal


def test_normalize_platform_rejects_garbage() -> None:
    with pytest.raises(InputError, match="os/arch"):
        normalize_platform("amd64")


def test_compare_equal_passes() -> None:
    compare_digests({"linux/amd64": C_AMD, "linux/arm64": C_ARM}, {"linux/arm64/v8": C_ARM, "linux/amd64": C_AMD})
    compare_digests({"linux/amd64": C_AMD}, {"": C_AMD})
    compare_digests({"": C_AMD}, {"linux/amd64": C_AMD})


def test_compare_mismatch_names_platform_and_both_digests() -> None:
    with pytest.raises(ScannedImageMismatch) as info:
        compare_digests({"linux/amd64": C_AMD}, {"": C_ARM}, reference="127.0.0.1:5000/app:1@sha256:x")
    err = info.value
    assert isinstance(err, RegistryError)
    first, *rest = str(err).splitlines()
    assert first.startswith("registry image 127.0.0.1:5000/app:1@sha256:x is not the image that was scanned")
    assert "re-run publish" in first
    assert rest == [f"  - linux/amd64: config {C_ARM} was pushed, {C_AMD} was scanned"]


def test_compare_missing_and_extra_platforms() -> None:
    with pytest.raises(ScannedImageMismatch) as info:
        compare_digests({"linux/amd64": C_AMD, "linux/arm64": C_ARM}, {"linux/amd64": C_AMD})
    assert "linux/arm64: built and scanned" in str(info.value)
    assert "all platforms" in str(info.value)
    with pytest.raises(ScannedImageMismatch, match="linux/arm64: in the registry"):
        compare_digests({"linux/amd64": C_AMD}, {"linux/amd64": C_AMD, "linux/arm64": C_ARM})
    with pytest.raises(ScannedImageMismatch):
        # one side unknown-platform but counts differ: no wildcard matching
        compare_digests({"linux/amd64": C_AMD, "linux/arm64": C_ARM}, {"": C_AMD})
    with pytest.raises(ValueError, match="at least one"):
        compare_digests({}, {"": C_AMD})


def test_parse_digestfile() -> None:
    assert parse_digestfile(C_AMD) == C_AMD
    assert parse_digestfile(C_AMD + "\n") == C_AMD
    with pytest.raises(ToolOutputError, match="empty"):
        parse_digestfile("")
    with pytest.raises(ToolOutputError, match="not a content digest"):
        parse_digestfile("sha256:abc")


# -- failure classification: verbatim skopeo 1.9.3 stderr ----------------------------------------------------

BLOB = "sha256:93630338d2e995aef2f0db315f675375bcc711a11e0468d2d2b3f23494dc35a5"
REFUSED = (
    'time="2026-11-27T10:08:49Z" level=warning msg="Failed, retrying in 1s ... (1/1). '
    "Error: trying to reuse blob "
    f'{BLOB} at destination: pinging container registry 127.0.0.1:5999: Get \\"http://127.0.0.1:5999/v2/\\": '
    'dial tcp 127.0.0.1:5999: connect: connection refused"\n'
    f'time="2026-11-27T10:08:50Z" level=fatal msg="trying to reuse blob {BLOB} at destination: '
    "pinging container "
    'registry 127.0.0.1:5999: Get \\"http://127.0.0.1:5999/v2/\\": dial tcp 127.0.0.1:5999: connect: '
    'connection refused"\n'
)
SAMPLES = {
    FailureKind.UNREACHABLE: REFUSED,
    FailureKind.UNKNOWN_HOST: (
        f'time="x" level=fatal msg="trying to reuse blob {BLOB} at destination: pinging container registry '
        'no-such-host.invalid: Get \\"https://no-such-host.invalid/v2/\\": '
        "dial tcp: lookup no-such-host.invalid "
        'on 10.255.255.53:53: no such host"'
    ),
    FailureKind.UNAUTHORIZED: (
        f'time="x" level=fatal msg="trying to reuse blob {BLOB} at destination: '
        f"checking whether a blob {BLOB} "
        'exists in 127.0.0.1:5072/sw/x: unauthorized: authentication required"'
    ),
    FailureKind.DENIED: (
        f'time="x" level=fatal msg="trying to reuse blob {BLOB} at destination: '
        "failed to read from destination "
        'repository sw/x: 403 (Forbidden)"'
    ),
    FailureKind.SERVER_ERROR: (
        f'time="x" level=fatal msg="trying to reuse blob {BLOB} at destination: pinging container registry '
        '127.0.0.1:5083: invalid status code from registry 503 (Service Unavailable)"'
    ),
    FailureKind.RATE_LIMITED: (
        f'time="x" level=fatal msg="trying to reuse blob {BLOB} at destination: '
        "failed to read from destination "
        'repository sw/x: 429 (Too Many Requests)"'
    ),
    FailureKind.NOT_FOUND: (
        'time="x" level=fatal msg="Error parsing image name '
        '\\"docker://127.0.0.1:5071/sw/nothere:1\\": reading '
        'manifest 1 in 127.0.0.1:5071/sw/nothere: manifest unknown: manifest unknown"'
    ),
    FailureKind.TLS: (
        f'time="x" level=fatal msg="trying to reuse blob {BLOB} at destination: pinging container registry '
        '127.0.0.1:5072: Get \\"https://127.0.0.1:5072/v2/\\": x509: certificate signed by unknown authority"'
    ),
}


@pytest.mark.parametrize("kind", list(SAMPLES))
def test_classify_real_stderr(kind: FailureKind) -> None:
    err = classify_failure(SAMPLES[kind], registry="127.0.0.1:5072", action="push to")
    assert err is not None
    assert err.kind is kind
    first = str(err).splitlines()[0]
    assert first.startswith("push to registry 127.0.0.1:5072 failed: ")
    assert ";" in first  # the fix follows
    assert err.registry == "127.0.0.1:5072"
    assert err.detail and err.detail in str(err)
    assert err.retryable is (kind in {FailureKind.UNREACHABLE, FailureKind.SERVER_ERROR, FailureKind.RATE_LIMITED})


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("reading manifest 1 in x/y: denied: requested access to the resource is denied", FailureKind.DENIED),
        (
            "reading manifest 1 in x/y: received unexpected HTTP status: 500 Internal Server Error",
            FailureKind.SERVER_ERROR,
        ),
        (
            'pinging container registry r: Get "https://r/v2/": http: server gave HTTP response to HTTPS client',
            FailureKind.TLS,
        ),
        (
            "Get https://r/v2/: tls: failed to verify certificate: x509: certificate signed by unknown authority",
            FailureKind.TLS,
        ),
        ("Get https://r/v2/: dial tcp 10.0.0.1:443: i/o timeout", FailureKind.UNREACHABLE),
        ("writing blob: Patch https://r/v2/x/blobs/uploads/1: unexpected EOF", FailureKind.UNREACHABLE),
    ],
)
def test_classify_other_wordings(line: str, kind: FailureKind) -> None:
    err = classify_failure(f'time="x" level=fatal msg="{line}"', registry="r", action="read from")
    assert err is not None and err.kind is kind
    assert str(err).startswith("read from registry r failed: ")


def test_http_response_to_https_client_suggests_tls_verify_false() -> None:
    err = classify_failure(
        'level=fatal msg="pinging container registry r: http: server gave HTTP response to HTTPS client"',
        registry="r",
    )
    assert err is not None and "tls_verify=False" in str(err).splitlines()[0]


@pytest.mark.parametrize(
    "stderr",
    [
        'level=fatal msg="open /run/secrets/seaworthy/registry-auth.json: permission denied"',
        'level=fatal msg="creating an updated image manifest: unknown media type"',
        "",
        # a digest containing "401"/"503" must not read as a status code
        f'level=fatal msg="copying layer sha256:401503{"a" * 58}: bad layer"',
    ],
)
def test_non_registry_failures_are_not_classified(stderr: str) -> None:
    assert classify_failure(stderr, registry="r") is None


# -- auth file ------------------------------------------------------------------------------------------


def test_auth_config_json_structure() -> None:
    text = auth_config_json("127.0.0.1:5443", "ciuser", "s3cr:et")
    doc = json.loads(text)
    assert list(doc) == ["auths"]
    assert list(doc["auths"]) == ["127.0.0.1:5443"]
    assert base64.b64decode(doc["auths"]["127.0.0.1:5443"]["auth"]).decode() == "ciuser:s3cr:et"
    assert "s3cr:et" not in text, "only the base64 form"
    assert auth_config_json("127.0.0.1:5443", "ciuser", "s3cr:et") == text, "deterministic"


def test_auth_config_json_docker_hub_has_both_keys() -> None:
    doc = json.loads(auth_config_json("index.docker.io", "u", "p"))
    assert sorted(doc["auths"]) == ["docker.io", "https://index.docker.io/v1/"]


@pytest.mark.parametrize(
    ("registry", "user", "password", "words"),
    [
        ("ghcr.io/org", "u", "pw-SECRET-1", "not a registry host"),
        ("", "u", "pw-SECRET-1", "not a registry host"),
        ("ghcr.io", "", "pw-SECRET-1", "username"),
        ("ghcr.io", "a:b", "pw-SECRET-1", "username"),
        ("ghcr.io", "u", "", "password"),
    ],
)
def test_auth_config_json_rejects(registry: str, user: str, password: str, words: str) -> None:
    with pytest.raises(InputError, match=words) as info:
        auth_config_json(registry, user, password)
    assert password == "" or password not in str(info.value)
