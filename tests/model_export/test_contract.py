"""The export contract is readable without TensorFlow: what docker/export-once.sh and light clients rely on."""

from __future__ import annotations

import subprocess
import sys

import model_export
from model_export.contract import describe_signature, read_signature_defs


def test_finding_the_bundled_model_does_not_start_tensorflow() -> None:
    # export-once.sh's "default" path: the gateway's settings, the contract's rule for the version directory.
    script = """
import sys
from model_export.contract import resolve_version_dir
from model_export.errors import ExportError
from service.config import Settings
print(resolve_version_dir(Settings().model.path).version, "tensorflow" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "False"]


def test_the_package_names_still_resolve(exported_group) -> None:
    assert model_export.export_saved_model.__module__ == "model_export.export"
    assert issubclass(model_export.VerificationError, model_export.ExportError)
    inputs, outputs = describe_signature(read_signature_defs(exported_group.path)["serving_default"])
    assert inputs["audio"] == {"dtype": "float", "shape": [None, None]}
    assert set(outputs) >= {"transcript"}
