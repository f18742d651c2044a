"""The failures the function names.

The class name is what a failure record, a dead-letter message and a log line show, so
every class ends in ``Error`` and says what went wrong. Two families decide what happens
next: a ``PermanentError`` will fail the same way on every retry, so it is recorded and
dead-lettered at once; a ``TransientError`` may pass on a retry, so it is raised to the
platform (Lambda async retries, SQS redelivery) whose on-failure destination catches what
still fails.
"""

from __future__ import annotations


class OcrFunctionError(Exception):
    """Base of everything the function raises on purpose."""


class ConfigurationError(OcrFunctionError):
    """A setting is missing or invalid; raised at cold start, naming the variable."""


class EventError(OcrFunctionError):
    """An invocation payload that is not one of the event shapes the function accepts."""


class UnrecognizedEventError(EventError):
    pass


class MalformedEventError(EventError):
    pass


class ObjectError(OcrFunctionError):
    """A failure about one object; its bucket and key are in the message."""

    def __init__(self, message: str, *, bucket: str, key: str):
        super().__init__(f"{message} (s3://{bucket}/{key})")
        self.bucket = bucket
        self.key = key


class PermanentError(ObjectError):
    """Retrying cannot help: the object itself is the problem."""


class UnsupportedDocumentError(PermanentError):
    pass


class CorruptDocumentError(PermanentError):
    pass


class EncryptedDocumentError(PermanentError):
    """Readable, but locked with a password the function does not have."""


class DocumentTooLargeError(PermanentError):
    pass


class TooManyPagesError(PermanentError):
    pass


class PageTooLargeError(PermanentError):
    pass


class ObjectNotFoundError(PermanentError):
    pass


class StorageRejectedError(PermanentError):
    """S3 refused a request about this object with a 4xx that no retry changes."""


class InvalidObjectOptionsError(PermanentError):
    """Per-object options in the uploader's metadata (x-amz-meta-ocr-*) are not valid."""


class OutputNotRenderedError(PermanentError):
    """An output the object asked for (a searchable PDF of a PDF pikepdf cannot rewrite) cannot be made."""


class OcrEngineFailedError(PermanentError):
    """The OCR engine failed on a page of this document twice in a row (see processing._read)."""


class TransientError(ObjectError):
    """Worth retrying: storage throttling, 5xx, timeouts, a host out of memory."""


class StorageUnavailableError(TransientError):
    pass


class EngineOutOfMemoryError(TransientError):
    """The engine ran out of memory on this instance: not the document's doing."""


class DocumentBusyError(TransientError):
    """Another instance holds this object version's claim and has not finished in time."""
