"""Turning every event shape users wire to the function into object records."""

from bucket_ocr.events.records import ObjectRecord
from bucket_ocr.events.routing import EventKind, classify, records_from_payload

__all__ = ["EventKind", "ObjectRecord", "classify", "records_from_payload"]
