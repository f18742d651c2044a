"""Completion events on Amazon EventBridge (and moto): one ``PutEvents`` entry per document.

The body is the event's ``detail``; ``source`` and ``detail-type`` are what rules match on
(``bucket-ocr``; ``OCR Document Succeeded`` / ``OCR Document Failed``). ``PutEvents``
answers 200 even when it refused the entry, so the per-entry result is read too.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr.completion.errors import EventNotPublishedError
from bucket_ocr.completion.event import SOURCE, detail_type


class EventBridgePublisher:
    def __init__(self, events: Any, bus_name: str):
        self._events = events
        self._bus_name = bus_name

    @property
    def destination(self) -> str:
        return f"EventBridge bus {self._bus_name!r}"

    def publish(self, event: dict[str, Any]) -> None:
        entry = {
            "Source": SOURCE,
            "DetailType": detail_type(event),
            "Detail": json.dumps(event, ensure_ascii=False),
            "EventBusName": self._bus_name,
            # The envelope's time is the result's too, so a republished event says when
            # the document was done rather than when the retry came.
            "Time": dt.datetime.fromtimestamp(event["timestamp"] / 1000, dt.UTC),
        }
        try:
            response = self._events.put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as cause:
            # A missing bus or a missing grant is a deployment fault a fix makes pass on a
            # retry, like a missing results bucket: transient, never a verdict on the document.
            raise _not_published(event, self.destination, f"{type(cause).__name__}: {cause}") from cause
        if response.get("FailedEntryCount"):
            refused = (response.get("Entries") or [{}])[0]
            raise _not_published(event, self.destination, f"{refused.get('ErrorCode')}: {refused.get('ErrorMessage')}")


def _not_published(event: dict[str, Any], destination: str, why: str) -> EventNotPublishedError:
    source = event["source"]
    return EventNotPublishedError(
        f"completion event not published to {destination}: {why}", bucket=source["bucket"], key=source["key"]
    )
