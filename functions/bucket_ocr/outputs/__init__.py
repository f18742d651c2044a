"""What is written beside the JSON result: plain text, hOCR, a searchable PDF.

Pure functions: a result document and the source's bytes in, each output's bytes out.
Which outputs the caller asks for is its business (``OCR_OUTPUTS``); where each goes is
said here once (``output_key``), for the writer and for anyone reading the outputs back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

OutputKind = Literal["json", "txt", "pdf", "hocr"]
KINDS: tuple[OutputKind, ...] = get_args(OutputKind)

TEXT_CONTENT_TYPE = "text/plain; charset=utf-8"
# hOCR is XHTML, and its registered type says so: a browser renders it as a page and an
# XML parser takes it as it is. "text/vnd.hocr+html", seen in some tools, is registered
# nowhere.
HOCR_CONTENT_TYPE = "application/xhtml+xml"
PDF_CONTENT_TYPE = "application/pdf"


class RenderError(Exception):
    """An output cannot be made from this source (a PDF pikepdf cannot open or rewrite)."""


def suffix(kind: OutputKind) -> str:
    """The end of an output's key: ``.json`` for the result itself, ``.txt``, ``.pdf``, ``.hocr``."""
    return f".{kind}"


def output_key(result_key: str, kind: OutputKind) -> str:
    """Where an output of the result at ``result_key`` goes: beside it, its suffix for ``.json``."""
    if kind == "json":
        return result_key
    return result_key.removesuffix(suffix("json")) + suffix(kind)


@dataclass(frozen=True)
class Rendered:
    kind: OutputKind
    body: bytes
    content_type: str

    @property
    def suffix(self) -> str:
        return suffix(self.kind)


def render(
    result: Mapping[str, Any], source: bytes, content_type: str | None, kinds: Iterable[str]
) -> dict[OutputKind, Rendered]:
    """Each of ``kinds`` but "json" (the result itself, written elsewhere) for ``result``.

    ``source`` is the document that was read and ``content_type`` its detected type
    (``application/pdf``, ``image/...``; None to detect it from ``source``). A failed result has no pages: its text and
    hOCR are empty documents, and it gets no PDF. Unknown kinds raise ValueError.
    """
    wanted = list(dict.fromkeys(kinds))
    unknown = [kind for kind in wanted if kind not in KINDS]
    if unknown:
        raise ValueError(f"unknown output kinds {unknown}; known: {', '.join(KINDS)}")
    out: dict[OutputKind, Rendered] = {}
    if "txt" in wanted:
        out["txt"] = Rendered("txt", (result.get("text") or "").encode("utf-8"), TEXT_CONTENT_TYPE)
    if "hocr" in wanted:
        from bucket_ocr.outputs.hocr import hocr

        out["hocr"] = Rendered("hocr", hocr(result), HOCR_CONTENT_TYPE)
    if "pdf" in wanted and result.get("pages"):
        # pikepdf (qpdf) is loaded only when a PDF is asked for.
        from bucket_ocr.outputs.pdf import searchable_pdf

        if content_type:
            is_pdf = content_type.split(";")[0].strip().lower() == PDF_CONTENT_TYPE
        else:  # a result's source.content_type may be null: the bytes say
            from bucket_ocr.documents.detect import DocumentType, detect_type

            is_pdf = detect_type(source) is DocumentType.PDF
        import pikepdf

        try:
            body = searchable_pdf(result, source, is_pdf)
        except (pikepdf.PdfError, OSError) as cause:
            # PDFium, which rendered the pages, forgives more than qpdf, which rewrites them.
            # A ValueError is a result that does not fit its source: our bug, left to surface.
            raise RenderError(f"searchable PDF: {type(cause).__name__}: {cause}") from cause
        out["pdf"] = Rendered("pdf", body, PDF_CONTENT_TYPE)
    return out
