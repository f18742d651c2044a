"""The event fixtures in tests/events: the same JSON files `sam local invoke -e` takes."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

from bucket_ocr_local.sources.sqs_source import lambda_sqs_record

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"


def load_event(name: str) -> dict[str, Any]:
    return json.loads((EVENTS_DIR / name).read_text(encoding="utf-8"))


def retarget(event: dict[str, Any], bucket: str, key: str, etag: str | None = None) -> dict[str, Any]:
    """The fixture with its object records pointed at a test's own bucket and key.

    The key is form-encoded the way S3 sends it, so decoding is exercised too.
    """
    from urllib.parse import quote_plus

    event = copy.deepcopy(event)
    for record in event["Records"]:
        record["s3"]["bucket"]["name"] = bucket
        record["s3"]["bucket"]["arn"] = f"arn:aws:s3:::{bucket}"
        record["s3"]["object"]["key"] = quote_plus(key, safe="/")
        if etag is not None:
            record["s3"]["object"]["eTag"] = etag
        record["s3"]["object"].pop("versionId", None)
    return event


# Where the fixtures' SQS messages come from (tests/events/sqs-s3.json).
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:ocr-input-events"
REGION = "us-east-1"


def sqs_wrap(notifications: list[Any], receive_count: int = 1) -> dict[str, Any]:
    """An SQS batch whose message bodies are these notifications (or raw strings).

    Each body goes through the local stack's own record builder, as a message received
    from SQS would, so its md5OfBody and attributes are those of that body.
    """
    records = []
    for index, notification in enumerate(notifications):
        body = notification if isinstance(notification, str) else json.dumps(notification)
        message = {
            "MessageId": f"00000000-0000-4000-8000-{index:012d}",
            "ReceiptHandle": f"AQEB{index:012d}",
            "MD5OfBody": hashlib.md5(body.encode("utf-8")).hexdigest(),
            "Body": body,
            "Attributes": {
                "ApproximateReceiveCount": str(receive_count),
                "SentTimestamp": "1764417600000",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1764417600001",
            },
        }
        records.append(lambda_sqs_record(message, queue_arn=QUEUE_ARN, region=REGION))
    return {"Records": records}
