"""Documents, events and S3 faults for tests of the function's path on moto."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from botocore.awsrequest import AWSResponse
from PIL import Image

from tests.support.events import load_event, retarget


def blank_png(width: int = 120, height: int = 40) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()


def s3_event(stack: Any, key: str, etag: str) -> dict[str, Any]:
    """S3's notification of ``key`` in the stack's input bucket."""
    return retarget(load_event("s3-put.json"), stack.input_bucket, key, etag)


def throttle(s3_client: Any, key_fragment: str) -> None:
    """S3 answering 503 SlowDown to every GET of matching keys, through botocore itself."""

    def respond(request: Any, **_: Any) -> AWSResponse | None:
        if key_fragment not in unquote(request.url):
            return None
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        return AWSResponse(request.url, 503, {}, RawBody(body))

    s3_client.meta.events.register("before-send.s3.GetObject", respond)


class RawBody:
    """An HTTP body botocore can read, for a response made up in a ``before-send`` hook."""

    def __init__(self, data: bytes):
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data

    def read(self, *_: Any) -> bytes:
        return self._data


def reconfigure(stack: Any, **changes: Any) -> None:
    """The stack's app with some settings changed, around the same engine and clients."""
    from dataclasses import replace

    from bucket_ocr.processing import ObjectProcessor

    settings = replace(stack.settings, **changes)
    app = stack.app
    app.processor = ObjectProcessor(settings, app.engine, app.processor._s3, app.dead_letters)
