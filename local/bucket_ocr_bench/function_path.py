"""The whole function path on a moto server: upload -> S3 notification -> SQS -> handler -> result JSON.

moto (a separate process, so its HTTP serving does not share the benchmark's GIL) keeps
the buckets and queues and turns each upload into the S3 notification message AWS would
put on the queue. We play Lambda's event source mapping: receive the message, hand it to
the function's `OcrApp.handle` as an SQS batch of one, delete it, then read the result.
The app wraps the very engine the bare runs use, so the difference is the function's
own overhead: HTTP transfers, decoding, JSON, the duplicate check.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from bucket_ocr_bench.errors import MeasurementError
from bucket_ocr_local.errors import LocalStackError
from bucket_ocr_local.sources.sqs_source import lambda_sqs_record
from bucket_ocr_local.stores.moto_store import MotoServer

REGION = "us-east-1"


@dataclass(frozen=True)
class FunctionRun:
    total_seconds: float  # upload start -> result JSON read back
    handler_seconds: float  # the function's invocation alone
    result: dict[str, Any]


class MotoFunctionPath:
    def __init__(self, engine: Any, models_dir: str, environ: dict[str, str]):
        self._engine = engine
        self._models_dir = models_dir
        self._environ = environ
        self._logs = tempfile.TemporaryDirectory(prefix="bench-moto-")
        self._server: MotoServer | None = None
        self.app: Any = None

    def __enter__(self) -> MotoFunctionPath:
        # The harness's own moto server (its port, readiness wait and stop), logging to a
        # scratch folder: the bench keeps only its report.
        self._server = MotoServer(Path(self._logs.name))
        try:
            self._server.start()
        except LocalStackError as error:
            self.__exit__()
            raise MeasurementError(f"moto server for the function path: {error}") from error
        self.url = self._server.url
        self._provision()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.stop()
        self._logs.cleanup()

    def _provision(self) -> None:
        from bucket_ocr.app import OcrApp
        from bucket_ocr.clients import make_clients
        from bucket_ocr.settings import Settings

        session = boto3.Session(aws_access_key_id="bench", aws_secret_access_key="bench", region_name=REGION)
        config = Config(s3={"addressing_style": "path"}, retries={"mode": "standard"})
        self.s3 = session.client("s3", endpoint_url=self.url, config=config)
        self.sqs = session.client("sqs", endpoint_url=self.url, config=config)
        suffix = uuid.uuid4().hex[:8]
        self.input_bucket, self.results_bucket = f"bench-in-{suffix}", f"bench-out-{suffix}"
        for bucket in (self.input_bucket, self.results_bucket):
            self.s3.create_bucket(Bucket=bucket)
        dlq_url = self.sqs.create_queue(QueueName=f"bench-dlq-{suffix}")["QueueUrl"]
        self.events_url = self.sqs.create_queue(QueueName=f"bench-events-{suffix}")["QueueUrl"]
        self.events_arn = self.sqs.get_queue_attributes(QueueUrl=self.events_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        self.s3.put_bucket_notification_configuration(
            Bucket=self.input_bucket,
            NotificationConfiguration={
                "QueueConfigurations": [{"QueueArn": self.events_arn, "Events": ["s3:ObjectCreated:*"]}]
            },
        )
        self._drain()  # the s3:TestEvent saving the configuration sends
        settings = Settings.from_env(
            {
                **self._environ,
                "OCR_RESULTS_BUCKET": self.results_bucket,
                "OCR_DEAD_LETTER_QUEUE_URL": dlq_url,
                "OCR_MODELS_DIR": self._models_dir,
                "OCR_SOURCE_BUCKETS": self.input_bucket,
                "OCR_S3_ENDPOINT_URL": self.url,
                "OCR_SQS_ENDPOINT_URL": self.url,
            }
        )
        self.settings = settings
        app_s3, app_sqs = make_clients(settings, session)
        self.app = OcrApp(settings, self._engine, app_s3, app_sqs)

    def _drain(self) -> None:
        while True:
            batch = self.sqs.receive_message(QueueUrl=self.events_url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
            if not batch.get("Messages"):
                return
            for message in batch["Messages"]:
                self.sqs.delete_message(QueueUrl=self.events_url, ReceiptHandle=message["ReceiptHandle"])

    def run(self, key: str, data: bytes, content_type: str) -> FunctionRun:
        from bucket_ocr.results.keys import result_key_for

        started = time.perf_counter()
        self.s3.put_object(Bucket=self.input_bucket, Key=key, Body=data, ContentType=content_type)
        message = self._receive(timeout=30)
        event = {"Records": [lambda_sqs_record(message, queue_arn=self.events_arn, region=REGION)]}
        invoked = time.perf_counter()
        response = self.app.handle(event)
        handler_seconds = time.perf_counter() - invoked
        if response.get("batchItemFailures"):
            raise MeasurementError(f"the function failed on {key}: {response}")
        body = self.s3.get_object(
            Bucket=self.results_bucket, Key=result_key_for(self.settings.results_prefix, self.input_bucket, key)
        )["Body"].read()
        total = time.perf_counter() - started
        # After the clock: the poller deletes the message once the function has returned,
        # while the result is already in the bucket.
        _discard_metrics()  # the Lambda handler flushes them per invocation; we call the app below it
        self.sqs.delete_message(QueueUrl=self.events_url, ReceiptHandle=message["ReceiptHandle"])
        result = json.loads(body)
        if result.get("status") != "succeeded":
            raise MeasurementError(f"the function's result for {key} is {result.get('status')}: {result.get('error')}")
        return FunctionRun(total_seconds=total, handler_seconds=handler_seconds, result=result)

    def _receive(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            batch = self.sqs.receive_message(
                QueueUrl=self.events_url, MaxNumberOfMessages=1, WaitTimeSeconds=1, AttributeNames=["All"]
            )
            if batch.get("Messages"):
                return batch["Messages"][0]
        raise MeasurementError(f"no S3 notification arrived on {self.events_url} within {timeout:.0f} s")


def _discard_metrics() -> None:
    from bucket_ocr.observability import metrics

    metrics.clear_metrics()
