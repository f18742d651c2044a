"""Start `bucket_ocr_bench.child` tasks and collect their one-line JSON answers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from bucket_ocr_bench.errors import MeasurementError


def _command(task: str, args: Mapping[str, Any]) -> list[str]:
    return [sys.executable, "-m", "bucket_ocr_bench.child", task, json.dumps(args)]


def run_child(task: str, args: Mapping[str, Any], env: Mapping[str, str], timeout: float = 7200) -> dict[str, Any]:
    started = time.perf_counter()
    done = subprocess.run(
        _command(task, args), capture_output=True, text=True, env=dict(env), timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise MeasurementError(f"{task} failed with code {done.returncode}: {done.stderr[-2000:]}")
    result = _last_json(done.stdout, task)
    result["process_wall_seconds"] = time.perf_counter() - started
    return result


def run_workers(
    args_list: list[Mapping[str, Any]], env: Mapping[str, str], timeout: float = 7200
) -> list[dict[str, Any]]:
    """Start every worker, wait until all have loaded, then release them at once."""
    workers = [
        subprocess.Popen(
            _command("throughput-worker", args),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env=dict(env),
        )
        for args in args_list
    ]
    try:
        for worker in workers:
            line = worker.stdout.readline()
            while line and line.strip() != "ready":
                line = worker.stdout.readline()
            if not line:
                raise MeasurementError(f"a throughput worker exited before loading (code {worker.wait()})")
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            out, _ = worker.communicate(timeout=timeout)
            if worker.returncode != 0:
                raise MeasurementError(f"a throughput worker failed with code {worker.returncode}")
            results.append(_last_json(out, "throughput-worker"))
        return results
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()


def _last_json(stdout: str, task: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise MeasurementError(f"{task} printed no result: {stdout[-500:]}")
