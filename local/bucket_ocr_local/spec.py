"""What a running stack is: endpoints, credentials, names. Saved as stack.json in the work dir.

`up` writes it; `drop`, `results`, `dlq` and `invoke` read it to reach the same stack, and
workers read it to build the function's environment, so there is one source of truth.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bucket_ocr_local.errors import StackNotRunningError
from bucket_ocr_local.processes import pid_alive, port_open

SPEC_FILE = "stack.json"
# Taken out of the function's environment: a session token or profile from the shell (or a
# test harness) would be sent along with the local credentials and MinIO rejects it.
UNSET_FOR_FUNCTION = ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE")
REGION = "us-east-1"
COMPLETION_EXCHANGE = "ocr-completions"


@dataclass
class StackSpec:
    store: str  # "moto" | "minio"
    work_dir: str
    s3_endpoint: str
    sqs_endpoint: str  # "" on MinIO, whose events and dead letters are on the broker
    access_key: str
    secret_key: str
    input_bucket: str
    results_bucket: str
    dead_letter_queue_url: str
    models_dir: str
    results_prefix: str = "ocr/"
    region: str = REGION
    events_queue_url: str | None = None
    visibility_timeout: int = 10
    max_receive_count: int = 3
    # MinIO path: RabbitMQ, where MinIO publishes uploads and workers consume them.
    broker_url: str | None = None
    broker_management_url: str | None = None
    work_queue: str | None = None
    delivery_limit: int | None = None
    function_env: dict[str, str] = field(default_factory=dict)
    owner_pid: int | None = None
    # Where workers reach S3 when it is not the store's own address: a fault-injecting
    # proxy in front of it (the soak's Toxiproxy). Tools and tests keep the direct address.
    worker_s3_endpoint: str | None = None

    def function_environment(self) -> dict[str, str]:
        """The function's configuration, as the deployed Lambda gets it: environment only."""
        env = {
            "OCR_RESULTS_BUCKET": self.results_bucket,
            "OCR_RESULTS_PREFIX": self.results_prefix,
            "OCR_SOURCE_BUCKETS": self.input_bucket,
            "OCR_DEAD_LETTER_QUEUE_URL": self.dead_letter_queue_url,
            "OCR_MODELS_DIR": self.models_dir,
            "OCR_S3_ENDPOINT_URL": self.worker_s3_endpoint or self.s3_endpoint,
            "OCR_CACHE_DIR": str(Path(self.work_dir) / "function-cache"),
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "POWERTOOLS_SERVICE_NAME": "bucket-ocr",
            # No shared credentials file from the developer's machine may leak into the
            # local stack and point it at a real account.
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_CONFIG_FILE": "/dev/null",
        }
        if self.sqs_endpoint:
            env["OCR_SQS_ENDPOINT_URL"] = self.sqs_endpoint
        if self.broker_url:
            env["OCR_BROKER_URL"] = self.broker_url
            env["OCR_DELIVERY_LIMIT"] = str(self.delivery_limit)
            # As infra/ deploys it: one completion event per document on a topic exchange.
            env["OCR_COMPLETION_EVENTS"] = f"{self.broker_url}?exchange={COMPLETION_EXCHANGE}"
        env.update(self.function_env)
        return env

    def client(self, service: str):
        import boto3
        from botocore.config import Config

        endpoint = self.s3_endpoint if service == "s3" else self.sqs_endpoint
        return boto3.session.Session().client(
            service,
            endpoint_url=endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}),
        )

    def result_key(self, key: str, bucket: str | None = None) -> str:
        # The function owns the key scheme; computing it here too would drift.
        from bucket_ocr.results.keys import result_key_for

        return result_key_for(self.results_prefix, bucket or self.input_bucket, key)

    def save(self) -> Path:
        path = Path(self.work_dir) / SPEC_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)
        return path

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StackSpec:
        return cls(**data)

    @classmethod
    def load(cls, work_dir: Path) -> StackSpec:
        path = Path(work_dir) / SPEC_FILE
        try:
            return cls.from_dict(json.loads(path.read_text()))
        except FileNotFoundError:
            raise StackNotRunningError(f"no stack in {work_dir} (no {SPEC_FILE}); start one with `up`") from None

    def is_live(self) -> bool:
        """Storage and queue answer and the process that started them is still there."""
        if self.owner_pid is not None and not pid_alive(self.owner_pid):
            return False
        queue = self.broker_url or self.sqs_endpoint
        return all(port_open(_port_of(url)) for url in {self.s3_endpoint, queue})


def _port_of(url: str) -> int:
    from urllib.parse import urlsplit

    return int(urlsplit(url).port)
