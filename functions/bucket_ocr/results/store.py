"""Results in the results bucket, with the source's identity in the object metadata.

The metadata lets a duplicate event be recognised with one HEAD request, without reading
or parsing the result itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from bucket_ocr.documents import ObjectRef
from bucket_ocr.storage import error_code, storage_errors

_ETAG = "source-etag"
_VERSION = "source-version-id"
_STATUS = "status"


@dataclass(frozen=True)
class ExistingResult:
    status: str
    source_etag: str | None
    source_version_id: str | None

    def covers(self, etag: str | None, version_id: str | None) -> bool:
        """Whether this result was made from that very object version."""
        if version_id and self.source_version_id:
            return version_id == self.source_version_id
        return bool(etag) and etag == self.source_etag


class ResultStore:
    def __init__(self, s3: Any, bucket: str, *, text_sidecar: bool = False):
        self._s3 = s3
        self._bucket = bucket
        self._text_sidecar = text_sidecar

    def existing(self, result_key: str) -> ExistingResult | None:
        where = ObjectRef(self._bucket, result_key)
        with storage_errors(where, "HEAD result", missing_is_permanent=False):
            try:
                response = self._s3.head_object(Bucket=self._bucket, Key=result_key)
            except ClientError as error:
                if error_code(error) in {"404", "NoSuchKey", "NotFound"}:
                    return None
                raise
        metadata = response.get("Metadata", {})
        return ExistingResult(
            status=metadata.get(_STATUS, ""),
            source_etag=metadata.get(_ETAG) or None,
            source_version_id=metadata.get(_VERSION) or None,
        )

    def put(self, result_key: str, document: dict[str, Any]) -> None:
        source = document["source"]
        # S3 metadata is ASCII only; etags and version ids are, keys are not, so only
        # these go into it.
        metadata = {_STATUS: document["status"], _ETAG: source.get("etag") or "", _VERSION: source.get("version_id") or ""}
        # Compact: results are read by programs, and a page's lines with their polygons
        # are a third smaller and quicker to write without indentation.
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        with storage_errors(ObjectRef(self._bucket, result_key), "PUT result", missing_is_permanent=False):
            if self._text_sidecar and document["status"] == "succeeded":
                self._s3.put_object(
                    Bucket=self._bucket,
                    Key=result_key.removesuffix(".json") + ".txt",
                    Body=document["text"].encode("utf-8"),
                    ContentType="text/plain; charset=utf-8",
                    Metadata=metadata,
                )
            # The JSON goes last: its presence is what marks the object as done.
            self._s3.put_object(
                Bucket=self._bucket,
                Key=result_key,
                Body=body,
                ContentType="application/json; charset=utf-8",
                Metadata=metadata,
            )
