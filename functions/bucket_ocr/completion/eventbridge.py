"""Completion events on Amazon EventBridge (and moto): one ``PutEvents`` entry per document.

The body is the event's ``detail``; ``source`` and ``detail-type`` are what rules match on
(``bucket-ocr``; ``OCR Document Succeeded`` / ``OCR Document Failed``). ``PutEvents``
answers 200 even when it refused the entry, so the per-entry result is read too.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr.completion.errors import EventNotPublishedError
from bucket_ocr.completion.event import SOURCE, CompletionEvent, detail_type

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient


@dataclass(frozen=True)
class EventBridgePublisher:
    events: EventBridgeClient
    bus_name: str

    @property
    def destination(self) -> str:
        return f"EventBridge bus {self.bus_name!r}"

    def publish(self, event: CompletionEvent) -> None:
        try:
            response = self.events.put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": detail_type(event),
                        "Detail": json.dumps(event, ensure_ascii=False),
                        "EventBusName": self.bus_name,
                        # The envelope's time is the result's too, so a republished event
                        # says when the document was done rather than when the retry came.
                        "Time": dt.datetime.fromtimestamp(event["timestamp"] / 1000, dt.UTC),
                    }
                ]
            )
        except (ClientError, BotoCoreError) as cause:
            # A missing bus or a missing grant is a deployment fault a fix makes pass on a
            # retry, like a missing results bucket: transient, never a verdict on the document.
            raise EventNotPublishedError.of(event, self.destination, f"{type(cause).__name__}: {cause}") from cause
        if response.get("FailedEntryCount"):
            refused = (response.get("Entries") or [{}])[0]
            why = f"{refused.get('ErrorCode')}: {refused.get('ErrorMessage')}"
            raise EventNotPublishedError.of(event, self.destination, why)
