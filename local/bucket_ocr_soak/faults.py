"""The faults the soak injects while uploads go on, each one counted with what it hit.

- kill: SIGKILL to a worker that is mid-document (its log's last engine line is
  "recognising", with no "recognised" or failure after it); the supervisor replaces it;
- broker / minio: a graceful stop, a hold, a start on the same ports and data (MinIO path
  only; moto keeps everything in memory, so stopping it would end the stack). The
  supervisor is paused meanwhile so that it does not race the soak's own start;
- latency / resets: a Toxiproxy toxic on the workers' S3 connections for a window;
- duplicate: a copy of a real event, taken from the tap, delivered to the work queue again.

Faults are spread evenly over the upload phase, in a seeded order, and run one after
another on their own thread; a toxic's window closes on a timer, so a long window does not
push the faults after it past the end of the uploads.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bucket_ocr_local.errors import ServerStartError, WaitTimeoutError
from bucket_ocr_local.processes import ManagedProcess, wait_for
from bucket_ocr_local.stack import LocalStack
from bucket_ocr_local.supervisor import Supervisor
from bucket_ocr_soak.event_tap import EventTap
from bucket_ocr_soak.observe import RECOGNISING
from bucket_ocr_soak.toxiproxy import Toxic, ToxiproxyProxy

KILL, BROKER, MINIO, LATENCY, RESETS, DUPLICATE = "kill", "broker", "minio", "latency", "resets", "duplicate"
KINDS = (KILL, BROKER, MINIO, LATENCY, RESETS, DUPLICATE)
MINIO_PATH_ONLY = (BROKER, MINIO)
# Lines that end an engine run: after one of these, the worker is no longer mid-document.
RUN_ENDED = ("recognised", "permanent failure")
LOG_TAIL_BYTES = 64 * 1024


@dataclass(frozen=True)
class FaultSettings:
    outage_seconds: float = 5.0  # how long the broker or MinIO stays down
    window_seconds: float = 8.0  # how long a latency or reset toxic stays on
    latency_ms: int = 400
    jitter_ms: int = 200
    reset_share: float = 0.3  # of connections reset while the reset toxic is on
    target_wait: float = 60.0  # longest wait for a fault's target: a worker mid-document, a fresh event


@dataclass
class InjectedFault:
    kind: str
    at: float  # seconds from the start of the upload phase
    started_at: float = 0.0  # wall clock, to compare with upload and result times
    seconds: float = 0.0
    injected: bool = True
    detail: dict[str, Any] = field(default_factory=dict)


def plan_faults(counts: dict[str, int], *, duration: float, seed: int) -> list[tuple[float, str]]:
    """(offset, kind) pairs spread evenly over ``duration``, kinds in a seeded order."""
    kinds = [kind for kind in KINDS for _ in range(counts.get(kind, 0))]
    random.Random(seed).shuffle(kinds)
    return [(duration * (index + 1) / (len(kinds) + 1), kind) for index, kind in enumerate(kinds)]


class FaultInjector:
    def __init__(
        self,
        stack: LocalStack,
        supervisor: Supervisor,
        proxy: ToxiproxyProxy,
        tap: EventTap,
        *,
        seed: int,
        settings: FaultSettings = FaultSettings(),
        log: Callable[[str], None] = print,
    ):
        self._stack = stack
        self._supervisor = supervisor
        self._proxy = proxy
        self._tap = tap
        self._rng = random.Random(seed)
        self._settings = settings
        self._log = log
        self.injected: list[InjectedFault] = []
        self.error: Exception | None = None
        self._thread: threading.Thread | None = None
        self._windows: list[threading.Timer] = []
        self._stopping = threading.Event()

    def windows(self) -> list[tuple[float, float]]:
        """When each injected fault was on, wall clock: a kill or a duplicate is an instant."""
        return [(f.started_at, f.started_at + f.seconds) for f in self.injected if f.injected]

    def counts(self) -> dict[str, int]:
        done = Counter(fault.kind for fault in self.injected if fault.injected)
        return {kind: done.get(kind, 0) for kind in KINDS}

    def run_in_background(self, plan: list[tuple[float, str]], *, started: float) -> None:
        self._thread = threading.Thread(target=self._run, args=(plan, started), name="soak-faults", daemon=True)
        self._thread.start()

    def busy(self) -> bool:
        """A fault is still to come or still on (a toxic's window not yet closed)."""
        return bool(self._thread and self._thread.is_alive()) or any(w.is_alive() for w in self._windows)

    def stop(self) -> None:
        """No more faults: pending ones are dropped, a running outage ends early (with its server started)."""
        self._stopping.set()
        for window in self._windows:
            window.cancel()  # the toxic stays on; the proxy is stopped right after

    def finish(self, timeout: float) -> None:
        """Until every planned fault has run and every window has closed."""
        if self._thread is not None:
            self._thread.join(timeout)
        for window in list(self._windows):
            window.join(timeout)

    def _run(self, plan: list[tuple[float, str]], started: float) -> None:
        try:
            for offset, kind in plan:
                # A schedule, not a synchronisation: faults land at planned points of the run.
                if self._stopping.wait(max(0.0, started + offset - time.monotonic())):
                    return
                self.inject(kind, at=time.monotonic() - started)
        except Exception as error:  # noqa: BLE001 - a fault thread's failure, raised by the run that owns it (store_run)
            self.error = error

    def inject(self, kind: str, *, at: float = 0.0) -> InjectedFault:
        fault = InjectedFault(kind, at, started_at=time.time())
        clock = time.monotonic()
        getattr(self, f"_{kind}")(fault)
        fault.seconds = fault.seconds or round(time.monotonic() - clock, 3)
        self.injected.append(fault)
        self._log(f"fault {kind} at {at:.1f} s: {'injected' if fault.injected else 'not injected'} {fault.detail}")
        return fault

    # ---- the faults ------------------------------------------------------------------

    def _kill(self, fault: InjectedFault) -> None:
        found = self._wait_for_target(self._worker_mid_document, "a worker mid-document", fault)
        if found is None:
            return
        worker, key = found
        os.kill(worker.pid, signal.SIGKILL)
        _happened_now(fault)
        # Gone before the next kill looks for a victim: until then its log still says
        # "recognising" and it would be picked (and counted) twice.
        worker.wait(10)
        fault.detail = {"worker": worker.name, "pid": worker.pid, "key": key}

    def _worker_mid_document(self) -> tuple[ManagedProcess, str] | None:
        for worker in list(self._stack.pool.workers):
            if worker.running():
                key = document_in_hand(worker.log_path)
                if key is not None:
                    return worker, key
        return None

    def _broker(self, fault: InjectedFault) -> None:
        self._outage(self._stack.broker, fault)

    def _minio(self, fault: InjectedFault) -> None:
        self._outage(self._stack.minio, fault)

    def _outage(self, server: Any, fault: InjectedFault) -> None:
        with self._supervisor.paused():
            clock = time.monotonic()
            server.stop()
            stopped = time.monotonic()
            self._stopping.wait(self._settings.outage_seconds)  # the outage itself: a duration, not a wait
            try:
                server.start()
            except ServerStartError as failed:  # the supervisor tries again once unpaused
                fault.detail["start_failed"] = str(failed)
            fault.detail.update(
                stop_seconds=round(stopped - clock, 2), down_seconds=round(time.monotonic() - stopped, 2)
            )

    def _latency(self, fault: InjectedFault) -> None:
        attributes = {"latency": self._settings.latency_ms, "jitter": self._settings.jitter_ms}
        self._open_window(Toxic(f"soak-latency-{len(self.injected)}", "latency", attributes), fault)

    def _resets(self, fault: InjectedFault) -> None:
        # timeout 0: the connection is reset as soon as data flows on it.
        toxic = Toxic(
            f"soak-resets-{len(self.injected)}", "reset_peer", {"timeout": 0}, toxicity=self._settings.reset_share
        )
        self._open_window(toxic, fault)

    def _open_window(self, toxic: Toxic, fault: InjectedFault) -> None:
        self._proxy.add(toxic)
        window = threading.Timer(self._settings.window_seconds, self._close_window, args=(toxic.name,))
        window.daemon = True
        window.start()
        self._windows.append(window)
        fault.seconds = self._settings.window_seconds
        fault.detail = {"toxic": toxic.type, "toxicity": toxic.toxicity, **toxic.attributes}

    def _close_window(self, toxic_name: str) -> None:
        try:
            self._proxy.remove(toxic_name)
        except Exception as error:  # noqa: BLE001 - a fault thread's failure, raised by the run that owns it (store_run)
            self.error = error

    def _duplicate(self, fault: InjectedFault) -> None:
        objects = self._wait_for_target(lambda: self._tap.redeliver_one(self._rng), "an event on the tap", fault)
        if objects is not None:
            _happened_now(fault)
            fault.detail = {"objects": objects}

    def _wait_for_target(self, find: Callable[[], Any], what: str, fault: InjectedFault) -> Any:
        """What ``find`` finds, or None with the fault marked not injected (recorded, not counted)."""
        try:
            return wait_for(
                find,
                timeout=self._settings.target_wait,
                what=what,
                interval=0.05,
                abort=lambda: "the soak is stopping" if self._stopping.is_set() else None,
            )
        except (WaitTimeoutError, ServerStartError) as none:
            fault.injected, fault.detail = False, {"reason": str(none)}
            return None


def _happened_now(fault: InjectedFault) -> None:
    """An instant fault's time is when it struck, not when the search for its target began."""
    fault.started_at, fault.seconds = time.time(), 0.001


def document_in_hand(log_path: Path) -> str | None:
    """The key a worker's log says it is recognising right now, or None."""
    try:
        with open(log_path, "rb") as log:
            log.seek(max(0, log.seek(0, os.SEEK_END) - LOG_TAIL_BYTES))
            tail = log.read().decode(errors="replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        if not line.startswith("{"):
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        message = record.get("message") if isinstance(record, dict) else None
        if message == RECOGNISING:
            return record.get("key")
        if message in RUN_ENDED:
            return None
    return None
