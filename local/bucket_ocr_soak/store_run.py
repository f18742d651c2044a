"""One soak on one store: start the stack behind Toxiproxy, calibrate, upload under faults, drain, measure."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bucket_ocr_local.stack import LocalStack, StackOptions
from bucket_ocr_local.supervisor import Supervisor
from bucket_ocr_soak import measure
from bucket_ocr_soak.calibrate import single_page_seconds
from bucket_ocr_soak.drain import drain
from bucket_ocr_soak.errors import SoakError
from bucket_ocr_soak.event_tap import open_tap
from bucket_ocr_soak.faults import MINIO_PATH_ONLY, FaultInjector, FaultSettings, plan_faults
from bucket_ocr_soak.observe import StackProbe
from bucket_ocr_soak.toxiproxy import ToxiproxyServer
from bucket_ocr_soak.uploader import Uploader
from bucket_ocr_soak.workload import plan_workload

FAULTS_JOIN_SECONDS = 300.0


@dataclass(frozen=True)
class SoakOptions:
    store: str
    work_dir: Path
    uploads: int = 300
    workers: int = 2
    # Offered load as a share of what the workers can do at the single-page time.
    utilisation: float = 0.5
    seed: int = 20261130
    fault_counts: dict[str, int] = field(default_factory=dict)
    fault_settings: FaultSettings = FaultSettings()
    calibration_pages: int = 7
    drain_timeout: float = 300.0
    models_dir: Path | None = None


def run_store(options: SoakOptions, log: Callable[[str], None] = print) -> dict[str, Any]:
    """The report of one store's soak (JSON-ready)."""
    counts = dict(options.fault_counts)
    not_applicable = []
    if options.store == "moto":
        # moto keeps objects and queues in memory: stopping it would end the stack.
        not_applicable = [kind for kind in MINIO_PATH_ONLY if counts.pop(kind, 0)]
    shutil.rmtree(options.work_dir, ignore_errors=True)  # a soak starts from empty buckets and queues
    stack = LocalStack(StackOptions(work_dir=options.work_dir, store=options.store, workers=0, models_dir=options.models_dir))
    toxiproxy = ToxiproxyServer(options.work_dir, seed=options.seed)
    started = time.monotonic()
    try:
        stack.start(start_workers=False)
        toxiproxy.start()
        proxy = toxiproxy.proxy_in_front_of("s3", stack.spec.s3_endpoint)
        stack.spec.worker_s3_endpoint = proxy.url
        stack.spec.save()
        tap = open_tap(stack.spec)
        log(f"{options.store}: starting {options.workers} workers (S3 through Toxiproxy at {proxy.url})")
        stack.start_workers(options.workers)
        stack.pool.wait_ready()
        probe = StackProbe(stack)
        uploader = Uploader(stack.spec, stack.spec.input_bucket)
        with Supervisor(stack, report=lambda action: log(f"{options.store}: supervisor: {action}")) as supervisor:
            single = single_page_seconds(uploader, probe, pages=options.calibration_pages, seed=options.seed)
            tap.clear()
            interval = single / (options.workers * options.utilisation)
            workload = plan_workload(options.uploads, interval=interval, seed=options.seed)
            plan = plan_faults(counts, duration=workload.duration, seed=options.seed)
            log(
                f"{options.store}: single page {single:.2f} s; {workload.upload_count} uploads of "
                f"{len(workload.objects)} objects, one every {interval:.2f} s; {len(plan)} faults"
            )
            injector = FaultInjector(
                stack, supervisor, proxy, tap, seed=options.seed, settings=options.fault_settings,
                log=lambda line: log(f"{options.store}: {line}"),
            )
            phase_started = time.monotonic()
            faults = injector.run_in_background(plan, started=phase_started)
            records = uploader.run(workload)
            upload_seconds = time.monotonic() - phase_started
            drained = drain(
                probe, {r.key: r.etag for r in records}, timeout=options.drain_timeout, faults_running=faults.is_alive
            )
            faults.join(FAULTS_JOIN_SECONDS)
            if injector.error is not None:
                raise SoakError(f"fault injection failed: {type(injector.error).__name__}: {injector.error}") from injector.error
            if supervisor.failure is not None:
                raise SoakError(f"the stack was lost: {supervisor.failure}")
            log(f"{options.store}: drained in {drained.seconds:.0f} s ({drained.ended_by}); reading results")
            letters_by_key, letters_by_kind = probe.dead_letters_by_key()
            kinds = {o.key: o.kind for o in workload.objects}
            results = {key: seen for key in kinds if (seen := probe.result(key)) is not None}
            uploads = [measure.Uploaded(r.key, r.etag, r.uploaded_at) for r in records]
            verdicts = measure.verdicts(kinds, uploads, results, dict(letters_by_key))
            fault_counts = injector.counts()
            figures = measure.figures(
                verdicts,
                uploads=len(records),
                dead_letters_total=sum(letters_by_key[key] for key in kinds),
                engine_runs=probe.engine_runs(),
                kills=fault_counts["kill"],
                single_page_seconds=single,
                fault_windows=injector.windows(),
            )
            figures["measured"]["dead_letters_by_kind"] = dict(letters_by_kind)
            return {
                "store": options.store,
                "settings": {
                    "uploads": options.uploads,
                    "workers": options.workers,
                    "utilisation": options.utilisation,
                    "seconds_between_objects": round(interval, 3),
                    "seed": options.seed,
                    "drain_timeout": options.drain_timeout,
                    "faults": asdict(options.fault_settings),
                },
                "faults": {
                    "counts": fault_counts,
                    "not_applicable": not_applicable,
                    "injected": [asdict(fault) for fault in injector.injected],
                },
                "supervisor_actions": list(supervisor.actions),
                "upload_retries": sum(r.attempts - 1 for r in records),
                "seconds": {
                    "upload_phase": round(upload_seconds, 1),
                    "drain": round(drained.seconds, 1),
                    "drain_ended_by": drained.ended_by,
                    "total": round(time.monotonic() - started, 1),
                },
                **figures,
                "verdicts": [asdict(v) for v in verdicts],
                "work_dir": str(options.work_dir),
            }
    finally:
        toxiproxy.stop()
        stack.stop()
