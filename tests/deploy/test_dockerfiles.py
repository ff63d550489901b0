"""The Dockerfiles, read without a Docker engine: everything they COPY exists and survives .dockerignore, they
install every package pyproject ships, and the images run as a non-root user."""

from __future__ import annotations

import fnmatch
import importlib.util
import re
import tomllib

import pytest

from .layout import DOCKER_DIR, REPO_ROOT

DOCKERFILES = sorted(DOCKER_DIR.glob("Dockerfile.*"))


def _instructions(dockerfile) -> list[tuple[str, str]]:
    """Gives (INSTRUCTION, arguments) pairs, with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", dockerfile.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "") for line in lines]


def _dockerignore_patterns() -> list[str]:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _context_sources(dockerfile) -> list[str]:
    sources = []
    for instruction, args in _instructions(dockerfile):
        if instruction == "COPY" and "--from=" not in args:
            sources += [word for word in args.split()[:-1] if not word.startswith("--")]
    return sources


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda d: d.name)
def test_copied_files_exist_and_are_not_dockerignored(dockerfile) -> None:
    patterns = _dockerignore_patterns()
    for source in _context_sources(dockerfile):
        assert (REPO_ROOT / source).exists(), f"{dockerfile.name} copies {source}, which does not exist"
        ignored = [p for p in patterns if fnmatch.fnmatch(source, p) or source.startswith(p.rstrip("/") + "/")]
        assert not ignored, f"{dockerfile.name} copies {source}, but .dockerignore drops it ({ignored})"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda d: d.name)
def test_installs_every_package_pyproject_ships(dockerfile) -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    packages = {name.rstrip("*") for name in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packages <= set(_context_sources(dockerfile))
    assert any(i == "RUN" and "pip install ." in args for i, args in _instructions(dockerfile))


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda d: d.name)
def test_multi_stage_and_runs_as_non_root(dockerfile) -> None:
    instructions = _instructions(dockerfile)
    assert sum(i == "FROM" for i, _ in instructions) >= 2
    users = [args for i, args in instructions if i == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")


@pytest.mark.parametrize("name", ["Dockerfile.gateway", "Dockerfile.gateway-slim"])
def test_gateway_images_have_a_healthcheck_on_healthz(name) -> None:
    healthchecks = [args for i, args in _instructions(DOCKER_DIR / name) if i == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/healthz" in healthchecks[0]


def test_the_slim_gateway_installs_pyprojects_pins_without_tensorflow() -> None:
    # By path: `docker` is also the name of Docker's Python SDK.
    spec = importlib.util.spec_from_file_location("slim_requirements", DOCKER_DIR / "slim_requirements.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    slim_requirements = module.slim_requirements

    pyproject_file = REPO_ROOT / "pyproject.toml"
    dependencies = tomllib.loads(pyproject_file.read_text())["project"]["dependencies"]
    requirements = slim_requirements(pyproject_file)
    assert set(dependencies) - set(requirements) == {
        "tensorflow==2.21.*", "tensorboard==2.21.*", "tensorflow-serving-api==2.21.*", "ai-edge-litert==2.3.0",
    }  # fmt: skip
    runs = [args for i, args in _instructions(DOCKER_DIR / "Dockerfile.gateway-slim") if i == "RUN"]
    assert any("slim_requirements.py" in run and "pip install -r" in run and "--no-deps" in run for run in runs)
