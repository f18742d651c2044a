"""A4 pages of known lines, with the mild defects of an office scan, in four file formats.

Sizes are physical (inches, points), so a 150 and a 200 DPI page hold the same layout.
"""

from __future__ import annotations

import io
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from bucket_ocr_bench.errors import FontMissingError

A4_INCHES = (8.27, 11.69)
POINTS_PER_INCH = 72
MARGIN_INCHES = 0.8
LINE_SPACING = 1.3  # baseline-to-baseline distance over the font size
FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONTS = ("DejaVuSans.ttf", "DejaVuSerif.ttf")
TITLE_FONT = "DejaVuSans-Bold.ttf"
RECEIPT_FONT = "DejaVuSansMono.ttf"  # till printers print in a fixed pitch
COLUMN_GUTTER_INCHES = 0.35
BLOCK_GAP_INCHES = 0.3  # between the title, the columns and the footer
FORMATS = ("png", "jpeg", "tiff", "pdf")
# Pillow stamps PDFs with the current time; a fixed one keeps a seed's files byte-identical.
_FIXED_PDF_DATES = {"creationDate": time.gmtime(946684800), "modDate": time.gmtime(946684800)}  # 2000-01-01


@dataclass(frozen=True)
class Defects:
    rotation_degrees: float
    noise_sigma: float  # grey levels of Gaussian sensor noise
    blur_radius: float  # pixels of Gaussian blur (slight defocus)
    jpeg_quality: int  # used for JPEG files and the scans embedded in PDFs

    @classmethod
    def sample(cls, rng: random.Random) -> Defects:
        return cls(
            rotation_degrees=round(rng.uniform(-1.0, 1.0), 2),
            noise_sigma=round(rng.uniform(2.0, 8.0), 1),
            blur_radius=round(rng.uniform(0.0, 0.7), 2),
            jpeg_quality=rng.randint(60, 85),
        )


def font_path(name: str) -> Path:
    path = FONT_DIR / name
    if not path.is_file():
        raise FontMissingError(f"{path} not found; install it with: apt-get install fonts-dejavu-core")
    return path


def load_font(name: str, font_points: float, dpi: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(name)), size=round(font_points * dpi / POINTS_PER_INCH))


def text_width_px(dpi: int) -> int:
    return round((A4_INCHES[0] - 2 * MARGIN_INCHES) * dpi)


def lines_that_fit(font_points: float) -> int:
    usable = (A4_INCHES[1] - 2 * MARGIN_INCHES) * POINTS_PER_INCH
    return int(usable // (font_points * LINE_SPACING))


def wrap_words(words: Sequence[str], font: ImageFont.FreeTypeFont, width_px: int, count: int) -> list[str]:
    """Greedy line filling, `count` lines at most, each no wider than `width_px`."""
    lines: list[str] = []
    current: list[str] = []
    for word in words:
        candidate = " ".join([*current, word])
        if current and font.getlength(candidate) > width_px:
            lines.append(" ".join(current))
            if len(lines) == count:
                return lines
            current = [word]
        else:
            current.append(word)
    if current and len(lines) < count:
        lines.append(" ".join(current))
    return lines


def render_page(lines: Sequence[str], font: ImageFont.FreeTypeFont, font_points: float, dpi: int) -> Image.Image:
    width, height = (round(side * dpi) for side in A4_INCHES)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    margin = round(MARGIN_INCHES * dpi)
    step = font_points * LINE_SPACING * dpi / POINTS_PER_INCH
    for index, line in enumerate(lines):
        draw.text((margin, margin + round(index * step)), line, fill=0, font=font)
    return page


def line_step_px(font_points: float, dpi: int) -> float:
    return font_points * LINE_SPACING * dpi / POINTS_PER_INCH


def column_width_px(dpi: int, columns: int) -> int:
    return (text_width_px(dpi) - round(COLUMN_GUTTER_INCHES * dpi) * (columns - 1)) // columns


def column_lines_that_fit(
    dpi: int, body_points: float, title_lines: int, title_points: float, footer_lines: int, footer_points: float
) -> int:
    """Body lines a column holds between the title block and the footer block."""
    height = round(A4_INCHES[1] * dpi) - 2 * round(MARGIN_INCHES * dpi)
    used = (
        title_lines * line_step_px(title_points, dpi)
        + footer_lines * line_step_px(footer_points, dpi)
        + 2 * BLOCK_GAP_INCHES * dpi
    )
    return int((height - used) // line_step_px(body_points, dpi))


@dataclass(frozen=True)
class Block:
    lines: tuple[str, ...]
    font: ImageFont.FreeTypeFont
    font_points: float


def render_columns(title: Block, columns: Sequence[Block], footer: Block, dpi: int) -> Image.Image:
    """A newsletter page: a full-width title, side-by-side columns, a full-width footer at the foot."""
    width, height = (round(side * dpi) for side in A4_INCHES)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    margin = round(MARGIN_INCHES * dpi)
    gap = BLOCK_GAP_INCHES * dpi
    _draw_block(draw, title, margin, margin, dpi)
    top = margin + len(title.lines) * line_step_px(title.font_points, dpi) + gap
    column_width = column_width_px(dpi, len(columns))
    for index, column in enumerate(columns):
        _draw_block(draw, column, margin + index * (column_width + round(COLUMN_GUTTER_INCHES * dpi)), top, dpi)
    footer_top = height - margin - len(footer.lines) * line_step_px(footer.font_points, dpi)
    _draw_block(draw, footer, margin, footer_top, dpi)
    return page


def _draw_block(draw: ImageDraw.ImageDraw, block: Block, left: float, top: float, dpi: int) -> None:
    step = line_step_px(block.font_points, dpi)
    for index, line in enumerate(block.lines):
        draw.text((round(left), round(top + index * step)), line, fill=0, font=block.font)


def receipt_font(pixels: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(font_path(RECEIPT_FONT)), size=pixels)


def render_receipt(
    rows: Sequence[tuple[str, str] | None], font: ImageFont.FreeTypeFont, size: tuple[int, int], margin: int
) -> Image.Image:
    """A till roll: each row a left part and a right-aligned part (a price); None is a blank row."""
    width, height = size
    step = font.size * LINE_SPACING
    if margin + len(rows) * step > height - margin:
        raise ValueError(f"{len(rows)} receipt rows do not fit in {height} px")
    page = Image.new("L", size, 255)
    draw = ImageDraw.Draw(page)
    for index, row in enumerate(rows):
        if row is None:
            continue
        left, right = row
        top = round(margin + index * step)
        if left:
            draw.text((margin, top), left, fill=0, font=font)
        if right:
            draw.text((width - margin - round(font.getlength(right)), top), right, fill=0, font=font)
    return page


def turn(page: Image.Image, degrees: int) -> Image.Image:
    """The whole page turned `degrees` clockwise, as a sheet fed into the scanner sideways or upside down."""
    return page.rotate(-degrees, expand=True, fillcolor=255)  # PIL turns counter-clockwise


def scan_defects(page: Image.Image, defects: Defects, rng: random.Random) -> Image.Image:
    page = page.rotate(defects.rotation_degrees, resample=Image.Resampling.BICUBIC, fillcolor=255)
    if defects.blur_radius > 0:
        page = page.filter(ImageFilter.GaussianBlur(defects.blur_radius))
    noise = np.random.default_rng(rng.getrandbits(32)).normal(0.0, defects.noise_sigma, (page.height, page.width))
    pixels = np.clip(np.asarray(page, dtype=np.float32) + noise, 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, mode="L")


def encode(page: Image.Image, file_format: str, dpi: int, jpeg_quality: int) -> bytes:
    buffer = io.BytesIO()
    if file_format == "png":
        page.save(buffer, format="PNG", dpi=(dpi, dpi))
    elif file_format == "jpeg":
        page.save(buffer, format="JPEG", quality=jpeg_quality, dpi=(dpi, dpi))
    elif file_format == "tiff":
        page.save(buffer, format="TIFF", compression="tiff_lzw", dpi=(dpi, dpi))
    elif file_format == "pdf":
        # Image-only, as a scanner writes it: the page is one JPEG, sized by its DPI.
        page.save(buffer, format="PDF", resolution=float(dpi), quality=jpeg_quality, **_FIXED_PDF_DATES)
    else:
        raise ValueError(f"unknown format {file_format!r}; choose from {', '.join(FORMATS)}")
    return buffer.getvalue()


def multi_page_pdf(pages: Sequence[Image.Image], dpi: int, jpeg_quality: int = 75) -> bytes:
    buffer = io.BytesIO()
    first, *rest = pages
    first.save(
        buffer,
        format="PDF",
        resolution=float(dpi),
        quality=jpeg_quality,
        save_all=True,
        append_images=rest,
        **_FIXED_PDF_DATES,
    )
    return buffer.getvalue()
