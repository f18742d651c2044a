"""The function as the container runs it: `python -m awslambdaric <handler>` under the
AWS Lambda Runtime Interface Emulator.

The RIE (internal/lambda/rie in aws-lambda-runtime-interface-emulator) takes the runtime
command as its arguments, serves invocations on --runtime-interface-emulator-address at
/2015-03-31/functions/function/invocations and the Runtime API on --runtime-api-address
(which it hands the runtime as AWS_LAMBDA_RUNTIME_API). It starts the runtime, and so runs
the init phase, on the first invocation, and keeps that runtime process for the next ones.
A handler error still answers 200, with {"errorType", "errorMessage", ...} as the body;
a timeout answers "Task timed out after N.00 seconds".
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

from bucket_ocr_local.binaries import rie_binary
from bucket_ocr_local.errors import FunctionInvocationError
from bucket_ocr_local.processes import LOOPBACK, ManagedProcess, free_port, port_open
from bucket_ocr_local.python_path import child_environment, package_roots
from bucket_ocr_local.runtimes.context import runtime_environment
from bucket_ocr_local.spec import UNSET_FOR_FUNCTION

INVOKE_PATH = "/2015-03-31/functions/function/invocations"


class EmulatorRuntime:
    def __init__(self, function_env: dict[str, str], *, work_dir: Path, name: str, handler: str, timeout_seconds: int):
        self.port = free_port()
        self.timeout_seconds = timeout_seconds
        env = child_environment(function_env)
        for variable in UNSET_FOR_FUNCTION:
            env.pop(variable, None)
        env.update(runtime_environment(timeout_seconds))
        task_root = Path(package_roots()[-1])  # where bucket_ocr lives, as /var/task in the image
        self.process = ManagedProcess(
            f"rie-{name}",
            [
                str(rie_binary()),
                "--runtime-interface-emulator-address",
                f"{LOOPBACK}:{self.port}",
                # Not the default 127.0.0.1:9001: several workers each run an emulator.
                "--runtime-api-address",
                f"{LOOPBACK}:{free_port()}",
                sys.executable,
                "-m",
                "awslambdaric",
                handler,
            ],
            log_path=work_dir / "logs" / f"rie-{name}.log",
            env=env,
            cwd=task_root,
            new_session=False,
            die_with_parent=True,
        )

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{INVOKE_PATH}"

    def start(self, timeout: float = 30) -> EmulatorRuntime:
        self.process.start()
        self.process.wait_until(lambda: port_open(self.port), timeout=timeout, what="accepting invocations")
        return self

    def invoke(self, event: Any, request_id: str | None = None) -> Any:
        request_id = request_id or str(uuid.uuid4())
        request = urllib.request.Request(
            self.url,
            data=json.dumps(event).encode() if not isinstance(event, bytes) else event,
            headers={"Content-Type": "application/json", "X-Amzn-RequestId": request_id},
            method="POST",
        )
        try:
            # The first call includes the cold start (model load): allow init plus timeout.
            with urllib.request.urlopen(request, timeout=self.timeout_seconds + 120) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            raise FunctionInvocationError(
                f"Emulator.HTTP{exc.code}", exc.read().decode(errors="replace") or exc.reason
            ) from exc
        except OSError as exc:
            reason = self.process.exit_reason() or str(exc)
            raise FunctionInvocationError("Emulator.Unreachable", reason) from exc
        return parse_response(body)

    def runtime_pids(self) -> list[int]:
        """The runtime processes the emulator has started (one, if init ran once)."""
        return _children(self.process.pid) if self.process.pid else []

    def close(self) -> None:
        self.process.stop(grace=5)


def parse_response(body: bytes) -> Any:
    text = body.decode(errors="replace")
    try:
        payload = json.loads(text)
    except ValueError:
        if text.startswith("Task timed out"):
            raise FunctionInvocationError("Sandbox.Timedout", text) from None
        raise FunctionInvocationError("Emulator.InvalidResponse", text[:500]) from None
    if isinstance(payload, dict) and "errorType" in payload and "errorMessage" in payload:
        raise FunctionInvocationError(payload["errorType"], payload["errorMessage"], payload)
    return payload


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # field 4 of /proc/<pid>/stat, after the command name
            found.append(int(stat.parent.name))
    return sorted(found)
