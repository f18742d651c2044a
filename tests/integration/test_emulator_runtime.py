"""The function under awslambdaric, driven by the AWS Lambda Runtime Interface Emulator,
exactly as the container runs it, against a moto server."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest

from bucket_ocr_local.runtimes.emulator import EmulatorRuntime
from tests.integration.conftest import png_of, require_binary, wait_for_result
from tests.support.events import load_event, retarget

pytestmark = pytest.mark.integration


@pytest.fixture
def moto_only(start_stack):
    """Buckets, queues and the function's settings, but no workers: we invoke by hand."""
    return start_stack(store="moto", workers=0).spec


@pytest.fixture
def emulator(moto_only, tmp_path: Path):
    require_binary("aws-lambda-rie")
    runtime = EmulatorRuntime(
        moto_only.function_environment(),
        work_dir=tmp_path,
        name="test",
        handler="bucket_ocr.handler.lambda_handler",
        timeout_seconds=120,
    ).start()
    yield runtime
    runtime.close()


def post(runtime: EmulatorRuntime, body: bytes) -> tuple[int, dict]:
    request = urllib.request.Request(runtime.url, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.status, json.loads(response.read())


def test_a_real_s3_event_posted_to_the_emulator_yields_the_result(moto_only, emulator):
    # given an uploaded object and the S3 notification for it
    s3 = moto_only.client("s3")
    key = "emulated/scan (1)+final.png"
    etag = s3.put_object(Bucket=moto_only.input_bucket, Key=key, Body=png_of("EMULATED 9021"))["ETag"].strip('"')
    event = retarget(load_event("s3-put.json"), moto_only.input_bucket, key, etag)

    # when it is posted to the emulator's invocation endpoint
    status, response = post(emulator, json.dumps(event).encode())

    # then the function answered and the result JSON is in the bucket
    assert status == 200
    assert response["outcomes"][0]["status"] == "succeeded"
    result = wait_for_result(moto_only, moto_only.input_bucket, key, timeout=5)
    assert "9021" in result["text"]


def test_a_malformed_event_returns_a_lambda_error_payload_naming_the_error(emulator):
    # when the function is invoked with something that is no event it knows
    status, payload = post(emulator, json.dumps({"hello": "world"}).encode())

    # then the emulator answers as Lambda does: an error payload with the error's type
    assert status == 200
    assert payload["errorType"] == "UnrecognizedEventError"
    assert "not an S3, SQS, SNS, EventBridge, MinIO, S3 Batch Operations or direct" in payload["errorMessage"]
    assert payload["stackTrace"]


def test_the_engine_is_loaded_once_across_invocations_of_one_runtime(moto_only, emulator):
    # given several documents
    s3 = moto_only.client("s3")
    runtime_pids = set()
    for n in range(3):
        key = f"warm/doc-{n}.png"
        s3.put_object(Bucket=moto_only.input_bucket, Key=key, Body=png_of(f"WARM {n}"))

        # when each is invoked in turn, one of them failing in between
        response = emulator.invoke({"bucket": moto_only.input_bucket, "key": key})
        assert response["outcomes"][0]["status"] == "succeeded"
        post(emulator, b'{"not": "an event"}')
        runtime_pids.update(emulator.runtime_pids())

    # then one runtime process served them all and went through init (the engine load) once
    assert len(runtime_pids) == 1
    log = emulator.process.log_path.read_text()
    assert log.count("INIT START") == 1
    assert log.count("Init Duration") == 1
    assert log.count("INVOKE START") == 6


def test_workers_can_drive_the_function_through_the_emulator(start_stack):
    # given the embedded stack whose worker runs the function under the emulator
    require_binary("aws-lambda-rie")
    stack = start_stack(store="moto", workers=1, runtime="rie")
    spec = stack.spec

    # when a document is uploaded
    spec.client("s3").put_object(Bucket=spec.input_bucket, Key="via-rie.png", Body=png_of("RUNTIME 3377"))

    # then the result comes back through SQS, the worker, the emulator and awslambdaric
    result = wait_for_result(spec, spec.input_bucket, "via-rie.png")
    assert "3377" in result["text"]
    assert "START RequestId" in (stack.work_dir / "logs" / "rie-worker-0.log").read_text()
