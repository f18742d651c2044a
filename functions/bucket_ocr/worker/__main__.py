"""``bucket-ocr-worker setup|run``.

Exit codes: 0 done (``run``: stopped by SIGTERM/SIGINT after the event in hand), 2 a
configuration or broker-topology error, named on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from bucket_ocr.amqp import unavailable_errors
from bucket_ocr.errors import ConfigurationError
from bucket_ocr.observability import logger
from bucket_ocr.worker.settings import WorkerSettings

if TYPE_CHECKING:
    from types import FrameType

    from bucket_ocr.worker.invocation import Handler


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bucket-ocr-worker", description="OCR workers on RabbitMQ for self-hosted MinIO."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    setup = commands.add_parser("setup", help="declare the broker's exchanges and queues (idempotent), then exit")
    setup.add_argument(
        "--buckets",
        action="store_true",
        help="also create the buckets and subscribe the input bucket to MinIO's AMQP target",
    )
    setup.add_argument(
        "--wait", type=float, default=120, help="seconds to keep trying while the broker or storage is not up yet"
    )
    run = commands.add_parser("run", help="consume upload events until SIGTERM")
    run.add_argument(
        "--name", default=None, help="how the worker names itself to the broker (default: host name and pid)"
    )
    args = parser.parse_args(argv)
    try:
        settings = WorkerSettings.from_env()
        if args.command == "setup":
            return _setup(settings, buckets=args.buckets, wait=args.wait)
        return _run(settings, name=args.name or f"bucket-ocr-worker {socket.gethostname()}:{os.getpid()}")
    except ConfigurationError as error:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 2


def _setup(settings: WorkerSettings, *, buckets: bool, wait: float) -> int:
    from botocore.exceptions import BotoCoreError, ClientError

    from bucket_ocr.clients import s3_client
    from bucket_ocr.worker.setup import create_buckets, declare_topology

    # A broker or storage still starting: keep trying until the deadline.
    not_ready: tuple[type[Exception], ...] = (*unavailable_errors(), BotoCoreError, ClientError)
    deadline = time.monotonic() + wait
    while True:
        try:
            declare_topology(settings)
            topology = settings.topology
            print(
                f"broker {settings.broker.redacted}: exchange {topology.exchange} -[{topology.routing_key}]-> "
                f"queue {topology.work_queue} (quorum, delivery limit {topology.delivery_limit}) "
                f"-> {topology.dead_letter_exchange} -> {topology.dead_letter_queue}"
            )
            if buckets:
                for bucket, done in create_buckets(s3_client(os.environ.get("OCR_S3_ENDPOINT_URL") or None)).items():
                    print(f"bucket {bucket}: {done}")
            return 0
        except not_ready as error:
            if time.monotonic() > deadline:
                print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
                return 1
            print(f"not ready yet ({type(error).__name__}); retrying", file=sys.stderr)
            time.sleep(2)


def _run(settings: WorkerSettings, *, name: str) -> int:
    from bucket_ocr.failures.amqp_queue import AmqpDeadLetterQueue
    from bucket_ocr.worker.consumer import Consumer
    from bucket_ocr.worker.invocation import Invoker

    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        logger.info("stop requested: finishing the event in hand", extra={"signal": signal.Signals(signum).name})
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # One thread runs the function for the worker's whole life: its cold start (settings,
    # engine) happens there, like Lambda's init, before the first message is taken.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="function") as executor:
        handler = executor.submit(_load_handler, settings.handler).result()
        invoker = Invoker(
            handler,
            AmqpDeadLetterQueue(settings.dead_letters),
            timeout_seconds=settings.timeout_seconds,
            function_name=os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bucket-ocr-worker"),
        )
        logger.info("worker ready", extra={"worker": name, "handler": settings.handler})
        print(f"{name}: ready", flush=True)
        Consumer(settings, invoker, executor, stopping=stopping, name=name).run()
    logger.info("worker stopped", extra={"worker": name})
    return 0


def _load_handler(path: str) -> Handler:
    module_name, _, function = path.rpartition(".")
    try:
        handler = getattr(importlib.import_module(module_name), function)
    except (ImportError, AttributeError, ValueError) as error:
        raise ConfigurationError(f"OCR_WORKER_HANDLER {path!r} cannot be loaded: {error}") from error
    if not callable(handler):
        raise ConfigurationError(f"OCR_WORKER_HANDLER {path!r} names a {type(handler).__name__}, not a function")
    loaded: Handler = handler
    return loaded


if __name__ == "__main__":
    sys.exit(main())
