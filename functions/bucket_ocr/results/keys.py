"""Result keys, derived deterministically from the source so duplicates land on one key."""

from __future__ import annotations

from urllib.parse import quote


def result_key_for(prefix: str, bucket: str, key: str, suffix: str = ".json") -> str:
    """``<prefix><bucket>/<key><suffix>`` with every path segment made safe.

    S3 keys may hold ``..``, empty segments or a leading slash; copied verbatim they would
    let a key climb out of the prefix in any consumer that maps keys to paths. Those
    segments are escaped, not dropped, so two different source keys never share a result.
    Unicode is kept as is: S3 keys are UTF-8 and consumers expect readable names.
    """
    segments = [_safe_segment(segment) for segment in key.split("/")]
    return f"{prefix}{_safe_segment(bucket)}/{'/'.join(segments)}{suffix}"


def _safe_segment(segment: str) -> str:
    if segment in ("", ".", ".."):
        return quote(segment, safe="").replace(".", "%2E") or "%00"
    # "%" is escaped too, so an escaped segment never equals a literal one and the
    # mapping stays one-to-one; control characters break logs and some S3 tools.
    return "".join(quote(ch, safe="") if ch == "%" or ord(ch) < 0x20 or ch == "\x7f" else ch for ch in segment)
