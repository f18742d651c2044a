"""moto in server mode: S3 and SQS over HTTP on 127.0.0.1, the embedded default.

moto's S3 backend delivers bucket notifications to its own SQS backend when a bucket has
QueueConfigurations (moto/s3/notifications.py `send_event` -> `_send_sqs_message`), in the
shape S3 sends (key URL-encoded with quote_plus), plus the s3:TestEvent S3 sends when the
configuration is saved. Its SQS honours visibility timeouts and a redrive policy's
maxReceiveCount. So S3 -> SQS -> poller -> function is the AWS topology with nothing faked
in between; only the poller (Lambda's event source mapping) is ours.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bucket_ocr_local.processes import LOOPBACK, ManagedProcess, free_port, port_open
from bucket_ocr_local.python_path import child_environment

# moto accepts any credentials; these only have to be consistent.
ACCESS_KEY = "local-moto"
SECRET_KEY = "local-moto-secret"


class MotoServer:
    def __init__(self, work_dir: Path):
        self.port = free_port()
        self.process = ManagedProcess(
            "moto",
            [sys.executable, "-m", "moto.server", "-H", LOOPBACK, "-p", str(self.port)],
            log_path=work_dir / "logs" / "moto.log",
            env=child_environment(),
        )

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 60) -> MotoServer:
        self.process.start()
        self.process.wait_until(lambda: port_open(self.port), timeout=timeout, what=f"listening on {self.url}")
        return self

    def stop(self) -> None:
        self.process.stop(grace=5)

    def running(self) -> bool:
        return self.process.running()


def create_queues(
    sqs, *, events_queue: str | None, dead_letter_queue: str, visibility_timeout: int, max_receive_count: int
):
    """The dead-letter queue, and (for the SQS path) the events queue redriving into it."""
    dlq_url = sqs.create_queue(QueueName=dead_letter_queue, Attributes={"MessageRetentionPeriod": "1209600"})[
        "QueueUrl"
    ]
    if events_queue is None:
        return None, None, dlq_url
    dlq_arn = _queue_arn(sqs, dlq_url)
    events_url = sqs.create_queue(
        QueueName=events_queue,
        Attributes={
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(max_receive_count)}),
        },
    )["QueueUrl"]
    return events_url, _queue_arn(sqs, events_url), dlq_url


def _queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
