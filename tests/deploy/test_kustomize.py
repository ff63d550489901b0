"""k8s/: every kustomization renders with kustomize, every object validates against the Kubernetes OpenAPI
schemas (kubernetes-validate, strict), and the rendered objects fit together: the ConfigMap holds the docker/
files byte for byte, probes ask the right endpoints, selectors select, pods run unprivileged."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest
from google.protobuf import text_format

from cli.main import build_parser
from service.config import VARIABLES, Settings

from .layout import DOCKER_DIR, K8S_DIR, MODEL_NAME, TFSERVING_CONFIG_FILES, TFSERVING_CONFIG_MOUNT

# Every directory with a kustomization.yaml, except Components (only buildable from an overlay).
KUSTOMIZATIONS = sorted(
    path.parent.relative_to(K8S_DIR)
    for path in K8S_DIR.rglob("kustomization.yaml")
    if "kind: Component" not in path.read_text()
)
SERVING = [Path("base"), Path("overlays/cpu"), Path("overlays/gpu")]
TRAINING = [Path("training/gpu"), Path("training/tpu")]
# The oldest Kubernetes release still in upstream support when this was written, and the newest schema known.
KUBERNETES_VERSIONS = ("1.31.0", kubernetes_validate.latest_version())
NAMESPACE = "asr"


def _by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def _pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def _containers(obj: dict) -> list[dict]:
    spec = _pod_spec(obj)
    return spec.get("initContainers", []) + spec["containers"]


def _env(container: dict) -> dict[str, str]:
    return {item["name"]: item["value"] for item in container.get("env", [])}


def test_every_serving_and_training_kustomization_is_covered() -> None:
    assert set(SERVING + TRAINING) <= set(KUSTOMIZATIONS)


@pytest.mark.parametrize("kustomization", KUSTOMIZATIONS, ids=str)
def test_renders_and_validates_against_kubernetes_schemas(render_kustomization, kustomization: Path) -> None:
    objects = render_kustomization(K8S_DIR / kustomization)
    assert objects
    for version in KUBERNETES_VERSIONS:
        for obj in objects:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} invalid for Kubernetes {version}: {error}")


@pytest.mark.parametrize("kustomization", SERVING + TRAINING, ids=str)
def test_namespaced_objects_land_in_one_namespace(render_kustomization, kustomization: Path) -> None:
    for obj in render_kustomization(K8S_DIR / kustomization):
        if obj["kind"] != "Namespace":
            assert obj["metadata"].get("namespace") == NAMESPACE, f"{obj['kind']}/{obj['metadata']['name']}"


@pytest.mark.parametrize("kustomization", SERVING + TRAINING, ids=str)
def test_every_container_runs_unprivileged(render_kustomization, kustomization: Path) -> None:
    for obj in render_kustomization(K8S_DIR / kustomization):
        if obj["kind"] not in ("Deployment", "Job"):
            continue
        pod_security = _pod_spec(obj).get("securityContext", {})
        assert pod_security.get("runAsNonRoot") is True
        assert pod_security.get("seccompProfile", {}).get("type") == "RuntimeDefault"
        for container in _containers(obj):
            security = container["securityContext"]
            where = f"{obj['metadata']['name']}/{container['name']}"
            assert security["allowPrivilegeEscalation"] is False, where
            assert security["readOnlyRootFilesystem"] is True, where
            assert security["capabilities"]["drop"] == ["ALL"], where
            assert "resources" in container and container["resources"]["requests"], where


@pytest.mark.parametrize("kustomization", SERVING, ids=str)
def test_tfserving_configmap_is_the_docker_files(render_kustomization, kustomization: Path) -> None:
    objects = render_kustomization(K8S_DIR / kustomization)
    config_maps = [cm for name, cm in _by_kind(objects, "ConfigMap").items() if name.startswith("tfserving-config")]
    (config_map,) = config_maps
    assert config_map["data"] == {name: (DOCKER_DIR / name).read_text() for name in TFSERVING_CONFIG_FILES}

    tfserving = _by_kind(objects, "Deployment")["tfserving"]
    volumes = {v["name"]: v for v in _pod_spec(tfserving)["volumes"]}
    (container,) = _pod_spec(tfserving)["containers"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    assert volumes[mounts[TFSERVING_CONFIG_MOUNT]]["configMap"]["name"] == config_map["metadata"]["name"]
    args = container["args"]
    for flag, name in [
        ("--model_config_file", "models.config"),
        ("--batching_parameters_file", "batching_parameters.txt"),
        ("--monitoring_config_file", "monitoring.config"),
    ]:
        assert f"{flag}={TFSERVING_CONFIG_MOUNT}/{name}" in args
    # Readiness reads the model state from the body; a plain httpGet would pass while the model is LOADING.
    assert container["readinessProbe"]["exec"]["command"] == [
        "bash",
        f"{TFSERVING_CONFIG_MOUNT}/tfserving-ready.sh",
        MODEL_NAME,
    ]


def _whole_cpus(quantity: str) -> int:
    """Gives a CPU quantity ("4", "1500m") in whole CPUs rounded up, as a resourceFieldRef with divisor 1 does."""
    millis = int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)
    return -(-millis // 1000)


@pytest.mark.parametrize("kustomization", SERVING, ids=str)
def test_tfserving_threads_follow_its_cpu_limit(
    render_kustomization, kustomization: Path, tfserving_config_messages
) -> None:
    # TensorFlow would size its pools by the node's CPUs; the intra-op flag takes the container's own CPU limit
    # through the downward API, so it stays right whatever limit an overlay sets.
    (container,) = _pod_spec(_by_kind(render_kustomization(K8S_DIR / kustomization), "Deployment")["tfserving"])[
        "containers"
    ]
    flags = dict(arg[2:].partition("=")[::2] for arg in container["args"])
    assert "tensorflow_session_parallelism" not in flags  # TF Serving refuses it together with the two below
    variable = flags["tensorflow_intra_op_parallelism"].removeprefix("$(").removesuffix(")")
    (source,) = [item["valueFrom"] for item in container["env"] if item["name"] == variable]
    assert source["resourceFieldRef"] == {"containerName": "tfserving", "resource": "limits.cpu", "divisor": "1"}
    limit_cpus = _whole_cpus(str(container["resources"]["limits"]["cpu"]))  # without a limit: the node's CPUs
    assert limit_cpus >= 1
    # One inter-op thread per batch thread: each runs its batch's ops one after another.
    batching = text_format.Parse(
        (DOCKER_DIR / "batching_parameters.txt").read_text(), tfserving_config_messages["BatchingParameters"]()
    )
    assert int(flags["tensorflow_inter_op_parallelism"]) == batching.num_batch_threads.value <= limit_cpus


def test_whole_cpus_rounds_up_like_the_downward_api() -> None:
    assert [_whole_cpus(q) for q in ("4", "1500m", "500m", "2.5", "2000m")] == [4, 2, 1, 3, 2]


@pytest.mark.parametrize("kustomization", SERVING, ids=str)
def test_export_init_container_fills_the_volume_tfserving_reads(render_kustomization, kustomization: Path) -> None:
    tfserving = _by_kind(render_kustomization(K8S_DIR / kustomization), "Deployment")["tfserving"]
    (export,) = _pod_spec(tfserving)["initContainers"]
    (server,) = _pod_spec(tfserving)["containers"]
    env = _env(export)
    export_volume = {m["mountPath"]: m["name"] for m in export["volumeMounts"]}[env["ASR_EXPORT_DIR"]]
    server_mounts = {m["name"]: m for m in server["volumeMounts"]}
    assert server_mounts[export_volume]["mountPath"] == "/models"
    assert server_mounts[export_volume]["readOnly"] is True
    assert env["ASR_MODEL_NAME"] == MODEL_NAME
    assert export["command"] == ["export-once"]


@pytest.mark.parametrize("kustomization", SERVING, ids=str)
def test_gateway_reaches_tfserving_and_is_probed(render_kustomization, kustomization: Path) -> None:
    objects = render_kustomization(K8S_DIR / kustomization)
    (gateway,) = _pod_spec(_by_kind(objects, "Deployment")["gateway"])["containers"]
    env = _env(gateway)
    host, _, port = env["ASR_TFSERVING_ADDRESS"].partition(":")
    service_ports = {p["name"]: p["port"] for p in _by_kind(objects, "Service")[host]["spec"]["ports"]}
    assert int(port) == service_ports["grpc"]
    assert env["ASR_MODEL_NAME"] == MODEL_NAME
    # Every ASR_* variable is a gateway setting (a misspelt one would be ignored silently), with a valid value.
    settings_env = {name: value for name, value in env.items() if name.startswith("ASR_")}
    assert {name.removeprefix("ASR_").lower() for name in settings_env} <= set(VARIABLES)
    settings = Settings(**{name.removeprefix("ASR_").lower(): value for name, value in settings_env.items()})
    assert settings.tfserving.address == env["ASR_TFSERVING_ADDRESS"]
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"


@pytest.mark.parametrize("kustomization", SERVING, ids=str)
def test_services_pdbs_and_hpa_point_at_real_pods(render_kustomization, kustomization: Path) -> None:
    objects = render_kustomization(K8S_DIR / kustomization)
    deployments = _by_kind(objects, "Deployment")

    def selects_a_deployment(selector: dict[str, str]) -> bool:
        return any(
            selector.items() <= d["spec"]["template"]["metadata"]["labels"].items() for d in deployments.values()
        )

    for service in _by_kind(objects, "Service").values():
        assert selects_a_deployment(service["spec"]["selector"]), service["metadata"]["name"]
    for budget in _by_kind(objects, "PodDisruptionBudget").values():
        assert selects_a_deployment(budget["spec"]["selector"]["matchLabels"]), budget["metadata"]["name"]
    (hpa,) = _by_kind(objects, "HorizontalPodAutoscaler").values()
    assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
    # A PDB with minAvailable 1 over a single replica would block every node drain.
    for name in ("tfserving", "gateway"):
        assert deployments[name]["spec"]["replicas"] >= 2


def test_only_the_gpu_overlay_asks_for_gpus(render_kustomization) -> None:
    def tfserving(overlay: str) -> dict:
        (container,) = _pod_spec(_by_kind(render_kustomization(K8S_DIR / overlay), "Deployment")["tfserving"])[
            "containers"
        ]
        return container

    gpu, cpu = tfserving("overlays/gpu"), tfserving("overlays/cpu")
    assert gpu["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert gpu["image"].endswith("-gpu")
    assert "nvidia.com/gpu" not in cpu["resources"]["limits"]
    assert not cpu["image"].endswith("-gpu")


@pytest.mark.parametrize(
    ("kustomization", "strategy", "accelerator"),
    [("training/gpu", "mirrored", "nvidia.com/gpu"), ("training/tpu", "tpu", "google.com/tpu")],
)
def test_training_job_uses_its_accelerator(
    render_kustomization, kustomization: str, strategy: str, accelerator: str
) -> None:
    (job,) = _by_kind(render_kustomization(K8S_DIR / kustomization), "Job").values()
    (container,) = _pod_spec(job)["containers"]
    assert container["args"][0] == "train"
    # The real `asr train` parser accepts the Job's command line (it exits 2 on an unknown or missing flag).
    assert build_parser().parse_args(container["args"]).strategy == strategy
    assert f"--strategy={strategy}" in container["args"]
    assert [a for a in container["args"] if a.startswith("--strategy")] == [f"--strategy={strategy}"]
    assert container["resources"]["limits"][accelerator] >= 1


@pytest.mark.parametrize("kustomization", SERVING, ids=str)
def test_gateway_reads_api_keys_from_the_secret(render_kustomization, kustomization: Path) -> None:
    gateway = _by_kind(render_kustomization(K8S_DIR / kustomization), "Deployment")["gateway"]
    (container,) = _pod_spec(gateway)["containers"]
    key_file = Path(_env(container)["ASR_API_KEYS_FILE"])
    mounts = {m["name"]: m for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in _pod_spec(gateway)["volumes"]}
    (name,) = [n for n, m in mounts.items() if key_file.parent == Path(m["mountPath"])]
    assert mounts[name]["readOnly"] is True
    secret = volumes[name]["secret"]
    assert secret["secretName"] == "asr-api-keys"
    assert not secret.get("optional", False)  # no Secret, no pod: never an open gateway by mistake
    assert {item["path"] for item in secret["items"]} == {key_file.name}
    assert "ASR_API_KEYS" not in _env(container)  # no key in the manifest itself


@pytest.mark.parametrize("kustomization", SERVING, ids=str)
def test_only_gateway_and_wyoming_pods_reach_tfserving(render_kustomization, kustomization: Path) -> None:
    objects = render_kustomization(K8S_DIR / kustomization)
    tfserving = _by_kind(objects, "Deployment")["tfserving"]
    pod_labels = tfserving["spec"]["template"]["metadata"]["labels"]
    policies = [
        p
        for p in _by_kind(objects, "NetworkPolicy").values()
        if p["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
    ]
    (policy,) = policies
    assert policy["spec"]["policyTypes"] == ["Ingress"]
    (container,) = _pod_spec(tfserving)["containers"]
    port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
    gateway_labels = _by_kind(objects, "Deployment")["gateway"]["spec"]["template"]["metadata"]["labels"]

    def allowed(labels: dict[str, str], port: int) -> bool:
        for rule in policy["spec"]["ingress"]:
            ports = {port_names.get(p["port"], p["port"]) for p in rule["ports"]}
            for peer in rule["from"]:
                selector = peer["podSelector"]
                if "namespaceSelector" in peer:
                    continue  # other namespaces: only the monitoring scrape, checked below
                if (
                    selector.get("matchLabels", {}).items() <= labels.items()
                    and all(labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", []))
                    and port in ports
                ):
                    return True
        return False

    for port in (8500, 8501):
        assert allowed(gateway_labels, port)
        assert allowed({"app.kubernetes.io/name": "wyoming"}, port)
        assert not allowed({"app.kubernetes.io/name": "debug-shell"}, port)
    scrape = [rule for rule in policy["spec"]["ingress"] if any("namespaceSelector" in p for p in rule["from"])]
    assert [[port_names[p["port"]] for p in rule["ports"]] for rule in scrape] == [[8501]]
