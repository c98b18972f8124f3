#!/usr/bin/env bash
# Install everything the tests need on a fresh machine (Debian 12, root, PyPI/Debian/npm reachable).
# Idempotent: a second run only checks. Called by scripts/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

APT_PACKAGES=(podman buildah skopeo umoci runc debootstrap docker-registry apache2-utils busybox-static
  ca-certificates curl shellcheck)  # shellcheck: the CI templates' scripts (and actionlint uses it when present)
SEMGREP_VERSION=1.185.0

log() { printf '[setup] %s\n' "$*" >&2; }

# node + npm build the vulnerable test image's node_modules (npm ci on the host); most machines have them
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  if [[ $(id -u) != 0 ]]; then
    echo "setup: these Debian packages are missing and installing them needs root: ${missing[*]}" >&2
    exit 1
  fi
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null  # with Recommends: buildah RUN steps need their network plugins
fi

# uv: the one on PATH, else a private copy in .cache/uv (works where the system Python refuses pip installs)
if command -v uv >/dev/null 2>&1; then
  UV=$(command -v uv)
else
  UV="$ROOT/.cache/uv/bin/uv"
  if [[ ! -x $UV ]]; then
    log "installing uv into .cache/uv"
    python3 -m venv "$ROOT/.cache/uv"
    "$ROOT/.cache/uv/bin/python" -m pip install -q uv
  fi
fi

log "main venv (.venv) from uv.lock"
"$UV" sync --no-sources --locked --quiet

if [[ ! -x .venv-semgrep/bin/semgrep ]] || [[ $(.venv-semgrep/bin/semgrep --version 2>/dev/null) != "$SEMGREP_VERSION" ]]; then
  log "semgrep $SEMGREP_VERSION in its own venv (.venv-semgrep: its opentelemetry pins clash with dagger-io)"
  rm -rf .venv-semgrep
  "$UV" venv --quiet --python "$(command -v python3)" .venv-semgrep
  "$UV" pip install --quiet --python .venv-semgrep/bin/python "semgrep==$SEMGREP_VERSION"
fi

# njsscan (Node.js SAST) pins its own semgrep through libsast: its own venv too. The versions are the ones
# pipeline/tools/njsscan.py installs in its container (NJSSCAN_PACKAGES there; a unit test compares them).
NJSSCAN_PACKAGES=(njsscan==1.0.2 libsast==3.1.10 semgrep==1.172.0)
if [[ ! -x .venv-njsscan/bin/njsscan ]] || [[ $(.venv-njsscan/bin/njsscan --version 2>&1 | grep -o '[0-9][0-9.]*' | head -1) != "1.0.2" ]]; then
  log "njsscan in its own venv (.venv-njsscan: ${NJSSCAN_PACKAGES[*]})"
  rm -rf .venv-njsscan
  "$UV" venv --quiet --python "$(command -v python3)" .venv-njsscan
  "$UV" pip install --quiet --python .venv-njsscan/bin/python "${NJSSCAN_PACKAGES[@]}"
fi

# pyright (PyPI wrapper) fetches its node package on first use; do it here so a failure is a setup failure.
.venv/bin/pyright --version >/dev/null

log "ready: $(.venv/bin/trivy --version 2>/dev/null | head -1); gitleaks $(.venv/bin/gitleaks version 2>/dev/null); \
$(.venv/bin/hadolint --version 2>/dev/null); semgrep $(.venv-semgrep/bin/semgrep --version 2>/dev/null); \
bandit $(.venv/bin/bandit --version 2>/dev/null | awk 'NR==1 {print $2}'); njsscan $(.venv-njsscan/bin/njsscan --version 2>&1 | tail -1); \
syft $(.venv/bin/syft version 2>/dev/null | awk '/^Version/ {print $2}')"
