"""Where the deployment files live, and which of them TF Serving is run with."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKER_DIR = REPO_ROOT / "docker"
K8S_DIR = REPO_ROOT / "k8s"

# The TF Serving config files a user of `asr export` runs TF Serving with (docs/deployment.md lists them);
# compose.yaml bind-mounts them and docker/kustomization.yaml turns them into the ConfigMap, both at /config.
TFSERVING_CONFIG_FILES = ("models.config", "batching_parameters.txt", "monitoring.config", "tfserving-ready.sh")
TFSERVING_CONFIG_MOUNT = "/config"
MODEL_NAME = "wav2vec2"
