"""infra/: the files a self-hosted deployment applies, checked offline.

Manifests are parsed and checked for the structure the deployment relies on (the
Kubernetes API is not here to validate them); the worker loop runs against moto.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
K8S = INFRA / "k8s"


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def kustomized() -> dict[str, dict]:
    """(kind, name) -> object, for the files kustomization.yaml lists."""
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    objects = {}
    for name in kustomization["resources"]:
        for doc in documents(K8S / name):
            objects[f'{doc["kind"]}/{doc["metadata"]["name"]}'] = doc
    for generator in kustomization["configMapGenerator"]:
        for file in generator.get("files", []):
            assert (K8S / file).is_file(), file
        objects[f'ConfigMap/{generator["name"]}'] = {"kind": "ConfigMap", "data": dict(
            [literal.split("=", 1) for literal in generator.get("literals", [])])}
    return objects


def test_worker_runs_the_lambda_image_read_only_and_unprivileged():
    objects = kustomized()
    deployment = objects["Deployment/bucket-ocr-worker"]
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    # Then it runs the mounted worker loop with the image's own Python
    assert container["command"][0] == "/venv/bin/python"
    script = container["command"][1]
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert script.startswith(mounts["worker"] + "/") and Path(script).name == "sqs_worker.py"
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["worker"]["configMap"]["name"] in {k.split("/", 1)[1] for k in objects if k.startswith("ConfigMap/")}
    # with only /tmp writable, as on Lambda, and no root
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert mounts["scratch"] == "/tmp" and "emptyDir" in volumes["scratch"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    # and a grace period that lets the batch in hand finish
    settings = objects["ConfigMap/bucket-ocr-settings"]["data"]
    assert spec["terminationGracePeriodSeconds"] >= int(settings["OCR_WORK_TIMEOUT_SECONDS"])


def test_worker_settings_cover_what_the_function_requires():
    from bucket_ocr.settings import REQUIRED_VARIABLES

    settings = kustomized()["ConfigMap/bucket-ocr-settings"]["data"]
    baked = {"OCR_MODELS_DIR"}  # ENV of the image
    for name in set(REQUIRED_VARIABLES) - baked:
        assert settings.get(name), name
    # and the results bucket is not a source, or the function would refuse to start
    assert settings["OCR_RESULTS_BUCKET"] not in settings["OCR_SOURCE_BUCKETS"].split(",") or settings["OCR_RESULTS_PREFIX"]


def test_keda_scales_the_worker_on_the_queue_it_reads():
    objects = kustomized()
    scaled = objects["ScaledObject/bucket-ocr-worker"]
    assert scaled["apiVersion"] == "keda.sh/v1alpha1"
    assert scaled["spec"]["scaleTargetRef"]["name"] == "bucket-ocr-worker"
    assert scaled["spec"]["minReplicaCount"] == 0 < scaled["spec"]["maxReplicaCount"]
    (trigger,) = scaled["spec"]["triggers"]
    assert trigger["type"] == "aws-sqs-queue"
    settings = objects["ConfigMap/bucket-ocr-settings"]["data"]
    assert trigger["metadata"]["queueURL"] == settings["OCR_WORK_QUEUE_URL"]
    assert f'TriggerAuthentication/{trigger["authenticationRef"]["name"]}' in objects


def test_manifests_validate_against_the_kubernetes_schema():
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    for name in ("worker.yaml",):
        for doc in documents(K8S / name):
            kubernetes_validate.validate(doc, "1.30", strict=True)


def _worker_module():
    spec = importlib.util.spec_from_file_location("sqs_worker", K8S / "sqs_worker.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def queue():
    moto = pytest.importorskip("moto")
    import boto3

    with moto.mock_aws():
        sqs = boto3.client("sqs", region_name="us-east-1")
        url = sqs.create_queue(QueueName="work")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        yield sqs, url, arn


def test_worker_deletes_what_succeeded_and_leaves_reported_failures(queue):
    sqs, url, arn = queue
    worker = _worker_module()
    # Given three messages, the second of which the handler reports as failed
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=3, VisibilityTimeout=0)["Messages"]
    seen = {}

    def handler(event, context):
        seen["event"], seen["remaining"] = event, context.get_remaining_time_in_millis()
        bad = [r["messageId"] for r in event["Records"] if r["body"] == "b"]
        return {"batchItemFailures": [{"itemIdentifier": i} for i in bad]}

    # When the worker hands them over as one batch
    deleted = worker.handle_batch(sqs, url, arn, "us-east-1", messages, handler, timeout_seconds=60)
    # Then the handler saw an SQS event of the queue, and only the failed message is left
    assert {r["eventSource"] for r in seen["event"]["Records"]} == {"aws:sqs"}
    assert {r["eventSourceARN"] for r in seen["event"]["Records"]} == {arn}
    assert 0 < seen["remaining"] <= 60_000
    assert len(deleted) == 2
    left = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in left] == ["b"]


def test_worker_leaves_the_whole_batch_when_the_handler_raises(queue):
    sqs, url, arn = queue
    worker = _worker_module()
    sqs.send_message(QueueUrl=url, MessageBody="x")
    messages = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]

    def handler(event, context):
        raise ConnectionError("S3 unreachable")

    assert worker.handle_batch(sqs, url, arn, "us-east-1", messages, handler, timeout_seconds=60) == []
    assert len(sqs.receive_message(QueueUrl=url)["Messages"]) == 1


def test_minio_target_and_bucket_events():
    env = dict(line.split("=", 1) for line in (INFRA / "minio" / "notify-webhook.env").read_text().splitlines()
               if line and not line.startswith("#"))
    # Then the webhook target is on, persistent, and authenticated
    assert env["MINIO_NOTIFY_WEBHOOK_ENABLE_OCR"] == "on"
    assert env["MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_OCR"] and env["MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_OCR"]
    assert env["MINIO_NOTIFY_WEBHOOK_ENDPOINT_OCR"].endswith("/minio/events")
    script = (INFRA / "minio" / "configure.sh").read_text()
    assert subprocess.run(["bash", "-n", str(INFRA / "minio" / "configure.sh")]).returncode == 0
    # and only the input bucket gets an event rule, for new objects, on the "ocr" target
    rules = [shlex.split(line.strip()) for line in script.splitlines() if line.strip().startswith("mc event add")]
    (rule,) = rules
    arn = re.search(r"^arn=(\S+)$", script, re.M)[1]
    assert rule[3] == "$alias/$input" and rule[4] == "$arn" and arn == "arn:minio:sqs::ocr:webhook"
    assert rule[rule.index("--event") + 1] == "put"
    assert "notify_webhook:ocr" in script
