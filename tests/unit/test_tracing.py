"""X-Ray: the function traces its three phases, and the tracer stays off outside Lambda.

Issue #12 item 6. The engine is a test double that reads every page as one line: what is
under test is where the subsegments open and close, not OCR.
"""

from __future__ import annotations

import io
from contextlib import contextmanager

import boto3
import pytest
from moto import mock_aws
from PIL import Image

from bucket_ocr import processing
from bucket_ocr.app import OcrApp
from bucket_ocr.clients import make_clients
from bucket_ocr.settings import Settings
from bucket_ocr_local.runtimes.context import lambda_context
from tests.support.events import load_event, retarget


class OneLineEngine:
    """Reads one fixed line per page and notes, for each page, which subsegments were open."""

    def __init__(self, recorder: RecordingProvider):
        self.recorder = recorder
        self.open_while_reading: list[list[str]] = []

    def read(self, image):
        from bucket_ocr.engine.text_line import PageReading, TextLine, Word

        self.open_while_reading.append(list(self.recorder.open))
        square = [(0, 0), (5, 0), (5, 5), (0, 5)]
        line = TextLine(text="traced", confidence=0.9, polygon=square, words=(Word("traced", 0.9, square),))
        return PageReading(lines=[line])

    def describe(self):
        return {"name": "one-line", "versions": {}}


class RecordingProvider:
    """Stands in for the X-Ray recorder: records each subsegment's name as it opens and closes."""

    def __init__(self):
        self.events: list[tuple[str, str]] = []
        self.open: list[str] = []

    @contextmanager
    def in_subsegment(self, name=None, **kwargs):
        self.events.append(("open", name))
        self.open.append(name)
        try:
            yield None
        finally:
            self.open.remove(name)
            self.events.append(("close", name))


class _Tracer:
    def __init__(self, provider):
        self.provider = provider


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), "white").save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def app_and_recorder(monkeypatch, tmp_path):
    recorder = RecordingProvider()
    monkeypatch.setattr(processing, "tracer", _Tracer(recorder))
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        sqs = boto3.client("sqs", region_name="us-east-1")
        s3.create_bucket(Bucket="trace-in")
        s3.create_bucket(Bucket="trace-out")
        dlq = sqs.create_queue(QueueName="trace-dlq")["QueueUrl"]
        settings = Settings.from_env(
            {
                "OCR_RESULTS_BUCKET": "trace-out",
                "OCR_DEAD_LETTER_QUEUE_URL": dlq,
                "OCR_MODELS_DIR": str(tmp_path),
                "OCR_SOURCE_BUCKETS": "trace-in",
            }
        )
        app_s3, app_sqs = make_clients(settings)
        engine = OneLineEngine(recorder)
        yield OcrApp(settings, engine, app_s3, app_sqs), s3, recorder, engine


def test_download_ocr_and_upload_each_run_in_their_own_subsegment(app_and_recorder):
    app, s3, recorder, engine = app_and_recorder
    # Given an uploaded page and the S3 event for it
    etag = s3.put_object(Bucket="trace-in", Key="page.png", Body=_png())["ETag"].strip('"')
    # When the function handles the event
    app.handle(retarget(load_event("s3-put.json"), "trace-in", "page.png", etag), lambda_context())
    # Then the three phases open and close in order, none inside another
    assert recorder.events == [
        ("open", "## download"),
        ("close", "## download"),
        ("open", "## ocr"),
        ("close", "## ocr"),
        ("open", "## upload"),
        ("close", "## upload"),
    ]
    # and the page was read inside the OCR subsegment
    assert engine.open_while_reading == [["## ocr"]]


def test_the_tracer_is_off_outside_lambda():
    # Given the process the tests run in: no LAMBDA_TASK_ROOT, as on a developer's machine
    from bucket_ocr.observability import tracer

    # Then powertools has turned tracing off, so nothing waits for an X-Ray daemon
    assert tracer.disabled
    with tracer.provider.in_subsegment("## probe") as subsegment:
        assert type(subsegment).__name__ == "DummySubsegment"
