"""Shared test setup: quiet TensorFlow, deterministic seeds, the repository root on sys.path."""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
TESTS_DIR = Path(__file__).resolve().parent
for path in (REPO_ROOT, TESTS_DIR):  # the project's packages, and tests/support for shared test helpers
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
