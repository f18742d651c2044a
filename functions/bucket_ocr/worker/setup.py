"""``bucket-ocr-worker setup``: the broker's exchanges and queues, and optionally the buckets.

Run once per deployment (Compose's one-shot service, a Kubernetes Job) and safe to run
again: everything is declared idempotently. With ``--buckets`` it also creates the input
and results buckets on the S3 endpoint and subscribes the input bucket's new objects to
MinIO's AMQP notification target, through the plain S3 API, as an application would.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from contextlib import closing
from typing import TYPE_CHECKING

from bucket_ocr.amqp import connect
from bucket_ocr.errors import ConfigurationError
from bucket_ocr.worker.settings import WorkerSettings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# MinIO names a notification target arn:minio:sqs::<ID>:amqp, the ID being the suffix of
# its MINIO_NOTIFY_AMQP_*_<ID> variables (infra/minio/notify-amqp.env uses OCR).
DEFAULT_TARGET_ARN = "arn:minio:sqs::OCR:amqp"


def declare_topology(settings: WorkerSettings) -> None:
    with closing(connect(settings.broker, name="bucket-ocr setup")) as connection:
        settings.topology.declare(connection.channel())


def create_buckets(s3: S3Client, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The input bucket (notifying the broker) and the results bucket; returns what it did."""
    env = os.environ if environ is None else environ
    results = env.get("OCR_RESULTS_BUCKET", "").strip()
    inputs = [
        b.strip() for b in (env.get("OCR_INPUT_BUCKET") or env.get("OCR_SOURCE_BUCKETS", "")).split(",") if b.strip()
    ]
    if not results:
        raise ConfigurationError("OCR_RESULTS_BUCKET is required by setup --buckets and is not set")
    if not inputs:
        raise ConfigurationError(
            "OCR_INPUT_BUCKET (or OCR_SOURCE_BUCKETS) is required by setup --buckets and is not set"
        )
    arn = env.get("OCR_MINIO_TARGET_ARN", "").strip() or DEFAULT_TARGET_ARN
    done: dict[str, str] = {}
    for bucket in [results, *inputs]:
        done[bucket] = "created" if ensure_bucket(s3, bucket) else "exists"
    for bucket in inputs:
        notify_on_upload(s3, bucket, arn)
        done[bucket] += f", new objects -> {arn}"
    return done


def ensure_bucket(s3: S3Client, bucket: str) -> bool:
    """True when it was created now; a bucket we already own is kept as it is."""
    try:
        s3.create_bucket(Bucket=bucket)
    except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
        return False
    return True


def notify_on_upload(s3: S3Client, bucket: str, target_arn: str) -> None:
    # Only the input bucket notifies, and only of new objects: a rule on the results bucket
    # would OCR the function's own output. The configuration replaces the bucket's previous
    # one, so running setup again leaves exactly this rule.
    s3.put_bucket_notification_configuration(
        Bucket=bucket,
        NotificationConfiguration={
            "QueueConfigurations": [
                {"Id": "bucket-ocr-on-upload", "QueueArn": target_arn, "Events": ["s3:ObjectCreated:*"]}
            ]
        },
    )
