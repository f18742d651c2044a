"""A real MinIO server whose bucket notifications go to RabbitMQ through MinIO's AMQP target.

The target is configured through MinIO's environment (MINIO_NOTIFY_AMQP_*_<ID>), the same
keys infra/minio/notify-amqp.env gives an operator: persistent messages, publisher
confirms, and a queue_dir, so events MinIO could not deliver (broker down) wait on disk
and are sent when the broker is back. A bucket then subscribes through the plain S3 API
with the target's ARN, `arn:minio:sqs::<ID>:amqp`.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from pathlib import Path

from bucket_ocr.amqp import Topology
from bucket_ocr.worker.setup import DEFAULT_TARGET_ARN
from bucket_ocr_local.binaries import minio_binary
from bucket_ocr_local.processes import LOOPBACK, ManagedProcess, free_port

TARGET_ID = "OCR"
TARGET_ARN = DEFAULT_TARGET_ARN


def credentials(work_dir: Path) -> tuple[str, str]:
    """Random root credentials per work dir, kept so a restart opens the same data."""
    path = work_dir / "minio" / "credentials.json"
    if path.exists():
        saved = json.loads(path.read_text())
        return saved["access_key"], saved["secret_key"]
    path.parent.mkdir(parents=True, exist_ok=True)
    access_key, secret_key = "ocr-" + secrets.token_hex(4), secrets.token_urlsafe(24)
    path.write_text(json.dumps({"access_key": access_key, "secret_key": secret_key}))
    path.chmod(0o600)
    return access_key, secret_key


class MinioServer:
    def __init__(self, work_dir: Path, *, broker_url: str, topology: Topology, binary: Path | None = None):
        self.port = free_port()
        self.access_key, self.secret_key = credentials(work_dir)
        root = (work_dir / "minio").resolve()
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(root),
            "MINIO_ROOT_USER": self.access_key,
            "MINIO_ROOT_PASSWORD": self.secret_key,
            "MINIO_BROWSER": "off",
            "MINIO_UPDATE": "off",
            **amqp_target_environment(broker_url, topology, queue_dir=root / "undelivered-events"),
        }
        self.process = ManagedProcess(
            "minio",
            [
                str(binary or minio_binary()),
                "server",
                "--quiet",
                "--address",
                f"{LOOPBACK}:{self.port}",
                "--console-address",
                f"{LOOPBACK}:{free_port()}",
                str(root / "data"),
            ],
            log_path=work_dir / "logs" / "minio.log",
            env=env,
        )

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 60) -> MinioServer:
        self.process.start()
        self.process.wait_until(self._ready, timeout=timeout, what=f"ready on {self.url}")
        return self

    def restart(self, timeout: float = 60) -> MinioServer:
        self.stop()
        return self.start(timeout)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/minio/health/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.process.stop(grace=10)

    def running(self) -> bool:
        return self.process.running()


def amqp_target_environment(broker_url: str, topology: Topology, *, queue_dir: Path) -> dict[str, str]:
    """MinIO's AMQP target, as infra/minio/notify-amqp.env sets it for an operator."""
    suffix = f"_{TARGET_ID}"
    return {
        f"MINIO_NOTIFY_AMQP_ENABLE{suffix}": "on",
        f"MINIO_NOTIFY_AMQP_URL{suffix}": broker_url,
        f"MINIO_NOTIFY_AMQP_EXCHANGE{suffix}": topology.exchange,
        # MinIO declares the exchange before each publish: these must match what
        # `bucket-ocr-worker setup` declares (durable, not auto-deleted, not internal).
        f"MINIO_NOTIFY_AMQP_EXCHANGE_TYPE{suffix}": "direct",
        f"MINIO_NOTIFY_AMQP_DURABLE{suffix}": "on",
        f"MINIO_NOTIFY_AMQP_ROUTING_KEY{suffix}": topology.routing_key,
        f"MINIO_NOTIFY_AMQP_DELIVERY_MODE{suffix}": "2",
        f"MINIO_NOTIFY_AMQP_PUBLISHING_CONFIRMS{suffix}": "on",
        # Must be absolute (MinIO refuses a relative queue_dir).
        f"MINIO_NOTIFY_AMQP_QUEUE_DIR{suffix}": str(queue_dir),
        f"MINIO_NOTIFY_AMQP_QUEUE_LIMIT{suffix}": "100000",
    }
