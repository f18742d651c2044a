"""What the soak uploads: a seeded plan of objects, each one or two uploads on a timeline.

Four kinds of object, the four things a bucket sees in practice:
- valid: one small real page (rendered text), uploaded once;
- corrupt: a PNG signature followed by noise, uploaded once; it must end in exactly one
  dead letter;
- duplicate: the same bytes uploaded twice in quick succession, so two events name one
  object version (the case of issue #13's class 6);
- overwrite: a page, then a different page under the same key soon after: the result must
  end up describing the second (class 7).

The plan is made before anything runs, so a seed gives the same uploads, the same gaps and
the same bytes every time.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from bucket_ocr_local.samples import render_page

VALID, CORRUPT, DUPLICATE, OVERWRITE = "valid", "corrupt", "duplicate", "overwrite"
KINDS = (VALID, CORRUPT, DUPLICATE, OVERWRITE)
# Shares of objects per kind: mostly plain uploads, with enough of each hostile kind that
# a 30-upload run has at least one of each.
DEFAULT_MIX = {VALID: 0.55, CORRUPT: 0.15, DUPLICATE: 0.15, OVERWRITE: 0.15}
# Second uploads follow the first within this many seconds: close enough that both
# events are in flight together, which is where duplicates and stale results come from.
SECOND_UPLOAD_WITHIN = 0.3
PAGE_SIZE = (640, 150)  # a short receipt-like strip: real OCR work, well under a second


@dataclass(frozen=True)
class Upload:
    at: float  # seconds from the start of the upload phase
    key: str
    body: bytes
    content_type: str


@dataclass(frozen=True)
class PlannedObject:
    key: str
    kind: str
    uploads: tuple[Upload, ...]

    @property
    def expects_dead_letter(self) -> bool:
        return self.kind == CORRUPT


@dataclass(frozen=True)
class Workload:
    objects: tuple[PlannedObject, ...]
    interval: float  # seconds between first uploads of consecutive objects

    @property
    def timeline(self) -> list[Upload]:
        return sorted((u for o in self.objects for u in o.uploads), key=lambda u: u.at)

    @property
    def upload_count(self) -> int:
        return sum(len(o.uploads) for o in self.objects)

    @property
    def duration(self) -> float:
        return max((u.at for o in self.objects for u in o.uploads), default=0.0)

    def count(self, kind: str) -> int:
        return sum(o.kind == kind for o in self.objects)


def plan_workload(
    uploads: int, *, interval: float, seed: int, prefix: str = "soak/", mix: dict[str, float] | None = None
) -> Workload:
    """Objects until their uploads number exactly ``uploads``, one object every ``interval`` s."""
    rng = random.Random(seed)
    shares = mix or DEFAULT_MIX
    kinds, weights = list(shares), list(shares.values())
    objects: list[PlannedObject] = []
    remaining = uploads
    while remaining > 0:
        kind = _kind_for(len(objects), kinds, weights, rng)
        if remaining == 1 and kind in (DUPLICATE, OVERWRITE):
            kind = VALID  # one upload left: the plan ends on an exact count
        start = len(objects) * interval
        objects.append(_planned(len(objects), kind, start, prefix, rng))
        remaining -= len(objects[-1].uploads)
    return Workload(tuple(objects), interval)


def _kind_for(index: int, kinds: list[str], weights: list[float], rng: random.Random) -> str:
    # The first objects take each kind once, so even a short run has one of every kind.
    if index < len(kinds):
        return kinds[index]
    return rng.choices(kinds, weights)[0]


def _planned(index: int, kind: str, start: float, prefix: str, rng: random.Random) -> PlannedObject:
    key = f"{prefix}{kind}/{index:05d}.png"
    if kind == CORRUPT:
        return PlannedObject(key, kind, (Upload(start, key, corrupt_png(rng), "image/png"),))
    first = page_png(f"SOAK {index:05d} FIRST", f"ref {rng.randrange(10**6):06d}")
    if kind == VALID:
        return PlannedObject(key, kind, (Upload(start, key, first, "image/png"),))
    later = start + rng.uniform(0.0, SECOND_UPLOAD_WITHIN)
    second = first if kind == DUPLICATE else page_png(f"SOAK {index:05d} SECOND", f"ref {rng.randrange(10**6):06d}")
    return PlannedObject(key, kind, (Upload(start, key, first, "image/png"), Upload(later, key, second, "image/png")))


def page_png(*lines: str) -> bytes:
    buffer = io.BytesIO()
    render_page(list(lines), size=PAGE_SIZE, font_size=28).save(buffer, "PNG")
    return buffer.getvalue()


def corrupt_png(rng: random.Random) -> bytes:
    """Recognised as a PNG by its signature, undecodable as one."""
    return b"\x89PNG\r\n\x1a\n" + rng.randbytes(2048)
