"""scripts/lock-images.py against a real registry on loopback (Debian's docker-registry) with the real skopeo.

No external registry is reachable here: the publishers' registries (docker.io, ghcr.io, quay.io) are mapped
onto the loopback one with --registry-map, where the tests push small OCI artifacts under the pinned names.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from pipeline.tools import base
from tests.registry import Registry, _free_port, push_artifact, start_registry  # pyright: ignore[reportPrivateUsage]

ROOT = Path(__file__).resolve().parents[2]
CONFIG = (b"{}", "application/vnd.oci.image.config.v1+json")


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_images", ROOT / "scripts" / "lock-images.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


lock = load_script()


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    assert shutil.which("skopeo"), "skopeo is not on PATH; run scripts/setup.sh"
    reg = start_registry(tmp_path)
    try:
        yield reg
    finally:
        reg.stop()


def push(reg: Registry, ref: str, payload: bytes) -> str:
    return push_artifact(reg, f"{reg.address}/{ref}", config=CONFIG, layers=[(payload, "application/octet-stream")])


PINS = """# pins under test (comments survive a lock)

[registry]
image = "registry"
tag = "3.1.1"
digest = ""

[trivy]
image = "aquasec/trivy"
tag = "0.76.0"
digest = ""
"""


def mapped(reg: Registry, pins: Path, *extra: str) -> list[str]:
    return [
        "--pins",
        str(pins),
        "--tls-verify=false",
        *(f"--registry-map={host}={reg.address}" for host in ("docker.io", "ghcr.io", "quay.io")),
        *extra,
    ]


def test_lock_writes_the_digest_of_each_tag_and_keeps_the_file_readable(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    want = {
        "registry": push(registry, "library/registry:3.1.1", b"r"),
        "trivy": push(registry, "aquasec/trivy:0.76.0", b"t"),
    }
    pins = tmp_path / "images.toml"
    pins.write_text(PINS)
    assert lock.main(mapped(registry, pins)) == 0
    text = pins.read_text()
    assert text.startswith("# pins under test (comments survive a lock)")
    got = base.parse_pins(text)
    assert {name: image.digest for name, image in got.items()} == want
    assert got["trivy"].ref == f"aquasec/trivy:0.76.0@{want['trivy']}"
    # a second run changes nothing
    assert lock.main(mapped(registry, pins)) == 0 and pins.read_text() == text
    # check mode: everything exists and matches
    capsys.readouterr()
    assert lock.main(mapped(registry, pins, "--check", "--require-digests")) == 0
    assert capsys.readouterr().out.count("ok ") == 2


def test_check_fails_when_a_tag_does_not_exist(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    push(registry, "library/registry:3.1.1", b"r")
    pins = tmp_path / "images.toml"
    pins.write_text(PINS)  # trivy 0.76.0 was never pushed
    assert lock.main(mapped(registry, pins, "--check")) == 1
    out = capsys.readouterr().out
    assert re.search(r"^MISSING trivy aquasec/trivy:0.76.0: the tag does not exist", out, re.M), out
    assert "ok registry registry:3.1.1" in out
    # lock mode fails too, and writes only what it resolved
    assert lock.main(mapped(registry, pins)) == 1
    written = base.parse_pins(pins.read_text())
    assert written["registry"].digest and not written["trivy"].digest


def test_check_fails_when_the_locked_digest_is_gone_and_reports_a_moved_tag(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = push(registry, "aquasec/trivy:0.76.0", b"one")
    pins = tmp_path / "images.toml"
    pins.write_text(PINS.replace('tag = "0.76.0"\ndigest = ""', f'tag = "0.76.0"\ndigest = "{first}"'))
    push(registry, "library/registry:3.1.1", b"r")
    second = push(registry, "aquasec/trivy:0.76.0", b"two")  # the publisher rebuilt the tag
    assert lock.main(mapped(registry, pins, "--check", "--only", "trivy")) == 0
    assert f"MOVED trivy aquasec/trivy:0.76.0: the tag now points at {second}" in capsys.readouterr().out
    gone = "sha256:" + "0" * 64
    pins.write_text(PINS.replace('tag = "0.76.0"\ndigest = ""', f'tag = "0.76.0"\ndigest = "{gone}"'))
    assert lock.main(mapped(registry, pins, "--check", "--only", "trivy")) == 1
    assert "the locked digest is gone" in capsys.readouterr().out


def test_require_digests_fails_on_an_unlocked_image(
    registry: Registry, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    push(registry, "library/registry:3.1.1", b"r")
    push(registry, "aquasec/trivy:0.76.0", b"t")
    pins = tmp_path / "images.toml"
    pins.write_text(PINS)
    assert lock.main(mapped(registry, pins, "--check")) == 0
    assert lock.main(mapped(registry, pins, "--check", "--require-digests")) == 1
    assert "UNLOCKED trivy" in capsys.readouterr().out


def test_an_unreachable_registry_fails_a_check_and_leaves_a_lock_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pins = tmp_path / "images.toml"
    pins.write_text(PINS)
    dead = f"127.0.0.1:{_free_port()}"
    args = ["--pins", str(pins), "--tls-verify=false", f"--registry-map=docker.io={dead}"]
    assert lock.main([*args, "--check"]) == 1
    assert capsys.readouterr().out.count("UNCHECKED") == 2
    assert lock.main(args) == 0 and pins.read_text() == PINS


def test_a_malformed_pins_file_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pins = tmp_path / "images.toml"
    pins.write_text('[trivy]\nimage = "aquasec/trivy:0.76.0"\ntag = "0.76.0"\ndigest = ""\n')
    assert lock.main(["--pins", str(pins), "--check"]) == 2
    assert "must be a repository without tag or digest" in capsys.readouterr().err


def test_every_tool_image_is_pinned_in_the_one_pins_file() -> None:
    pins = base.pins()
    from pipeline.stages import release

    # bandit and njsscan run in one pinned base (python-analyzers) with their own pip install on top
    shared = {"python-analyzers": ("bandit", "njsscan")}
    expected = {tool: image.ref for name, image in sorted(pins.items()) for tool in shared.get(name, (name,))}
    assert release.tool_images() == dict(sorted(expected.items()))
    # the tool image type is pipeline.tools.base.Image (main.py's `Image` is the Dagger result object)
    offenders = [
        str(p.relative_to(ROOT))
        for p in (ROOT / "pipeline").rglob("*.py")
        if p.name != "base.py" and _constructs_tool_image(p.read_text())
    ]
    assert offenders == [], "tool images are pinned only in pipeline/tools/images.toml"


def _constructs_tool_image(text: str) -> bool:
    """Whether a module builds a `pipeline.tools.base.Image` itself (instead of reading images.toml)."""
    if re.search(r"\bbase\.Image\(", text):
        return True
    imports = re.search(
        r"from pipeline\.tools\.base import [^\n]*\bImage\b|from pipeline\.tools\.base import \([^)]*\bImage\b", text
    )
    return bool(imports) and re.search(r"\bImage\(", text) is not None


def test_the_tool_image_check_sees_a_constructed_image() -> None:
    assert _constructs_tool_image('from pipeline.tools import base\nX = base.Image("a", "b")\n')
    assert _constructs_tool_image('from pipeline.tools.base import IN, Image\nX = Image("a", "b")\n')
    assert not _constructs_tool_image("class Image:\n    pass\n\nImage()\n")
