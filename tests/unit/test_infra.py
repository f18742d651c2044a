"""infra/: what a self-hosted deployment applies, checked offline by real implementations.

- Compose: `docker-compose config` (Debian's 1.29) validates and renders the file, then the
  rendered services are checked for what the deployment relies on.
- Kubernetes: kustomize renders infra/k8s and kubeconform validates every object strictly,
  the built-in kinds against the schemas kubernetes-validate ships, ScaledObject and
  TriggerAuthentication against KEDA's own CRDs (from KEDA's Go module, see
  local/tools/install-servers.sh), turned into JSON schemas here.
- MinIO: the AMQP target's settings, the same in every place that sets them, and
  configure.sh run against a recording `mc`.

Every place is also held to the rule that nothing in infra/ refers to a component infra/
does not deploy. The tools are built by local/tools/install-servers.sh; without them a
test skips on a developer's machine and fails under CI=true.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import urllib.parse
from pathlib import Path
from typing import NoReturn

import pytest
import yaml

from tests.support.servers import missing

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
K8S = INFRA / "k8s"
COMPOSE = INFRA / "compose"
MINIO = INFRA / "minio"

# The worker contract: `bucket-ocr-worker setup [--buckets]` and `bucket-ocr-worker run`.
SETUP = ["bucket-ocr-worker", "setup", "--buckets"]
RUN = ["bucket-ocr-worker", "run"]
TARGET_ARN = "arn:minio:sqs::OCR:amqp"
AMQP_PREFIX, TARGET_SUFFIX = "MINIO_NOTIFY_AMQP_", "_OCR"
# The variables MinIO reads for an AMQP target (internal/event/target/amqp.go, EnvAMQP*),
# and what each one is as a key of `mc admin config set ALIAS notify_amqp:ID`.
MINIO_AMQP_KEYS = {
    "ENABLE": "enable",
    "URL": "url",
    "EXCHANGE": "exchange",
    "EXCHANGE_TYPE": "exchange_type",
    "ROUTING_KEY": "routing_key",
    "MANDATORY": "mandatory",
    "IMMEDIATE": "immediate",
    "DURABLE": "durable",
    "INTERNAL": "internal",
    "NO_WAIT": "no_wait",
    "AUTO_DELETED": "auto_deleted",
    "DELIVERY_MODE": "delivery_mode",
    "PUBLISHING_CONFIRMS": "publisher_confirms",
    "QUEUE_DIR": "queue_dir",
    "QUEUE_LIMIT": "queue_limit",
}
# Where the two forms differ: a value that is a place (URL, queue_dir) rather than a setting.
PLACES = {"URL", "QUEUE_DIR"}
KUBERNETES_VERSIONS = ("1.32.0", "1.37.0")
# The environment as collection found it: once a test has loaded the OCR engine, the
# process's XDG_CACHE_HOME points into that test's temporary directory, and the tools would
# be built (minutes) into a directory pytest removes.
MACHINE_ENVIRON = dict(os.environ)


def missing_tool(what: str) -> NoReturn:
    missing(f"{what}: install it with local/run test (local/tools/install-servers.sh, install-system-packages.sh)")


def env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"{path.name}: not NAME=value: {line!r}"
            values[name.strip()] = value.strip()
    return values


def target_settings(environment: dict[str, str]) -> dict[str, str]:
    """The AMQP target "OCR" of a MinIO environment, by setting name (EXCHANGE, URL, ...)."""
    return {
        name[len(AMQP_PREFIX) : -len(TARGET_SUFFIX)]: str(value)
        for name, value in environment.items()
        if name.startswith(AMQP_PREFIX) and name.endswith(TARGET_SUFFIX)
    }


def image_env(name: str) -> str:
    """An ENV value of container/Dockerfile (what the image sets, e.g. OCR_MODELS_DIR)."""
    match = re.search(rf"\b{name}=(\S+)", (ROOT / "container" / "Dockerfile").read_text())
    assert match, f"container/Dockerfile sets no {name}"
    return match[1]


def check_function_environment(env: dict[str, str]) -> None:
    """What the function and the worker read at start-up accepts this environment."""
    from bucket_ocr.settings import Settings
    from bucket_ocr.worker.settings import WorkerSettings

    function = Settings.from_env({**env, "OCR_MODELS_DIR": image_env("OCR_MODELS_DIR")})
    worker = WorkerSettings.from_env(env)
    assert function.s3_endpoint_url and function.results_bucket not in function.source_buckets
    assert worker.topology.exchange == env["OCR_WORK_EXCHANGE"]
    assert worker.topology.routing_key == env["OCR_WORK_ROUTING_KEY"]
    assert worker.topology.work_queue == env["OCR_WORK_QUEUE"]
    assert worker.dead_letters.queue == "ocr-dead-letters"
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION", "OCR_INPUT_BUCKET"):
        assert env.get(name), name
    assert env["OCR_INPUT_BUCKET"] in function.source_buckets


def check_target_matches_workers(target: dict[str, str], worker_env: dict[str, str]) -> None:
    """MinIO publishes where the workers' queue is bound, on the broker they consume from."""
    assert target["EXCHANGE"] == worker_env["OCR_WORK_EXCHANGE"]
    assert target["ROUTING_KEY"] == worker_env["OCR_WORK_ROUTING_KEY"]
    assert target["URL"] == worker_env["OCR_BROKER_URL"]
    reference = target_settings(env_file(MINIO / "notify-amqp.env"))
    assert {k: v for k, v in target.items() if k not in PLACES} == {
        k: v for k, v in reference.items() if k not in PLACES
    }


# ---- MinIO's AMQP target ---------------------------------------------------------------


def test_minio_target_is_durable_confirmed_and_queued_on_disk():
    env = env_file(MINIO / "notify-amqp.env")
    target = target_settings(env)
    # Every variable is one MinIO reads, for the target "OCR" (case kept: the ARN's ID)
    assert set(env) == {AMQP_PREFIX + name + TARGET_SUFFIX for name in target}
    assert set(target) <= set(MINIO_AMQP_KEYS), set(target) - set(MINIO_AMQP_KEYS)
    assert target["ENABLE"] == "on" and target["URL"].startswith("amqp://")
    # publishing where `bucket-ocr-worker setup` binds the work queue
    from bucket_ocr.amqp import Topology

    assert (target["EXCHANGE"], target["EXCHANGE_TYPE"], target["ROUTING_KEY"]) == (
        Topology().exchange,
        "direct",
        Topology().routing_key,
    )
    # declaring the exchange exactly as setup does (MinIO declares it before each publish)
    assert (target["DURABLE"], target["AUTO_DELETED"], target["INTERNAL"]) == ("on", "off", "off")
    # persistent messages, published with confirms, waiting on disk while the broker is down
    assert target["DELIVERY_MODE"] == "2" and target["PUBLISHING_CONFIRMS"] == "on"
    assert target["QUEUE_DIR"].startswith("/") and int(target["QUEUE_LIMIT"]) > 0
    assert target.get("MANDATORY", "off") == "off" and target.get("IMMEDIATE", "off") == "off"


def test_the_target_arn_is_the_one_setup_subscribes_to():
    from bucket_ocr.worker.setup import DEFAULT_TARGET_ARN

    # MinIO keeps the ID as written (…_OCR -> "OCR") and refuses an ARN of another case.
    assert DEFAULT_TARGET_ARN == TARGET_ARN
    assert f"arn:minio:sqs::{TARGET_SUFFIX[1:]}:amqp" == TARGET_ARN


def test_the_local_stack_runs_minio_with_the_same_target():
    """The integration tests' MinIO (local stack) is configured as the operator's is."""
    from bucket_ocr.amqp import Topology
    from bucket_ocr_local.stores.minio_store import amqp_target_environment

    local = target_settings(amqp_target_environment("amqp://u:p@127.0.0.1:5672/%2F", Topology(), queue_dir=Path("/q")))
    infra = target_settings(env_file(MINIO / "notify-amqp.env"))
    for name, value in infra.items():
        if name not in PLACES:
            # A setting the local stack leaves out is MinIO's default, "off".
            assert local.get(name, "off") == value, name


@pytest.fixture
def recording_mc(tmp_path):
    """An `mc` on PATH that records its arguments, one JSON list a line."""
    log = tmp_path / "mc.log"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mc = bin_dir / "mc"
    mc.write_text(
        f"#!/usr/bin/env python3\nimport json, sys\nopen({str(log)!r}, 'a').write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    mc.chmod(0o755)

    def run(**env: str) -> list[list[str]]:
        result = subprocess.run(
            ["bash", str(MINIO / "configure.sh")],
            env={"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path), **env},
            capture_output=True,
            check=False,
            text=True,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        calls = [json.loads(line) for line in log.read_text().splitlines()]
        log.unlink()
        return calls

    return run


def test_configure_sets_the_same_target_and_subscribes_only_the_input_bucket(recording_mc):
    url = "amqp://bucket-ocr:secret@rabbitmq.example.internal:5672/%2F"
    calls = recording_mc(MC_ALIAS="prod", OCR_AMQP_URL=url, INPUT_BUCKET="scans", RESULTS_BUCKET="texts")
    # Then the target is set with the settings of notify-amqp.env, as configuration keys
    (config,) = [c for c in calls if c[:3] == ["admin", "config", "set"]]
    assert config[3:5] == ["prod", "notify_amqp:OCR"]
    keys = dict(pair.split("=", 1) for pair in config[5:])
    by_key = {key: name for name, key in MINIO_AMQP_KEYS.items()}
    assert set(keys) <= set(by_key), set(keys) - set(by_key)
    reference = target_settings(env_file(MINIO / "notify-amqp.env"))
    settings = {by_key[key]: value for key, value in keys.items()}
    assert settings["URL"] == url and settings["QUEUE_DIR"].startswith("/")
    assert {k: v for k, v in settings.items() if k not in PLACES} == {
        k: v for k, v in reference.items() if k not in PLACES | {"ENABLE"}
    }
    # and MinIO restarts, since it reads notification targets at start-up only
    assert ["admin", "service", "restart", "prod", "--json"] in calls
    # and only the input bucket notifies, of new objects, on the target's ARN
    events = [c for c in calls if c[:2] == ["event", "add"]]
    assert events == [["event", "add", "prod/scans", TARGET_ARN, "--event", "put"]]
    assert ["mb", "--ignore-existing", "prod/scans", "prod/texts"] in calls


def test_configure_leaves_an_environment_configured_target_alone(recording_mc):
    calls = recording_mc(MC_ALIAS="prod", INPUT_PREFIX="incoming/")
    assert not [c for c in calls if c[:1] == ["admin"]]
    assert ["event", "add", "prod/ocr-input", TARGET_ARN, "--event", "put", "--prefix", "incoming/"] in calls


# ---- Compose ---------------------------------------------------------------------------


def docker_compose(*args: str, env_file_path: Path = COMPOSE / ".env.example") -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if binary is None:
        missing_tool("docker-compose (Debian's package docker-compose) is not installed")
    # No .env of the developer's and no variables of the shell leak into the check.
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("COMPOSE_", "DOCKER_", "OCR_", "MINIO_", "RABBITMQ_"))
    }
    return subprocess.run(
        [binary, "-f", str(COMPOSE / "compose.yaml"), "--env-file", str(env_file_path), *args],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def compose() -> dict:
    """The file as written (anchors merged): what an operator reads."""
    return yaml.safe_load((COMPOSE / "compose.yaml").read_text())


@pytest.fixture(scope="module")
def rendered_compose() -> dict:
    """The file as docker-compose resolves it with the example settings."""
    result = docker_compose("config")
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_file_is_valid():
    result = docker_compose("config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_the_passwords(tmp_path):
    partial = tmp_path / "partial.env"
    partial.write_text(
        "\n".join(f"{k}={v}" for k, v in env_file(COMPOSE / ".env.example").items() if "PASSWORD" not in k)
    )
    result = docker_compose("config", "-q", env_file_path=partial)
    assert result.returncode != 0
    assert re.search(r"set (MINIO_ROOT|RABBITMQ)_PASSWORD in infra/compose/\.env", result.stderr), result.stderr


def test_compose_workers_scale_and_run_the_worker(compose, rendered_compose):
    services = rendered_compose["services"]
    worker, setup = services["worker"], services["setup"]
    # Scalable with --scale worker=N: no fixed name, no host port
    assert "container_name" not in compose["services"]["worker"] and "ports" not in compose["services"]["worker"]
    # the Lambda image, built from the repository root, under a name of its own
    build = compose["services"]["worker"]["build"]
    assert (COMPOSE / build["context"]).resolve() == ROOT and (ROOT / build["dockerfile"]).is_file()
    assert build["dockerfile"] == "container/Dockerfile"
    assert worker["image"] == setup["image"] and not worker["image"].endswith(":latest") and ":" in worker["image"]
    # running `bucket-ocr-worker run` instead of the image's Lambda entry point
    assert worker["entrypoint"] + worker["command"] == RUN
    assert setup["entrypoint"] + setup["command"] == SETUP
    # only after setup succeeded, which waits for healthy MinIO and RabbitMQ
    assert worker["depends_on"] == {"setup": {"condition": "service_completed_successfully"}}
    assert setup["depends_on"] == {
        "minio": {"condition": "service_healthy"},
        "rabbitmq": {"condition": "service_healthy"},
    }
    assert services["minio"]["healthcheck"]["test"] and services["rabbitmq"]["healthcheck"]["test"]
    # finishing the document in hand on stop, with only /tmp writable
    grace = re.fullmatch(r"(\d+)s", worker["stop_grace_period"])
    assert grace and int(grace[1]) >= int(worker["environment"]["OCR_WORKER_TIMEOUT_SECONDS"])
    assert worker["read_only"] is True and any(t.split(":")[0] == "/tmp" for t in worker["tmpfs"])
    check_function_environment(worker["environment"])


def test_compose_minio_publishes_to_the_workers_queue(rendered_compose):
    services = rendered_compose["services"]
    target = target_settings(services["minio"]["environment"])
    check_target_matches_workers(target, services["worker"]["environment"])
    # Events wait on MinIO's data volume, beside (not inside) what the server serves
    (data,) = [m.split(":")[1] for m in services["minio"]["volumes"] if m.split(":")[0] == "minio-data"]
    served = services["minio"]["command"][services["minio"]["command"].index("server") + 1]
    assert target["QUEUE_DIR"].startswith(data + "/") and served.startswith(data + "/")
    assert not target["QUEUE_DIR"].startswith(served + "/")


def test_compose_keeps_data_in_volumes_and_publishes_only_consoles_on_loopback(rendered_compose):
    services = rendered_compose["services"]
    assert set(rendered_compose["volumes"]) == {"minio-data", "rabbitmq-data"}
    assert "rabbitmq-data:/var/lib/rabbitmq:rw" in services["rabbitmq"]["volumes"]
    # RabbitMQ's data is kept under its node name: a fixed host name finds it again
    assert (
        services["rabbitmq"]["hostname"] == "rabbitmq" and services["rabbitmq"]["image"] == "rabbitmq:3.10-management"
    )
    published = {name: service.get("ports", []) for name, service in services.items() if service.get("ports")}
    assert published == {
        "minio": ["127.0.0.1:9000:9000/tcp", "127.0.0.1:9001:9001/tcp"],
        "rabbitmq": ["127.0.0.1:15672:15672/tcp"],
    }


def test_compose_refers_only_to_its_own_services(rendered_compose):
    services = rendered_compose["services"]
    for name, service in services.items():
        for other in service.get("depends_on", {}):
            assert other in services, (name, other)
        for value in (service.get("environment") or {}).values():
            if re.match(r"^(amqp|https?)://", str(value)):
                host = urllib.parse.urlsplit(str(value)).hostname
                assert host in services, (name, value)


def test_compose_holds_no_secret():
    text = (COMPOSE / "compose.yaml").read_text()
    compose = yaml.safe_load(text)
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            value = str(value)
            if re.search(r"PASS|SECRET|_USER$|ACCESS_KEY", key) or "@" in value:
                # Credentials only ever come from the env file
                assert re.search(r"\$\{[A-Z_]+:\?[^}]+\}", value), (name, key, value)
                for credential in re.findall(r"//([^@]*)@", value) or [value]:
                    assert re.fullmatch(r"(\$\{[A-Z_]+:\?[^}]+\}:?)+", credential), (name, key, value)
    assert "CHANGE-ME" not in text
    # and the real env file stays out of git
    assert subprocess.run(["git", "check-ignore", "-q", "infra/compose/.env"], cwd=ROOT, check=False).returncode == 0


# ---- Kubernetes ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tools() -> dict[str, str]:
    """kubeconform, kustomize and KEDA's CRDs, as local/tools/install-servers.sh provides them."""
    names = ("KUBECONFORM_BIN", "KUSTOMIZE_BIN", "KEDA_CRDS_DIR")
    found = {name: os.environ[name] for name in names if os.environ.get(name)}
    if len(found) < len(names):
        if shutil.which("go") is None:
            missing_tool("Go (to build kubeconform and kustomize) is not installed")
        result = subprocess.run(
            ["bash", str(ROOT / "local" / "tools" / "install-servers.sh")],
            env=MACHINE_ENVIRON,
            capture_output=True,
            check=False,
            text=True,
            timeout=1800,
        )
        if result.returncode != 0:
            missing_tool(f"local/tools/install-servers.sh failed: {result.stderr[-2000:]}")
        printed = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
        found = {name: found.get(name) or printed[name] for name in names}
    return found


def kustomize_build(tools: dict[str, str], directory: Path) -> list[dict]:
    result = subprocess.run(
        [tools["KUSTOMIZE_BIN"], "build", str(directory)], capture_output=True, check=False, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@pytest.fixture(scope="module")
def k8s_copy(tmp_path_factory) -> Path:
    """infra/k8s with credentials.env made from the example, as the manual says."""
    copy = tmp_path_factory.mktemp("infra") / "k8s"
    shutil.copytree(K8S, copy, ignore=shutil.ignore_patterns("credentials.env"))
    shutil.copy(K8S / "credentials.env.example", copy / "credentials.env")
    return copy


@pytest.fixture(scope="module")
def rendered(tools, k8s_copy) -> list[dict]:
    return kustomize_build(tools, k8s_copy)


@pytest.fixture(scope="module")
def objects(rendered) -> dict[str, dict]:
    """kind/name -> object (generated names without their hash suffix)."""
    found = {}
    for doc in rendered:
        found[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return found


def by_kind(objects: dict[str, dict], kind: str) -> dict[str, dict]:
    return {key.split("/", 1)[1]: value for key, value in objects.items() if key.startswith(kind + "/")}


def crd_to_json_schema(node, strict: bool = True):
    """An OpenAPI v3 schema of a CRD as a JSON schema, closed like kubeconform's strict ones."""
    if isinstance(node, list):
        return [crd_to_json_schema(item, strict) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: crd_to_json_schema(value, strict) for key, value in node.items()}
    if out.get("x-kubernetes-int-or-string") and "type" not in out and "anyOf" not in out:
        out["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    if (
        strict
        and "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


@pytest.fixture(scope="module")
def schema_locations(tools, tmp_path_factory) -> dict[str, list[str]]:
    """kubeconform's -schema-location and -cache arguments, by Kubernetes version."""
    spec = importlib.util.find_spec("kubernetes_validate")
    if spec is None or spec.origin is None:
        missing_tool("kubernetes-validate (the test extra) is not installed")
    package = Path(spec.origin).parent / "kubernetes-json-schema"
    # KEDA's CRDs, one schema per kind and served version, named as kubeconform looks them up.
    keda = tmp_path_factory.mktemp("keda-schemas")
    kinds = set()
    for crd_file in sorted(Path(tools["KEDA_CRDS_DIR"]).glob("keda.sh_*.yaml")):
        crd = yaml.safe_load(crd_file.read_text())
        for version in crd["spec"]["versions"]:
            kind = crd["spec"]["names"]["kind"]
            schema = crd_to_json_schema(version["schema"]["openAPIV3Schema"])
            (keda / f"{kind.lower()}-{crd['spec']['group'].split('.')[0]}-{version['name']}.json").write_text(
                json.dumps(schema)
            )
            kinds.add(kind)
    assert {"ScaledObject", "TriggerAuthentication"} <= kinds
    arguments = {}
    for version in KUBERNETES_VERSIONS:
        directory = package / f"v{version}-local-strict"
        assert directory.is_dir(), f"kubernetes-validate has no schemas for {version}"
        # The kinds' schemas refer to the shared definitions by their $id, an https URL:
        # kubeconform finds that document in its cache, so it never goes to the network.
        definitions = directory / "_definitions.json"
        definitions_id = json.loads(definitions.read_text())["$id"]
        cache = tmp_path_factory.mktemp(f"kubeconform-cache-{version}")
        shutil.copy(definitions, cache / hashlib.sha256(definitions_id.encode()).hexdigest())
        arguments[version] = [
            "-kubernetes-version",
            version,
            "-cache",
            str(cache),
            "-schema-location",
            str(
                package
                / "{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}"
                / "{{ .ResourceKind }}{{ .KindSuffix }}.json"
            ),
            "-schema-location",
            str(keda / "{{ .ResourceKind }}{{ .KindSuffix }}.json"),
        ]
    return arguments


def kubeconform(tools: dict[str, str], arguments: list[str], manifests: Path) -> list[dict]:
    result = subprocess.run(
        [tools["KUBECONFORM_BIN"], "-strict", "-verbose", "-summary", "-output", "json", *arguments, str(manifests)],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    return report["resources"]


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_kustomization_validates_strictly(tools, rendered, schema_locations, version, tmp_path):
    manifests = tmp_path / "rendered.yaml"
    manifests.write_text(yaml.safe_dump_all(rendered))
    resources = kubeconform(tools, schema_locations[version], manifests)
    # Every object, the KEDA ones included, was checked and found valid: none skipped
    assert len(resources) == len(rendered)
    invalid = [(r["kind"], r["name"], r.get("msg")) for r in resources if r["status"] != "statusValid"]
    assert not invalid
    assert {"ScaledObject", "TriggerAuthentication", "Deployment", "Job", "StatefulSet"} <= {
        r["kind"] for r in resources
    }


def test_kubeconform_rejects_an_unknown_field_in_every_kind_we_use(tools, rendered, schema_locations, tmp_path):
    """The control: the schemas are closed, KEDA's as much as Kubernetes' own."""
    broken = []
    for doc in rendered:
        doc = json.loads(json.dumps(doc))
        doc.setdefault("spec", {})["unknownField"] = 1
        broken.append(doc)
    manifests = tmp_path / "broken.yaml"
    manifests.write_text(yaml.safe_dump_all(broken))
    resources = kubeconform(tools, schema_locations[KUBERNETES_VERSIONS[-1]], manifests)
    assert len(resources) == len(broken)
    assert all(r["status"] == "statusInvalid" for r in resources), [(r["kind"], r["status"]) for r in resources]


def test_base_renders_on_its_own(tools, k8s_copy):
    """Operators with a MinIO and RabbitMQ of their own apply base/ alone."""
    kinds = {doc["kind"] for doc in kustomize_build(tools, k8s_copy / "base")}
    assert kinds == {"ConfigMap", "Deployment", "Job", "ScaledObject", "TriggerAuthentication"}


def secret_data(objects: dict[str, dict], name: str) -> dict[str, str]:
    secret = objects[f"Secret/{name}"]
    data = {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}
    return {**data, **(secret.get("stringData") or {})}


def container_env(objects: dict[str, dict], container: dict) -> dict[str, str]:
    """The environment a container gets, as the kubelet builds it ($(VAR) expanded)."""
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            env.update(objects[f"ConfigMap/{source['configMapRef']['name']}"]["data"])
        else:
            env.update(secret_data(objects, source["secretRef"]["name"]))
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", lambda m: env.get(m[1], m[0]), item["value"])
        elif "secretKeyRef" in item["valueFrom"]:
            ref = item["valueFrom"]["secretKeyRef"]
            env[item["name"]] = secret_data(objects, ref["name"])[ref["key"]]
        else:
            ref = item["valueFrom"]["configMapKeyRef"]
            env[item["name"]] = objects[f"ConfigMap/{ref['name']}"]["data"][ref["key"]]
    return env


def pod_spec(obj: dict) -> dict:
    return obj["spec"]["template"]["spec"]


def test_workers_run_the_lambda_image_read_only_and_keda_owns_their_count(objects):
    deployment = objects["Deployment/bucket-ocr-worker"]
    spec = pod_spec(deployment)
    (container,) = spec["containers"]
    assert "replicas" not in deployment["spec"]
    assert container["command"] == RUN and "args" not in container
    # The image comes from kustomize's images: named and tagged, never :latest
    assert re.fullmatch(r"bucket-ocr:[\w.-]+", container["image"]) and not container["image"].endswith(":latest")
    base = yaml.safe_load((K8S / "base" / "kustomization.yaml").read_text())
    assert [i["name"] for i in base["images"]] == ["bucket-ocr"]
    # only /tmp writable, as on Lambda, and no root
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert "emptyDir" in volumes[mounts["/tmp"]] and set(mounts) == {"/tmp"}
    assert spec["securityContext"]["runAsNonRoot"] is True
    # a grace period that lets the document in hand finish
    env = container_env(objects, container)
    assert spec["terminationGracePeriodSeconds"] >= int(env["OCR_WORKER_TIMEOUT_SECONDS"])
    check_function_environment(env)


def test_setup_job_declares_and_subscribes_with_the_workers_settings(objects):
    job = objects["Job/bucket-ocr-setup"]
    (setup,) = pod_spec(job)["containers"]
    (worker,) = pod_spec(objects["Deployment/bucket-ocr-worker"])["containers"]
    assert setup["command"] == SETUP and setup["image"] == worker["image"]
    assert pod_spec(job)["restartPolicy"] == "OnFailure" and job["spec"]["backoffLimit"] > 0
    assert setup["securityContext"]["readOnlyRootFilesystem"] is True
    assert container_env(objects, setup) == container_env(objects, worker)


def test_keda_scales_the_workers_on_the_queue_they_consume(objects):
    scaled = objects["ScaledObject/bucket-ocr-worker"]
    worker = container_env(objects, pod_spec(objects["Deployment/bucket-ocr-worker"])["containers"][0])
    assert scaled["spec"]["scaleTargetRef"]["name"] == "bucket-ocr-worker"
    assert scaled["spec"]["minReplicaCount"] == 0 < scaled["spec"]["maxReplicaCount"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "rabbitmq"
    assert trigger["metadata"] == {
        "protocol": "amqp",
        "mode": "QueueLength",
        "value": "1",
        "queueName": worker["OCR_WORK_QUEUE"],
    }
    auth = objects[f"TriggerAuthentication/{trigger['authenticationRef']['name']}"]
    (host,) = auth["spec"]["secretTargetRef"]
    assert host["parameter"] == "host"
    # the broker the workers use, by a name KEDA's operator resolves from its own namespace
    url = secret_data(objects, host["name"])[host["key"]]
    assert url == worker["OCR_BROKER_URL"]
    namespace = objects["Deployment/bucket-ocr-worker"]["metadata"]["namespace"]
    assert urllib.parse.urlsplit(url).hostname == f"rabbitmq.{namespace}.svc"


def test_minio_publishes_to_the_workers_queue_and_keeps_events_on_its_volume(objects):
    minio = objects["StatefulSet/minio"]
    (container,) = pod_spec(minio)["containers"]
    env = container_env(objects, container)
    worker = container_env(objects, pod_spec(objects["Deployment/bucket-ocr-worker"])["containers"][0])
    target = target_settings(env)
    check_target_matches_workers(target, worker)
    (data,) = [m["mountPath"] for m in container["volumeMounts"] if m["name"] == "data"]
    served = container["args"][container["args"].index("server") + 1]
    assert target["QUEUE_DIR"].startswith(data + "/") and served.startswith(data + "/")
    assert not target["QUEUE_DIR"].startswith(served + "/")
    assert [t["metadata"]["name"] for t in minio["spec"]["volumeClaimTemplates"]] == ["data"]
    assert env["MINIO_ROOT_USER"] == worker["AWS_ACCESS_KEY_ID"]


def test_rabbitmq_keeps_its_data_and_credentials_agree(objects):
    rabbitmq = objects["StatefulSet/rabbitmq"]
    (container,) = pod_spec(rabbitmq)["containers"]
    assert container["image"] == "rabbitmq:3.10-management"
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/var/lib/rabbitmq"}
    assert container["readinessProbe"]["exec"]["command"][0] == "rabbitmq-diagnostics"
    env = container_env(objects, container)
    url = urllib.parse.urlsplit(secret_data(objects, "bucket-ocr-credentials")["OCR_BROKER_URL"])
    assert (urllib.parse.unquote(url.username), urllib.parse.unquote(url.password)) == (
        env["RABBITMQ_DEFAULT_USER"],
        env["RABBITMQ_DEFAULT_PASS"],
    )


def test_kubernetes_refers_only_to_what_it_deploys(objects):
    services = by_kind(objects, "Service")
    namespace = objects["Deployment/bucket-ocr-worker"]["metadata"]["namespace"]
    assert f"Namespace/{namespace}" in objects
    for key, obj in objects.items():
        if obj["kind"] in {"Deployment", "StatefulSet", "Job"}:
            if obj["kind"] == "StatefulSet":
                assert obj["spec"]["serviceName"] in services, key
            for container in pod_spec(obj)["containers"]:
                # Every ConfigMap, Secret and key resolves (container_env raises otherwise)
                for name, value in container_env(objects, container).items():
                    if re.match(r"^(amqp|https?)://", value):
                        url = urllib.parse.urlsplit(value)
                        host = url.hostname.removesuffix(f".{namespace}.svc")
                        assert host in services, (key, name, url.hostname)
                        assert url.port in {p["port"] for p in services[host]["spec"]["ports"]}, (key, name)
        if obj["kind"] == "TriggerAuthentication":
            for ref in obj["spec"]["secretTargetRef"]:
                assert ref["key"] in secret_data(objects, ref["name"]), key
        if obj["kind"] == "ScaledObject":
            assert f"Deployment/{obj['spec']['scaleTargetRef']['name']}" in objects
            for trigger in obj["spec"]["triggers"]:
                assert f"TriggerAuthentication/{trigger['authenticationRef']['name']}" in objects


def test_nothing_in_infra_uses_latest_images_or_commits_credentials():
    for path in INFRA.rglob("*"):
        if path.is_file() and path.name not in {"credentials.env", ".env"}:
            assert ":latest" not in path.read_text(), path
    assert (
        subprocess.run(["git", "check-ignore", "-q", "infra/k8s/credentials.env"], cwd=ROOT, check=False).returncode
        == 0
    )
    example = env_file(K8S / "credentials.env.example")
    assert set(example) == {
        "MINIO_ROOT_USER",
        "MINIO_ROOT_PASSWORD",
        "RABBITMQ_DEFAULT_USER",
        "RABBITMQ_DEFAULT_PASS",
        "OCR_BROKER_URL",
    }
    assert all("CHANGE-ME" in value for name, value in example.items() if "PASS" in name)


def test_keda_alone_sets_replica_counts_and_every_image_has_a_fixed_tag(objects):
    """Issue #12 item 11: a `replicas:` in a Deployment KEDA scales is reset by every
    `kubectl apply`, fighting the autoscaler; an image without a tag, or `:latest`, is
    whatever the registry holds that day."""
    scaled = {
        f"{o['spec']['scaleTargetRef'].get('kind', 'Deployment')}/{o['spec']['scaleTargetRef']['name']}"
        for o in by_kind(objects, "ScaledObject").values()
    }
    assert scaled
    for key in scaled:
        assert "replicas" not in objects[key]["spec"], key
    for key, obj in objects.items():
        if obj["kind"] in {"Deployment", "StatefulSet", "Job"}:
            for container in pod_spec(obj)["containers"] + pod_spec(obj).get("initContainers", []):
                assert fixed_image(container["image"]), (key, container["image"])


def fixed_image(image: str) -> bool:
    """Pinned by digest, or tagged with something other than latest (a registry's
    host:port is not a tag)."""
    if re.search(r"@sha256:[0-9a-f]{64}$", image):
        return True
    last = image.rsplit("/", 1)[-1]
    return ":" in last and last.rsplit(":", 1)[1] not in ("", "latest")


@pytest.mark.parametrize(
    "image, fixed",
    [
        ("bucket-ocr:0.1.0", True),
        ("quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z", True),
        ("bucket-ocr@sha256:" + "0" * 64, True),
        ("bucket-ocr", False),
        ("bucket-ocr:latest", False),
        ("registry.example.org:5000/bucket-ocr", False),
    ],
)
def test_fixed_image_tells_a_pin_from_a_moving_name(image, fixed):
    assert fixed_image(image) is fixed
