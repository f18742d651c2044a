"""The event fixtures in tests/events: the same JSON files `sam local invoke -e` takes."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

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


def sqs_wrap(notifications: list[Any], receive_count: int = 1) -> dict[str, Any]:
    """An SQS batch whose message bodies are these notifications (or raw strings)."""
    template = load_event("sqs-s3.json")["Records"][0]
    records = []
    for index, body in enumerate(notifications):
        record = copy.deepcopy(template)
        record["messageId"] = f"00000000-0000-4000-8000-{index:012d}"
        record["body"] = body if isinstance(body, str) else json.dumps(body)
        record["attributes"]["ApproximateReceiveCount"] = str(receive_count)
        records.append(record)
    return {"Records": records}
