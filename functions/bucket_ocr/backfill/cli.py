"""`bucket-ocr-backfill` / `python -m bucket_ocr.backfill`: OCR what is already in a bucket.

Exit codes: 0 every object to do was enqueued (or, with --dry-run, counted), 1 some could
not be enqueued (run it again: what was delivered is then skipped as done), 2 usage or
set-up error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from urllib.parse import unquote_plus

from bucket_ocr.backfill.plan import plan
from bucket_ocr.backfill.run import ProgressBar, Summary, backfill
from bucket_ocr.backfill.targets import target_for
from bucket_ocr.errors import ConfigurationError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bucket-ocr-backfill", description=__doc__.splitlines()[0])
    parser.add_argument("--bucket", required=True, help="the bucket whose objects to OCR")
    parser.add_argument("--prefix", default="", help="only keys under this prefix")
    parser.add_argument(
        "--results-bucket",
        default=os.environ.get("OCR_RESULTS_BUCKET"),
        help="where results are (default: $OCR_RESULTS_BUCKET, as the function reads it)",
    )
    parser.add_argument(
        "--results-prefix",
        default=os.environ.get("OCR_RESULTS_PREFIX", "ocr/"),
        help="the results' key prefix (default: $OCR_RESULTS_PREFIX, else ocr/)",
    )
    parser.add_argument(
        "--to",
        help="sqs://<queue URL> | lambda:<function name or ARN> | amqp://user:pass@host:5672/%%2F?queue=NAME",
    )
    parser.add_argument("--dry-run", action="store_true", help="list and check only: count what would be enqueued")
    parser.add_argument(
        "--endpoint-url",
        default=os.environ.get("OCR_S3_ENDPOINT_URL"),
        help="S3 endpoint, for MinIO or moto (default: $OCR_S3_ENDPOINT_URL)",
    )
    parser.add_argument("--concurrency", type=int, default=16, help="result look-ups at once (default 16)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not args.results_bucket:
        parser.error("--results-bucket is required (or set OCR_RESULTS_BUCKET)")
    if not args.to and not args.dry_run:
        parser.error("--to is required unless --dry-run")
    try:
        summary = run(args)
    except ConfigurationError as error:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 2
    print_summary(summary, as_json=args.json)
    return 1 if summary.failures else 0


def run(args: argparse.Namespace) -> Summary:
    import boto3

    from bucket_ocr.clients import s3_client
    from bucket_ocr.settings import _normalise_prefix  # the function's own reading of the prefix: same result keys

    session = boto3.Session()
    s3 = s3_client(args.endpoint_url, session)
    target = None if args.dry_run else target_for(args.to, session=session)
    if target is not None:
        print(f"sending to {target.description}", file=sys.stderr)
    progress = ProgressBar(enabled=not args.no_progress)
    try:
        planned = plan(
            s3,
            args.bucket,
            args.prefix,
            args.results_bucket,
            _normalise_prefix(args.results_prefix),
            concurrency=args.concurrency,
        )
        return backfill(
            planned, target, dry_run=args.dry_run, region=session.region_name or "us-east-1", progress=progress
        )
    finally:
        progress.close()


def print_summary(summary: Summary, *, as_json: bool = False) -> None:
    if as_json:
        print(json.dumps(summary.as_dict(), indent=1))
    else:
        print("\n".join(summary.lines()))
    for failure in summary.failures[:20]:
        s3 = failure.body["Records"][0]["s3"]
        key = unquote_plus(s3["object"]["key"])  # form-encoded in the event, as S3 sends keys
        print(f"not enqueued: s3://{s3['bucket']['name']}/{key}: {failure.error}", file=sys.stderr)
    if summary.failed > 20:
        print(f"... and {summary.failed - 20} more not enqueued", file=sys.stderr)
