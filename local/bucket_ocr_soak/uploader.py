"""Puts the workload's uploads into the input bucket on their timeline, and remembers each one.

The uploader talks to the store directly (Toxiproxy sits only between workers and
storage). When MinIO is down for an injected outage an upload cannot succeed; it is tried
again until the store answers, as a client with retries would, and its time is when it
finally succeeded: that is when the object, and its event, exist.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr.events.records import clean_etag
from bucket_ocr.storage import error_code
from bucket_ocr_local.spec import StackSpec
from bucket_ocr_soak.errors import UploadFailedError
from bucket_ocr_soak.workload import Upload, Workload

RETRY_PAUSE = 0.5
# The longest an injected outage plus a server's restart may keep one upload from landing.
UPLOAD_DEADLINE = 180.0


@dataclass(frozen=True)
class UploadRecord:
    key: str
    etag: str
    uploaded_at: float  # wall clock (time.time()) when the store acknowledged it
    attempts: int


class Uploader:
    def __init__(self, spec: StackSpec, bucket: str, *, stopping: Callable[[], bool] = lambda: False):
        self._s3 = spec.client("s3")
        self._bucket = bucket
        self._stopping = stopping
        self.records: list[UploadRecord] = []

    def run(self, workload: Workload, *, on_progress: Callable[[int, int], None] | None = None) -> list[UploadRecord]:
        started = time.monotonic()
        timeline = workload.timeline
        for done, upload in enumerate(timeline, start=1):
            if self._stopping():
                break
            # Pacing, not synchronisation: the offered load is one object per interval.
            time.sleep(max(0.0, started + upload.at - time.monotonic()))
            self.records.append(self.put(upload))
            if on_progress:
                on_progress(done, len(timeline))
        return self.records

    def put(self, upload: Upload) -> UploadRecord:
        deadline = time.monotonic() + UPLOAD_DEADLINE
        attempts = 0
        while True:
            attempts += 1
            try:
                response = self._s3.put_object(
                    Bucket=self._bucket, Key=upload.key, Body=upload.body, ContentType=upload.content_type
                )
                return UploadRecord(upload.key, clean_etag(response["ETag"]), time.time(), attempts)
            except (BotoCoreError, ClientError) as failure:
                if isinstance(failure, ClientError) and not _worth_retrying(failure):
                    raise UploadFailedError(f"s3://{self._bucket}/{upload.key}: {failure}") from failure
                if time.monotonic() >= deadline:
                    raise UploadFailedError(f"s3://{self._bucket}/{upload.key}: {failure}") from failure
                time.sleep(RETRY_PAUSE)


def _worth_retrying(failure: ClientError) -> bool:
    # A store that is starting (MinIO's 503 XMinioServerNotInitialized) or overloaded
    # answers 5xx, and MinIO says ClientDisconnected of an upload cut off as it shuts
    # down; other 4xx mean the request itself is wrong and will stay wrong.
    status = failure.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return status >= 500 or error_code(failure) in {"SlowDown", "RequestTimeout", "ClientDisconnected"}
