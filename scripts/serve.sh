#!/usr/bin/env bash
# Sets up a fresh machine and serves the bundled demo model on http://127.0.0.1:8000 (OpenAPI docs at /docs).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e .
exec asr serve "$@"
