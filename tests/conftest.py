from __future__ import annotations

import os
from pathlib import Path

import pytest

pytest_plugins = ("tests.images",)  # session fixtures: daemonless test images (debootstrap + buildah)

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLE_APP = ROOT / "examples" / "app"

# The real tool binaries: the main venv (trivy, gitleaks, hadolint, syft) and semgrep's own venv.
for _bin in (ROOT / ".venv-semgrep" / "bin", ROOT / ".venv" / "bin"):
    if _bin.is_dir() and str(_bin) not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = f"{_bin}{os.pathsep}{os.environ.get('PATH', '')}"
# njsscan (own venv): last on PATH, so that `semgrep` stays .venv-semgrep's (tests that want njsscan's own
# pinned semgrep put .venv-njsscan/bin first themselves: tests/contract/test_sast_fixtures.py)
_njsscan = ROOT / ".venv-njsscan" / "bin"
if _njsscan.is_dir() and str(_njsscan) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = f"{os.environ.get('PATH', '')}{os.pathsep}{_njsscan}"
os.environ.setdefault("SEMGREP_SEND_METRICS", "off")
os.environ.setdefault("SYFT_CHECK_FOR_APP_UPDATE", "false")


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def example_app() -> Path:
    return EXAMPLE_APP
