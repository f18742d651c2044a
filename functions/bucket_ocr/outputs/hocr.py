"""hOCR 1.2: the result as XHTML that hOCR tools read (ocr_page, ocr_line, ocrx_word).

Boxes are the result's, in pixels of the page as stored, rounded outwards to whole
pixels (hOCR bboxes are integers) and kept on the page; ``x_wconf`` is the confidence as
a percentage.
"""

from __future__ import annotations

import math
import urllib.parse
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

XHTML = "http://www.w3.org/1999/xhtml"
_DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"'
    ' "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
)
CAPABILITIES = "ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf"
# hOCR property values sit in a title attribute split on ';', and a string value is
# double-quoted: a key with those characters (or backslashes) is percent-encoded there.
_KEY_SAFE = "/!$&'()*+,:=@-._~ "


def hocr(result: Mapping[str, Any]) -> bytes:
    source = result.get("source") or {}
    engine = result.get("engine") or {}
    language = engine.get("language") or ""
    html = ET.Element("html", {"xmlns": XHTML, "xml:lang": _lang(language), "lang": _lang(language)})
    head = ET.SubElement(html, "head")
    ET.SubElement(head, "title").text = source.get("key") or "bucket-ocr result"
    ET.SubElement(head, "meta", {"http-equiv": "Content-Type", "content": "text/html;charset=utf-8"})
    ET.SubElement(head, "meta", {"name": "ocr-system", "content": _system(engine)})
    ET.SubElement(head, "meta", {"name": "ocr-capabilities", "content": CAPABILITIES})
    ET.SubElement(head, "meta", {"name": "ocr-number-of-pages", "content": str(len(result.get("pages") or []))})
    body = ET.SubElement(html, "body")
    image = urllib.parse.quote(source.get("key") or "", safe=_KEY_SAFE)
    for page in result.get("pages") or []:
        _page(body, page, image)
    document = ET.tostring(html, encoding="unicode", short_empty_elements=True)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{_DOCTYPE}\n{document}\n'.encode()


def _page(body: ET.Element, page: Mapping[str, Any], image: str) -> None:
    number = page["index"] + 1
    width, height = page["width"], page["height"]
    title = [f'image "{image}"', f"bbox 0 0 {width} {height}", f"ppageno {page['index']}"]
    if page.get("dpi"):
        title.append("scan_res {} {}".format(*(round(v) for v in page["dpi"])))
    div = ET.SubElement(body, "div", {"class": "ocr_page", "id": f"page_{number}", "title": "; ".join(title)})
    rotation = int(page.get("rotation") or 0)
    lines = page.get("lines") or []
    if not lines:
        return
    # The engine finds no blocks or paragraphs: the page's lines are one area with one
    # paragraph, the nesting Tesseract writes and readers such as OCRmyPDF's look for.
    box = _bbox(_union([line["bbox"] for line in lines]), width, height)
    area = ET.SubElement(div, "div", {"class": "ocr_carea", "id": f"block_{number}_1", "title": f"bbox {box}"})
    paragraph = ET.SubElement(area, "p", {"class": "ocr_par", "id": f"par_{number}_1", "title": f"bbox {box}"})
    for line_number, line in enumerate(lines, 1):
        line_title = [f"bbox {_bbox(line['bbox'], width, height)}"]
        if rotation:
            # hOCR's textangle turns counter-clockwise; the stored page is turned clockwise.
            line_title.append(f"textangle {(360 - rotation) % 360}")
        line_title.append(f"x_wconf {_percent(line['confidence'])}")
        span = ET.SubElement(
            paragraph,
            "span",
            {"class": "ocr_line", "id": f"line_{number}_{line_number}", "title": "; ".join(line_title)},
        )
        words = line.get("words")
        if words is None:  # a 1.0 result: the line is the smallest unit it has
            words = [line]
        for word_number, word in enumerate(words, 1):
            word_span = ET.SubElement(
                span,
                "span",
                {
                    "class": "ocrx_word",
                    "id": f"word_{number}_{line_number}_{word_number}",
                    "title": f"bbox {_bbox(word['bbox'], width, height)}; x_wconf {_percent(word['confidence'])}",
                },
            )
            word_span.text = word["text"]
            # Words separated by a space, so the page's text content reads as the line.
            word_span.tail = " " if word_number < len(words) else None
        span.tail = "\n"


def _bbox(bbox: Sequence[float], width: int, height: int) -> str:
    x0, y0, x1, y1 = bbox
    return f"{max(0, math.floor(x0))} {max(0, math.floor(y0))} {min(width, math.ceil(x1))} {min(height, math.ceil(y1))}"


def _union(boxes: Sequence[Sequence[float]]) -> list[float]:
    return [min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)]


def _percent(confidence: float) -> int:
    return round(float(confidence) * 100)


def _system(engine: Mapping[str, Any]) -> str:
    name = engine.get("name") or "unknown engine"
    version = (engine.get("packages") or {}).get(name)
    return f"bucket-ocr ({name} {version})" if version else f"bucket-ocr ({name})"


def _lang(language: str) -> str:
    # The engine names languages its own way ("en", "es", "latin"); only a two- or
    # three-letter code is passed on as an xml:lang, anything else says "und".
    return language if language.isalpha() and 2 <= len(language) <= 3 else "und"
