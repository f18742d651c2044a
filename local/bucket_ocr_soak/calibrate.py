"""The single-page time: one small page at a time through the idle stack, upload to result.

It sets the offered load (objects per second that keep the workers partly idle) and the
latency target (p95 within three single-page times). Measured on the same stack, through
the same proxy, before any fault, so it includes what every soak object goes through.

Pages are spaced by a seeded random pause: MinIO's AMQP target with a queue_dir sends what
its disk queue holds every 3 s (retryInterval in MinIO's internal/store), so pages sent in
lockstep right after each result would all wait nearly the full 3 s and read high.
"""

from __future__ import annotations

import random
import statistics
import time

from bucket_ocr_local.processes import wait_for
from bucket_ocr_soak.observe import StackProbe
from bucket_ocr_soak.uploader import Uploader
from bucket_ocr_soak.workload import Upload, page_png

RESULT_WAIT = 120.0  # a worker's cold start on a busy 2-core machine, plus the page
DELIVERY_CADENCE = 3.0  # seconds between MinIO's sends from its event queue_dir


def single_page_seconds(uploader: Uploader, probe: StackProbe, *, pages: int, seed: int) -> float:
    """Median upload-to-result seconds over ``pages`` pages sent one after another."""
    rng = random.Random(seed)
    seconds = []
    for index in range(pages):
        time.sleep(rng.uniform(0.0, DELIVERY_CADENCE))  # a random phase against the cadence
        upload = Upload(0.0, f"calibration/{index:03d}.png", page_png(f"CALIBRATION {index:03d}", "one page"), "image/png")
        uploaded = uploader.put(upload)
        result = wait_for(
            lambda: probe.result(upload.key), timeout=RESULT_WAIT, what=f"the result of {upload.key}", interval=0.05
        )
        seconds.append(result.processed_at - uploaded.uploaded_at)
    return statistics.median(seconds)
