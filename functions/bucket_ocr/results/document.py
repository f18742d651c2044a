"""The result document, schema version 1 (``result.schema.json`` beside this file).

1.1 only adds to 1.0 (rotation, orientation confidence and dpi per page; words and
normalised geometry per line), so a reader of 1.0 goes on working unchanged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from bucket_ocr.events.records import ObjectRef

if TYPE_CHECKING:
    from PIL import Image

    from bucket_ocr.engine.text_line import PageReading
    from bucket_ocr.outputs import OutputKind

Status = Literal["succeeded", "failed"]
SCHEMA_VERSION = "1.1"
PAGE_SEPARATOR = "\n\n"


@dataclass
class Timings:
    download_seconds: float = 0.0
    decode_seconds: float = 0.0
    ocr_seconds: float = 0.0
    total_seconds: float = 0.0

    def as_dict(self) -> dict[str, float]:
        return {name: round(value, 4) for name, value in vars(self).items()}


class Region(Protocol):
    """A line or a word as the engine reads it, in pixels of the page as stored."""

    text: str
    confidence: float
    polygon: Any

    @property
    def bbox(self) -> tuple[float, float, float, float]: ...


@dataclass(frozen=True)
class PageResult:
    index: int
    width: int
    height: int
    lines: list[dict[str, Any]] = field(default_factory=list)
    rotation: int = 0
    orientation_confidence: float | None = None
    dpi: tuple[float, float] | None = None

    @property
    def text(self) -> str:
        return "\n".join(line["text"] for line in self.lines)

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "width": self.width,
            "height": self.height,
            "rotation": self.rotation,
            "orientation_confidence": (
                None if self.orientation_confidence is None else round(float(self.orientation_confidence), 4)
            ),
            # Converted resolutions land a hair off the round figure (300 dpi stored as
            # 11811 px/m reads 299.9994); two decimals give the figure back.
            "dpi": None if self.dpi is None else [round(float(v), 2) for v in self.dpi],
            "lines": self.lines,
            "text": self.text,
        }


def page_result(index: int, image: Image.Image, reading: PageReading) -> PageResult:
    """A page as the result holds it: the engine's reading of ``image``, sized to the page as stored."""
    width, height = image.size
    return PageResult(
        index=index,
        width=width,
        height=height,
        lines=[line_dict(line, width, height) for line in reading.lines],
        rotation=reading.rotation,
        orientation_confidence=reading.orientation_confidence,
        dpi=image.info.get("dpi"),  # set by ``iter_pages`` where the document states it
    )


def line_dict(line: Any, width: int, height: int) -> dict[str, Any]:
    """A line of a ``width`` x ``height`` page, with its words (``line.words``)."""
    return {**_region(line, width, height), "words": [_region(word, width, height) for word in line.words]}


def _region(region: Region, width: int, height: int) -> dict[str, Any]:
    polygon = [(round(float(x), 1), round(float(y), 1)) for x, y in region.polygon]
    # Rounding is monotonic, so the rounded bbox is still the bbox of the rounded polygon.
    bbox = [round(float(v), 1) for v in region.bbox]
    return {
        "text": region.text,
        "confidence": round(float(region.confidence), 4),
        "polygon": [list(point) for point in polygon],
        "bbox": bbox,
        "polygon_normalized": [[_ratio(x, width), _ratio(y, height)] for x, y in polygon],
        "bbox_normalized": [
            _ratio(bbox[0], width),
            _ratio(bbox[1], height),
            _ratio(bbox[2], width),
            _ratio(bbox[3], height),
        ],
    }


def _ratio(pixels: float, size: int) -> float:
    # Six decimals keep a point within a tenth of a pixel on a 100,000-pixel side; the
    # clamp is for a detector box that reaches past the edge, which the engine should
    # not deliver but a consumer of ratios must never see.
    return round(min(max(pixels / size, 0.0), 1.0), 6)


def succeeded(
    source: ObjectRef,
    engine: dict[str, Any],
    timings: Timings,
    pages: list[PageResult],
    request_id: str | None,
    *,
    outputs: Mapping[OutputKind, str],
    job_tag: str | None = None,
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
        job_tag=job_tag,
        outputs=outputs,
    )


def failed(
    source: ObjectRef,
    engine: dict[str, Any],
    timings: Timings,
    error: BaseException,
    request_id: str | None,
    *,
    outputs: Mapping[OutputKind, str],
    job_tag: str | None = None,
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
        job_tag=job_tag,
        outputs=outputs,
    )


def _document(
    status: Status, source: ObjectRef, engine: dict[str, Any], timings: Timings, **rest: Any
) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "status": status,
        "source": source.as_dict(),
        "engine": engine,
        "timings": timings.as_dict(),
        "pages": rest["pages"],
        "text": rest["text"],
        "error": rest["error"],
        "processed_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
        "request_id": rest["request_id"],
        "job_tag": rest["job_tag"],
        "outputs": dict(rest["outputs"]),
    }
