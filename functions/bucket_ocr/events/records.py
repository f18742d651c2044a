"""The one shape every source is normalised to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ObjectRecord:
    bucket: str
    key: str  # decoded: exactly the object's name in the bucket
    event_name: str
    origin: str  # "s3", "minio", "eventbridge", "direct", "s3-batch"
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    # S3's and MinIO's order of events on one key (hex; larger is later); None from
    # sources that do not send it (direct invocations).
    sequencer: str | None = None
    # The record as it arrived, so a dead-letter message can be replayed as is.
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def is_creation(self) -> bool:
        # S3 says "ObjectCreated:Put", MinIO "s3:ObjectCreated:Put", EventBridge
        # "Object Created"; a direct invocation asks for processing by definition.
        name = self.event_name.removeprefix("s3:")
        return self.origin == "direct" or name.startswith("ObjectCreated") or name == "Object Created"
