"""The one type of an object along the whole trip, and the record an event makes of it.

An ``ObjectRef`` is an object in a bucket, as precisely as it is known so far: an event
names bucket and key and often version and etag; a HEAD or the download fills in the rest.
The same type is the storage layer's address and the result's ``source``. An
``ObjectRecord`` is an ``ObjectRef`` as an event named it, with what only the event knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal

# Where an event came from; a direct invocation is a person's (or a redrive's) request.
Origin = Literal["s3", "minio", "eventbridge", "direct", "s3-batch"]


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str  # decoded: exactly the object's name in the bucket
    version_id: str | None = None
    etag: str | None = None  # without S3's quotes (see ``clean_etag``)
    size: int | None = None
    content_type: str | None = None  # the detected document type, once downloaded

    def as_dict(self) -> dict[str, Any]:
        """The result's ``source``: the object's fields only, also for a record's."""
        return {item.name: getattr(self, item.name) for item in fields(ObjectRef)}


@dataclass(frozen=True, kw_only=True)
class ObjectRecord(ObjectRef):
    event_name: str
    origin: Origin
    # S3's and MinIO's order of events on one key (hex; larger is later); None from
    # sources that do not send it (direct invocations).
    sequencer: str | None = None
    # The record as it arrived, so a dead-letter message can be replayed as is.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_creation(self) -> bool:
        """The one place that decides whether an event asks for OCR.

        S3 says "ObjectCreated:Put", MinIO "s3:ObjectCreated:Put", EventBridge "Object
        Created"; a direct invocation asks for processing by definition.
        """
        name = self.event_name.removeprefix("s3:")
        return self.origin == "direct" or name.startswith("ObjectCreated") or name == "Object Created"


def clean_etag(value: object) -> str | None:
    """An ETag as S3 quotes it (``"abc"``) or an event sends it (``abc``), without quotes."""
    if not isinstance(value, str):
        return None
    return value.strip('"') or None
