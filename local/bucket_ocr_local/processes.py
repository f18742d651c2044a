"""Child processes, ports and bounded waits.

Every server we start is a child with its own process group, its output in a log file
under the work dir (a pipe nobody reads would eventually block it), and a stop that
escalates from SIGTERM to SIGKILL so nothing outlives the stack.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from bucket_ocr_local.errors import ServerStartError, WaitTimeoutError

T = TypeVar("T")

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port nothing listens on right now; the OS picks it, so parallel runs don't collide."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists (one of another user's counts too)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def port_open(port: int, host: str = LOOPBACK) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for(
    predicate: Callable[[], T | None],
    *,
    timeout: float,
    what: str,
    interval: float = 0.2,
    abort: Callable[[], str | None] | None = None,
) -> T:
    """Poll until ``predicate`` returns something truthy; ``abort`` names a reason to give up early."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if abort is not None and (reason := abort()):
            raise ServerStartError(f"gave up waiting for {what}: {reason}")
        if time.monotonic() >= deadline:
            raise WaitTimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


class ManagedProcess:
    """A child process with a log file, a readiness wait and a stop that always ends it."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
        new_session: bool = True,
        die_with_parent: bool = False,
    ):
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self._env = dict(env) if env is not None else None
        self._cwd = cwd
        self._new_session = new_session
        self._die_with_parent = die_with_parent
        self._process: subprocess.Popen | None = None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        # The child holds its own copy of the descriptor; ours closes once it is started.
        with open(self.log_path, "ab") as log:
            # A new session: Ctrl-C in the terminal reaches only our CLI, which then stops
            # children in order (workers first, servers last) instead of all at once.
            self._process = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env,
                cwd=self._cwd,
                start_new_session=self._new_session,
                preexec_fn=_die_with_parent if self._die_with_parent else None,
            )
        return self

    def exit_reason(self) -> str | None:
        if self._process is None:
            return "never started"
        code = self._process.poll()
        if code is None:
            return None
        return f"{self.name} exited with code {code}; last log lines:\n{self.log_tail()}"

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def exit_code(self) -> str:
        """How it ended, for a log line: ``code 1`` or ``signal SIGKILL``."""
        code = self._process.poll() if self._process else None
        if code is None:
            return "running" if self._process else "never started"
        return f"signal {signal.Signals(-code).name}" if code < 0 else f"code {code}"

    def wait_until(self, predicate: Callable[[], T | None], *, timeout: float, what: str) -> T:
        return wait_for(predicate, timeout=timeout, what=f"{self.name} {what}", abort=self.exit_reason)

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def signal(self, signum: int) -> None:
        if self.running():
            self._process.send_signal(signum)

    def wait(self, timeout: float | None = None) -> int | None:
        if self._process is None:
            return None
        try:
            return self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, grace: float = 10.0, *, leader_only: bool = False) -> None:
        """SIGTERM, then SIGKILL the group if anything is still there after ``grace`` seconds.

        ``leader_only`` asks just the leader to stop, for a process that shuts its own
        children down in order (a worker finishing its event before stopping its runtime).
        """
        if self._process is None:
            return
        if self._process.poll() is None:
            if leader_only:
                self._process.send_signal(signal.SIGTERM)
            else:
                self._signal_group(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(grace)
        # The group may hold grandchildren (RIE's runtime) even after the leader exited.
        self._signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._process.wait(5)

    def kill(self) -> None:
        """Kill without warning, as a crash or OOM would."""
        self._signal_group(signal.SIGKILL)
        self.wait(5)

    def _signal_group(self, signum: int) -> None:
        try:
            if self._new_session:
                os.killpg(self._process.pid, signum)
            else:
                self._process.send_signal(signum)
        except (ProcessLookupError, PermissionError):
            pass


def _die_with_parent() -> None:
    """Runs in the child before exec: the kernel SIGKILLs it when its parent dies.

    A worker killed with SIGKILL cannot stop its emulator; without this the emulator and
    its runtime would live on, holding ports and memory.
    """
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
