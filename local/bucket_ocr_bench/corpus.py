"""The seeded page corpus: files as users upload them, with their ground-truth lines.

Everything random comes from `random.Random` seeded by the run's seed, so a seed, the
same installed text and the same fonts give byte-identical pages; `corpus.json` records
the seed and the sha256 of every text file used, which tells when a machine's text differs.

The upright A4 pages draw from `Random(seed)` exactly as before other kinds existed, so
their bytes, and the headline figures measured on them, stay comparable with earlier
runs; each other kind draws from a generator of its own, so choosing kinds changes no
other kind's pages.
"""

from __future__ import annotations

import json
import random
from collections.abc import Collection
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from PIL import Image

from bucket_ocr_bench import page_render
from bucket_ocr_bench.text_sources import TextSource, english_source, spanish_source

DPIS = (150, 200)
LANGUAGES = ("en", "es")
MIN_LINES, MAX_LINES = 30, 50
MIN_POINTS, MAX_POINTS = 10, 14
CONTENT_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "tiff": "image/tiff", "pdf": "application/pdf"}

UPRIGHT = "a4"
ROTATED = "rotated"
TWO_COLUMN = "two-column"
THREE_COLUMN = "three-column"
RECEIPT = "receipt"
SKEWED = "skewed"
KIND_GROUPS = (UPRIGHT, ROTATED, TWO_COLUMN, THREE_COLUMN, RECEIPT, SKEWED)
EXTRA_KINDS = KIND_GROUPS[1:]
KIND_TITLES = {
    UPRIGHT: "upright A4",
    ROTATED: "rotated",
    TWO_COLUMN: "two-column",
    THREE_COLUMN: "three-column",
    RECEIPT: "receipt",
    SKEWED: "skewed",
}
TURNS = (90, 180, 270)
KINDS = (UPRIGHT, *(f"{ROTATED}-{degrees}" for degrees in TURNS), TWO_COLUMN, THREE_COLUMN, RECEIPT, SKEWED)
# (columns, language, dpi): both column counts at both resolutions and in both languages.
COLUMN_PAGES = ((2, "en", 150), (2, "es", 200), (3, "es", 150), (3, "en", 200))
COLUMN_BODY_POINTS = (9, 11)
TITLE_POINTS, FOOTER_POINTS = 20, 8
# (height over width, language): a till roll 560 px wide, ~22 px text, as a phone or scanner keeps it.
RECEIPTS = ((4, "en"), (6, "es"), (8, "en"))
RECEIPT_WIDTH_PX, RECEIPT_TEXT_PX, RECEIPT_MARGIN_PX, RECEIPT_DPI = 560, 22, 24, 203
RECEIPT_FORMATS = ("jpeg", "png", "tiff")
# (degrees counter-clockwise, language, dpi): a sheet fed in at a slant.
SKEWS = ((3.0, "en", 150), (-3.0, "es", 200))


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
    kind: str = UPRIGHT  # UPRIGHT, "rotated-90"/-180/-270, or one of EXTRA_KINDS
    # Degrees the stored page is turned clockwise from upright: the convention of the
    # engine's PageReading.rotation and the result's "rotation", so they compare directly.
    rotation: int = 0
    blocks: tuple[int, ...] = ()  # column pages: lines of the title, each column, the footer

    @property
    def group(self) -> str:
        return kind_group(self.kind)

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

    def only(self, *groups: str) -> Corpus:
        """The same corpus restricted to some kinds: the once-per-run figures take upright A4 alone."""
        return replace(self, pages=tuple(page for page in self.pages if page.group in groups))

    def manifest(self) -> dict:
        return {
            "seed": self.seed,
            "sources": self.sources,
            "pages": [{**asdict(page), "lines": list(page.lines)} for page in self.pages],
        }


def kind_group(kind: str) -> str:
    return ROTATED if kind.startswith(f"{ROTATED}-") else kind


def check_kinds(kinds: Collection[str]) -> None:
    unknown = set(kinds) - set(EXTRA_KINDS)
    if unknown:
        raise ValueError(f"unknown page kinds {sorted(unknown)}; choose from {', '.join(EXTRA_KINDS)}")


def build_corpus(directory: Path, pages: int, seed: int, kinds: Collection[str] = EXTRA_KINDS) -> Corpus:
    """`pages` upright A4 pages cycling through format x language x DPI, so small corpora
    cover all, then the other `kinds`: each A4 page turned 90, 180 and 270 degrees, the
    column pages, receipts and skewed pages of the tables above."""
    check_kinds(kinds)
    rng = random.Random(seed)
    sources = {"en": english_source(), "es": spanish_source()}
    directory.mkdir(parents=True, exist_ok=True)
    upright, turned = [], []
    for index in range(pages):
        file_format = page_render.FORMATS[index % len(page_render.FORMATS)]
        language = LANGUAGES[(index // len(page_render.FORMATS)) % len(LANGUAGES)]
        dpi = DPIS[(index + index // (len(page_render.FORMATS) * len(LANGUAGES))) % len(DPIS)]
        page, image = _make_page(index, file_format, language, dpi, sources[language], rng)
        upright.append(_store(directory, page, image))
        if ROTATED in kinds:
            turned += [_store(directory, *_turned(page, image, degrees)) for degrees in TURNS]
    built = upright + turned
    if TWO_COLUMN in kinds or THREE_COLUMN in kinds:
        columns_rng = random.Random(f"{seed}:columns")
        for index, (columns, language, dpi) in enumerate(COLUMN_PAGES):
            file_format = page_render.FORMATS[index % len(page_render.FORMATS)]
            page, image = _make_column_page(index, columns, file_format, language, dpi, sources[language], columns_rng)
            if page.kind in kinds:
                built.append(_store(directory, page, image))
    if RECEIPT in kinds:
        receipt_rng = random.Random(f"{seed}:receipts")
        for index, (aspect, language) in enumerate(RECEIPTS):
            file_format = RECEIPT_FORMATS[index % len(RECEIPT_FORMATS)]
            page, image = _make_receipt(index, aspect, file_format, language, sources[language], receipt_rng)
            built.append(_store(directory, page, image))
    if SKEWED in kinds:
        skew_rng = random.Random(f"{seed}:skewed")
        for index, (degrees, language, dpi) in enumerate(SKEWS):
            file_format = page_render.FORMATS[index % len(page_render.FORMATS)]
            page, image = _make_page(index, file_format, language, dpi, sources[language], skew_rng, skew=degrees)
            built.append(_store(directory, page, image))
    corpus = Corpus(
        directory=directory,
        seed=seed,
        pages=tuple(built),
        sources={lang: [asdict(f) for f in source.files] for lang, source in sources.items()},
    )
    (directory / "corpus.json").write_text(
        json.dumps(corpus.manifest(), ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return corpus


def _store(directory: Path, page: CorpusPage, image: Image.Image) -> CorpusPage:
    (directory / page.file_name).write_bytes(
        page_render.encode(image, page.file_format, page.dpi, page.defects.jpeg_quality)
    )
    return page


def _file_name(page_id: str, file_format: str) -> str:
    return f"{page_id}.{'jpg' if file_format == 'jpeg' else file_format}"


def _make_page(
    index: int,
    file_format: str,
    language: str,
    dpi: int,
    source: TextSource,
    rng: random.Random,
    skew: float | None = None,
) -> tuple[CorpusPage, Image.Image]:
    font_name = rng.choice(page_render.FONTS)
    points = rng.randint(MIN_POINTS, MAX_POINTS)
    wanted = rng.randint(MIN_LINES, min(MAX_LINES, page_render.lines_that_fit(points)))
    font = page_render.load_font(font_name, points, dpi)
    start = rng.randrange(0, max(1, len(source.words) - 2000))
    lines = page_render.wrap_words(source.words[start:], font, page_render.text_width_px(dpi), wanted)
    defects = page_render.Defects.sample(rng)
    page_id = f"p{index:03d}-{language}-{dpi}dpi-{points}pt"
    if skew is not None:
        # Drawn after the sample, so a skewed page uses its generator as an upright one would.
        defects = replace(defects, rotation_degrees=skew)
        page_id = f"k{index:02d}-{language}-{dpi}dpi-{points}pt-skew{skew:+.0f}"
    image = page_render.scan_defects(page_render.render_page(lines, font, points, dpi), defects, rng)
    kind = UPRIGHT if skew is None else SKEWED
    names = (page_id, _file_name(page_id, file_format), file_format)
    return CorpusPage(*names, language, dpi, font_name, points, defects, tuple(lines), kind=kind), image


def _turned(page: CorpusPage, image: Image.Image, degrees: int) -> tuple[CorpusPage, Image.Image]:
    """The scanned page turned whole, stored in its own format (a PDF page then is the
    turned scan, landscape for 90 and 270, as a sheet fed in sideways comes out)."""
    page_id = f"{page.page_id}-rot{degrees}"
    turned = replace(
        page,
        page_id=page_id,
        file_name=_file_name(page_id, page.file_format),
        kind=f"{ROTATED}-{degrees}",
        rotation=degrees,
    )
    return turned, page_render.turn(image, degrees)


def _make_column_page(
    index: int, columns: int, file_format: str, language: str, dpi: int, source: TextSource, rng: random.Random
) -> tuple[CorpusPage, Image.Image]:
    font_name = rng.choice(page_render.FONTS)
    points = rng.randint(*COLUMN_BODY_POINTS)
    width = page_render.text_width_px(dpi)
    title_font = page_render.load_font(page_render.TITLE_FONT, TITLE_POINTS, dpi)
    footer_font = page_render.load_font(font_name, FOOTER_POINTS, dpi)
    body_font = page_render.load_font(font_name, points, dpi)
    title_words = source.words[rng.randrange(0, len(source.words) - 10) :][: rng.randint(3, 6)]
    title = page_render.wrap_words(title_words, title_font, width, 1)
    footer = page_render.wrap_words(source.words[rng.randrange(0, len(source.words) - 100) :], footer_font, width, 2)
    fit = page_render.column_lines_that_fit(dpi, points, len(title), TITLE_POINTS, len(footer), FOOTER_POINTS)
    # Full columns but the last, which ends where the article does.
    counts = [fit - rng.randint(0, 2) for _ in range(columns - 1)] + [rng.randint(fit // 2, fit)]
    start = rng.randrange(0, max(1, len(source.words) - 3000))
    body = page_render.wrap_words(
        source.words[start:], body_font, page_render.column_width_px(dpi, columns), sum(counts)
    )
    split = [tuple(body[sum(counts[:i]) : sum(counts[: i + 1])]) for i in range(columns)]
    defects = page_render.Defects.sample(rng)
    image = page_render.render_columns(
        page_render.Block(tuple(title), title_font, TITLE_POINTS),
        [page_render.Block(column, body_font, points) for column in split],
        page_render.Block(tuple(footer), footer_font, FOOTER_POINTS),
        dpi,
    )
    image = page_render.scan_defects(image, defects, rng)
    kind = TWO_COLUMN if columns == 2 else THREE_COLUMN
    page_id = f"c{index:02d}-{columns}col-{language}-{dpi}dpi-{points}pt"
    names = (page_id, _file_name(page_id, file_format), file_format)
    lines = (*title, *(line for column in split for line in column), *footer)  # reading order
    blocks = (len(title), *map(len, split), len(footer))
    return CorpusPage(*names, language, dpi, font_name, points, defects, lines, kind=kind, blocks=blocks), image


_RECEIPT_WORDS = {
    "en": {"subtotal": "SUBTOTAL", "tax": "TAX", "total": "TOTAL", "thanks": "THANK YOU FOR YOUR VISIT"},
    "es": {"subtotal": "SUBTOTAL", "tax": "IVA 21%", "total": "TOTAL", "thanks": "GRACIAS POR SU COMPRA"},
}


def _make_receipt(
    index: int, aspect: int, file_format: str, language: str, source: TextSource, rng: random.Random
) -> tuple[CorpusPage, Image.Image]:
    size = (RECEIPT_WIDTH_PX, RECEIPT_WIDTH_PX * aspect)
    font = page_render.receipt_font(RECEIPT_TEXT_PX)
    step = RECEIPT_TEXT_PX * page_render.LINE_SPACING
    capacity = int((size[1] - 2 * RECEIPT_MARGIN_PX) // step)
    text_width = size[0] - 2 * RECEIPT_MARGIN_PX
    words = _RECEIPT_WORDS[language]

    def price(cents: int) -> str:
        amount = f"{cents // 100}.{cents % 100:02d}"
        return amount.replace(".", ",") if language == "es" else amount

    def name(max_px: float, fewest: int = 1) -> str:
        start = rng.randrange(0, len(source.words) - 5)
        wanted = source.words[start : start + rng.randint(fewest, 3)]
        return (page_render.wrap_words(wanted, font, round(max_px), 1) or [wanted[0][:12]])[0]

    shop = name(text_width, fewest=2).upper()
    day, month, hour, minute = rng.randint(1, 28), rng.randint(1, 12), rng.randint(8, 21), rng.randint(0, 59)
    header: list[tuple[str, str] | None] = [
        (shop, ""),
        (f"{day:02d}/{month:02d}/2026 {hour:02d}:{minute:02d}", f"#{rng.randint(1000, 9999)}"),
        None,
    ]
    trailer_rows = 6  # blank, subtotal, tax, total, blank, thanks
    items: list[tuple[str, str] | None] = []
    cents_total = 0
    price_px = font.getlength("0000,00 ")
    while len(header) + len(items) + trailer_rows < capacity:
        cents = rng.randint(45, 4999)
        cents_total += cents
        items.append((name(text_width - price_px), price(cents)))
    tax = round(cents_total * 0.21)
    rows = [
        *header,
        *items,
        None,
        (words["subtotal"], price(cents_total)),
        (words["tax"], price(tax)),
        (words["total"], price(cents_total + tax)),
        None,
        (words["thanks"], ""),
    ]
    defects = page_render.Defects.sample(rng)
    image = page_render.scan_defects(page_render.render_receipt(rows, font, size, RECEIPT_MARGIN_PX), defects, rng)
    page_id = f"r{index:02d}-1x{aspect}-{language}"
    names = (page_id, _file_name(page_id, file_format), file_format)
    points = round(RECEIPT_TEXT_PX * page_render.POINTS_PER_INCH / RECEIPT_DPI)
    lines = tuple(" ".join(part for part in row if part) for row in rows if row is not None)  # each row left to right
    return CorpusPage(
        *names, language, RECEIPT_DPI, page_render.RECEIPT_FONT, points, defects, lines, kind=RECEIPT
    ), image


def render_for_pdf(corpus: Corpus, count: int) -> bytes:
    """A `count`-page image-only PDF made of the corpus pages, cycled, for memory runs."""
    from bucket_ocr.documents import iter_pages
    from bucket_ocr.events.records import ObjectRef
    from bucket_ocr.settings import Limits

    images: list[Image.Image] = []
    for index in range(count):
        page = corpus.pages[index % len(corpus.pages)]
        _, decoded = iter_pages(
            corpus.data(page), ObjectRef("corpus", page.file_name), limits=Limits(), pdf_dpi=page.dpi
        )
        images.append(next(decoded).convert("L"))
    return page_render.multi_page_pdf(images, dpi=150)
