"""The stack's pace before any fault: a single page's latency, and how many pages a second it reads.

- single-page latency, upload to result: the median over pages sent one at a time to the
  idle stack. The latency target is p95 within three of these.
- capacity: a burst of pages uploaded at once, and the rate at which their results came
  out once the workers were busy (first to last result). The offered load is a share of
  it. The function's own time per page is no measure of that: on 2 cores two workers
  share the CPU, and claims, conditional writes and queue round trips add to each page.

Measured on the same stack, through the same proxy, so it includes what every soak object
goes through. Single pages are spaced by a seeded random pause: MinIO's AMQP target with a
queue_dir sends what its disk queue holds every 3 s (retryInterval in MinIO's
internal/store), so pages sent in lockstep right after each result would all wait nearly
the full 3 s and read high.
"""

from __future__ import annotations

import random
import statistics
import time
from dataclasses import dataclass

from bucket_ocr_local.processes import wait_for
from bucket_ocr_soak.measure import ResultSeen
from bucket_ocr_soak.observe import StackProbe
from bucket_ocr_soak.uploader import Uploader
from bucket_ocr_soak.workload import Upload, page_png

RESULT_WAIT = 120.0  # a worker's cold start on a busy 2-core machine, plus the page
DELIVERY_CADENCE = 3.0  # seconds between MinIO's sends from its event queue_dir


@dataclass(frozen=True)
class Pace:
    single_page_seconds: float  # median upload-to-result, one page at a time
    pages_per_second: float  # results per second from a burst, workers busy


def measure_pace(uploader: Uploader, probe: StackProbe, *, pages: int, burst: int, seed: int) -> Pace:
    rng = random.Random(seed)
    latencies = []
    for index in range(pages):
        time.sleep(rng.uniform(0.0, DELIVERY_CADENCE))  # a random phase against the cadence
        upload = _page(f"calibration/single-{index:03d}.png")
        uploaded = uploader.put(upload)
        latencies.append(_result(probe, upload.key).processed_at - uploaded.uploaded_at)
    keys = [uploader.put(_page(f"calibration/burst-{index:03d}.png")).key for index in range(burst)]
    finished = sorted(_result(probe, key, timeout=RESULT_WAIT + burst * 10).processed_at for key in keys)
    return Pace(statistics.median(latencies), (len(finished) - 1) / (finished[-1] - finished[0]))


def _page(key: str) -> Upload:
    return Upload(0.0, key, page_png(key.upper(), "one page"), "image/png")


def _result(probe: StackProbe, key: str, timeout: float = RESULT_WAIT) -> ResultSeen:
    return wait_for(lambda: probe.result(key), timeout=timeout, what=f"the result of {key}", interval=0.05)
