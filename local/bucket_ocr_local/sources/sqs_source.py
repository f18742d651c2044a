"""Lambda's SQS event source mapping, one message per invocation.

Receive with the queue's visibility timeout, invoke with the event shape Lambda builds
from SQS messages, then delete what succeeded. A function error deletes nothing: the
message becomes visible again when its visibility timeout ends and, after the redrive
policy's maxReceiveCount receives, SQS itself moves it to the dead-letter queue. With
ReportBatchItemFailures the messages named in ``batchItemFailures`` stay, the rest go.

One liberty: while an invocation runs we keep extending the message's visibility. On AWS
the visibility timeout must exceed the function timeout so a message is never redelivered
mid-invocation; extending gives that guarantee with a short timeout, so a message held by
a worker that was killed comes back within seconds instead of minutes.
"""

from __future__ import annotations

import base64
import traceback
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr_local.errors import FunctionInvocationError
from bucket_ocr_local.spec import StackSpec

MAX_LONG_POLL = 20


class SqsDelivery:
    def __init__(self, source: SqsSource, messages: list[dict[str, Any]]):
        self._source = source
        self._messages = {message["MessageId"]: message for message in messages}
        self.event = {"Records": [source.lambda_record(message) for message in messages]}
        self.label = ",".join(self._messages)

    def keep_alive(self) -> None:
        try:
            for message in self._messages.values():
                self._source.sqs.change_message_visibility(
                    QueueUrl=self._source.queue_url,
                    ReceiptHandle=message["ReceiptHandle"],
                    VisibilityTimeout=int(self._source.lease_seconds),
                )
        except (BotoCoreError, ClientError):  # a missed extension only risks a redelivery, which is safe
            traceback.print_exc()

    def succeeded(self, response: Any) -> None:
        failed_ids = _batch_item_failures(response, set(self._messages))
        for message_id, message in self._messages.items():
            if message_id not in failed_ids:
                self._source.sqs.delete_message(QueueUrl=self._source.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def failed(self, error: FunctionInvocationError) -> None:
        pass  # the whole batch reappears after its visibility timeout, as on AWS


class SqsSource:
    def __init__(self, spec: StackSpec, *, batch_size: int = 1):
        self.sqs = spec.client("sqs")
        self.queue_url = spec.events_queue_url
        self.region = spec.region
        self.lease_seconds = float(spec.visibility_timeout)
        self.batch_size = batch_size
        self.queue_arn = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]

    def next(self, wait_seconds: float) -> SqsDelivery | None:
        received = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=self.batch_size,
            WaitTimeSeconds=max(0, min(MAX_LONG_POLL, int(wait_seconds))),
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        messages = received.get("Messages") or []
        return SqsDelivery(self, messages) if messages else None

    def lambda_record(self, message: dict[str, Any]) -> dict[str, Any]:
        return lambda_sqs_record(message, queue_arn=self.queue_arn, region=self.region)


def lambda_sqs_record(message: Mapping[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One record as Lambda's event source mapping writes it from a received SQS message.

    ``message`` is one of ReceiveMessage's ``Messages``, received with every attribute
    (AttributeNames=["All"]): Lambda passes them all on, and the function decides retries
    from ApproximateReceiveCount. The record is camelCase, its message attributes carry
    empty list values, and a binary value is base64 text, as JSON must carry it.
    """
    attributes = dict(message["Attributes"])
    if "ApproximateReceiveCount" not in attributes:
        raise KeyError(f"message {message['MessageId']} was received without ApproximateReceiveCount")
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": attributes,
        "messageAttributes": {
            name: _lambda_message_attribute(value) for name, value in (message.get("MessageAttributes") or {}).items()
        },
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def _lambda_message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    attribute: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
    if "StringValue" in value:
        attribute["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        attribute["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
    return attribute


def _batch_item_failures(response: Any, message_ids: set[str]) -> set[str]:
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return set()
    failed = {item.get("itemIdentifier") for item in response["batchItemFailures"] if isinstance(item, dict)}
    # Lambda treats an identifier it did not send (or an empty one) as a failure of the whole batch.
    if not failed <= message_ids:
        return set(message_ids)
    return failed
