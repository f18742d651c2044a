"""Result keys, derived deterministically from the source so duplicates land on one key."""

from __future__ import annotations

import hashlib
from urllib.parse import quote

# S3's (and MinIO's) limit on a key, in UTF-8 bytes.
MAX_KEY_BYTES = 1024
# Marks a shortened key. An escaped key never holds it: every "%" in one starts a %XX escape.
_SHORTENED = "%~"
_HASH_CHARS = 32


def result_key_for(prefix: str, bucket: str, key: str, suffix: str = ".json") -> str:
    """``<prefix><bucket>/<key><suffix>`` with every path segment made safe.

    S3 keys may hold ``..``, empty segments or a leading slash; copied verbatim they would
    let a key climb out of the prefix in any consumer that maps keys to paths. Those
    segments are escaped, not dropped, so two different source keys never share a result.
    Unicode is kept as is: S3 keys are UTF-8 and consumers expect readable names.

    A key that escaping (or the prefix) takes past S3's 1,024 bytes could never be written:
    it keeps its head and ends in ``%~`` and a hash of the source, so it stays deterministic
    and one-to-one, and cannot equal the result key of any key that fits.
    """
    segments = [_safe_segment(segment) for segment in key.split("/")]
    full = f"{prefix}{_safe_segment(bucket)}/{'/'.join(segments)}"
    if len((full + suffix).encode()) <= MAX_KEY_BYTES:
        return full + suffix
    digest = hashlib.sha256(f"{bucket}/{key}".encode()).hexdigest()[:_HASH_CHARS]
    tail = f"{_SHORTENED}{digest}{suffix}"
    return _head(full, MAX_KEY_BYTES - len(tail.encode())) + tail


def _head(text: str, max_bytes: int) -> str:
    """The longest start of ``text`` within ``max_bytes``, cut between characters and escapes."""
    head = text.encode()[:max_bytes].decode(errors="ignore")
    cut = head.rfind("%", max(0, len(head) - 2))
    return head[:cut] if cut != -1 else head


def _safe_segment(segment: str) -> str:
    if segment in ("", ".", ".."):
        return quote(segment, safe="").replace(".", "%2E") or "%00"
    # "%" is escaped too, so an escaped segment never equals a literal one and the
    # mapping stays one-to-one; control characters break logs and some S3 tools.
    return "".join(quote(ch, safe="") if ch == "%" or ord(ch) < 0x20 or ch == "\x7f" else ch for ch in segment)
