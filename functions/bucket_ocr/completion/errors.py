"""The one failure of this package, a transient one: the event is owed, not lost."""

from __future__ import annotations

from bucket_ocr.errors import TransientError


class EventNotPublishedError(TransientError):
    """The bus or broker did not take a completion event; the delivery is retried, and the
    retry finds the result (no second OCR) and publishes the event it still owes."""
