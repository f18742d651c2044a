"""What a backfill has to do: every object under a prefix, and why it is or is not sent."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Final, Literal

from bucket_ocr.errors import OcrFunctionError
from bucket_ocr.events.records import clean_etag
from bucket_ocr.events.synthetic import object_created_notification, sequencer_after
from bucket_ocr.results.keys import result_key_for
from bucket_ocr.results.store import ResultStore

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Why an object is, or is not, sent.
Reason = Literal["no-result", "stale-result", "unchecked", "done", "failed-before", "own-output", "folder"]
# Reasons an object is sent.
NO_RESULT: Final = "no-result"
STALE_RESULT: Final = "stale-result"  # a result of another version (an overwrite whose event was lost)
UNCHECKED: Final = "unchecked"  # the result could not be looked at: sent, the function checks again
ENQUEUE: frozenset[Reason] = frozenset({NO_RESULT, STALE_RESULT, UNCHECKED})
# Reasons it is not.
DONE: Final = "done"
# A failed result for this etag: the function would skip it as a duplicate too, so sending
# it again changes nothing; deleting the result is what makes it read again.
FAILED_BEFORE: Final = "failed-before"
ALREADY_DONE: frozenset[Reason] = frozenset({DONE, FAILED_BEFORE})
OWN_OUTPUT: Final = "own-output"
FOLDER: Final = "folder"  # a zero-byte "dir/" marker the console makes: no document


@dataclass(frozen=True)
class ListedObject:
    bucket: str
    key: str
    etag: str | None
    size: int | None
    version_id: str | None = None
    # Orders the event after the result it replaces (events/synthetic.py).
    sequencer: str | None = None

    def notification(self, region: str = "us-east-1") -> dict[str, Any]:
        return object_created_notification(
            self.bucket,
            self.key,
            etag=self.etag,
            version_id=self.version_id,
            size=self.size,
            sequencer=self.sequencer,
            region=region,
        )


def plan(
    s3: S3Client,
    source_bucket: str,
    prefix: str,
    results_bucket: str,
    results_prefix: str,
    *,
    concurrency: int = 16,
) -> Iterator[tuple[ListedObject, Reason]]:
    """Each object under ``prefix`` with its reason, in listing order.

    ListObjectsV2 lists the current version of each key (a versioned bucket's older
    versions and delete markers are not listed), with the etag the duplicate check
    compares; one HEAD of the result key per object says whether that etag is done. The
    HEADs of one listing page run ``concurrency`` at a time: on millions of objects they
    are the whole cost.
    """
    results = ResultStore(s3, results_bucket)
    with ThreadPoolExecutor(max_workers=max(1, concurrency), thread_name_prefix="backfill-head") as pool:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=source_bucket, Prefix=prefix):
            items = [
                ListedObject(
                    bucket=source_bucket,
                    key=item["Key"],
                    etag=clean_etag(item.get("ETag")),
                    size=item.get("Size"),
                )
                for item in page.get("Contents", [])
            ]
            yield from pool.map(lambda listed: _verdict(results, listed, results_bucket, results_prefix), items)


def _verdict(
    results: ResultStore, listed: ListedObject, results_bucket: str, results_prefix: str
) -> tuple[ListedObject, Reason]:
    # The function's own test (Settings.is_own_output): a result must never be OCR'd.
    if listed.bucket == results_bucket and listed.key.startswith(results_prefix):
        return listed, OWN_OUTPUT
    if listed.key.endswith("/") and not listed.size:
        return listed, FOLDER
    try:
        existing = results.existing(result_key_for(results_prefix, listed.bucket, listed.key))
    except OcrFunctionError:
        return listed, UNCHECKED
    if existing is None:
        return listed, NO_RESULT
    if existing.covers(listed.etag, listed.version_id):
        return listed, FAILED_BEFORE if existing.status == "failed" else DONE
    return replace(listed, sequencer=sequencer_after(existing.source_sequencer)), STALE_RESULT
