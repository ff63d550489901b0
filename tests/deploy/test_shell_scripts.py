"""The two scripts that run inside containers (export-once, tfserving-ready.sh) pass shellcheck: quoting or
`set -e` mistakes there would only show up inside a pod."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from .layout import DOCKER_DIR

SCRIPTS = sorted(DOCKER_DIR.glob("*.sh"))


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.name)
def test_shellcheck_is_clean(script) -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed: apt-get install shellcheck")
    result = subprocess.run(["shellcheck", "--severity=style", str(script)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout
