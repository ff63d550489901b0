"""Prints the slim gateway's requirements: pyproject's `dependencies` without the packages that bring TensorFlow.

    python docker/slim_requirements.py > requirements.txt
    pip install -r requirements.txt && pip install . --no-deps

docker/Dockerfile.gateway-slim installs the gateway this way. In front of TF Serving the gateway needs no
TensorFlow: it speaks TF Serving's gRPC API through `model_export.serving_api`, and every module on that path
imports TensorFlow only where the model runs in-process (docs/deployment.md, "The slim gateway"). The pins stay
in one place, pyproject.toml; this only leaves packages out.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

# TensorFlow itself, TensorBoard (training's logs), and tensorflow-serving-api, which requires tensorflow: its
# protos come from model_export/serving_api.binpb instead. LiteRT runs int8 exports in-process, which the slim
# gateway never does (TF Serving runs the model).
TENSORFLOW_PACKAGES = frozenset({"tensorflow", "tensorboard", "tensorflow-serving-api", "ai-edge-litert"})


def slim_requirements(pyproject_file: Path) -> list[str]:
    """Return the requirement lines of `pyproject_file`'s dependencies that do not bring TensorFlow."""
    dependencies = tomllib.loads(pyproject_file.read_text())["project"]["dependencies"]
    return [line for line in dependencies if _name(line) not in TENSORFLOW_PACKAGES]


def _name(requirement: str) -> str:
    """The normalised project name of a requirement line (PEP 503: lower case, runs of -_. as one -)."""
    name = re.match(r"[A-Za-z0-9._-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


if __name__ == "__main__":
    pyproject = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1] / "pyproject.toml"
    print("\n".join(slim_requirements(pyproject)))
