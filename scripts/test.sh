#!/usr/bin/env bash
# Sets up a fresh Debian/Ubuntu machine and runs the whole test suite: the README's test command, and CI's.
set -euo pipefail
cd "$(dirname "$0")/.."

# System tools the tests drive for real: a Compose implementation and shellcheck for the deployment files,
# the speech synthesizers the demo corpus builder runs, and sox/lame to write the MP3s the audio tests decode.
# Chromium and its WebDriver run the gateway's page in a real browser (tests/service/test_page_browser.py).
# (kubectl with kustomize comes with the CI image; the kustomize tests say so plainly if it is missing.)
# Debian's docker-compose (Compose v1, Python) is the lightest real Compose parser we found: `docker-compose
# config` validates compose.yaml against the Compose schema, interpolates ${VAR:-default} and resolves paths,
# with no Docker engine. Its weight was its *recommended* docker.io, containerd, runc and iptables, hence
# --no-install-recommends (festival's one recommendation, festvox-kallpc16k, is listed here).
APT_PACKAGES=(docker-compose shellcheck espeak-ng flite festival festvox-kallpc16k festvox-us-slt-hts festvox-kdlpc16k sox libsox-fmt-mp3 lame
              chromium chromium-driver)
missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --upgrade pip
python -m pip install -q -e '.[dev]'
# checkov (the static scan of the k8s manifests) pins versions that clash with ours: its own venv, found by
# tests/deploy/test_checkov.py.
if [[ ! -x .venv-checkov/bin/checkov ]]; then
    python3 -m venv .venv-checkov
    .venv-checkov/bin/python -m pip install -q 'checkov==3.2.*'
fi
# Lint and formatting first: a minute of pytest is not spent on a tree that fails them.
ruff check .
ruff format --check .
# One worker more than the cores (at most 8): many tests wait on a process they started (`asr serve`, the TF
# Serving stand-in, training workers), and the extra worker fills that core (2-core machine, idle: 3 workers
# 7:08-8:44 on 2026-12-02; 2 workers were no faster). Each worker's TensorFlow pools get its share of the cores
# (tests/conftest.py). A test file stays on one worker (--dist loadfile), so its module fixtures (a bfloat16
# export, a joined 5-minute file) are built once; files go out in collection order (--no-loadscope-reorder),
# which tests/conftest.py sorts slow files first so that no worker is left alone with a 40 s file at the end.
# PYTEST_WORKERS overrides the count; `-n 0` (an argument) runs it in one process.
cores=$(nproc)
workers=${PYTEST_WORKERS:-$(( cores + 1 < 8 ? cores + 1 : 8 ))}
python -m pytest -n "$workers" --dist loadfile --no-loadscope-reorder "$@"
