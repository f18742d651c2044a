"""Small documents built in memory for the document tests, unit and fuzz alike."""

from __future__ import annotations

import io

import pypdfium2


def blank_pdf(sizes: list[tuple[float, float]]) -> bytes:
    """Empty pages of these sizes in points, as PDFium itself writes a document."""
    pdf = pypdfium2.PdfDocument.new()
    for width, height in sizes:
        pdf.new_page(width, height)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()
