"""Runs the Lambda handler of the bucket-ocr image as a queue worker (Kubernetes pods).

It does what Lambda's SQS event source does: long-polls a batch, hands it to the handler
as an SQS event, deletes the messages the handler did not report in batchItemFailures,
and leaves the rest (or the whole batch, if the handler raised) to reappear after the
visibility timeout, until the queue's redrive policy moves them to the dead-letter queue.

Mounted into the image from a ConfigMap by kustomization.yaml; run with the image's
Python: `/venv/bin/python /opt/bucket-ocr-worker/sqs_worker.py`.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import Any, Callable

stopping = False


class Context:
    """The attributes of a Lambda context object the handler and Powertools read."""

    def __init__(self, timeout_seconds: int):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "bucket-ocr-worker")
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:local:000000000000:function:{self.function_name}"
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "3008"))
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = self.log_stream_name = self.function_name
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": m["MessageId"],
        "receiptHandle": m["ReceiptHandle"],
        "body": m["Body"],
        "attributes": m.get("Attributes", {}),
        "messageAttributes": m.get("MessageAttributes", {}),
        "md5OfBody": m.get("MD5OfBody", ""),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    } for m in messages]}


def handle_batch(sqs: Any, queue_url: str, queue_arn: str, region: str, messages: list[dict[str, Any]],
                 handler: Callable[[dict[str, Any], Any], Any], timeout_seconds: int) -> list[str]:
    """Invokes the handler once for the batch; returns the ids of the messages deleted."""
    try:
        response = handler(sqs_event(messages, queue_arn, region), Context(timeout_seconds))
    except Exception as exc:  # the whole batch is retried, as on Lambda
        print(f"batch of {len(messages)} failed, left for retry: {type(exc).__name__}: {exc}", flush=True)
        return []
    failed = {item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])}
    done = [m for m in messages if m["MessageId"] not in failed]
    if done:
        sqs.delete_message_batch(QueueUrl=queue_url, Entries=[
            {"Id": str(index), "ReceiptHandle": m["ReceiptHandle"]} for index, m in enumerate(done)])
    return [m["MessageId"] for m in done]


def main() -> None:
    import boto3

    # Imported before the first receive: the engine loads once per pod, like a cold start.
    from bucket_ocr.handler import lambda_handler

    queue_url = os.environ["OCR_WORK_QUEUE_URL"]
    batch_size = int(os.environ.get("OCR_WORK_BATCH_SIZE", "1"))
    timeout = int(os.environ.get("OCR_WORK_TIMEOUT_SECONDS", "600"))
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    sqs = boto3.client("sqs", region_name=region, endpoint_url=os.environ.get("OCR_SQS_ENDPOINT_URL") or None)
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

    def stop(*_: Any) -> None:
        # Finish the batch in hand; Kubernetes waits terminationGracePeriodSeconds.
        global stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while not stopping:
        received = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=batch_size, WaitTimeSeconds=20,
                                       AttributeNames=["All"], MessageAttributeNames=["All"],
                                       VisibilityTimeout=6 * timeout)
        messages = received.get("Messages", [])
        if messages:
            handle_batch(sqs, queue_url, queue_arn, region, messages, lambda_handler, timeout)


if __name__ == "__main__":
    main()
