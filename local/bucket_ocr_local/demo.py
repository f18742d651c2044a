"""The README's main job: start the embedded stack, drop sample documents, show what came out.

Every document must end with a result JSON or a dead-letter record; the corrupt one is
there to show the second path. Exit 0 when that is so, 1 otherwise.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import TextIO

from bucket_ocr_local.report import ProgressBar, outcomes_table
from bucket_ocr_local.results import save_copies, wait_for_outcomes
from bucket_ocr_local.samples import demo_samples
from bucket_ocr_local.stack import LocalStack, StackOptions

PREFIX = "demo/"


def run_demo(options: StackOptions, *, timeout: float = 300, out: TextIO = sys.stdout) -> int:
    work_dir = Path(options.work_dir)
    # Each demo is a fresh stack; old logs and results would only confuse the summary.
    shutil.rmtree(work_dir, ignore_errors=True)
    samples = demo_samples()
    print(
        f"starting the {options.store} stack ({options.workers} worker(s), {options.runtime} runtime) in {work_dir}",
        file=out,
    )
    with LocalStack(options) as stack:
        spec = stack.spec
        print(
            f"  S3   {spec.s3_endpoint}  bucket {spec.input_bucket} -> {spec.results_bucket}/{spec.results_prefix}",
            file=out,
        )
        if spec.broker_url:
            print(
                f"  AMQP queue {spec.work_queue} -> workers, failures -> queue {spec.dead_letter_queue_url.rsplit('=', 1)[-1]}",
                file=out,
            )
        else:
            print(f"  SQS  {spec.sqs_endpoint}  events -> workers, failures -> {spec.dead_letter_queue_url}", file=out)
        stack.pool.wait_ready()
        s3 = spec.client("s3")
        etags = {}
        for sample in samples:
            key = PREFIX + sample.name
            response = s3.put_object(
                Bucket=spec.input_bucket, Key=key, Body=sample.data, ContentType=sample.content_type
            )
            etags[(spec.input_bucket, key)] = response["ETag"].strip('"')
            print(f"  uploaded s3://{spec.input_bucket}/{key} ({len(sample.data)} bytes)", file=out)
        outcomes = wait_for_outcomes(
            spec, list(etags), timeout=timeout, on_progress=ProgressBar("processing"), etags=etags
        )
        copies = save_copies(spec, outcomes, work_dir / "results")
    print(file=out)
    print(outcomes_table(outcomes), file=out)
    print(file=out)
    print(f"result JSON: s3://{spec.results_bucket}/{spec.results_prefix}{spec.input_bucket}/{PREFIX}", file=out)
    if copies:
        # The stack is stopped by now (moto's buckets were in memory): the copies remain.
        print(f"local copies: {work_dir / 'results' / spec.results_prefix}", file=out)
    missing = [o.key for o in outcomes if not o.finished]
    if missing:
        print(f"no result and no dead letter within {timeout:.0f}s for: {', '.join(missing)}", file=out)
        print(f"logs: {work_dir / 'logs'}", file=out)
        return 1
    return 0
