"""The one failure of this package, a transient one: the event is owed, not lost."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bucket_ocr.errors import TransientError

if TYPE_CHECKING:
    from bucket_ocr.completion.event import CompletionEvent


class EventNotPublishedError(TransientError):
    """The bus or broker did not take a completion event; the delivery is retried, and the
    retry finds the result (no second OCR) and publishes the event it still owes."""

    @classmethod
    def of(cls, event: CompletionEvent, destination: str, why: str) -> EventNotPublishedError:
        """The error every publisher raises, naming the event's object and where it was going."""
        source = event["source"]
        return cls(
            f"completion event not published to {destination}: {why}", bucket=source["bucket"], key=source["key"]
        )
