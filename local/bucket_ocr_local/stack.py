"""A whole local stack: storage, queues, event delivery and workers, started and stopped in order.

Two topologies, the two a deployment has:
- moto (the embedded default): S3 -> SQS -> workers polling like Lambda's event source
  mapping, dead letters in SQS, as on AWS;
- MinIO: MinIO -> its AMQP target -> RabbitMQ quorum queue -> `bucket-ocr-worker`
  processes (the image's self-hosted entry point), dead letters on the broker, as
  infra/compose deploys it.

Start: models, the broker or queue server, its queues, then MinIO (its AMQP target needs
the broker), buckets and notifications, the spec file, workers. Stop in reverse: workers
finish their events while the servers they talk to are still up.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from bucket_ocr.amqp import Topology
from bucket_ocr.worker.setup import ensure_bucket, notify_on_upload
from bucket_ocr_local.errors import LocalStackError
from bucket_ocr_local.models_cache import ensure_models
from bucket_ocr_local.spec import StackSpec
from bucket_ocr_local.stores import minio_store, moto_store
from bucket_ocr_local.stores.rabbitmq_server import RabbitMQServer
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
    # MinIO path: deliveries of one message before RabbitMQ dead-letters it.
    delivery_limit: int = 5
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
        self.broker: RabbitMQServer | None = None
        self.pool: WorkerPool | None = None
        self.topology: Topology | None = None
        self.input_buckets: list[str] = []

    def __enter__(self) -> LocalStack:
        try:
            return self.start()
        except BaseException:  # Ctrl-C during a start too: stop what started, then let it through
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self, *, start_workers: bool = True) -> LocalStack:
        options = self.options
        if options.store == "minio" and options.runtime != "in-process":
            raise LocalStackError(
                f"--runtime {options.runtime} is for the moto store: on MinIO the workers are "
                "`bucket-ocr-worker` processes, which run the handler themselves"
            )
        self.work_dir.mkdir(parents=True, exist_ok=True)
        models_dir = ensure_models(options.models_dir)
        spec = self._moto_spec(models_dir) if options.store == "moto" else self._minio_spec(models_dir)
        spec.owner_pid = os.getpid()
        spec.function_env = dict(options.function_env)
        self.spec = spec
        ensure_bucket(spec.client("s3"), options.results_bucket)
        self.add_input_bucket(options.input_bucket)
        spec.save()
        if start_workers and options.workers:
            self.start_workers(options.workers)
        return self

    def _moto_spec(self, models_dir: Path) -> StackSpec:
        o = self.options
        self.moto = moto_store.MotoServer(self.work_dir).start()
        spec = StackSpec(
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
        events_url, self._events_queue_arn, dlq_url = moto_store.create_queues(
            spec.client("sqs"),
            events_queue=o.events_queue,
            dead_letter_queue=o.dead_letter_queue,
            visibility_timeout=o.visibility_timeout,
            max_receive_count=o.max_receive_count,
        )
        spec.events_queue_url, spec.dead_letter_queue_url = events_url, dlq_url
        return spec

    def _minio_spec(self, models_dir: Path) -> StackSpec:
        from bucket_ocr.worker.settings import WorkerSettings
        from bucket_ocr.worker.setup import declare_topology

        o = self.options
        self.broker = RabbitMQServer(self.work_dir).start()
        self.topology = topology = Topology(dead_letter_queue=o.dead_letter_queue, delivery_limit=o.delivery_limit)
        letters_url = f"{self.broker.url}?queue={topology.dead_letter_queue}"
        broker_env = {
            "OCR_BROKER_URL": self.broker.url,
            "OCR_DEAD_LETTER_QUEUE_URL": letters_url,
            "OCR_DELIVERY_LIMIT": str(topology.delivery_limit),
        }
        # What `bucket-ocr-worker setup` does in a deployment, before MinIO can publish.
        declare_topology(WorkerSettings.from_env(broker_env))
        self.minio = minio_store.MinioServer(self.work_dir, broker_url=self.broker.url, topology=topology).start()
        return StackSpec(
            store="minio",
            work_dir=str(self.work_dir),
            s3_endpoint=self.minio.url,
            sqs_endpoint="",
            access_key=self.minio.access_key,
            secret_key=self.minio.secret_key,
            input_bucket=o.input_bucket,
            results_bucket=o.results_bucket,
            results_prefix=o.results_prefix,
            dead_letter_queue_url=letters_url,
            models_dir=str(models_dir),
            broker_url=self.broker.url,
            broker_management_url=self.broker.management_url,
            work_queue=topology.work_queue,
            delivery_limit=topology.delivery_limit,
        )

    def add_input_bucket(self, bucket: str) -> None:
        """A bucket whose uploads reach the function, wired like the stack's own input bucket."""
        s3 = self.spec.client("s3")
        ensure_bucket(s3, bucket)
        self.input_buckets.append(bucket)
        notify_on_upload(s3, bucket, self._events_queue_arn if self.spec.store == "moto" else minio_store.TARGET_ARN)

    def start_workers(self, count: int) -> WorkerPool:
        self.pool = WorkerPool(
            self.work_dir, count=count, runtime=self.options.runtime, store=self.options.store
        ).start()
        return self.pool

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.stop()
            self.pool = None
        for server in (self.minio, self.broker, self.moto):
            if server is not None:
                server.stop()
        self.minio = self.broker = self.moto = None
        if self.spec is not None:
            # A spec whose servers are gone must not be mistaken for a running stack.
            self.spec.owner_pid = None
            (self.work_dir / "stack.json").unlink(missing_ok=True)
