"""Test artefacts built once per test run and shared by the pytest-xdist workers, not built by each of them."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from filelock import FileLock


def built_once(tmp_path_factory: pytest.TempPathFactory, name: str, build: Callable[[Path], object]) -> Path:
    """Returns the directory `name`, filled by `build(directory)` in the first process of this run that asks.

    Session fixtures are per process under pytest-xdist, so three workers exported the same tiny SavedModel three
    times (8 CPU-s each on the 2-core machine). The workers of one run share the parent of their base temp
    (pytest-xdist's documented recipe); the first to take the lock builds, the others wait and reuse. A build
    that fails leaves only its `.partial` directory, which the next attempt removes. Without xdist the session's
    own base temp holds it. `build` must depend on nothing but `name` (a seeded model, fixed inputs).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent
    root = root / "built-once"
    root.mkdir(exist_ok=True)
    directory = root / name
    with FileLock(f"{directory}.lock"):
        if not directory.is_dir():
            partial = root / f"{name}.partial"
            shutil.rmtree(partial, ignore_errors=True)
            partial.mkdir()
            build(partial)
            partial.rename(directory)
    return directory
