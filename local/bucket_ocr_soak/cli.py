"""`python -m bucket_ocr_soak` (`local/run soak`): the local stacks end to end under injected faults.

Exit codes: 0 the soak ran (whether targets were met is in the report), 1 it could not run
(named error on stderr), 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bucket_ocr_local.errors import LocalStackError
from bucket_ocr_local.stack import STORES
from bucket_ocr_soak import report
from bucket_ocr_soak.faults import BROKER, DUPLICATE, KILL, LATENCY, MINIO, RESETS, FaultSettings
from bucket_ocr_soak.store_run import SoakOptions, run_store

DEFAULT_OUT = Path(".work/soak")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bucket-ocr-soak", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=DEFAULT_OUT, help="where soak.json, soak.md and the stacks' work dirs go"
    )
    parser.add_argument("--store", default=",".join(STORES), help=f"comma-separated subset of {', '.join(STORES)}")
    parser.add_argument("--uploads", type=int, default=300, help="uploads per store (objects are fewer: some get two)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--utilisation", type=float, default=0.5, help="offered load as a share of the workers' capacity"
    )
    parser.add_argument("--seed", type=int, default=20261130)
    parser.add_argument("--kills", type=int, default=3, help="kill -9 of a worker mid-document")
    parser.add_argument("--broker-stops", type=int, default=1, help="RabbitMQ stopped and started (MinIO path)")
    parser.add_argument("--minio-stops", type=int, default=1, help="MinIO stopped and started (MinIO path)")
    parser.add_argument(
        "--latency-windows", type=int, default=1, help="Toxiproxy latency on the workers' S3 connections"
    )
    parser.add_argument(
        "--reset-windows", type=int, default=1, help="Toxiproxy connection resets on the workers' S3 connections"
    )
    parser.add_argument("--duplicates", type=int, default=5, help="real events delivered a second time")
    parser.add_argument("--outage-seconds", type=float, default=FaultSettings.outage_seconds)
    parser.add_argument("--window-seconds", type=float, default=FaultSettings.window_seconds)
    parser.add_argument("--drain-timeout", type=float, default=300.0)
    parser.add_argument("--models-dir", type=Path, default=None, help="built bundles (default: $OCR_MODELS_DIR)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = _parser().parse_args(argv)
    stores = [store.strip() for store in args.store.split(",") if store.strip()]
    unknown = set(stores) - set(STORES)
    if unknown:
        print(f"error: unknown store(s) {sorted(unknown)}; choose from {', '.join(STORES)}", file=sys.stderr)
        return 2
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    started = time.monotonic()
    results = []
    try:
        for store in stores:
            results.append(run_store(_options(args, store, out), log))
    except LocalStackError as error:
        print(f"error: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    full = {
        "run": {
            "command": "local/run soak " + " ".join(argv) if argv else "local/run soak",
            "seconds": round(time.monotonic() - started, 1),
            "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
        },
        "stores": results,
    }
    report.write_json(out / "soak.json", full)
    text = report.markdown(full)
    (out / "soak.md").write_text(text, encoding="utf-8")
    print(text)
    print(f"written: {out / 'soak.json'}, {out / 'soak.md'}")
    return 0


def _options(args: argparse.Namespace, store: str, out: Path) -> SoakOptions:
    return SoakOptions(
        store=store,
        work_dir=out / store,
        uploads=args.uploads,
        workers=args.workers,
        utilisation=args.utilisation,
        seed=args.seed,
        fault_counts={
            KILL: args.kills,
            BROKER: args.broker_stops,
            MINIO: args.minio_stops,
            LATENCY: args.latency_windows,
            RESETS: args.reset_windows,
            DUPLICATE: args.duplicates,
        },
        fault_settings=FaultSettings(outage_seconds=args.outage_seconds, window_seconds=args.window_seconds),
        drain_timeout=args.drain_timeout,
        models_dir=args.models_dir,
    )
