"""Functional tier: moto in memory for S3 and SQS, the real engine and real models.

The engine is the expensive part, so one is loaded per session and shared; every test
gets its own moto world, buckets with unique names, and an app built around that engine.
"""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from moto import mock_aws

from bucket_ocr.app import OcrApp
from bucket_ocr.engine import EngineConfig, OcrEngine
from bucket_ocr.results.keys import result_key_for
from bucket_ocr.settings import Settings
from tests.support.moto_app import app_on_moto
from tests.support.result_checks import check_result


class CountingEngine:
    """The real engine, with a count of pages it was asked to read."""

    def __init__(self, engine: OcrEngine):
        self._engine = engine
        self.pages_read = 0

    def read(self, image):
        self.pages_read += 1
        return self._engine.read(image)

    def describe(self):
        return self._engine.describe()


@pytest.fixture(scope="session")
def real_engine(built_models_dir, tmp_path_factory):
    return OcrEngine(EngineConfig(models_dir=built_models_dir, cache_dir=tmp_path_factory.mktemp("engine-cache")))


@pytest.fixture
def engine(real_engine):
    return CountingEngine(real_engine)


_unique = itertools.count()


@dataclass
class MotoStack:
    app: OcrApp
    s3: Any
    sqs: Any
    input_bucket: str
    results_bucket: str
    dlq_url: str
    settings: Settings

    def upload(self, key: str, data: bytes) -> str:
        response = self.s3.put_object(Bucket=self.input_bucket, Key=key, Body=data)
        return response["ETag"].strip('"')

    def result(self, key: str) -> dict[str, Any]:
        """The result of ``key``, held to the schema and to its own geometry on the way."""
        result_key = result_key_for(self.settings.results_prefix, self.input_bucket, key)
        body = self.s3.get_object(Bucket=self.results_bucket, Key=result_key)["Body"].read()
        result = json.loads(body)
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


@pytest.fixture
def moto_stack(engine, built_models_dir):
    with mock_aws():
        suffix = f"{next(_unique)}-{uuid.uuid4().hex[:8]}"
        input_bucket, results_bucket = f"ocr-in-{suffix}", f"ocr-out-{suffix}"
        s3, sqs, dlq_url, app = app_on_moto(built_models_dir, input_bucket, results_bucket, engine)
        yield MotoStack(app, s3, sqs, input_bucket, results_bucket, dlq_url, app.settings)


@pytest.fixture(autouse=True)
def fresh_metrics():
    """Powertools keeps one metric set per process; tests that call the app without the
    handler's flush would otherwise leak their metrics into the next test's blob."""
    from bucket_ocr.observability import metrics

    metrics.clear_metrics()
    yield
    metrics.clear_metrics()
