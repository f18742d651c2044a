"""A whole local stack: storage, queues, event delivery and workers, started and stopped in order.

Start: models, moto (SQS always; S3 too on the embedded default), then for MinIO the
dispatcher before MinIO so the webhook answers from the first event, then buckets and
notifications, then the spec file, then workers. Stop in reverse: workers finish their
events while the servers they talk to are still up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bucket_ocr_local.dispatcher import Dispatcher
from bucket_ocr_local.event_queue import EventQueue
from bucket_ocr_local.models_cache import ensure_models
from bucket_ocr_local.processes import free_port
from bucket_ocr_local.spec import DispatcherSpec, StackSpec
from bucket_ocr_local.stores import minio_store, moto_store
from bucket_ocr_local.worker import WorkerPool

STORES = ("moto", "minio")


@dataclass
class StackOptions:
    work_dir: Path
    store: str = "moto"
    workers: int = 1
    runtime: str = "in-process"
    input_bucket: str = "ocr-input"
    results_bucket: str = "ocr-results"
    results_prefix: str = "ocr/"
    events_queue: str = "ocr-input-events"
    dead_letter_queue: str = "ocr-dead-letters"
    models_dir: Path | None = None
    # SQS path: how long a received message stays hidden without a keep-alive, and how
    # many receives before SQS moves it to the dead-letter queue.
    visibility_timeout: int = 10
    max_receive_count: int = 3
    # MinIO path: Lambda async's attempts (1 + 2 retries) and the first retry's delay.
    max_attempts: int = 3
    retry_delay: float = 2.0
    function_env: dict[str, str] = field(default_factory=dict)


class LocalStack:
    def __init__(self, options: StackOptions):
        if options.store not in STORES:
            raise ValueError(f"unknown store {options.store!r}; choose from {', '.join(STORES)}")
        self.options = options
        self.work_dir = Path(options.work_dir).resolve()
        self.spec: StackSpec | None = None
        self.moto: moto_store.MotoServer | None = None
        self.minio: minio_store.MinioServer | None = None
        self.dispatcher: Dispatcher | None = None
        self.pool: WorkerPool | None = None

    def __enter__(self) -> LocalStack:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, *, start_workers: bool = True) -> LocalStack:
        options = self.options
        self.work_dir.mkdir(parents=True, exist_ok=True)
        models_dir = ensure_models(options.models_dir)
        self.moto = moto_store.MotoServer(self.work_dir).start()
        if options.store == "moto":
            spec = self._moto_spec(models_dir)
        else:
            spec = self._minio_spec(models_dir)
        spec.owner_pid = os.getpid()
        spec.function_env = dict(options.function_env)
        self.spec = spec
        sqs = spec.client("sqs")
        events_url, events_arn, dlq_url = moto_store.create_queues(
            sqs,
            events_queue=options.events_queue if options.store == "moto" else None,
            dead_letter_queue=options.dead_letter_queue,
            visibility_timeout=options.visibility_timeout,
            max_receive_count=options.max_receive_count,
        )
        spec.events_queue_url, spec.dead_letter_queue_url = events_url, dlq_url
        self._events_queue_arn = events_arn
        spec.client("s3").create_bucket(Bucket=options.results_bucket)
        self.add_input_bucket(options.input_bucket)
        spec.save()
        if start_workers and options.workers:
            self.start_workers(options.workers)
        return self

    def _moto_spec(self, models_dir: Path) -> StackSpec:
        o = self.options
        return StackSpec(
            store="moto",
            work_dir=str(self.work_dir),
            s3_endpoint=self.moto.url,
            sqs_endpoint=self.moto.url,
            access_key=moto_store.ACCESS_KEY,
            secret_key=moto_store.SECRET_KEY,
            input_bucket=o.input_bucket,
            results_bucket=o.results_bucket,
            results_prefix=o.results_prefix,
            dead_letter_queue_url="",
            models_dir=str(models_dir),
            visibility_timeout=o.visibility_timeout,
            max_receive_count=o.max_receive_count,
        )

    def _minio_spec(self, models_dir: Path) -> StackSpec:
        o = self.options
        token = minio_store.new_webhook_token()
        queue = EventQueue(self.work_dir / "dispatcher" / "events.sqlite", max_attempts=o.max_attempts, retry_delay=o.retry_delay)
        self.dispatcher = Dispatcher(queue, port=free_port(), auth_token=token).start()
        self.minio = minio_store.MinioServer(self.work_dir, webhook_url=self.dispatcher.url, webhook_token=token).start()
        return StackSpec(
            store="minio",
            work_dir=str(self.work_dir),
            s3_endpoint=self.minio.url,
            # MinIO has no SQS; the dead-letter queue lives on moto, as it would on SQS.
            sqs_endpoint=self.moto.url,
            access_key=self.minio.access_key,
            secret_key=self.minio.secret_key,
            input_bucket=o.input_bucket,
            results_bucket=o.results_bucket,
            results_prefix=o.results_prefix,
            dead_letter_queue_url="",
            models_dir=str(models_dir),
            dispatcher=DispatcherSpec(
                url=self.dispatcher.url,
                auth_token=token,
                db_path=str(queue.path),
                dead_letter_dir=str(self.work_dir / "dispatcher" / "dead-letters"),
                max_attempts=o.max_attempts,
                retry_delay_seconds=o.retry_delay,
            ),
        )

    def add_input_bucket(self, bucket: str) -> None:
        """A bucket whose uploads reach the function, wired like the stack's own input bucket."""
        s3 = self.spec.client("s3")
        if self.spec.store == "moto":
            moto_store.notify_queue_on_upload(s3, bucket, self._events_queue_arn)
        else:
            minio_store.notify_webhook_on_upload(s3, bucket)

    def start_workers(self, count: int) -> WorkerPool:
        self.pool = WorkerPool(self.work_dir, count=count, runtime=self.options.runtime).start()
        return self.pool

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.stop()
            self.pool = None
        for server in (self.minio, self.moto):
            if server is not None:
                server.stop()
        if self.dispatcher is not None:
            self.dispatcher.stop()
        self.minio = self.moto = self.dispatcher = None
        if self.spec is not None:
            # A spec whose servers are gone must not be mistaken for a running stack.
            self.spec.owner_pid = None
            (self.work_dir / "stack.json").unlink(missing_ok=True)
