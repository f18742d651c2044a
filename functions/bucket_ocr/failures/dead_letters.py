"""Dead-letter messages for permanent failures.

The message carries the original record untouched, so redriving it is re-sending the
``record`` as an event; error type and attempt are attributes too, so a queue console or
a filter can sort failures without parsing bodies.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr.errors import StorageUnavailableError

MESSAGE_VERSION = "1.0"


def dead_letter_body(
    record: Mapping[str, Any],
    error: BaseException,
    *,
    attempt: int,
    bucket: str | None,
    key: str | None,
    result_key: str | None,
) -> dict[str, Any]:
    return {
        "message_version": MESSAGE_VERSION,
        "error_type": type(error).__name__,
        "error_message": str(error),
        "attempt": attempt,
        "bucket": bucket,
        "key": key,
        "result_key": result_key,
        "failed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
        "record": dict(record),
    }


class DeadLetterQueue:
    def __init__(self, sqs: Any, queue_url: str):
        self._sqs = sqs
        self._queue_url = queue_url

    def send(self, body: dict[str, Any]) -> str:
        try:
            response = self._sqs.send_message(
                QueueUrl=self._queue_url,
                MessageBody=json.dumps(body, ensure_ascii=False),
                MessageAttributes={
                    "error_type": {"DataType": "String", "StringValue": body["error_type"]},
                    "attempt": {"DataType": "Number", "StringValue": str(body["attempt"])},
                },
            )
        except (ClientError, BotoCoreError) as cause:
            # Not being able to record a failure is itself worth a retry: raising hands
            # the event back to the platform instead of dropping it.
            raise StorageUnavailableError(
                f"cannot send to the dead-letter queue {self._queue_url}: {cause}",
                bucket=str(body.get("bucket")),
                key=str(body.get("key")),
            ) from cause
        return response["MessageId"]
