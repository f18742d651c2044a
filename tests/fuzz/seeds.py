"""Small valid documents of every accepted format, the material the fuzz tier mutates.

Made here with Pillow and pypdfium2 (and one PDF by hand) rather than kept as files, so
every run starts from the same bytes and a reader can see what each seed exercises.
Pages are tiny: the fuzz spends its time on mutants, not on decoding large clean pages.
Each decoder variant worth reaching gets its own seed (a TIFF compression, a PNG colour
type), because a mutant mostly stays on the code path of the file it came from.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, ImageDraw

from tests.fuzz.compact_pdf import compact_pdf
from tests.support.documents import blank_pdf


@dataclass(frozen=True)
class Seed:
    name: str
    data: bytes = field(repr=False)
    pages: int  # what the valid seed decodes to, checked so a broken seed cannot pass unnoticed

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        # Hypothesis prints a failing case's arguments through this; the seed's bytes
        # would bury the mutant that matters.
        printer.text(f"SEEDS_BY_NAME[{self.name!r}]")


def _ink(size: tuple[int, int], background: str, mode: str = "RGB") -> Image.Image:
    """A page with strokes and text, so compressed data has structure to break."""
    image = Image.new(mode, size, background)
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.rectangle((2, 2, width - 3, height - 3), outline="black")
    draw.line((0, height - 1, width - 1, 0), fill="black", width=2)
    draw.text((4, height // 3), "Ab 12", fill="black")
    return image


def _frames(count: int, size: tuple[int, int] = (40, 28)) -> list[Image.Image]:
    return [_ink(size, colour) for colour in ("white", "yellow", "cyan", "pink")[:count]]


def encode(images: list[Image.Image], fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    extra = {"save_all": True, "append_images": images[1:]} if len(images) > 1 else {}
    images[0].save(buffer, fmt, **extra, **options)
    return buffer.getvalue()


def _transparent_palette_png() -> bytes:
    image = _ink((36, 24), "white").convert("P", palette=Image.Palette.ADAPTIVE, colors=8)
    return encode([image], "PNG", transparency=0)


_MAKERS: dict[str, tuple[Callable[[], bytes], int]] = {
    "png-rgb": (lambda: encode([_ink((40, 28), "white")], "PNG"), 1),
    "png-grey-interlaced": (lambda: encode([_ink((40, 28), "white", "L")], "PNG", interlace=1), 1),
    "png-palette-transparent": (_transparent_palette_png, 1),
    "apng-3-frames": (lambda: encode(_frames(3), "PNG"), 3),
    "jpeg-baseline": (lambda: encode([_ink((40, 28), "white")], "JPEG", quality=80), 1),
    "jpeg-progressive-exif": (
        lambda: encode([_ink((40, 28), "white")], "JPEG", progressive=True, exif=_rotated_exif()),
        1,
    ),
    "mpo-2-frames": (lambda: encode(_frames(2), "MPO"), 2),
    "tiff-raw-3-pages": (lambda: encode(_frames(3), "TIFF"), 3),
    "tiff-lzw-2-pages": (lambda: encode(_frames(2), "TIFF", compression="tiff_lzw"), 2),
    "tiff-deflate": (lambda: encode(_frames(1), "TIFF", compression="tiff_adobe_deflate"), 1),
    "tiff-jpeg": (lambda: encode(_frames(1), "TIFF", compression="jpeg"), 1),
    "tiff-g4-bilevel": (lambda: encode([_ink((40, 28), "white").convert("1")], "TIFF", compression="group4"), 1),
    "webp-lossless": (lambda: encode([_ink((40, 28), "white")], "WEBP", lossless=True), 1),
    "webp-lossy": (lambda: encode([_ink((40, 28), "white")], "WEBP", quality=70), 1),
    "webp-animated-2-frames": (lambda: encode(_frames(2), "WEBP", lossless=True), 2),
    "bmp-palette": (lambda: encode([_ink((40, 28), "white").convert("P")], "BMP"), 1),
    # GIF is not an accepted type: every mutant must be refused, never handed to a decoder.
    "gif-3-frames": (lambda: encode(_frames(3), "GIF"), 0),
    "pdf-images-2-pages": (lambda: encode(_frames(2), "PDF", resolution=72), 2),
    "pdf-pdfium-2-pages": (lambda: blank_pdf([(90, 60), (60, 90)]), 2),
    "pdf-xref-stream-text": (compact_pdf, 1),
}


def _rotated_exif() -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate on display, so the transposing path is fuzzed too
    return exif.tobytes()


def build_seeds() -> list[Seed]:
    return [Seed(name, make(), pages) for name, (make, pages) in _MAKERS.items()]


SEEDS = build_seeds()
SEEDS_BY_NAME = {seed.name: seed for seed in SEEDS}
