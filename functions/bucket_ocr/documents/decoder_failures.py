"""Decoder failures become named permanent errors; failures of our own code stay what they are.

Which exception types a decoder raises on bad input is not a contract. Pillow raises
OSError and SyntaxError mostly, but also TypeError (a TIFF directory without a width),
IndexError (an MPO frame without image data) and whatever its next release adds; PDFium
raises its own. A list of types would either miss those, so that a bad document escapes
as a raw exception and is retried forever, or hide the same types raised by bugs of
ours. So the rule is where an exception was raised, not its type: inside the decoder's
own packages, it is about the document; anywhere else, it is ours and surfaces.

A misuse of the decoder by our code would be read as a bad document; it would fail
valid documents as well, which the tests decode on every run.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from types import TracebackType
from typing import TYPE_CHECKING

from PIL import Image

from bucket_ocr.errors import CorruptDocumentError, ObjectError, PageTooLargeError, UnsupportedDocumentError

if TYPE_CHECKING:
    from bucket_ocr.events.records import ObjectRef

DECODER_PACKAGES = frozenset({"PIL", "pypdfium2", "pypdfium2_raw"})
# The decoders' wording when a file is valid but uses a variant they cannot decode.
_UNSUPPORTED = re.compile(r"unsupported|not supported|not available|unknown (raw mode|compression)", re.IGNORECASE)
# Reprs with addresses (`<_io.BytesIO object at 0x7f...>`) would make one failure read
# differently every time.
_OBJECT_REPR = re.compile(r"<[^<>]* at 0x[0-9a-fA-F]+>")


def raised_by_decoder(error: BaseException) -> bool:
    """Whether the innermost frame of the error outside the standard library is a decoder's.

    The standard library is passed over because decoders call it to parse (struct, zlib,
    io) and a failure there is still the decoder's reading of the document.
    """
    frames = []
    trace: TracebackType | None = error.__traceback__
    while trace is not None:
        frames.append(trace.tb_frame)
        trace = trace.tb_next
    for frame in reversed(frames):
        package = str(frame.f_globals.get("__name__", "")).partition(".")[0]
        if package not in sys.stdlib_module_names:
            return package in DECODER_PACKAGES
    return False


def decoder_errors_named(pages: Iterator[Image.Image], where: ObjectRef) -> Iterator[Image.Image]:
    """Every decoder failure, wherever in the file it is met, as a named permanent error.

    Frames and pages are read lazily, so a broken second frame fails in the iterator's
    ``seek``, outside any one call: guarding the whole iteration leaves no place for a
    raw decoder exception to get past.
    """
    index = 0
    while True:
        try:
            page = next(pages)
        except StopIteration:
            return
        except Image.DecompressionBombError as cause:
            raise PageTooLargeError(str(cause), bucket=where.bucket, key=where.key) from cause
        except MemoryError:
            raise  # the host ran out: not the document's fault, so a retry may pass
        except Exception as cause:
            if isinstance(cause, ObjectError) or not raised_by_decoder(cause):
                raise
            raise decoder_error(cause, f"page {index + 1}", where) from cause
        index += 1
        yield page


def decoder_error(cause: BaseException, what: str, where: ObjectRef) -> CorruptDocumentError | UnsupportedDocumentError:
    # The decoder's own type leads: "KeyError: 256" says something, "256" alone does not.
    message = " ".join(f"{type(cause).__name__}: {_OBJECT_REPR.sub('', str(cause))}".split())
    if _UNSUPPORTED.search(message):
        return UnsupportedDocumentError(
            f"{what} uses a variant this decoder does not support: {message}", bucket=where.bucket, key=where.key
        )
    return CorruptDocumentError(f"{what} cannot be decoded: {message}", bucket=where.bucket, key=where.key)
