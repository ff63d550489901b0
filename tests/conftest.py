"""Shared test setup: quiet TensorFlow, and no Hugging Face Hub downloads.

Imports have one root, the repository's: the project's packages come from its editable install, and the
tests' shared helpers are imported as `tests.support...`, `tests.training.synthetic_speech` (pytest's
`pythonpath = ["."]` in pyproject.toml puts the root on sys.path; --import-mode=importlib adds nothing).
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
