"""Reading order by layout (issue #10), on pages built from line boxes.

Geometry is that of a 150 DPI A4 page as PaddleOCR detects 10 pt text: boxes 24 px high
on a 27 px pitch, a 1,000 px text width. Each test shuffles its lines first, so the
order detection happens to return them in proves nothing.
"""

from __future__ import annotations

import math
import random

import pytest

from bucket_ocr.engine.reading_order import reading_order
from bucket_ocr.engine.text_line import TextLine

HEIGHT = 24
PITCH = 27
LEFT = 120
WIDTH = 1000
PAGE_CENTRE = (620.0, 877.0)


def _line(text: str, x0: float, y0: float, x1: float, y1: float) -> TextLine:
    return TextLine(text=text, confidence=0.9, polygon=[(x0, y0), (x1, y0), (x1, y1), (x0, y1)])


def _read(lines: list[TextLine], seed: int = 7) -> list[str]:
    shuffled = list(lines)
    random.Random(seed).shuffle(shuffled)
    return [line.text for line in reading_order(shuffled)]


def _turned(lines: list[TextLine], degrees: float) -> list[TextLine]:
    """The page scanned turned clockwise by ``degrees`` about its centre, corners in the
    same order (each line's first corner is still its top-left as read)."""
    angle = math.radians(degrees)
    cos, sin = math.cos(angle), math.sin(angle)
    cx, cy = PAGE_CENTRE

    def turn(x: float, y: float) -> tuple[float, float]:
        return (cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos)

    return [TextLine(line.text, line.confidence, [turn(x, y) for x, y in line.polygon]) for line in lines]


def _paragraph(name: str, x0: float, width: float, top: float, count: int, height: float = HEIGHT) -> list[TextLine]:
    """Ragged-right lines of one column; the last line of the paragraph is short."""
    lines = []
    for index in range(count):
        line_width = width * 0.3 if index == count - 1 else width - (index * 37) % 90
        y0 = top + index * PITCH
        lines.append(_line(f"{name}{index + 1}", x0, y0, x0 + line_width, y0 + height))
    return lines


def _columns(count: int, gutter: float, rows: int = 12, height: float = HEIGHT) -> tuple[list[TextLine], list[str]]:
    """A full-width title, ``count`` columns set on one grid, a full-width footer on the
    next line after them."""
    title = _line("title", LEFT, 130, LEFT + 700, 170 + height - HEIGHT)
    width = (WIDTH - (count - 1) * gutter) / count
    body = [
        line
        for column in range(count)
        for line in _paragraph(f"col{column + 1}-", LEFT + column * (width + gutter), width, 180, rows, height)
    ]
    footer_top = 180 + rows * PITCH
    footer = _line("footer", LEFT, footer_top, LEFT + WIDTH, footer_top + height)
    lines = [title, *body, footer]
    return lines, ["title", *(line.text for line in body), "footer"]


def _single_column_page() -> tuple[list[TextLine], list[str]]:
    """A letter: paragraph, label/value rows with tops a few px apart, closing lines."""
    paragraph = _paragraph("p", LEFT, WIDTH, 100, 6)
    top = 100 + 7 * PITCH
    rows = [
        _line("Invoice number", LEFT, top + 3, LEFT + 180, top + 3 + HEIGHT),
        _line("12345", LEFT + 400, top, LEFT + 470, top + HEIGHT),
        _line("Date", LEFT, top + PITCH, LEFT + 60, top + PITCH + HEIGHT),
        _line("15 July 2026", LEFT + 400, top + PITCH - 4, LEFT + 560, top + PITCH - 4 + HEIGHT),
    ]
    closing = [
        _line("Kind regards,", LEFT, top + 3 * PITCH, LEFT + 170, top + 3 * PITCH + HEIGHT),
        _line("Ana Núñez", LEFT, top + 4 * PITCH, LEFT + 130, top + 4 * PITCH + HEIGHT),
    ]
    lines = [*paragraph, *rows, *closing]
    return lines, [line.text for line in lines]


def test_an_empty_page_gives_no_lines() -> None:
    assert reading_order([]) == []


def test_a_single_line_comes_back_alone() -> None:
    line = _line("only", 10, 10, 200, 34)
    assert reading_order([line]) == [line]


def test_a_single_column_paragraph_reads_top_to_bottom() -> None:
    # given the lines of one paragraph, the last one short
    lines = _paragraph("p", LEFT, WIDTH, 100, 8)
    # when ordered, then they read top to bottom
    assert _read(lines) == [f"p{index}" for index in range(1, 9)]


def test_a_label_and_its_value_on_one_row_read_left_to_right_even_when_the_value_sits_higher() -> None:
    # given label/value pairs whose values sit a few px higher than their labels
    lines, expected = _single_column_page()
    # when ordered, then each label is followed by its value, the page top to bottom
    assert _read(lines) == expected


@pytest.mark.parametrize(
    "gutter", [0.8 * HEIGHT, 40, 3 * HEIGHT], ids=["latex-gutter", "leaflet-gutter", "word-gutter"]
)
def test_a_two_column_page_reads_title_then_each_column_then_footer(gutter: float) -> None:
    # given a title, two columns whose lines sit on the same rows, and a footer
    lines, expected = _columns(2, gutter)
    # when ordered, then the first column is read whole before the second
    assert _read(lines) == expected


def test_a_three_column_page_reads_title_then_each_column_then_footer() -> None:
    lines, expected = _columns(3, 40)
    assert _read(lines) == expected


def test_columns_whose_boxes_overlap_the_next_line_are_still_told_from_title_and_footer() -> None:
    # given a two-column page whose boxes each reach 9 px into the next line's, as the
    # detector's grown boxes of tightly set text do, title and footer included
    lines, expected = _columns(2, 40, height=PITCH + 9)
    # when ordered, then the title still comes first and the columns one after the other
    assert _read(lines) == expected


def test_columns_of_short_lines_set_at_different_heights_read_column_by_column() -> None:
    # given two lists of short items, the right one on a double pitch, half a line lower
    left = [_line(f"left{i}", LEFT, 100 + i * PITCH, LEFT + 150, 100 + i * PITCH + HEIGHT) for i in range(6)]
    right = [_line(f"right{i}", 700, 113 + i * 2 * PITCH, 850, 113 + i * 2 * PITCH + HEIGHT) for i in range(3)]
    # when ordered, then they are not interleaved: cells of a table would share rows
    assert _read(left + right) == [line.text for line in left + right]


@pytest.mark.parametrize("columns", [2, 3, 4])
def test_an_invoice_table_reads_row_by_row(columns: int) -> None:
    # given a table whose cells share rows (tops a px or two apart), each with a header
    xs = [LEFT, LEFT + 420, LEFT + 620, LEFT + 850][:columns]
    header = ["Description", "Qty", "Unit price", "Amount"][:columns]
    items = [
        ["Consulting services, March", "10", "90.00", "900.00"],
        ["Travel to the Madrid office", "1", "120.00", "120.00"],
        ["Licence renewal for one year", "2", "45.00", "90.00"],
        ["Support hours", "4", "60.00", "240.00"],
    ]
    lines, expected = [], []
    for row, cells in enumerate([header, *items]):
        top = 300 + row * PITCH
        # xs and the header hold the first `columns` columns; the cells beyond are left out
        for column, (x0, text) in enumerate(zip(xs, cells, strict=False)):
            width = 13 * len(text)
            lines.append(_line(text, x0, top + (row + column) % 3, x0 + width, top + (row + column) % 3 + HEIGHT))
            expected.append(text)
    # when ordered, then each row is read across, rows top to bottom
    assert _read(lines) == expected


def test_a_dense_table_with_narrow_gutters_reads_row_by_row() -> None:
    # given a table of short cells a little wider than three of its gutters (30 px)
    cells = [["Item", "Unit price", "Quantity", "Amount"], ["Paper A4", "4.20 EUR", "10 boxes", "42.00 EUR"]]
    cells += [["Toner black", "61.00 EUR", "2 units", "122.00 EUR"], ["Staples", "1.10 EUR", "5 packs", "5.50 EUR"]]
    lines, expected = [], []
    for row, texts in enumerate(cells):
        top = 300 + row * PITCH
        for column, text in enumerate(texts):
            x0 = LEFT + column * 175
            lines.append(_line(text, x0, top, x0 + 145, top + HEIGHT))
            expected.append(text)
    # when ordered, then it is read across, not as four columns of prose
    assert _read(lines) == expected


def test_invoice_totals_with_labels_far_from_their_amounts_read_row_by_row() -> None:
    # given labels on the left and amounts at the right margin, a wide gap between
    labels = ["Subtotal", "VAT 21 %", "Total amount due"]
    amounts = ["1,350.00", "283.50", "1,633.50 EUR"]
    lines, expected = [], []
    for row, (label, amount) in enumerate(zip(labels, amounts, strict=True)):
        top = 500 + row * PITCH
        lines.append(_line(label, LEFT, top, LEFT + 14 * len(label), top + HEIGHT))
        lines.append(_line(amount, LEFT + WIDTH - 14 * len(amount), top + 1, LEFT + WIDTH, top + 1 + HEIGHT))
        expected += [label, amount]
    assert _read(lines) == expected


def test_a_right_aligned_date_above_a_salutation_is_read_first() -> None:
    # given a date at the right margin and, below it, a salutation at the left
    date = _line("Madrid, 15 July 2026", 800, 100, 1120, 124)
    salutation = _line("Dear Ms Núñez,", LEFT, 160, 320, 184)
    body = _paragraph("p", LEFT, WIDTH, 220, 3)
    # when ordered, then the free gutter between them is not taken for columns
    assert _read([date, salutation, *body]) == ["Madrid, 15 July 2026", "Dear Ms Núñez,", "p1", "p2", "p3"]


@pytest.mark.parametrize("degrees", [3.0, -3.0, 1.5])
def test_a_skewed_single_column_page_reads_as_it_does_upright(degrees: float) -> None:
    lines, expected = _single_column_page()
    assert _read(_turned(lines, degrees)) == expected


@pytest.mark.parametrize("degrees", [3.0, -3.0])
def test_a_skewed_two_column_page_reads_as_it_does_upright(degrees: float) -> None:
    lines, expected = _columns(2, 40)
    assert _read(_turned(lines, degrees)) == expected


def test_a_short_last_line_is_read_after_the_long_line_above_it_at_3_degrees() -> None:
    # given a long line and, under it, the short last line of its paragraph, the page
    # turned 3 degrees clockwise: the long line's middle now sits below the short one's
    long = _line("long", 100, 100, 1500, 100 + HEIGHT)
    short = _line("short", 100, 100 + PITCH, 300, 100 + PITCH + HEIGHT)
    # when ordered, then the short line still comes second
    assert _read(_turned([long, short], 3.0)) == ["long", "short"]


def test_a_page_stored_a_quarter_turn_round_reads_in_the_frame_its_text_was_read_in() -> None:
    # given a two-column page whose geometry is given on the page as stored, turned 90
    # degrees, each line's polygon starting at its top-left as read
    lines, expected = _columns(2, 40)
    # when ordered, then it reads as the upright page does
    assert _read(_turned(lines, 90.0)) == expected


def test_vertical_text_in_the_margin_does_not_tilt_the_page_and_is_read_last() -> None:
    # given a letter and, in the margin, text set bottom to top: a short line with its
    # corners as read, and one beside all the letter as an upright box, far taller than wide
    lines, expected = _single_column_page()
    read_upwards = TextLine("up", 0.9, [(30, 250), (30, 206), (54, 206), (54, 250)])
    tall_box = TextLine("tall", 0.9, [(70, 90), (94, 90), (94, 500), (70, 500)])
    # when ordered
    order = _read([*lines, read_upwards, tall_box])
    # then the letter reads as upright (its label/value rows would part if the margin
    # tilted the page, and be read by their left edges if it joined them), margin last
    assert order == [*expected, "up", "tall"]


def test_overlapping_and_degenerate_boxes_each_come_back_once() -> None:
    # given two boxes on top of each other, one overlapping both, a flat and a point box
    lines = [
        _line("a", 100, 100, 400, 124),
        _line("b", 100, 100, 400, 124),
        _line("c", 300, 110, 700, 134),
        _line("flat", 100, 200, 300, 200),
        TextLine("point", 0.9, [(150.0, 250.0)] * 4),
    ]
    # when ordered, then every line comes back exactly once, top to bottom
    order = _read(lines)
    assert sorted(order) == ["a", "b", "c", "flat", "point"]
    assert order[3:] == ["flat", "point"]


def test_a_receipt_scanned_slightly_turned_reads_each_item_with_its_price() -> None:
    # given a till receipt 560 px wide turned under a degree: each price box sits 7 px (a
    # quarter of a line and more) above its item's, and the short boxes are detected level
    lines, expected = [], []
    for row, (item, price) in enumerate([("In", "42.08"), ("location until at", "26.95"), ("any", "39.62")] * 4):
        top = 100 + row * 28
        lines.append(_line(item, 8, top, 8 + 14 * len(item), top + 26))
        lines.append(_line(price, 455, top - 7, 526, top - 7 + 26))
        expected += [item, price]
    # when ordered, then each row reads item then price, rows top to bottom
    assert _read(lines) == expected
