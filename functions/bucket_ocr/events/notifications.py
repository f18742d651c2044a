"""Object records out of the notification bodies S3, MinIO, EventBridge and people send."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, S3Event

from bucket_ocr.errors import MalformedEventError
from bucket_ocr.events.records import ObjectRecord, Origin, clean_etag

OBJECT_SOURCES: dict[str, Origin] = {"aws:s3": "s3", "minio:s3": "minio"}


def from_s3_notification(payload: Mapping[str, Any]) -> list[ObjectRecord]:
    """``{"Records": [...]}`` from S3 or MinIO, and MinIO's webhook body around it.

    MinIO's webhook adds top-level ``EventName``/``Key`` beside the same ``Records``;
    the records are the full truth (the top-level ``Key`` joins bucket and key with a
    slash, which is ambiguous), so only they are read.
    """
    records = []
    for record in S3Event(dict(payload)).records:
        try:
            origin = OBJECT_SOURCES[record.event_source]
            s3 = record.s3
            records.append(
                ObjectRecord(
                    bucket=s3.bucket.name,
                    # Both S3 and MinIO form-encode keys ("+" for a space; MinIO also
                    # turns "/" into "%2F"); unquote_plus undoes both.
                    key=unquote_plus(s3.get_object.key),
                    event_name=record.event_name,
                    origin=origin,
                    version_id=s3.get_object.get("versionId") or None,
                    etag=clean_etag(s3.get_object.get("eTag")),
                    size=s3.get_object.get("size"),
                    sequencer=s3.get_object.get("sequencer") or None,
                    raw=record.raw_event,
                )
            )
        except (KeyError, TypeError, AttributeError) as cause:
            raise MalformedEventError(f"an object record lacks a field S3 always sends: {cause}") from cause
    return records


def from_eventbridge(payload: Mapping[str, Any]) -> list[ObjectRecord]:
    event = EventBridgeEvent(dict(payload))
    try:
        detail = event.detail
        obj = detail["object"]
        return [
            ObjectRecord(
                bucket=detail["bucket"]["name"],
                # EventBridge sends keys as they are, not form-encoded, so no decoding:
                # a literal "+" in a key must stay a "+".
                key=obj["key"],
                event_name=event.detail_type,
                origin="eventbridge",
                version_id=obj.get("version-id") or None,
                etag=clean_etag(obj.get("etag")),
                size=obj.get("size"),
                sequencer=obj.get("sequencer") or None,
                raw=event.raw_event,
            )
        ]
    except (KeyError, TypeError) as cause:
        raise MalformedEventError(f"an EventBridge S3 event lacks detail field {cause}") from cause


def from_direct(payload: Mapping[str, Any]) -> list[ObjectRecord]:
    bucket, key = payload.get("bucket"), payload.get("key")
    if not isinstance(bucket, str) or not bucket or not isinstance(key, str) or not key:
        raise MalformedEventError('a direct invocation needs {"bucket": "...", "key": "..."} as strings')
    return [
        ObjectRecord(
            bucket=bucket,
            key=key,
            event_name="Direct:Reprocess",
            origin="direct",
            version_id=payload.get("version_id") or None,
            raw=dict(payload),
        )
    ]
