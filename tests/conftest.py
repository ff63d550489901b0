"""Shared test setup: quiet TensorFlow, deterministic seeds, the repository root on sys.path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# TF's own CPU kernels have no input gradient for grouped convs (the positional conv); oneDNN's do. TF turns
# oneDNN on by default only on CPUs with AVX-512, so training tests fail on AVX2-only machines without this.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = Path(__file__).resolve().parent
for path in (REPO_ROOT, TESTS_DIR):  # the project's packages, and tests/support for shared test helpers
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
