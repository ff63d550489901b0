"""compose.yaml, as a real Compose implementation reads it (`compose config`): every file it mounts or builds
exists, the three services are wired to each other the way `docker compose up` needs, and TF Serving gets
exactly the docker/ config files."""

from __future__ import annotations

import tomllib
from pathlib import Path, PurePosixPath

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from service.config import Settings

from .compose_file import command_flags, mounts
from .layout import DOCKER_DIR, MODEL_NAME, REPO_ROOT, TFSERVING_CONFIG_FILES, TFSERVING_CONFIG_MOUNT


def test_compose_file_has_the_four_services(compose_config) -> None:
    assert set(compose_config()["services"]) == {"export", "tfserving", "gateway", "wyoming"}


def test_every_mounted_or_built_file_exists(compose_config) -> None:
    services = compose_config()["services"]
    for name, service in services.items():
        for kind, source, _ in mounts(service):
            if kind == "bind":
                assert Path(source).exists(), f"{name} mounts {source}, which does not exist"
        if "build" in service:
            context = Path(service["build"]["context"])
            assert context.is_dir(), f"{name} builds from {context}, which does not exist"
            assert (context / service["build"]["dockerfile"]).is_file()


def test_tfserving_mounts_exactly_the_docker_config_files(compose_config) -> None:
    tfserving = compose_config()["services"]["tfserving"]
    binds = {Path(source): target for kind, source, target in mounts(tfserving) if kind == "bind"}
    assert binds == {
        (DOCKER_DIR / name).resolve(): f"{TFSERVING_CONFIG_MOUNT}/{name}" for name in TFSERVING_CONFIG_FILES
    }
    flags = command_flags(tfserving)
    for flag, name in [
        ("model_config_file", "models.config"),
        ("batching_parameters_file", "batching_parameters.txt"),
        ("monitoring_config_file", "monitoring.config"),
    ]:
        assert flags[flag] == f"{TFSERVING_CONFIG_MOUNT}/{name}"
    assert flags["enable_batching"] == "true"
    assert tfserving["healthcheck"]["test"] == [
        "CMD",
        "bash",
        f"{TFSERVING_CONFIG_MOUNT}/tfserving-ready.sh",
        MODEL_NAME,
    ]


def test_export_writes_where_models_config_reads(compose_config) -> None:
    services = compose_config()["services"]
    export_env = services["export"]["environment"]
    export_volumes = {target: source for kind, source, target in mounts(services["export"]) if kind == "volume"}
    serving_volumes = {target: source for kind, source, target in mounts(services["tfserving"]) if kind == "volume"}
    export_dir = export_env["ASR_EXPORT_DIR"]
    # The export's output directory and TF Serving's /models are the same named volume.
    assert export_volumes[export_dir] == serving_volumes["/models"]

    config = text_format.Parse((DOCKER_DIR / "models.config").read_text(), model_server_config_pb2.ModelServerConfig())
    (model,) = config.model_config_list.config
    assert export_env["ASR_MODEL_NAME"] == model.name == MODEL_NAME
    # export-once writes ASR_EXPORT_DIR/NAME/VERSION; Serving looks for versions under base_path, mounted at /models.
    assert PurePosixPath(model.base_path) == PurePosixPath("/models") / model.name


def test_gateway_calls_tfserving_over_grpc_once_it_is_healthy(compose_config) -> None:
    services = compose_config()["services"]
    gateway, tfserving = services["gateway"], services["tfserving"]
    host, _, port = gateway["environment"]["ASR_TFSERVING_ADDRESS"].partition(":")
    assert host == "tfserving"
    assert port == command_flags(tfserving)["port"] == "8500"
    assert gateway["environment"]["ASR_MODEL_NAME"] == MODEL_NAME
    assert gateway["depends_on"]["tfserving"]["condition"] == "service_healthy"
    assert tfserving["depends_on"]["export"]["condition"] == "service_completed_successfully"
    assert "healthcheck" in gateway


def test_tfserving_image_matches_the_tensorflow_the_model_is_exported_with(compose_config) -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    (tensorflow_pin,) = [d for d in pyproject["project"]["dependencies"] if d.startswith("tensorflow==")]
    tensorflow_minor = tensorflow_pin.removeprefix("tensorflow==").removesuffix(".*")  # e.g. "2.21"
    image = compose_config()["services"]["tfserving"]["image"]
    repository, _, tag = image.rpartition(":")
    assert repository == "tensorflow/serving"
    assert tag.startswith(f"{tensorflow_minor}."), f"{image} does not serve TensorFlow {tensorflow_minor}"


def test_env_picks_the_model_to_export(compose_config) -> None:
    default_env = compose_config()["services"]["export"]["environment"]
    assert default_env["ASR_EXPORT_MODEL"] == "default"
    assert str(default_env["ASR_EXPORT_VERSION"]) == "1"
    swapped = compose_config({"ASR_EXPORT_MODEL": "facebook/wav2vec2-base-960h", "ASR_EXPORT_VERSION": "2"})
    assert swapped["services"]["export"]["environment"]["ASR_EXPORT_MODEL"] == "facebook/wav2vec2-base-960h"
    assert str(swapped["services"]["export"]["environment"]["ASR_EXPORT_VERSION"]) == "2"


def test_tfserving_ports_are_published_on_loopback_only(compose_config) -> None:
    """TF Serving has no authentication; only the gateway should be reachable from other hosts."""
    ports = compose_config()["services"]["tfserving"]["ports"]
    for port in ports:
        host_ip = port.get("host_ip") if isinstance(port, dict) else port.split(":")[0]
        assert host_ip == "127.0.0.1", port


def test_gateway_takes_api_keys_and_cors_from_the_environment_and_stays_on_loopback(compose_config) -> None:
    def host_ips(service: dict) -> list[str]:
        return [port.get("host_ip") if isinstance(port, dict) else port.split(":")[0] for port in service["ports"]]

    closed = compose_config()["services"]["gateway"]
    assert host_ips(closed) == ["127.0.0.1"]  # no keys by default, so no publishing beyond loopback
    assert not closed["environment"]["ASR_API_KEYS"]
    opened = compose_config(
        {"ASR_API_KEYS": "sk-a,sk-b", "ASR_GATEWAY_BIND": "0.0.0.0", "ASR_CORS_ALLOW_ORIGINS": "https://app.example"}
    )["services"]["gateway"]
    assert host_ips(opened) == ["0.0.0.0"]
    env = opened["environment"]
    settings = Settings(api_keys=env["ASR_API_KEYS"], cors_allow_origins=env["ASR_CORS_ALLOW_ORIGINS"])
    assert [key.get_secret_value() for key in settings.http.api_keys] == ["sk-a", "sk-b"]
    assert settings.http.cors_allow_origins == ("https://app.example",)


def test_wyoming_serves_home_assistant_from_the_gateway_image_over_the_same_tfserving(compose_config) -> None:
    services = compose_config()["services"]
    wyoming, gateway = services["wyoming"], services["gateway"]
    assert wyoming["image"] == gateway["image"] and wyoming["build"] == gateway["build"]
    command = [*wyoming["entrypoint"], *wyoming["command"]]
    assert command[:2] == ["asr", "wyoming"] and command[command.index("--uri") + 1] == "tcp://0.0.0.0:10300"
    (port,) = wyoming["ports"]
    if isinstance(port, dict):
        host_ip, published, target = port.get("host_ip"), port["published"], port["target"]
    else:
        host_ip, published, target = port.removesuffix("/tcp").split(":")
    # Wyoming has no keys: loopback unless ASR_WYOMING_BIND opens it.
    assert (host_ip, int(published), int(target)) == ("127.0.0.1", 10300, 10300)
    assert wyoming["environment"]["ASR_TFSERVING_ADDRESS"] == gateway["environment"]["ASR_TFSERVING_ADDRESS"]
    assert wyoming["depends_on"]["tfserving"]["condition"] == "service_healthy"
    assert "Describe" in " ".join(wyoming["healthcheck"]["test"]) and wyoming["read_only"] is True


def test_tfserving_threads_follow_its_cpu_limit(compose_config, tfserving_config_messages) -> None:
    batching = text_format.Parse(
        (DOCKER_DIR / "batching_parameters.txt").read_text(), tfserving_config_messages["BatchingParameters"]()
    )
    # Unset: no CPU limit and TensorFlow's default pools (all host CPUs); TFSERVING_CPUS sets the limit and the
    # intra-op pool together, so TensorFlow never runs more threads per op than the quota has CPUs.
    for env, cpus in [({}, 0), ({"TFSERVING_CPUS": "3"}, 3)]:
        tfserving = compose_config(env)["services"]["tfserving"]
        flags = command_flags(tfserving)
        assert float(tfserving.get("cpus", 0)) == cpus
        assert int(flags["tensorflow_intra_op_parallelism"]) == cpus
        assert int(flags["tensorflow_inter_op_parallelism"]) == batching.num_batch_threads.value
        assert "tensorflow_session_parallelism" not in flags  # TF Serving refuses it together with the two above


def test_compose_stop_leaves_the_gateway_its_whole_drain(compose_config) -> None:
    from service.config import Settings

    grace = compose_config()["services"]["gateway"]["stop_grace_period"]  # e.g. "20s"
    grace_s = float(grace.removesuffix("s"))
    assert grace_s > Settings().http.shutdown_timeout_s + 2  # the drain, then uvicorn's own exit
