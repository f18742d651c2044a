"""Bytes in, page images out: type detection from content and page-by-page decoding."""

from bucket_ocr.documents.detect import DocumentType, detect_type
from bucket_ocr.documents.pages import iter_pages

__all__ = ["DocumentType", "detect_type", "iter_pages"]
