"""`bucket-ocr-local backfill`: the image's backfill, sent to the running stack's queue.

The plan and the events are the function package's (bucket_ocr.backfill); only the last
hop is the stack's own: on moto its SQS events queue, where S3 notifications land; on
MinIO the broker exchange MinIO publishes uploads to, through the same publisher the
stack uses to announce uploads MinIO stored without an event (reannounce.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bucket_ocr.amqp import Topology, unavailable_errors
from bucket_ocr.backfill import Summary, Target, backfill, plan
from bucket_ocr.backfill.targets import BufferedTarget, SendFailure, SqsTarget
from bucket_ocr_local import reannounce
from bucket_ocr_local.spec import StackSpec

# Events per broker connection: one confirmed publish each, a connection per batch.
BROKER_BATCH = 100


class StackBrokerTarget(BufferedTarget):
    batch_size = BROKER_BATCH

    def __init__(self, spec: StackSpec):
        super().__init__()
        self._spec = spec
        # The exchange and routing key MinIO publishes with are the topology's defaults.
        self._topology = Topology()
        work_queue = spec.work_queue or self._topology.work_queue
        self.description = f"the stack's broker ({self._topology.exchange} → {work_queue})"

    def _send_batch(self, batch: list[dict[str, Any]]) -> None:
        import pika

        try:
            self.sent += reannounce.announce(self._spec, self._topology, batch)
        except (*unavailable_errors(), pika.exceptions.UnroutableError, pika.exceptions.NackError) as error:
            # Part of the batch may be on the queue: running the backfill again finds it done.
            self.failures.extend(SendFailure(body, f"{type(error).__name__}: {error}") for body in batch)


def stack_target(spec: StackSpec) -> Target:
    if spec.store == "moto":
        target = SqsTarget(spec.client("sqs"), spec.events_queue_url)
        target.description = f"the stack's events queue {spec.events_queue_url}"
        return target
    return StackBrokerTarget(spec)


def run(
    spec: StackSpec,
    *,
    bucket: str | None = None,
    prefix: str = "",
    dry_run: bool = False,
    progress: Callable[[Summary], None] | None = None,
) -> Summary:
    planned = plan(spec.client("s3"), bucket or spec.input_bucket, prefix, spec.results_bucket, spec.results_prefix)
    return backfill(
        planned, None if dry_run else stack_target(spec), dry_run=dry_run, region=spec.region, progress=progress
    )
