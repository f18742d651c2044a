"""A real MinIO server whose bucket notifications go to our dispatcher's webhook.

The webhook target is configured through MinIO's environment (MINIO_NOTIFY_WEBHOOK_*_<ID>)
with a queue_dir, so events MinIO could not deliver (dispatcher down) wait on disk and are
retried every few seconds. A bucket then subscribes through the plain S3 API with the
target's ARN, `arn:minio:sqs::<ID>:webhook`, exactly as an application would on AWS.
"""

from __future__ import annotations

import json
import secrets
import urllib.request
from pathlib import Path

from bucket_ocr_local.binaries import minio_binary
from bucket_ocr_local.processes import LOOPBACK, ManagedProcess, free_port

TARGET_ID = "OCR"
TARGET_ARN = f"arn:minio:sqs::{TARGET_ID}:webhook"


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
    def __init__(self, work_dir: Path, *, webhook_url: str, webhook_token: str, binary: Path | None = None):
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
            f"MINIO_NOTIFY_WEBHOOK_ENABLE_{TARGET_ID}": "on",
            f"MINIO_NOTIFY_WEBHOOK_ENDPOINT_{TARGET_ID}": webhook_url,
            f"MINIO_NOTIFY_WEBHOOK_AUTH_TOKEN_{TARGET_ID}": webhook_token,
            # Must be absolute (MinIO refuses a relative queue_dir).
            f"MINIO_NOTIFY_WEBHOOK_QUEUE_DIR_{TARGET_ID}": str(root / "undelivered-events"),
            f"MINIO_NOTIFY_WEBHOOK_QUEUE_LIMIT_{TARGET_ID}": "100000",
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

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/minio/health/ready", timeout=2) as response:
                return response.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        self.process.stop(grace=10)


def notify_webhook_on_upload(s3, bucket: str) -> None:
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [{"Id": "ocr-on-upload", "QueueArn": TARGET_ARN, "Events": ["s3:ObjectCreated:*"]}]
        },
    )


def new_webhook_token() -> str:
    return secrets.token_urlsafe(24)
