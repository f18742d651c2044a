"""Each result's event published at least once, and in the common case exactly once.

The rule (docs/completion-events.md):

1. The event is published after the result is written, never before: a consumer that
   reads the result on the event's word finds it.
2. A publish that fails raises ``EventNotPublishedError`` (transient), so the delivery is
   retried. The retry finds the result, skips the OCR as a duplicate, and publishes the
   event the result still owes: the document's result is never lost and never read twice.
3. After a publish, a marker ``<results prefix>.events/<digest of the object version>``
   is written in the results bucket. A duplicate delivery that finds the marker publishes
   nothing; only one that finds a result without its marker publishes (again).

So a crash between the publish and the marker, or two deliveries racing through the
moment between a result's write and its marker, send the event twice, with the same body:
it is rebuilt from the result, whose processed_at fixes ``event_id`` and ``timestamp``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

from bucket_ocr.completion.errors import EventNotPublishedError
from bucket_ocr.completion.event import CompletionEvent, event_from_result
from bucket_ocr.errors import OcrFunctionError
from bucket_ocr.events.records import ObjectRef
from bucket_ocr.observability import MetricUnit, logger, metrics
from bucket_ocr.results.claims import version_digest, version_of
from bucket_ocr.storage import ACCESS_DENIED, KEY_NOT_FOUND, error_code, storage_errors

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Under the results prefix beside the claims, so a results bucket that is also a source
# ignores markers as its own output, and the function's grant on the prefix covers them.
EVENTS_FOLDER = ".events/"
# Pauses between publishes before the delivery is handed back: a bus that throttles for a
# moment should not cost the retry of a whole delivery (an hour, under SQS's visibility
# timeout in queued mode).
PUBLISH_PAUSES = (0.5, 1.0, 2.0, 4.0)
_MARKED = "event-id"


class Publisher(Protocol):
    @property
    def destination(self) -> str: ...

    def publish(self, event: CompletionEvent) -> None:
        """Hand the event over, confirmed; raise ``EventNotPublishedError`` when not taken."""


def marker_key(results_prefix: str, version: ObjectRef) -> str:
    return results_prefix + EVENTS_FOLDER + version_digest(version)


def identity_of(result: Mapping[str, Any]) -> ObjectRef:
    """The version a result was made from (its ``source``, as ``version_of`` sees it)."""
    source = result["source"]
    return version_of(ObjectRef(source["bucket"], source["key"], source.get("version_id"), source.get("etag")))


def owes_event(s3: S3Client, results_bucket: str, key: str) -> bool:
    """Whether the marker at ``key`` is missing: no publication of that version's event has
    been recorded."""
    with storage_errors(ObjectRef(results_bucket, key), "HEAD event marker", missing_is_permanent=False):
        try:
            s3.head_object(Bucket=results_bucket, Key=key)
        except ClientError as error:
            if error_code(error) in KEY_NOT_FOUND | ACCESS_DENIED:
                return True
            raise
    return False


def mark_published(s3: S3Client, results_bucket: str, key: str, event: CompletionEvent) -> bool:
    """Records the publication; False when storage refused the marker.

    Not raised: the event is out, and a retry of the delivery would publish it again for
    certain, where a missing marker only does so if another delivery of the object comes.
    """
    try:
        with storage_errors(ObjectRef(results_bucket, key), "PUT event marker", missing_is_permanent=False):
            s3.put_object(
                Bucket=results_bucket,
                Key=key,
                # What was published: the marker doubles as an audit record of the event.
                Body=json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
                ContentType="application/json; charset=utf-8",
                Metadata={_MARKED: event["event_id"]},
            )
    except OcrFunctionError as error:
        logger.warning(
            "completion event published but its marker not written: another delivery of this object would publish it again",
            extra={"marker": key, "error_type": type(error).__name__, "error": str(error)},
        )
        return False
    return True


class CompletionEvents:
    """What processing calls: ``after_result`` once a result is written, and
    ``republish_if_owed`` where a delivery finds its result already there."""

    def __init__(
        self,
        publisher: Publisher,
        s3: S3Client,
        results_bucket: str,
        results_prefix: str,
        *,
        publish_pauses: Sequence[float] = PUBLISH_PAUSES,
    ):
        self.publisher = publisher
        self._s3 = s3
        self._bucket = results_bucket
        self._prefix = results_prefix
        self._pauses = tuple(publish_pauses)

    def after_result(self, result: Mapping[str, Any], *, result_key: str) -> CompletionEvent:
        """Publishes the event of a result just written, then marks it published.

        Unconditional: a result written now is news even if an older result of the same
        version was announced (someone deleted it, and this run made it again). Raises
        ``EventNotPublishedError`` (transient) when the event could not be published.
        """
        event = event_from_result(result, results_bucket=self._bucket, result_key=result_key)
        self._publish(event)
        mark_published(self._s3, self._bucket, marker_key(self._prefix, identity_of(result)), event)
        return event

    def owed(self, version: ObjectRef) -> bool:
        return owes_event(self._s3, self._bucket, marker_key(self._prefix, version))

    def republish_if_owed(self, result_key: str, version: ObjectRef) -> bool:
        """For a delivery that found this version's result: publishes the event it still
        owes (an earlier publish failed, or crashed before its marker). True when published.

        ``version`` is the version the result was made from, as the result's metadata
        says (``ExistingResult.source_version_id`` / ``source_etag``): the one the marker
        was named after. Raises ``EventNotPublishedError`` as ``after_result`` does.
        """
        key = marker_key(self._prefix, version)
        if not owes_event(self._s3, self._bucket, key):
            return False
        result = self._read_result(result_key)
        if result is None or identity_of(result) != version_of(version):
            # Gone, or overwritten by a newer version's result since the caller looked:
            # that run announces its own.
            return False
        event = event_from_result(result, results_bucket=self._bucket, result_key=result_key)
        logger.info("publishing the completion event a result still owed", extra={"result_key": result_key})
        metrics.add_metric(name="CompletionEventsRepublished", unit=MetricUnit.Count, value=1)
        self._publish(event)
        mark_published(self._s3, self._bucket, key, event)
        return True

    def _publish(self, event: CompletionEvent) -> None:
        for pause in (*self._pauses, None):
            try:
                self.publisher.publish(event)
                return
            except EventNotPublishedError as error:
                if pause is None:
                    raise
                logger.warning(
                    "completion event not published yet; trying again", extra={"error": str(error), "retry_in": pause}
                )
                time.sleep(pause)

    def _read_result(self, result_key: str) -> dict[str, Any] | None:
        with storage_errors(ObjectRef(self._bucket, result_key), "GET result", missing_is_permanent=False):
            try:
                body = self._s3.get_object(Bucket=self._bucket, Key=result_key)["Body"].read()
            except ClientError as error:
                if error_code(error) in KEY_NOT_FOUND:
                    return None
                raise
        result: dict[str, Any] = json.loads(body)
        return result
