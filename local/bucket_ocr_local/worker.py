"""Workers: one process, one function instance, one event at a time.

Scale comes from more workers (`--workers N`), as from more Lambda instances, never from
threads inside one. SIGTERM or SIGINT lets the event in hand finish, then the worker stops;
a worker killed outright leaves its event to come back (SQS visibility timeout, or the
broker's redelivery of an unacknowledged message), so nothing is lost either way.

On the moto store this module is the worker, standing in for Lambda's SQS event source
mapping: `python -m bucket_ocr_local.worker --work-dir DIR --name NAME`. On MinIO the pool
runs the image's own self-hosted worker, `bucket-ocr-worker run`, instead.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bucket_ocr.events.routing import objects_named
from bucket_ocr.periodic import Periodic
from bucket_ocr_local import journal
from bucket_ocr_local.errors import FunctionInvocationError
from bucket_ocr_local.processes import ManagedProcess, wait_for
from bucket_ocr_local.python_path import child_environment
from bucket_ocr_local.runtimes import HANDLER, Runtime, start_runtime
from bucket_ocr_local.sources import Delivery, Source
from bucket_ocr_local.spec import UNSET_FOR_FUNCTION, StackSpec

POLL_SECONDS = 1.0
# Replacements of a worker that keeps failing its cold start wait longer each time, up to this.
MAX_RESTART_PAUSE = 60.0


def make_source(spec: StackSpec, name: str) -> Source:
    from bucket_ocr_local.sources.sqs_source import SqsSource

    return SqsSource(spec)


class Worker:
    def __init__(self, spec: StackSpec, runtime: Runtime, source: Source, *, name: str):
        self.spec = spec
        self.runtime = runtime
        self.source = source
        self.name = name
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            delivery = self.source.next(POLL_SECONDS)
            if delivery is not None:
                self.handle(delivery)

    def handle(self, delivery: Delivery) -> dict[str, Any]:
        request_id = str(uuid.uuid4())
        started = time.time()
        entry: dict[str, Any] = {
            "worker": self.name,
            "pid": os.getpid(),
            "request_id": request_id,
            "delivery": delivery.label,
            "objects": objects_named(delivery.event),
            "started_at": started,
        }
        with _KeepAlive(delivery, self.source.lease_seconds / 3):
            error: FunctionInvocationError | None = None
            try:
                response = self.runtime.invoke(delivery.event, request_id=request_id)
            except FunctionInvocationError as failed:
                error, response = failed, None
                entry.update(outcome="error", error_type=error.error_type, error_message=error.error_message)
            else:
                entry.update(outcome="ok", response=response)
            entry["seconds"] = round(time.time() - started, 3)
            # Journal first, settle second: whatever the queue shows as settled is in the journal.
            journal.append(self.spec.work_dir, entry)
            if error is None:
                delivery.succeeded(response)
            else:
                delivery.failed(error)
        return entry


class _KeepAlive(Periodic):
    """Extends the lease in the background while the function runs."""

    def __init__(self, delivery: Delivery, interval: float):
        super().__init__(interval, name="keep-alive", join_seconds=10)
        self._delivery = delivery

    def tick(self) -> bool:
        self._delivery.keep_alive()
        return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bucket_ocr_local.worker")
    parser.add_argument("--work-dir", type=Path, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--runtime", choices=("in-process", "rie"), default="in-process")
    parser.add_argument("--handler", default=HANDLER)
    args = parser.parse_args(argv)

    spec = StackSpec.load(args.work_dir)
    stopping = threading.Event()

    def stop(signum: int, frame: Any) -> None:
        print(f"{args.name}: {signal.Signals(signum).name}, finishing the current event", flush=True)
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    runtime = start_runtime(
        args.runtime, spec.function_environment(), work_dir=args.work_dir, name=args.name, handler=args.handler
    )
    try:
        worker = Worker(spec, runtime, make_source(spec, args.name), name=args.name)
        worker.stopping = stopping
        print(f"{args.name}: ready ({args.runtime})", flush=True)
        worker.run()
    finally:
        runtime.close()
    print(f"{args.name}: stopped", flush=True)
    return 0


def self_hosted_worker_environment(spec: StackSpec, handler: str = HANDLER, **overrides: str) -> dict[str, str]:
    """What `bucket-ocr-worker run` gets in a deployment: the function's settings and the broker's."""
    env = child_environment({"OCR_WORKER_HANDLER": handler, **spec.function_environment(), **overrides})
    for variable in UNSET_FOR_FUNCTION:
        env.pop(variable, None)
    return env


@dataclass
class _Slot:
    """Restart history of one place in the pool: how many failed cold starts in a row."""

    failed_starts: int = 0
    due: float | None = None

    def pause(self, *, was_ready: bool) -> float:
        # A worker that had loaded the function died of something passing (a kill, an
        # OOM): replaced at once. One that never got ready will likely fail again.
        self.failed_starts = 0 if was_ready else self.failed_starts + 1
        return 0.0 if was_ready else min(2.0 ** (self.failed_starts - 1), MAX_RESTART_PAUSE)

    def carried_over(self) -> _Slot:
        return _Slot(failed_starts=self.failed_starts)


class WorkerPool:
    """N worker processes for one stack; each says `<name>: ready` once its engine is loaded."""

    def __init__(
        self, work_dir: Path, *, count: int, runtime: str = "in-process", handler: str = HANDLER, store: str = "moto"
    ):
        self.work_dir = Path(work_dir)
        self.runtime = runtime
        self.handler = handler
        self.store = store
        self.workers: list[ManagedProcess] = []
        self._next = 0
        self._count = count
        self._log_start: dict[str, int] = {}
        self._slots: dict[str, _Slot] = {}

    def start(self) -> WorkerPool:
        for _ in range(self._count):
            self.add()
        return self

    def add(self) -> ManagedProcess:
        process = self._spawn()
        self.workers.append(process)
        return process

    def replace_dead(self) -> list[str]:
        """Starts a new worker in the place of each one that exited; returns what it did.

        A worker that keeps dying before it is ready (a broken setting, a full disk) is
        replaced after a growing pause, up to a minute, instead of in a tight loop.
        """
        now = time.monotonic()
        done = []
        for index, worker in enumerate(self.workers):
            if worker.running():
                continue
            slot = self._slots.setdefault(worker.name, _Slot())
            if slot.due is None:
                slot.due = now + slot.pause(was_ready=self._said_ready(worker))
                done.append(f"{worker.name} exited ({worker.exit_code()}); replacing it in {slot.due - now:.0f} s")
            if now < slot.due:
                continue
            replacement = self._spawn()
            self._slots[replacement.name] = slot.carried_over()
            self.workers[index] = replacement
            done.append(f"{replacement.name} started in place of {worker.name}")
        return done

    def _spawn(self) -> ManagedProcess:
        name = f"worker-{self._next}"
        self._next += 1
        if self.store == "minio":
            # The image's self-hosted entry point, configured by environment as in a deployment.
            command = [sys.executable, "-m", "bucket_ocr.worker", "run", "--name", name]
            env = self_hosted_worker_environment(StackSpec.load(self.work_dir), self.handler)
        else:
            command = [
                sys.executable,
                "-m",
                "bucket_ocr_local.worker",
                "--work-dir",
                str(self.work_dir),
                "--name",
                name,
                "--runtime",
                self.runtime,
                "--handler",
                self.handler,
            ]
            env = child_environment()
        process = ManagedProcess(name, command, log_path=self.work_dir / "logs" / f"{name}.log", env=env)
        # Logs are appended across restarts of a stack: readiness is read from here on.
        self._log_start[name] = process.log_path.stat().st_size if process.log_path.exists() else 0
        return process.start()

    def wait_ready(self, timeout: float = 300) -> None:
        """Until every live worker has finished its cold start (engine loaded)."""

        def all_ready() -> bool:
            return all(self._said_ready(w) for w in self.workers if w.running())

        def any_dead() -> str | None:
            return next((w.exit_reason() for w in self.workers if w.exit_reason()), None)

        wait_for(all_ready, timeout=timeout, what="workers to load the function", abort=any_dead, interval=0.5)

    def _said_ready(self, worker: ManagedProcess) -> bool:
        try:
            with open(worker.log_path, "rb") as log:
                log.seek(self._log_start.get(worker.name, 0))
                return f"{worker.name}: ready".encode() in log.read()
        except FileNotFoundError:
            return False

    def stop(self, grace: float = 120) -> None:
        # Ask all first, then wait: they finish their current events in parallel.
        for worker in self.workers:
            worker.signal(signal.SIGTERM)
        deadline = time.monotonic() + grace
        for worker in self.workers:
            worker.wait(max(0.1, deadline - time.monotonic()))
            worker.stop(grace=1, leader_only=True)
        self.workers.clear()


if __name__ == "__main__":
    sys.exit(main())
