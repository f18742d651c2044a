"""The result document, schema version 1 (``result.schema.json`` beside this file)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = "1.0"
PAGE_SEPARATOR = "\n\n"


@dataclass(frozen=True)
class SourceInfo:
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    content_type: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "key": self.key,
            "version_id": self.version_id,
            "etag": self.etag,
            "size": self.size,
            "content_type": self.content_type,
        }


@dataclass
class Timings:
    download_seconds: float = 0.0
    decode_seconds: float = 0.0
    ocr_seconds: float = 0.0
    total_seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in vars(self).items()}


@dataclass(frozen=True)
class PageResult:
    index: int
    width: int
    height: int
    lines: list[dict[str, Any]] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line["text"] for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {"index": self.index, "width": self.width, "height": self.height, "lines": self.lines, "text": self.text}


def line_dict(text: str, confidence: float, polygon: Any, bbox: Any) -> dict[str, Any]:
    return {
        "text": text,
        "confidence": round(float(confidence), 4),
        "polygon": [[round(float(x), 1), round(float(y), 1)] for x, y in polygon],
        "bbox": [round(float(v), 1) for v in bbox],
    }


def succeeded(
    source: SourceInfo, engine: dict[str, Any], timings: Timings, pages: list[PageResult], request_id: str | None
) -> dict[str, Any]:
    return _document(
        "succeeded",
        source,
        engine,
        timings,
        pages=[page.as_dict() for page in pages],
        text=PAGE_SEPARATOR.join(page.text for page in pages),
        error=None,
        request_id=request_id,
    )


def failed(
    source: SourceInfo, engine: dict[str, Any], timings: Timings, error: BaseException, request_id: str | None
) -> dict[str, Any]:
    return _document(
        "failed",
        source,
        engine,
        timings,
        pages=[],
        text="",
        error={"type": type(error).__name__, "message": str(error)},
        request_id=request_id,
    )


def _document(status: str, source: SourceInfo, engine: dict[str, Any], timings: Timings, **rest: Any) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "status": status,
        "source": source.as_dict(),
        "engine": engine,
        "timings": timings.as_dict(),
        "pages": rest["pages"],
        "text": rest["text"],
        "error": rest["error"],
        "processed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="milliseconds"),
        "request_id": rest["request_id"],
    }
