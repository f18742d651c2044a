"""Dead letters on Amazon SQS (and moto, ElasticMQ): the AWS deployment's queue."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr.errors import StorageUnavailableError
from bucket_ocr.failures.dead_letters import DeadLetter, letter_attributes

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class SqsDeadLetterQueue:
    def __init__(self, sqs: SQSClient, queue_url: str):
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, body: DeadLetter) -> str:
        attributes = letter_attributes(body)
        try:
            response = self._sqs.send_message(
                QueueUrl=self._queue_url,
                MessageBody=json.dumps(body, ensure_ascii=False),
                MessageAttributes={
                    "error_type": {"DataType": "String", "StringValue": attributes["error_type"]},
                    "attempt": {"DataType": "Number", "StringValue": attributes["attempt"]},
                },
            )
        except (ClientError, BotoCoreError) as cause:
            # Not being able to record a failure is itself worth a retry: raising hands
            # the event back to the platform instead of dropping it.
            raise StorageUnavailableError(
                f"cannot send to the dead-letter queue {self._queue_url}: {cause}",
                bucket=str(body["bucket"]),
                key=str(body["key"]),
            ) from cause
        return response["MessageId"]
