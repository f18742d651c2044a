"""The seeded page corpus: files as users upload them, with their ground-truth lines.

Everything random comes from one `random.Random(seed)`, so a seed, the same installed
text and the same fonts give byte-identical pages; `corpus.json` records the seed and the
sha256 of every text file used, which tells when a machine's text differs.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from pathlib import Path

from PIL import Image

from bucket_ocr_bench import page_render
from bucket_ocr_bench.text_sources import TextSource, english_source, spanish_source

DPIS = (150, 200)
LANGUAGES = ("en", "es")
MIN_LINES, MAX_LINES = 30, 50
MIN_POINTS, MAX_POINTS = 10, 14
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff", "pdf": "application/pdf"}


@dataclass(frozen=True)
class CorpusPage:
    page_id: str
    file_name: str
    file_format: str
    language: str
    dpi: int
    font: str
    font_points: int
    defects: page_render.Defects
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.file_format]


@dataclass(frozen=True)
class Corpus:
    directory: Path
    seed: int
    pages: tuple[CorpusPage, ...]
    sources: dict[str, list[dict[str, str]]]

    def data(self, page: CorpusPage) -> bytes:
        return (self.directory / page.file_name).read_bytes()

    def manifest(self) -> dict:
        return {
            "seed": self.seed,
            "sources": self.sources,
            "pages": [{**asdict(page), "lines": list(page.lines)} for page in self.pages],
        }


def build_corpus(directory: Path, pages: int, seed: int) -> Corpus:
    """`pages` pages cycling through format x language x DPI, so small corpora cover all."""
    rng = random.Random(seed)
    sources = {"en": english_source(), "es": spanish_source()}
    directory.mkdir(parents=True, exist_ok=True)
    built = []
    for index in range(pages):
        file_format = page_render.FORMATS[index % len(page_render.FORMATS)]
        language = LANGUAGES[(index // len(page_render.FORMATS)) % len(LANGUAGES)]
        dpi = DPIS[(index + index // (len(page_render.FORMATS) * len(LANGUAGES))) % len(DPIS)]
        page, image = _make_page(index, file_format, language, dpi, sources[language], rng)
        data = page_render.encode(image, file_format, dpi, page.defects.jpeg_quality)
        (directory / page.file_name).write_bytes(data)
        built.append(page)
    corpus = Corpus(
        directory=directory,
        seed=seed,
        pages=tuple(built),
        sources={lang: [asdict(f) for f in source.files] for lang, source in sources.items()},
    )
    (directory / "corpus.json").write_text(json.dumps(corpus.manifest(), ensure_ascii=False, indent=1), encoding="utf-8")
    return corpus


def _make_page(
    index: int, file_format: str, language: str, dpi: int, source: TextSource, rng: random.Random
) -> tuple[CorpusPage, Image.Image]:
    font_name = rng.choice(page_render.FONTS)
    points = rng.randint(MIN_POINTS, MAX_POINTS)
    wanted = rng.randint(MIN_LINES, min(MAX_LINES, page_render.lines_that_fit(points)))
    font = page_render.load_font(font_name, points, dpi)
    start = rng.randrange(0, max(1, len(source.words) - 2000))
    lines = page_render.wrap_words(source.words[start:], font, page_render.text_width_px(dpi), wanted)
    defects = page_render.Defects.sample(rng)
    image = page_render.scan_defects(page_render.render_page(lines, font, points, dpi), defects, rng)
    extension = "jpg" if file_format == "jpeg" else file_format
    page_id = f"p{index:03d}-{language}-{dpi}dpi-{points}pt"
    page = CorpusPage(
        page_id=page_id,
        file_name=f"{page_id}.{extension}",
        file_format=file_format,
        language=language,
        dpi=dpi,
        font=font_name,
        font_points=points,
        defects=defects,
        lines=tuple(lines),
    )
    return page, image


def render_for_pdf(corpus: Corpus, count: int) -> bytes:
    """A `count`-page image-only PDF made of the corpus pages, cycled, for memory runs."""
    from bucket_ocr.documents import ObjectRef, iter_pages
    from bucket_ocr.settings import Limits

    images: list[Image.Image] = []
    for index in range(count):
        page = corpus.pages[index % len(corpus.pages)]
        _, decoded = iter_pages(corpus.data(page), ObjectRef("corpus", page.file_name), limits=Limits(), pdf_dpi=page.dpi)
        images.append(next(decoded).convert("L"))
    return page_render.multi_page_pdf(images, dpi=150)
