"""Bytes in, page images out: type detection from content and page-by-page decoding."""

from bucket_ocr.documents.detect import DocumentType, detect_type
from bucket_ocr.documents.pages import iter_pages

# ObjectRef lives in events.records; still importable here for callers not yet moved
# (the benchmark, completion/published.py and some tests).
from bucket_ocr.events.records import ObjectRef

__all__ = ["DocumentType", "ObjectRef", "detect_type", "iter_pages"]
