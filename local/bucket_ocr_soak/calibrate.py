"""The single-page time: one small page at a time through the idle stack, upload to result.

It sets the offered load (objects per second that keep the workers partly idle) and the
latency target (p95 within three single-page times). Measured on the same stack, through
the same proxy, before any fault, so it includes what every soak object goes through.
"""

from __future__ import annotations

import statistics

from bucket_ocr_local.processes import wait_for
from bucket_ocr_soak.observe import StackProbe
from bucket_ocr_soak.uploader import Uploader
from bucket_ocr_soak.workload import Upload, page_png

RESULT_WAIT = 120.0  # a worker's cold start on a busy 2-core machine, plus the page


def single_page_seconds(uploader: Uploader, probe: StackProbe, *, pages: int) -> float:
    """Median upload-to-result seconds over ``pages`` pages sent one after another."""
    seconds = []
    for index in range(pages):
        upload = Upload(0.0, f"calibration/{index:03d}.png", page_png(f"CALIBRATION {index:03d}", "one page"), "image/png")
        uploaded = uploader.put(upload)
        result = wait_for(
            lambda: probe.result(upload.key), timeout=RESULT_WAIT, what=f"the result of {upload.key}", interval=0.05
        )
        seconds.append(result.processed_at - uploaded.uploaded_at)
    return statistics.median(seconds)
