"""Reading sources and writing results through any S3 API (AWS, MinIO, moto).

Storage failures are sorted here once: an object that is gone is permanent, everything
else (throttling, 5xx, timeouts, dropped connections) is worth a retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from bucket_ocr.documents import ObjectRef
from bucket_ocr.errors import DocumentTooLargeError, ObjectNotFoundError, StorageUnavailableError

_GONE = {"NoSuchKey", "NoSuchBucket", "NoSuchVersion", "404", "NotFound"}


@dataclass(frozen=True)
class Download:
    data: bytes
    etag: str | None
    version_id: str | None
    content_type: str | None
    size: int


@contextlib.contextmanager
def storage_errors(where: ObjectRef, action: str, *, missing_is_permanent: bool = True) -> Iterator[None]:
    """``missing_is_permanent`` is for sources: a source that is gone stays gone. A
    missing results bucket is a deployment fault that a fix makes pass on a retry."""
    try:
        yield
    except ClientError as cause:
        code = error_code(cause)
        if missing_is_permanent and code in _GONE:
            raise ObjectNotFoundError(f"{action}: object not found ({code})", bucket=where.bucket, key=where.key) from cause
        raise StorageUnavailableError(f"{action} failed: {code or cause}", bucket=where.bucket, key=where.key) from cause
    except BotoCoreError as cause:
        raise StorageUnavailableError(f"{action} failed: {cause}", bucket=where.bucket, key=where.key) from cause


def error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def head(s3: Any, where: ObjectRef, version_id: str | None = None) -> dict[str, Any]:
    with storage_errors(where, "HEAD source"):
        extra = {"VersionId": version_id} if version_id else {}
        return s3.head_object(Bucket=where.bucket, Key=where.key, **extra)


def download(s3: Any, where: ObjectRef, *, version_id: str | None, max_bytes: int) -> Download:
    with storage_errors(where, "GET source"):
        extra = {"VersionId": version_id} if version_id else {}
        response = s3.get_object(Bucket=where.bucket, Key=where.key, **extra)
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
    )


def clean_etag(value: str | None) -> str | None:
    return value.strip('"') if value else None
