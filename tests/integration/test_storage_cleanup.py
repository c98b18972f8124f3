"""The test image storage is unmounted when the last test session ends, so a checkout can be removed.

Each test uses its own storage under tmp_path (never the shared one): a mounted buildah container stands
for what an interrupted build or run leaves behind.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import images

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="root storage only (rootless mounts end with the user ns)")


def storage(root: Path) -> dict[str, str]:
    (root / "containers").mkdir(parents=True)
    (root / "containers" / "containers.conf").write_text(images.CONTAINERS_CONF)
    (root / "containers" / "storage.conf").write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root}/containers/graph"\nrunroot = "{root}/containers/run"\n'
    )
    return {
        **os.environ,
        "CONTAINERS_CONF": str(root / "containers" / "containers.conf"),
        "CONTAINERS_STORAGE_CONF": str(root / "containers" / "storage.conf"),
    }


def buildah(env: dict[str, str], *argv: str) -> str:
    assert shutil.which("buildah"), "buildah is not installed; run scripts/setup.sh"
    done = subprocess.run(["buildah", *argv], env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def leave_a_mount(env: dict[str, str], payload: Path) -> None:
    ctr = buildah(env, "from", "scratch")
    buildah(env, "copy", ctr, str(payload), "/payload.txt")
    buildah(env, "mount", ctr)  # never unmounted: what an interrupted build leaves


def test_release_unmounts_the_storage_and_the_folder_can_be_removed_then_used_again(tmp_path: Path) -> None:
    checkout = tmp_path / "clone"
    env = storage(checkout / ".cache" / "images")
    payload = tmp_path / "payload.txt"
    payload.write_text("x\n")
    leave_a_mount(env, payload)
    root = checkout / ".cache" / "images" / "containers"
    try:
        assert images.mounts_under(root), "the test needs a leftover mount to start from"
        assert images.release_mounts(root) == []
        assert images.mounts_under(root) == []
        # a second run on the same storage works (containers/storage mounts again on demand)
        leave_a_mount(env, payload)
        assert images.release_mounts(root) == []
        # and the checkout can be removed
        shutil.rmtree(checkout)
        assert not checkout.exists()
    finally:
        images.release_mounts(root)


def test_the_last_session_out_cleans_up_and_an_earlier_one_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "images"
    env = storage(cache)
    payload = tmp_path / "payload.txt"
    payload.write_text("x\n")
    leave_a_mount(env, payload)
    monkeypatch.setattr(images, "CACHE", cache)
    monkeypatch.setattr(images, "_session_lock", [])
    try:
        other = (cache / images.SESSIONS_LOCK).open("w")  # another session, still running
        fcntl.flock(other, fcntl.LOCK_SH)
        images.pytest_sessionstart(None)  # pyright: ignore[reportArgumentType]
        images.pytest_sessionfinish(None)  # pyright: ignore[reportArgumentType]
        assert images.mounts_under(cache), "a session must not unmount storage another session uses"
        fcntl.flock(other, fcntl.LOCK_UN)
        other.close()
        images.pytest_sessionstart(None)  # pyright: ignore[reportArgumentType]
        images.pytest_sessionfinish(None)  # pyright: ignore[reportArgumentType]
        assert images.mounts_under(cache) == []
        shutil.rmtree(cache)
    finally:
        images.release_mounts(cache)
