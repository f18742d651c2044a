"""Integration tier: real servers on 127.0.0.1 - moto server, MinIO, the Lambda Runtime
Interface Emulator - and the real function with real models.

MinIO and the emulator are Go binaries built by local/tools/install-servers.sh. Missing
ones skip their tests on a developer's machine but fail them under CI=true: a CI run that
silently skipped the real servers would prove nothing.

Cost control: one models dir per session, one MinIO stack per session (each test gets its
own input bucket, so results never collide), one bare RabbitMQ per session (each test
its own exchanges and queues), a moto stack per test that needs its own
queue settings. Every wait is bounded and every process is stopped at teardown.
"""

from __future__ import annotations

import io
import itertools
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
# A checkout without `pip install -e .` still runs this tier.
for source_root in (ROOT / "functions", ROOT / "local"):
    if str(source_root) not in sys.path:
        sys.path.insert(0, str(source_root))

from bucket_ocr_local import journal  # noqa: E402
from bucket_ocr_local.binaries import find_binary  # noqa: E402
from bucket_ocr_local.errors import BinaryNotFoundError  # noqa: E402
from bucket_ocr_local.processes import wait_for  # noqa: E402
from bucket_ocr_local.samples import render_page  # noqa: E402
from bucket_ocr_local.spec import StackSpec  # noqa: E402
from bucket_ocr_local.stack import LocalStack, StackOptions  # noqa: E402
from bucket_ocr_local.stores.rabbitmq_server import RabbitMQServer  # noqa: E402
from tests.support.failing_objects import FLAG_DIR_VARIABLE, HANDLER  # noqa: E402
from tests.support.rabbitmq import require_rabbitmq_server  # noqa: E402
from tests.support.servers import require  # noqa: E402

RESULT_WAIT = 90  # seconds: a cold engine plus a page of OCR on a busy 2-core CI machine
_unique = itertools.count()


def require_binary(name: str) -> Path:
    return require(lambda: find_binary(name), name, BinaryNotFoundError)


def unique_name(stem: str) -> str:
    # Lowercase, digits and dashes only: valid as a bucket name on S3, MinIO and moto.
    return f"{stem}-{next(_unique)}-{uuid.uuid4().hex[:8]}"


def png_of(*lines: str) -> bytes:
    buffer = io.BytesIO()
    render_page(list(lines), size=(900, 120 + 70 * len(lines))).save(buffer, "PNG")
    return buffer.getvalue()


def pdf_of(pages: list[list[str]]) -> bytes:
    images = [render_page(lines) for lines in pages]
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=150.0, save_all=True, append_images=images[1:])
    return buffer.getvalue()


CORRUPT_PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def read_result(spec: StackSpec, bucket: str, key: str) -> dict[str, Any] | None:
    s3 = spec.client("s3")
    try:
        body = s3.get_object(Bucket=spec.results_bucket, Key=spec.result_key(key, bucket))["Body"].read()
    except s3.exceptions.NoSuchKey:
        return None
    return json.loads(body)


def wait_for_result(spec: StackSpec, bucket: str, key: str, timeout: float = RESULT_WAIT) -> dict[str, Any]:
    return wait_for(
        lambda: read_result(spec, bucket, key), timeout=timeout, what=f"the result of s3://{bucket}/{key}", interval=0.3
    )


def invocations_of(spec: StackSpec, bucket: str, key: str) -> list[dict[str, Any]]:
    return [e for e in journal.entries(spec.work_dir) if {"bucket": bucket, "key": key} in e["objects"]]


@pytest.fixture(scope="session")
def models_dir(built_models_dir: Path) -> Path:
    """The session's models dir (tests/conftest.py), by this tier's name for it."""
    return built_models_dir


@pytest.fixture
def start_stack(tmp_path: Path, models_dir: Path) -> Iterator[Callable[..., LocalStack]]:
    """Start a stack with the given options; every one started is stopped at teardown."""
    stacks: list[LocalStack] = []

    def start(**options: Any) -> LocalStack:
        options.setdefault("work_dir", tmp_path / f"stack-{len(stacks)}")
        options.setdefault("models_dir", models_dir)
        stack = LocalStack(StackOptions(**options))
        stacks.append(stack)
        stack.start()
        if stack.pool:
            stack.pool.wait_ready()
        return stack

    yield start
    for stack in reversed(stacks):
        stack.stop()


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RabbitMQServer]:
    """One RabbitMQ for the session's tests of the broker side without a stack.

    Booting a node costs seconds, so the modules share it; each test keeps to exchanges and
    queues of its own (``unique_name``), so none sees another's messages. A test that stops
    it starts it again before it ends.
    """
    require_rabbitmq_server()
    server = RabbitMQServer(tmp_path_factory.mktemp("broker")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def failing_objects_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Flag files that make the MinIO stack's workers fail an object transiently (tests/support/failing_handler.py)."""
    return tmp_path_factory.mktemp("failing-objects")


@pytest.fixture(scope="session")
def minio_stack(
    tmp_path_factory: pytest.TempPathFactory, models_dir: Path, failing_objects_dir: Path
) -> Iterator[LocalStack]:
    """One MinIO + RabbitMQ + two `bucket-ocr-worker` processes for the whole session.

    The workers run the real handler behind tests/support/failing_handler.py, which only
    intervenes for objects a test has flagged.
    """
    require_binary("minio")
    require_rabbitmq_server()
    stack = LocalStack(
        StackOptions(
            work_dir=tmp_path_factory.mktemp("minio-stack"),
            store="minio",
            workers=2,
            models_dir=models_dir,
            function_env={
                "OCR_WORKER_HANDLER": HANDLER,
                FLAG_DIR_VARIABLE: str(failing_objects_dir),
                # Failed deliveries go back quickly: the delivery-limit test needs five.
                "OCR_WORKER_RETRY_PAUSE_MS": "100",
                # The workers import the handler above from this checkout.
                "PYTHONPATH": str(ROOT),
            },
        )
    )
    try:
        stack.start()
        stack.pool.wait_ready()
        yield stack
    finally:
        stack.stop()


@pytest.fixture
def minio_bucket(minio_stack: LocalStack) -> str:
    """A fresh input bucket on the session's MinIO, notifying RabbitMQ."""
    bucket = unique_name("in")
    minio_stack.add_input_bucket(bucket)
    return bucket
