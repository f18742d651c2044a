"""Results in the results bucket, with the source's identity in the object metadata.

The metadata lets a duplicate event be recognised with one HEAD request, without reading
or parsing the result itself.

Writes are ordered: the result must end up describing the source's latest version even
when an older version's run finishes last (a quick overwrite). Each write is conditional
on the result it replaces (``If-Match`` its ETag, or ``If-None-Match: *`` when there is
none), and is dropped when the result there comes from a later event (S3's and MinIO's
``sequencer``) or when the source has moved on to another version since this run began.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from bucket_ocr.errors import StorageUnavailableError
from bucket_ocr.events.records import ObjectRef, clean_etag
from bucket_ocr.observability import logger
from bucket_ocr.outputs import OutputKind, Rendered, output_key
from bucket_ocr.storage import (
    ACCESS_DENIED,
    KEY_NOT_FOUND,
    error_code,
    lost_conditional_write,
    storage_errors,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import PutObjectRequestTypeDef

_ETAG = "source-etag"
_VERSION = "source-version-id"
_SEQUENCER = "source-sequencer"
_STATUS = "status"
# Each lost race means another write landed in between; this many in a row means the key
# is being rewritten faster than we can read it, which a later retry resolves.
_WRITE_ATTEMPTS = 5
# Pauses between writes of a finished result while storage is unavailable (15 s in all).
WRITE_RETRY_PAUSES = (1.0, 2.0, 4.0, 8.0)


@dataclass(frozen=True)
class ExistingResult:
    status: str
    source_etag: str | None
    source_version_id: str | None
    source_sequencer: str | None = None
    etag: str | None = None  # the result object's own, for a conditional overwrite

    def covers(self, etag: str | None, version_id: str | None) -> bool:
        """Whether this result was made from that very object version."""
        if version_id and self.source_version_id:
            return version_id == self.source_version_id
        return bool(etag) and etag == self.source_etag

    def is_later_than(self, sequencer: str | None) -> bool:
        """Whether it comes from a later event on the same key than ``sequencer``."""
        return sequencer_order(self.source_sequencer) > sequencer_order(sequencer)


def sequencer_order(sequencer: str | None) -> int:
    """S3 and MinIO sequencers are hex strings of varying length, ordered once left-padded
    with zeros, which is their value as a number. Unknown or unreadable ones order first."""
    try:
        return int(sequencer, 16) if sequencer else -1
    except ValueError:
        return -1


def output_keys(result_key: str, kinds: Iterable[OutputKind]) -> dict[OutputKind, str]:
    """Where each output kind of a result goes: ``{"json": result_key, "pdf": "….pdf", ...}``."""
    return {kind: output_key(result_key, kind) for kind in kinds}


class ResultStore:
    def __init__(self, s3: S3Client, bucket: str):
        self._s3 = s3
        self._bucket = bucket
        self._warned_access_denied = False

    def existing(self, result_key: str) -> ExistingResult | None:
        where = ObjectRef(self._bucket, result_key)
        with storage_errors(where, "HEAD result", missing_is_permanent=False):
            try:
                response = self._s3.head_object(Bucket=self._bucket, Key=result_key)
            except ClientError as error:
                if error_code(error) in KEY_NOT_FOUND:
                    return None
                if error_code(error) in ACCESS_DENIED:
                    # S3 answers a HEAD of a missing key with 403 instead of 404 to a caller
                    # without s3:ListBucket. Treated as "no usable result": the run goes on,
                    # and the conditional write still keeps results ordered.
                    self._warn_access_denied(result_key)
                    return None
                raise
        metadata = response.get("Metadata", {})
        return ExistingResult(
            status=metadata.get(_STATUS, ""),
            source_etag=metadata.get(_ETAG) or None,
            source_version_id=metadata.get(_VERSION) or None,
            source_sequencer=metadata.get(_SEQUENCER) or None,
            etag=clean_etag(response.get("ETag")),
        )

    def put(
        self,
        result_key: str,
        document: dict[str, Any],
        *,
        sequencer: str | None = None,
        source_is_current: Callable[[], bool] = lambda: True,
        sidecars: Sequence[Rendered] = (),
    ) -> bool:
        """Writes the result (and its sidecars, before it) unless a later one is there or the source has a newer version.

        True when written; False when this result was superseded (the newer version's run
        writes, or has written, its own). Storage that is away for a moment (a MinIO
        restart, the soak's) is waited for: giving up would throw the OCR away, and the
        retry would read the whole document again.
        """
        for pause in WRITE_RETRY_PAUSES:
            try:
                return self._put_ordered(result_key, document, sequencer, source_is_current, sidecars)
            except StorageUnavailableError as error:
                logger.warning("result not written yet; trying again", extra={"error": str(error), "retry_in": pause})
                time.sleep(pause)
        # The last try: its failure goes to the platform's retry.
        return self._put_ordered(result_key, document, sequencer, source_is_current, sidecars)

    def _put_ordered(
        self,
        result_key: str,
        document: dict[str, Any],
        sequencer: str | None,
        source_is_current: Callable[[], bool],
        sidecars: Sequence[Rendered],
    ) -> bool:
        source = document["source"]
        # S3 metadata is ASCII only; etags, version ids and sequencers are, keys are not,
        # so only these go into it.
        metadata = {
            _STATUS: document["status"],
            _ETAG: source.get("etag") or "",
            _VERSION: source.get("version_id") or "",
            _SEQUENCER: sequencer or "",
        }
        # Compact: results are read by programs, and a page's lines with their polygons
        # are a third smaller and quicker to write without indentation.
        body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        where = ObjectRef(self._bucket, result_key)
        for _ in range(_WRITE_ATTEMPTS):
            there = self.existing(result_key)
            if there is not None and there.is_later_than(sequencer):
                logger.info("superseded: a later event's result is already written", extra={"result_key": result_key})
                return False
            if not source_is_current():
                logger.info("superseded: the source has a newer version", extra={"result_key": result_key})
                return False
            with storage_errors(where, "PUT result", missing_is_permanent=False):
                for sidecar in sidecars:
                    self._s3.put_object(
                        Bucket=self._bucket,
                        Key=output_key(result_key, sidecar.kind),
                        Body=sidecar.body,
                        ContentType=sidecar.content_type,
                        Metadata=metadata,
                    )
                request: PutObjectRequestTypeDef = {
                    "Bucket": self._bucket,
                    "Key": result_key,
                    "Body": body,
                    "ContentType": "application/json; charset=utf-8",
                    "Metadata": metadata,
                }
                if there is not None and there.etag:
                    request["IfMatch"] = f'"{there.etag}"'
                else:
                    request["IfNoneMatch"] = "*"
                try:
                    # The JSON goes last: its presence is what marks the object as done.
                    self._s3.put_object(**request)
                except ClientError as error:
                    # Another run wrote (or removed) the result since we looked: look again.
                    if lost_conditional_write(error):
                        continue
                    raise
            return True
        raise StorageUnavailableError(
            f"PUT result: the result changed under {_WRITE_ATTEMPTS} conditional writes in a row",
            bucket=self._bucket,
            key=result_key,
        )

    def _warn_access_denied(self, result_key: str) -> None:
        if not self._warned_access_denied:
            self._warned_access_denied = True
            logger.warning(
                "HEAD of a result was denied (403): grant s3:ListBucket on the results bucket so "
                "a missing result reads as 404; going on as if there were none",
                extra={"result_key": result_key},
            )
