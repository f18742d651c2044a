"""Reading sources and writing results through any S3 API (AWS, MinIO, moto).

Storage failures are sorted here once. Worth a retry: throttling, 5xx, timeouts, dropped
connections, and the few 4xx that say "try again" (a request timeout, a clock skew, an
expired session token, a conflicting concurrent request). Any other 4xx is S3 refusing
this request for this object (a key it will not store, access denied, an invalid
argument): it fails the same way on every retry, so it is permanent for the object.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr.errors import DocumentTooLargeError, ObjectNotFoundError, StorageRejectedError, StorageUnavailableError
from bucket_ocr.events.records import ObjectRef, clean_etag

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectRequestTypeDef, HeadObjectOutputTypeDef, HeadObjectRequestTypeDef

__all__ = [
    "ACCESS_DENIED",
    "KEY_NOT_FOUND",
    "Download",
    "download",
    "error_code",
    "head",
    "http_status",
    "is_precondition_failure",
    "is_refusal",
    "lost_conditional_write",
    "storage_errors",
]

_GONE = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "404", "NotFound"}
# What S3 answers a HEAD of a key that is not there (the bucket is), and what it answers
# instead to a caller without s3:ListBucket.
KEY_NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound"})
ACCESS_DENIED = frozenset({"403", "AccessDenied", "Forbidden"})
# 4xx answers that mean "not now" rather than "not this".
_RETRYABLE_CLIENT_ERRORS = {
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "ExpiredToken",
    "TokenRefreshRequired",
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "TooManyRequests",
    "RequestLimitExceeded",
    "OperationAborted",
    "ConditionalRequestConflict",
}
_RETRYABLE_STATUS = {408, 429}


@dataclass(frozen=True)
class Download:
    data: bytes
    etag: str | None
    version_id: str | None
    content_type: str | None
    size: int
    metadata: dict[str, str] = field(default_factory=dict)  # user metadata (x-amz-meta-*), keys lower-case


@contextlib.contextmanager
def storage_errors(where: ObjectRef, action: str, *, missing_is_permanent: bool = True) -> Iterator[None]:
    """``missing_is_permanent`` is for sources: a source that is gone stays gone. A
    missing results bucket is a deployment fault that a fix makes pass on a retry."""
    try:
        yield
    except ClientError as cause:
        code = error_code(cause)
        if code in _GONE:
            if missing_is_permanent:
                raise ObjectNotFoundError(
                    f"{action}: object not found ({code})", bucket=where.bucket, key=where.key
                ) from cause
            raise StorageUnavailableError(f"{action} failed: {code}", bucket=where.bucket, key=where.key) from cause
        if is_refusal(cause):
            raise StorageRejectedError(
                f"{action} refused by storage: {code} (HTTP {http_status(cause)})", bucket=where.bucket, key=where.key
            ) from cause
        raise StorageUnavailableError(
            f"{action} failed: {code or cause}", bucket=where.bucket, key=where.key
        ) from cause
    except BotoCoreError as cause:
        raise StorageUnavailableError(f"{action} failed: {cause}", bucket=where.bucket, key=where.key) from cause


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def http_status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def is_refusal(error: ClientError) -> bool:
    """A 4xx that will be the same on every retry of this request."""
    status = http_status(error)
    return 400 <= status < 500 and status not in _RETRYABLE_STATUS and error_code(error) not in _RETRYABLE_CLIENT_ERRORS


def is_precondition_failure(error: ClientError) -> bool:
    """A conditional write lost its race (If-None-Match / If-Match did not hold)."""
    return error_code(error) == "PreconditionFailed" or http_status(error) == 412


def lost_conditional_write(error: ClientError) -> bool:
    """A conditional write (If-None-Match / If-Match) that another writer got in before:
    the condition did not hold, another conditional write on the key was under way
    (S3's ConditionalRequestConflict), or the object it had to match was deleted meanwhile.
    The caller looks at the object again; anything else is the caller's to raise."""
    return is_precondition_failure(error) or error_code(error) in {"NoSuchKey", "ConditionalRequestConflict"}


def head(s3: S3Client, where: ObjectRef, version_id: str | None = None) -> HeadObjectOutputTypeDef:
    request: HeadObjectRequestTypeDef = {"Bucket": where.bucket, "Key": where.key}
    if version_id:
        request["VersionId"] = version_id
    with storage_errors(where, "HEAD source"):
        return s3.head_object(**request)


def download(s3: S3Client, where: ObjectRef, *, version_id: str | None, max_bytes: int) -> Download:
    request: GetObjectRequestTypeDef = {"Bucket": where.bucket, "Key": where.key}
    if version_id:
        request["VersionId"] = version_id
    with storage_errors(where, "GET source"):
        response = s3.get_object(**request)
        body = response["Body"]
        size = int(response.get("ContentLength") or 0)
        if size > max_bytes:
            # Checked on the header, before reading: an oversized upload never enters memory.
            body.close()
            raise DocumentTooLargeError(
                f"{size} bytes is over the limit of {max_bytes} (OCR_MAX_OBJECT_BYTES)",
                bucket=where.bucket,
                key=where.key,
            )
        data = body.read()
    return Download(
        data=data,
        etag=clean_etag(response.get("ETag")),
        version_id=response.get("VersionId"),
        content_type=response.get("ContentType"),
        size=len(data),
        metadata={name.lower(): value for name, value in (response.get("Metadata") or {}).items()},
    )
