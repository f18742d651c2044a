"""One reader per object version: a claim taken with a conditional write before OCR.

Two deliveries of the same upload (S3 and MinIO deliver at least once; a user uploads the
same bytes twice within a second) can reach two instances at the same moment. Both find
no result, so the result alone cannot stop both from running OCR. Before reading, an
instance writes a claim object with ``If-None-Match: *``: S3 and MinIO let exactly one such
write succeed. The winner reads; the others wait until its result is there, then skip.

A claim is a lease, renewed while its holder works. A holder that dies (kill -9, OOM, a
Lambda timeout) stops renewing, and once the lease has run out the next delivery takes the
claim over with ``If-Match`` on the stale claim's ETag, so two cannot take it over at once.
Ages are measured on the storage server's clock (its ``Date`` header against the claim's
``Last-Modified``), never against the local clock, which may be skewed.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr.errors import DocumentBusyError
from bucket_ocr.events.records import ObjectRef, clean_etag
from bucket_ocr.observability import logger
from bucket_ocr.periodic import Periodic
from bucket_ocr.storage import (
    KEY_NOT_FOUND,
    error_code,
    is_precondition_failure,
    lost_conditional_write,
    storage_errors,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import HeadObjectOutputTypeDef

CLAIMS_FOLDER = ".claims/"
# Storage that is away for a moment (a MinIO restart) should not leave the claim to
# block the next delivery for a whole lease; after these, the lease runs out on its own.
RELEASE_PAUSES = (0.5, 1.0, 2.0, None)


@dataclass(frozen=True)
class ClaimTimes:
    # A holder renews every third of the lease, so two missed renewals still keep it.
    # Short, so a delivery that comes back after its holder died waits little (the soak:
    # with 30 s, two workers stood idle behind the claims of killed ones).
    lease_seconds: float = 10.0
    # How long a second delivery waits for the holder's result before handing the event
    # back to the platform for a later retry.
    wait_seconds: float = 300.0
    poll_seconds: float = 1.0


def version_of(source: ObjectRef) -> ObjectRef:
    """What makes two deliveries the same work: the object and its version (or content).

    Only these four fields: what a HEAD or the download adds (size, type) and what an
    event adds must not make one version two.
    """
    return ObjectRef(source.bucket, source.key, source.version_id, source.etag)


def version_digest(source: ObjectRef) -> str:
    """The name of a version's claim and of its completion marker (stable: markers persist)."""
    name = json.dumps([source.bucket, source.key, source.version_id or "", source.etag or ""], ensure_ascii=False)
    return hashlib.sha256(name.encode("utf-8")).hexdigest()


class ClaimStore:
    def __init__(self, s3: S3Client, bucket: str, prefix: str, *, times: ClaimTimes = ClaimTimes()):
        self._s3 = s3
        self._bucket = bucket
        # Under the results prefix, so a results bucket that is also a source bucket
        # ignores claims as its own output.
        self._folder = prefix + CLAIMS_FOLDER
        self._times = times

    def key_for(self, source: ObjectRef) -> str:
        return self._folder + version_digest(source)

    @contextlib.contextmanager
    def held(self, source: ObjectRef, *, finished: Callable[[], bool], request_id: str | None = None) -> Iterator[bool]:
        """Yields True while this instance holds the claim (renewed in the background), or
        False when ``finished()`` says another instance has already done the work.

        Raises ``DocumentBusyError`` (transient) when the holder is still at work after
        the wait, so the platform retries later instead of two instances reading at once.
        """
        key = self.key_for(source)
        where = ObjectRef(self._bucket, key)
        body = json.dumps({"source": [source.bucket, source.key], "request_id": request_id}).encode()
        waited_since = time.monotonic()
        while True:
            etag = self._take(where, body)
            if etag is not None:
                break
            if finished():
                yield False
                return
            if time.monotonic() - waited_since > self._times.wait_seconds:
                raise DocumentBusyError(
                    f"another instance has held the claim for over {self._times.wait_seconds:.0f} s",
                    bucket=source.bucket,
                    key=source.key,
                )
            time.sleep(self._times.poll_seconds)
        lease = _Lease(self._s3, where, etag, body, interval=self._times.lease_seconds / 3)
        try:
            with lease:
                # Another holder may have finished and let go between our last look at the
                # results and our write: looked at once more, now that no one else can start.
                yield not finished()
        finally:
            lease.release()

    def _take(self, where: ObjectRef, body: bytes) -> str | None:
        """The claim's ETag once written by us; None while another instance holds it."""
        with storage_errors(where, "PUT claim", missing_is_permanent=False):
            try:
                return clean_etag(
                    self._s3.put_object(Bucket=where.bucket, Key=where.key, Body=body, IfNoneMatch="*")["ETag"]
                )
            except ClientError as error:
                if not lost_conditional_write(error):
                    raise
            stale_etag = self._stale_claim(where)
            if stale_etag is None:
                return None
            try:
                taken = self._s3.put_object(Bucket=where.bucket, Key=where.key, Body=body, IfMatch=f'"{stale_etag}"')
            except ClientError as error:
                # Another instance took it over first, or its holder renewed it just now.
                if lost_conditional_write(error):
                    return None
                raise
            logger.warning("took over a claim whose holder stopped renewing it", extra={"claim": where.key})
            return clean_etag(taken["ETag"])

    def _stale_claim(self, where: ObjectRef) -> str | None:
        """The ETag of the current claim if its lease has run out, else None."""
        try:
            head = self._s3.head_object(Bucket=where.bucket, Key=where.key)
        except ClientError as error:
            if error_code(error) in KEY_NOT_FOUND:
                return None  # released between our two requests: the next attempt takes it
            raise
        age = _server_now(head) - head["LastModified"].timestamp()
        # HTTP dates count whole seconds: a claim renewed just now can look a second older.
        return clean_etag(head["ETag"]) if age > self._times.lease_seconds + 1 else None


class _Lease(Periodic):
    """Renews a claim on a background thread until released; stops if someone took it over."""

    def __init__(self, s3: S3Client, where: ObjectRef, etag: str, body: bytes, *, interval: float):
        super().__init__(interval, name="claim-lease", join_seconds=30)
        self._s3 = s3
        self._where = where
        self._etag = etag
        self._body = body
        self._lost = False

    def tick(self) -> bool:
        try:
            answer = self._s3.put_object(
                Bucket=self._where.bucket, Key=self._where.key, Body=self._body, IfMatch=f'"{self._etag}"'
            )
            self._etag = clean_etag(answer["ETag"]) or self._etag
        except ClientError as error:
            # Not lost_conditional_write: a conflict here is a takeover still under way
            # that may yet fail, so the lease is renewed again rather than given up.
            if is_precondition_failure(error) or error_code(error) == "NoSuchKey":
                self._lost = True
                logger.warning("claim taken over by another instance while reading", extra={"claim": self._where.key})
                return False
            logger.warning("claim renewal failed; trying again", extra={"claim": self._where.key, "error": str(error)})
        except BotoCoreError as error:  # a dropped connection: the next renewal may pass
            logger.warning("claim renewal failed; trying again", extra={"claim": self._where.key, "error": str(error)})
        return True

    def release(self) -> None:
        """Deletes the claim unless another instance holds it now; a claim left behind
        only makes the next delivery wait out the lease, so failures are logged, not raised."""
        if self._lost:
            return
        for pause in RELEASE_PAUSES:
            try:
                self._s3.delete_object(Bucket=self._where.bucket, Key=self._where.key)
                return
            except (ClientError, BotoCoreError) as error:
                logger.warning(
                    "could not release a claim",
                    extra={"claim": self._where.key, "error": str(error), "retry_in": pause},
                )
            if pause is not None:
                time.sleep(pause)


def _server_now(response: HeadObjectOutputTypeDef) -> float:
    date = response["ResponseMetadata"]["HTTPHeaders"].get("date")
    if date:
        return email.utils.parsedate_to_datetime(date).timestamp()
    return time.time()  # a server that sends no Date header: local and server time agree
