"""Events the function is sent for objects that never had one of their own.

A backfill and an S3 Batch Operations job both ask for the OCR of objects already in a
bucket. The backfill sends each as the S3 notification S3 itself would have sent, so every
path that takes uploads (SQS, an async invoke, the broker) takes these unchanged, and the
etag and version they carry let the function's duplicate check skip work already done.

Neither source knows S3's ``sequencer``, which orders events on one key. Sent without one,
such an event would count as older than any result an earlier real event left, and a stale
result (an overwrite whose event was lost) would then never be replaced. So it is placed at
``sequencer_after`` the result it means to replace: later than that result, yet earlier
than any real event still to come on the key (S3 sequencers only grow), and whether the
object has moved on is still decided by the function's look at its current version. The
backfill's planner puts that sequencer in the event it builds; a Batch task, like a
direct invocation, is placed by processing, at its own look at the existing result.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote_plus

from bucket_ocr.events.records import clean_etag

# Who the notification says made the request: a log line or a dead letter shows where it came from.
PRINCIPAL = "bucket-ocr-backfill"


def object_created_notification(
    bucket: str,
    key: str,
    *,
    etag: str | None = None,
    version_id: str | None = None,
    size: int | None = None,
    sequencer: str | None = None,
    region: str = "us-east-1",
) -> dict[str, Any]:
    """``{"Records": [...]}`` with one ``ObjectCreated:Put`` record, shaped as S3 sends it."""
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}
    if size is not None:
        obj["size"] = size
    if cleaned := clean_etag(etag):
        obj["eTag"] = cleaned
    if version_id and version_id != "null":
        obj["versionId"] = version_id
    if sequencer:
        obj["sequencer"] = sequencer
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": region,
                "eventTime": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": PRINCIPAL},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": PRINCIPAL,
                    "bucket": {"name": bucket, "arn": f"arn:aws:s3:::{bucket}"},
                    "object": obj,
                },
            }
        ]
    }


def sequencer_after(sequencer: str | None) -> str | None:
    """The sequencer one step after ``sequencer`` (hex, its width kept), or None without one."""
    if not sequencer:
        return None
    try:
        value = int(sequencer, 16)
    except ValueError:
        return None  # unreadable: the result store orders it first anyway
    return format(value + 1, "X").rjust(len(sequencer), "0")
