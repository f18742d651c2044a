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
from bucket_ocr_soak.calibrate import Pace, measure_pace
from bucket_ocr_soak.drain import Drained, drain
from bucket_ocr_soak.errors import SoakError
from bucket_ocr_soak.event_tap import EventTap, open_tap
from bucket_ocr_soak.faults import MINIO_PATH_ONLY, FaultInjector, FaultSettings, plan_faults
from bucket_ocr_soak.observe import StackProbe
from bucket_ocr_soak.toxiproxy import ToxiproxyProxy, ToxiproxyServer
from bucket_ocr_soak.uploader import Uploader, UploadRecord
from bucket_ocr_soak.workload import Workload, plan_workload

FAULTS_JOIN_SECONDS = 300.0


@dataclass(frozen=True)
class SoakOptions:
    store: str
    work_dir: Path
    uploads: int = 300
    workers: int = 2
    # Offered load, as a share of the pages per second the workers managed in a burst.
    utilisation: float = 0.5
    seed: int = 20261130
    fault_counts: dict[str, int] = field(default_factory=dict)
    fault_settings: FaultSettings = field(default_factory=FaultSettings)
    calibration_pages: int = 7
    burst_pages: int = 20
    drain_timeout: float = 300.0
    models_dir: Path | None = None

    def applicable_faults(self) -> tuple[dict[str, int], list[str]]:
        """The fault counts for this store, and the kinds asked for that it cannot take."""
        counts = dict(self.fault_counts)
        if self.store != "moto":
            return counts, []
        # moto keeps objects and queues in memory: stopping it would end the stack.
        return counts, [kind for kind in MINIO_PATH_ONLY if counts.pop(kind, 0)]


@dataclass
class _Phase:
    """What one soak produced, for the report."""

    pace: Pace
    interval: float
    workload: Workload
    records: list[UploadRecord]
    upload_seconds: float
    drained: Drained
    injector: FaultInjector
    supervisor_actions: list[str]


def run_store(options: SoakOptions, log: Callable[[str], None] = print) -> dict[str, Any]:
    """The report of one store's soak (JSON-ready)."""
    shutil.rmtree(options.work_dir, ignore_errors=True)  # a soak starts from empty buckets and queues
    stack = LocalStack(
        StackOptions(work_dir=options.work_dir, store=options.store, workers=0, models_dir=options.models_dir)
    )
    toxiproxy = ToxiproxyServer(options.work_dir, seed=options.seed)
    started = time.monotonic()
    try:
        proxy, tap = _start(stack, toxiproxy, options, log)
        probe = StackProbe(stack)
        phase = _soak(stack, proxy, tap, probe, options, log)
        log(f"{options.store}: drained in {phase.drained.seconds:.0f} s ({phase.drained.ended_by}); reading results")
        return _report(probe, phase, options, seconds=time.monotonic() - started)
    finally:
        toxiproxy.stop()
        stack.stop()


def _start(stack: LocalStack, toxiproxy: ToxiproxyServer, options: SoakOptions, log) -> tuple[ToxiproxyProxy, EventTap]:
    """The stack, with its workers reaching S3 through Toxiproxy and a tap on its events."""
    stack.start(start_workers=False)
    toxiproxy.start()
    proxy = toxiproxy.proxy_in_front_of("s3", stack.spec.s3_endpoint)
    stack.spec.worker_s3_endpoint = proxy.url
    stack.spec.save()
    tap = open_tap(stack.spec)
    log(f"{options.store}: starting {options.workers} workers (S3 through Toxiproxy at {proxy.url})")
    stack.start_workers(options.workers)
    stack.pool.wait_ready()
    return proxy, tap


def _soak(
    stack: LocalStack, proxy: ToxiproxyProxy, tap: EventTap, probe: StackProbe, options: SoakOptions, log
) -> _Phase:
    uploader = Uploader(stack.spec, stack.spec.input_bucket)
    with Supervisor(stack, report=lambda action: log(f"{options.store}: supervisor: {action}")) as supervisor:
        pace = measure_pace(
            uploader, probe, pages=options.calibration_pages, burst=options.burst_pages, seed=options.seed
        )
        tap.clear()
        interval = 1.0 / (pace.pages_per_second * options.utilisation)
        workload = plan_workload(options.uploads, interval=interval, seed=options.seed)
        plan = plan_faults(options.applicable_faults()[0], duration=workload.duration, seed=options.seed)
        log(
            f"{options.store}: single page {pace.single_page_seconds:.2f} s upload to result, {pace.pages_per_second:.2f} "
            f"pages/s in a burst; {workload.upload_count} uploads of {len(workload.objects)} objects, one every "
            f"{interval:.2f} s; {len(plan)} faults"
        )
        injector = FaultInjector(
            stack,
            supervisor,
            proxy,
            tap,
            seed=options.seed,
            settings=options.fault_settings,
            log=lambda line: log(f"{options.store}: {line}"),
        )
        phase_started = time.monotonic()
        injector.run_in_background(plan, started=phase_started)
        try:
            records = uploader.run(workload)
            upload_seconds = time.monotonic() - phase_started
            latest = {record.key: record.etag for record in records}
            drained = drain(probe, latest, timeout=options.drain_timeout, faults_running=injector.busy)
            injector.finish(FAULTS_JOIN_SECONDS)
        finally:
            # Before the stack stops: a fault still running must not start a server again after it.
            injector.stop()
            injector.finish(FAULTS_JOIN_SECONDS)
        if injector.error is not None:
            raise SoakError(
                f"fault injection failed: {type(injector.error).__name__}: {injector.error}"
            ) from injector.error
        if supervisor.failure is not None:
            raise SoakError(f"the stack was lost: {supervisor.failure}")
        return _Phase(pace, interval, workload, records, upload_seconds, drained, injector, list(supervisor.actions))


def _report(probe: StackProbe, phase: _Phase, options: SoakOptions, *, seconds: float) -> dict[str, Any]:
    letters_by_key, letters_by_kind = probe.dead_letters_by_key()
    kinds = {o.key: o.kind for o in phase.workload.objects}
    results = {key: seen for key in kinds if (seen := probe.result(key)) is not None}
    uploads = [measure.Uploaded(r.key, r.etag, r.uploaded_at) for r in phase.records]
    verdicts = measure.verdicts(kinds, uploads, results, dict(letters_by_key))
    fault_counts = phase.injector.counts()
    figures = measure.figures(
        verdicts,
        uploads=len(phase.records),
        dead_letters_total=sum(letters_by_key[key] for key in kinds),
        engine_runs=probe.engine_runs(),
        kills=fault_counts["kill"],
        single_page_seconds=phase.pace.single_page_seconds,
        fault_windows=phase.injector.windows(),
    )
    figures["measured"]["dead_letters_by_kind"] = dict(letters_by_kind)
    figures["measured"]["burst_pages_per_second"] = phase.pace.pages_per_second
    return {
        "store": options.store,
        "settings": {
            "uploads": options.uploads,
            "workers": options.workers,
            "utilisation": options.utilisation,
            "seconds_between_objects": round(phase.interval, 3),
            "seed": options.seed,
            "drain_timeout": options.drain_timeout,
            "faults": asdict(options.fault_settings),
        },
        "faults": {
            "counts": fault_counts,
            "not_applicable": options.applicable_faults()[1],
            "injected": [asdict(fault) for fault in phase.injector.injected],
        },
        "supervisor_actions": phase.supervisor_actions,
        "upload_retries": sum(r.attempts - 1 for r in phase.records),
        "seconds": {
            "upload_phase": round(phase.upload_seconds, 1),
            "drain": round(phase.drained.seconds, 1),
            "drain_ended_by": phase.drained.ended_by,
            "total": round(seconds, 1),
        },
        **figures,
        "verdicts": [asdict(v) for v in verdicts],
        "work_dir": str(options.work_dir),
    }
