"""The real Lambda entry point: settings and engine at init, reused by every event."""

from __future__ import annotations

import importlib
import io
import json
import sys
import uuid

import boto3
import pytest
from moto import mock_aws

from bucket_ocr.engine import OcrEngine
from bucket_ocr_local.runtimes.context import lambda_context
from tests.support.events import load_event, retarget
from tests.support.pages import render_text_page

pytestmark = pytest.mark.functional


def test_the_engine_is_built_once_across_many_events(monkeypatch, capsys, built_models_dir, tmp_path):
    built = []
    real_init = OcrEngine.__init__

    def counting_init(self, config):
        built.append(config)
        real_init(self, config)

    monkeypatch.setattr(OcrEngine, "__init__", counting_init)
    with mock_aws():
        suffix = uuid.uuid4().hex[:8]
        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        for bucket in (f"in-{suffix}", f"out-{suffix}"):
            s3.create_bucket(Bucket=bucket)
        monkeypatch.setenv("OCR_RESULTS_BUCKET", f"out-{suffix}")
        monkeypatch.setenv("OCR_DEAD_LETTER_QUEUE_URL", sqs.create_queue(QueueName=f"dlq-{suffix}")["QueueUrl"])
        monkeypatch.setenv("OCR_MODELS_DIR", str(built_models_dir))
        monkeypatch.setenv("OCR_CACHE_DIR", str(tmp_path / "cache"))
        page = io.BytesIO()
        render_text_page(["Cold start 2026"], width=4, height=1.2, dpi=150, font_size=14).save(page, "PNG")
        etags = [
            s3.put_object(Bucket=f"in-{suffix}", Key=f"doc {index}.png", Body=page.getvalue())["ETag"].strip('"')
            for index in range(3)
        ]

        # Given the handler module imported once, as Lambda's init phase does
        sys.modules.pop("bucket_ocr.handler", None)
        handler = importlib.import_module("bucket_ocr.handler")
        capsys.readouterr()
        # When three events arrive at the same instance
        for index in range(3):
            event = retarget(load_event("s3-put.json"), f"in-{suffix}", f"doc {index}.png", etags[index])
            outcome = handler.lambda_handler(event, lambda_context())["outcomes"][0]
            assert outcome["status"] == "succeeded", outcome
        # Then one engine served them all
        assert len(built) == 1
        # And the cold start metric was emitted once, in EMF
        emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
        cold_starts = [blob for blob in emitted if "ColdStart" in blob]
        assert len(cold_starts) == 1
        assert [blob["PagesProcessed"] for blob in emitted if "PagesProcessed" in blob] == [[1.0]] * 3
    sys.modules.pop("bucket_ocr.handler", None)
