"""Sample documents made at run time: known text on white pages, a PDF, one corrupt file.

Rendered here rather than shipped, so the demo needs no binary files in the repo and the
expected words are right next to the pixels that carry them.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

PAGE_SIZE = (1240, 1754)  # A4 at 150 DPI, the function's default PDF rendering


@dataclass(frozen=True)
class Sample:
    name: str  # also the object key under the demo prefix
    data: bytes
    expected_words: tuple[str, ...]  # empty for the document that must fail
    content_type: str


def render_page(lines: list[str], *, size: tuple[int, int] = PAGE_SIZE, font_size: int = 40) -> Image.Image:
    page = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=font_size)
    y = font_size * 2
    for line in lines:
        draw.text((font_size * 2, y), line, fill="black", font=font)
        y += int(font_size * 1.8)
    return page


def _png(page: Image.Image) -> bytes:
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    return buffer.getvalue()


def _pdf(pages: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", resolution=150.0, save_all=True, append_images=pages[1:])
    return buffer.getvalue()


def demo_samples() -> list[Sample]:
    receipt = ["INVOICE 2026-0042", "Coffee beans 2 kg", "Total due 118.40 EUR"]
    letter_one = ["Dear reader,", "Scale comes from more workers", "not from threads."]
    letter_two = ["Page two of the letter", "Kind regards"]
    return [
        Sample("receipt.png", _png(render_page(receipt, size=(1000, 420))), ("INVOICE", "118.40"), "image/png"),
        Sample(
            "two-page letter.pdf",
            _pdf([render_page(letter_one), render_page(letter_two)]),
            ("workers", "regards"),
            "application/pdf",
        ),
        # A PNG signature followed by noise: recognised as an image, undecodable as one.
        Sample("corrupt scan.png", b"\x89PNG\r\n\x1a\n" + os.urandom(2048), (), "image/png"),
    ]


def write_samples(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for sample in demo_samples():
        path = folder / sample.name
        path.write_bytes(sample.data)
        paths.append(path)
    return paths
