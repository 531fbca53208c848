"""A small foreground process supervisor for `make demo`: web, Celery worker and Celery beat.

Each child runs in its own process group, so a Ctrl-C at the terminal reaches only the
supervisor, which then stops the children in an orderly way: SIGTERM to each child, SIGKILL to
whatever is left of its process group after a grace period. A second Ctrl-C skips the grace
period. If one child exits on its own, the others are stopped and the supervisor fails.
Every line a child prints is prefixed with the child's name. Children also get SIGTERM from the
kernel if the supervisor itself dies (PR_SET_PDEATHSIG), so nothing outlives it.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

SELF_NAME = "supervisor"
_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def _die_with_parent() -> None:
    """In the child before exec: ask the kernel for SIGTERM when the supervisor dies."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


@dataclass
class Child:
    """One supervised command and, once started, its process."""

    name: str
    argv: Sequence[str]
    proc: subprocess.Popen[bytes] | None = None
    pump: threading.Thread | None = None
    killed: bool = False

    @property
    def running(self) -> bool:
        """True while the child's own process has not exited."""
        return self.proc is not None and self.proc.poll() is None


@dataclass
class Supervisor:
    """Starts children, relays their output, and stops them all together."""

    children: list[Child]
    env: Mapping[str, str]
    cwd: Path
    grace_seconds: float = 20.0
    out: object = field(default=sys.stdout)
    # Called once every child has started (e.g. to poll for readiness from a thread).
    on_started: Callable[[], None] | None = None
    _signals: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def say(self, name: str, text: str) -> None:
        """Print one line with a name prefix, never interleaving with other lines."""
        width = max(len(SELF_NAME), *(len(child.name) for child in self.children))
        with self._lock:
            self.out.write(f"{name:<{width}} | {text}\n")  # type: ignore[attr-defined]
            self.out.flush()  # type: ignore[attr-defined]

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        self._signals += 1

    def _pump(self, child: Child) -> None:
        """Relay a child's output line by line until every process holding the pipe closes it."""
        assert child.proc is not None and child.proc.stdout is not None
        for raw in iter(child.proc.stdout.readline, b""):
            self.say(child.name, raw.decode("utf-8", "replace").rstrip("\r\n"))
        child.proc.stdout.close()

    def start(self) -> None:
        """Start every child (before any output thread runs, so nothing is forked mid-lock)."""
        for child in self.children:
            child.proc = subprocess.Popen(
                child.argv,
                cwd=self.cwd,
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                process_group=0,
                # Safe here: no thread of ours runs yet (the output pumps start below).
                preexec_fn=_die_with_parent,
            )
        for child in self.children:
            child.pump = threading.Thread(target=self._pump, args=(child,), name=f"pump-{child.name}", daemon=True)
            child.pump.start()
        self.say(SELF_NAME, "started " + ", ".join(f"{c.name} (pid {c.proc.pid})" for c in self.children if c.proc))
        if self.on_started is not None:
            self.on_started()

    def _wait_for_trouble(self) -> Child | None:
        """Block until a signal arrives (returns None) or a child exits (returns it)."""
        while not self._signals:
            for child in self.children:
                if not child.running:
                    return child
            time.sleep(0.2)
        return None

    def _group_alive(self, child: Child) -> bool:
        assert child.proc is not None
        try:
            os.killpg(child.proc.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def _kill_group(self, child: Child) -> None:
        assert child.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.proc.pid, signal.SIGKILL)
            child.killed = True

    def stop(self) -> None:
        """SIGTERM each running child, wait for its whole process group, then SIGKILL leftovers."""
        signals_before = self._signals
        started_children = [child for child in self.children if child.proc is not None]
        for child in started_children:
            assert child.proc is not None
            if child.running:
                self.say(SELF_NAME, f"stopping {child.name} (pid {child.proc.pid})")
                child.proc.send_signal(signal.SIGTERM)
            elif self._group_alive(child):
                # The leader died (e.g. killed) and left its own children, such as gunicorn workers.
                self.say(SELF_NAME, f"stopping what {child.name} left behind (process group {child.proc.pid})")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.proc.pid, signal.SIGTERM)
        started = time.monotonic()
        deadline = started + self.grace_seconds
        pending = list(started_children)
        while pending and time.monotonic() < deadline and self._signals == signals_before:
            still = [c for c in pending if c.running or self._group_alive(c)]
            for child in pending:
                if child not in still and child.proc is not None:
                    took = time.monotonic() - started
                    self.say(SELF_NAME, f"{child.name} stopped (status {child.proc.returncode}) in {took:.1f} s")
            pending = still
            time.sleep(0.1)
        for child in pending:
            if child.running or self._group_alive(child):
                self.say(SELF_NAME, f"{child.name} did not stop in time; killing its process group")
                self._kill_group(child)
        for child in started_children:
            assert child.proc is not None
            child.proc.wait()
            if child.pump is not None:
                child.pump.join(timeout=5)

    def run(self) -> int:
        """Supervise until a signal or a child's exit; return the exit status for the caller."""
        handlers: dict[int, Callable | int | None] = {}
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            handlers[signum] = signal.signal(signum, self._on_signal)
        try:
            try:
                self.start()
            except OSError as exc:
                self.say(SELF_NAME, f"cannot start every process: {exc}")
                self.stop()
                return 1
            failed = self._wait_for_trouble()
            if failed is not None:
                assert failed.proc is not None
                self.say(SELF_NAME, f"{failed.name} exited with status {failed.proc.returncode}; stopping the rest")
            else:
                self.say(SELF_NAME, "signal received; stopping (Ctrl-C again to kill at once)")
            self.stop()
        finally:
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
        if failed is not None:
            status = failed.proc.returncode  # type: ignore[union-attr]
            return status if status and status > 0 else 1
        unclean = [
            f"{c.name} ({'killed' if c.killed else f'status {c.proc.returncode}'})"
            for c in self.children
            # Ended by our SIGTERM before installing a handler (e.g. stopped while starting): still clean.
            if c.proc is not None and (c.killed or c.proc.returncode not in (0, -signal.SIGTERM))
        ]
        if unclean:
            self.say(SELF_NAME, "not stopped cleanly: " + ", ".join(unclean))
            return 1
        self.say(SELF_NAME, "all processes stopped")
        return 0
