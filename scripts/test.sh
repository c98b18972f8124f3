#!/usr/bin/env bash
# The one test command: installs what the tests need, then lint, type check and every test.
# Usage: bash scripts/test.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup.sh

echo "== ruff" >&2
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== pyright (strict on pipeline/)" >&2
.venv/bin/pyright
echo "== pytest" >&2
# Exit code 5 (no tests collected) is a failure like any other non-zero code.
# Two workers (pytest-xdist): the machines have 2 cores; the suite keeps CI well under 20 minutes this way.
.venv/bin/pytest -p no:cacheprovider -n 2 "$@"
