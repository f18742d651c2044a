"""The function's app on moto: buckets, a dead-letter queue and an OcrApp, inside a running mock_aws."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from bucket_ocr.app import OcrApp
from bucket_ocr.clients import make_clients
from bucket_ocr.settings import Settings


def app_on_moto(
    models_dir: Path, source: str, results: str, engine: Any, **environment: str
) -> tuple[Any, Any, str, OcrApp]:
    """(test's s3 client, test's sqs client, dead-letter queue URL, app) for ``engine``."""
    s3 = boto3.client("s3", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=results)
    dlq = sqs.create_queue(QueueName=f"{source}-dlq")["QueueUrl"]
    settings = Settings.from_env(
        {
            "OCR_RESULTS_BUCKET": results,
            "OCR_DEAD_LETTER_QUEUE_URL": dlq,
            "OCR_MODELS_DIR": str(models_dir),
            "OCR_SOURCE_BUCKETS": source,
            **environment,
        }
    )
    # Clients come after moto starts, as the handler makes them after settings.
    app_s3, app_sqs = make_clients(settings)
    return s3, sqs, dlq, OcrApp(settings, engine, app_s3, app_sqs)
