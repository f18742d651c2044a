"""The function's app on moto, shared by the tiers that run it in memory (fast, functional, fuzz).

``app_on_moto`` builds buckets, a dead-letter queue and an ``OcrApp`` inside a running
``mock_aws``, the way the handler builds it: settings from the environment, then the
clients those settings ask for, then the app. ``moto_stack`` is that, per test, around
whichever ``engine`` fixture the tier defines (a fake one, or the real one), with unique
bucket names. Tiers import the fixtures from here, never from each other.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws

from bucket_ocr.app import OcrApp
from bucket_ocr.clients import make_clients
from bucket_ocr.processing import Engine
from bucket_ocr.results.keys import result_key_for
from bucket_ocr.settings import Settings
from tests.support.events import load_event, retarget
from tests.support.result_checks import check_result

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sqs import SQSClient


def settings_on_moto(models_dir: Path, source: str, results: str, dlq_url: str, **environment: str) -> Settings:
    return Settings.from_env(
        {
            "OCR_RESULTS_BUCKET": results,
            "OCR_DEAD_LETTER_QUEUE_URL": dlq_url,
            "OCR_MODELS_DIR": str(models_dir),
            "OCR_SOURCE_BUCKETS": source,
            **environment,
        }
    )


def app_on_moto(
    models_dir: Path, source: str, results: str, engine: Engine, **environment: str
) -> tuple[S3Client, SQSClient, str, OcrApp]:
    """(test's s3 client, test's sqs client, dead-letter queue URL, app) for ``engine``."""
    stack = build_stack(models_dir, source, results, engine, **environment)
    return stack.s3, stack.sqs, stack.dlq_url, stack.app


@dataclass
class MotoStack:
    app: OcrApp
    s3: S3Client  # the test's own clients: a hook on them does not touch the app's requests
    sqs: SQSClient
    app_s3: S3Client  # the app's, for a test to watch or fail its requests through botocore's hooks
    app_sqs: SQSClient
    input_bucket: str
    results_bucket: str
    dlq_url: str

    @property
    def settings(self) -> Settings:
        return self.app.settings

    def upload(self, key: str, data: bytes) -> str:
        response = self.s3.put_object(Bucket=self.input_bucket, Key=key, Body=data)
        return response["ETag"].strip('"')

    def result(self, key: str) -> dict[str, Any]:
        """The result of ``key``, held to the schema and to its own geometry on the way."""
        result_key = result_key_for(self.settings.results_prefix, self.input_bucket, key)
        body = self.s3.get_object(Bucket=self.results_bucket, Key=result_key)["Body"].read()
        result: dict[str, Any] = json.loads(body)
        check_result(result)
        return result

    def result_keys(self) -> list[str]:
        listing = self.s3.list_objects_v2(Bucket=self.results_bucket)
        return [item["Key"] for item in listing.get("Contents", [])]

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = []
        while True:
            batch = self.sqs.receive_message(
                QueueUrl=self.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
            )
            if not batch.get("Messages"):
                return messages
            for message in batch["Messages"]:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])


def build_stack(models_dir: Path, source: str, results: str, engine: Engine, **environment: str) -> MotoStack:
    s3 = boto3.client("s3", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    s3.create_bucket(Bucket=source)
    s3.create_bucket(Bucket=results)
    dlq_url = sqs.create_queue(QueueName=f"{source}-dlq")["QueueUrl"]
    settings = settings_on_moto(models_dir, source, results, dlq_url, **environment)
    # Clients come after moto starts, as the handler makes them after settings (app.create_app).
    app_s3, app_sqs = make_clients(settings)
    app = OcrApp(settings, engine, app_s3, app_sqs)
    return MotoStack(app, s3, sqs, app_s3, app_sqs, source, results, dlq_url)


def reconfigure(stack: MotoStack, **changes: Any) -> None:
    """The stack's app rebuilt with some settings changed, around the same engine and clients
    (so hooks a test put on ``app_s3`` still see its requests)."""
    settings = replace(stack.settings, **changes)
    stack.app = OcrApp(settings, stack.app.engine, stack.app_s3, stack.app_sqs)


_unique = itertools.count()


@pytest.fixture
def moto_stack(engine: Engine, built_models_dir: Path) -> Iterator[MotoStack]:
    """A moto world of the test's own, with the app around the tier's ``engine`` fixture."""
    with mock_aws():
        suffix = f"{next(_unique)}-{uuid.uuid4().hex[:8]}"
        yield build_stack(built_models_dir, f"ocr-in-{suffix}", f"ocr-out-{suffix}", engine)


@pytest.fixture(autouse=True)
def fresh_metrics() -> Iterator[None]:
    """Powertools keeps one metric set per process; tests that call the app without the
    handler's flush would otherwise leak their metrics into the next test's blob."""
    from bucket_ocr.observability import metrics

    metrics.clear_metrics()
    yield
    metrics.clear_metrics()


def s3_event(stack: MotoStack, key: str, etag: str) -> dict[str, Any]:
    """S3's notification of ``key`` in the stack's input bucket."""
    return retarget(load_event("s3-put.json"), stack.input_bucket, key, etag)


def refuse(s3_client: S3Client, operation: str, key_fragment: str, status: int, code: str) -> None:
    """S3 answering ``status``/``code`` to every ``operation`` on matching keys, through botocore itself."""

    def respond(request: Any, **_: Any) -> AWSResponse | None:
        if key_fragment not in unquote(request.url):
            return None
        body = f"<Error><Code>{code}</Code><Message>refused by the test</Message></Error>".encode()
        return AWSResponse(request.url, status, {}, RawBody(body))

    s3_client.meta.events.register(f"before-send.s3.{operation}", respond)


def throttle(s3_client: S3Client, key_fragment: str) -> None:
    """S3 answering 503 SlowDown to every GET of matching keys."""
    refuse(s3_client, "GetObject", key_fragment, 503, "SlowDown")


class RawBody:
    """An HTTP body botocore can read, for a response made up in a ``before-send`` hook."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data
