"""The completion event: one per processed object, after its result is written.

The body is the same on every backend (``completion.schema.json`` beside this file) and is
built from the result document alone, so the retry that publishes an event a failed
publish still owed sends the very same body: same ``event_id``, same ``timestamp`` (when
the result was made, not when it was published). Consumers deduplicate on ``event_id``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    from bucket_ocr.results.document import Status  # a result's status is its event's

EVENT_VERSION = "1.0"
# EventBridge: what a rule matches on (docs/completion-events.md).
SOURCE = "bucket-ocr"
DETAIL_TYPES: dict[Status, str] = {"succeeded": "OCR Document Succeeded", "failed": "OCR Document Failed"}
# RabbitMQ: the topic exchange's routing keys; ``document.*`` binds both.
ROUTING_KEYS: dict[Status, str] = {"succeeded": "document.succeeded", "failed": "document.failed"}
# Fixed for ever: changing it would give a republished event another id than the first.
_EVENT_ID_NAMESPACE = uuid.UUID("5f0c3f5e-8f7b-4d55-9d3c-1f2a0b6c9e41")


class EventSource(TypedDict):
    """The object version the result was made from."""

    bucket: str
    key: str
    version_id: str | None
    etag: str | None


class EventFailure(TypedDict):
    type: str
    message: str


class CompletionEvent(TypedDict):
    """The body, as ``completion.schema.json`` describes it."""

    version: str
    event_id: str
    status: Status
    source: EventSource
    results: dict[str, str]  # "bucket", "json", and the key of each other output written
    pages: int
    error: EventFailure | None
    job_tag: str | None
    request_id: str | None
    engine_bundle: str | None
    timestamp: int  # epoch milliseconds of the result's processed_at


def completion_event(
    result: Mapping[str, Any], *, result_location: Mapping[str, str], job_tag: str | None
) -> CompletionEvent:
    """``result_location``: ``{"bucket": <results bucket>, "json": <result key>}`` and a key
    per other output written (``txt``, ``pdf``, ``hocr``)."""
    if not result_location.get("bucket") or not result_location.get("json"):
        raise ValueError(f"result_location needs the results bucket and the json key, got {dict(result_location)!r}")
    source = result["source"]
    identity: EventSource = {
        "bucket": source.get("bucket"),
        "key": source.get("key"),
        "version_id": source.get("version_id"),
        "etag": source.get("etag"),
    }
    error = result.get("error")
    processed_at = result["processed_at"]
    return {
        "version": EVENT_VERSION,
        "event_id": str(uuid.uuid5(_EVENT_ID_NAMESPACE, repr([*identity.values(), processed_at]))),
        "status": result["status"],
        "source": identity,
        "results": dict(result_location),
        "pages": len(result.get("pages") or ()),
        "error": None if error is None else {"type": error["type"], "message": error["message"]},
        "job_tag": job_tag,
        "request_id": result.get("request_id"),
        "engine_bundle": (result.get("engine") or {}).get("bundle"),
        "timestamp": epoch_milliseconds(processed_at),
    }


def event_from_result(result: Mapping[str, Any], *, results_bucket: str, result_key: str) -> CompletionEvent:
    """The event a result announces, with everything taken from the result itself.

    Results of schema 1.1 name their outputs and job tag; an older one names neither, and
    its event points at the JSON only.
    """
    outputs = result.get("outputs") or {"json": result_key}
    return completion_event(
        result, result_location={"bucket": results_bucket, **outputs}, job_tag=result.get("job_tag")
    )


def epoch_milliseconds(timestamp: str) -> int:
    moment = dt.datetime.fromisoformat(timestamp)
    if moment.tzinfo is None:  # the result writes UTC with an offset; a bare one is UTC too
        moment = moment.replace(tzinfo=dt.UTC)
    return round(moment.timestamp() * 1000)


def detail_type(event: CompletionEvent) -> str:
    return DETAIL_TYPES[event["status"]]


def routing_key(event: CompletionEvent) -> str:
    return ROUTING_KEYS[event["status"]]
