"""A small process supervisor: starts each process, restarts it with backoff when it
dies (as a container restart policy would), logs every restart, stops them all.

Used by the runner (``make up`` runs it as a detached daemon) and by the end-to-end and
chaos tests (in-process, so a test can kill -9 a service and watch it come back).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from infra.processes import ALL, ProcSpec


@dataclass
class Managed:
    spec: ProcSpec
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    backoff: float = 0.5
    next_start: float = 0.0
    log: IO[bytes] | None = None
    history: list[str] = field(default_factory=list)
    held: bool = False


class Supervisor:
    def __init__(
        self, specs: Iterable[ProcSpec], env: dict[str, str], log_dir: str, cwd: str | None = None
    ) -> None:
        self.env = env
        self.log_dir = log_dir
        self.cwd = cwd
        os.makedirs(log_dir, exist_ok=True)
        self.procs = {s.name: Managed(s) for s in specs}
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._events = open(os.path.join(log_dir, "supervisor.log"), "a", buffering=1)

    def _note(self, **fields: object) -> None:
        fields["at"] = datetime.now(UTC).isoformat()
        self._events.write(json.dumps(fields, ensure_ascii=False) + "\n")

    def _spawn(self, m: Managed) -> None:
        if m.log is None:
            m.log = open(os.path.join(self.log_dir, f"{m.spec.name}.log"), "ab", buffering=0)
        env = {**os.environ, **self.env, **m.spec.env}
        m.proc = subprocess.Popen(
            m.spec.argv,
            stdout=m.log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.cwd,
            start_new_session=True,
        )
        m.started_at = time.monotonic()
        self._note(event="started", process=m.spec.name, pid=m.proc.pid, restarts=m.restarts)

    def start(self) -> None:
        for m in self.procs.values():
            self._spawn(m)
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            now = time.monotonic()
            with self._lock:
                for m in self.procs.values():
                    if m.proc is None:
                        if m.held:
                            continue
                        if m.next_start and now >= m.next_start:
                            m.next_start = 0.0
                            m.restarts += 1
                            self._spawn(m)
                        continue
                    code = m.proc.poll()
                    if code is None:
                        if now - m.started_at > 30:
                            m.backoff = 0.5
                        continue
                    self._note(
                        event="exited", process=m.spec.name, code=code, restart_in_s=m.backoff
                    )
                    m.proc = None
                    m.next_start = now + m.backoff
                    m.backoff = min(m.backoff * 2, 10.0)

    def pid(self, name: str) -> int | None:
        p = self.procs[name].proc
        return p.pid if p is not None else None

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Send ``sig`` to a process (chaos); the watcher restarts it."""
        with self._lock:
            p = self.procs[name].proc
            if p is not None and p.poll() is None:
                os.killpg(p.pid, sig)
                self._note(event="killed", process=name, signal=sig)

    def hold(self, name: str, timeout: float = 10.0) -> None:
        """Stop a process (SIGTERM) and keep it down until ``release``."""
        with self._lock:
            m = self.procs[name]
            m.held = True
            p = m.proc
            if p is not None and p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
                try:
                    p.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait(5)
            m.proc = None
            self._note(event="held", process=name)

    def release(self, name: str) -> None:
        with self._lock:
            m = self.procs[name]
            m.held = False
            m.next_start = 0.0
            self._spawn(m)

    def restarts(self, name: str) -> int:
        return self.procs[name].restarts

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        with self._lock:
            live = [m for m in self.procs.values() if m.proc is not None and m.proc.poll() is None]
            for m in live:
                assert m.proc is not None
                try:
                    os.killpg(m.proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + timeout
            for m in live:
                assert m.proc is not None
                try:
                    m.proc.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    try:
                        os.killpg(m.proc.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                    m.proc.wait(5)
                self._note(event="stopped", process=m.spec.name)
            for m in self.procs.values():
                if m.log is not None:
                    m.log.close()
                    m.log = None
        self._events.close()


def main() -> int:
    """Daemon mode (``make up``): supervise ALL until SIGTERM, pid in var/run."""
    var = os.environ.get("YIWANG_VAR_DIR", "var")
    os.makedirs(os.path.join(var, "run"), exist_ok=True)
    pidfile = os.path.join(var, "run", "supervisor.pid")
    with open(pidfile, "w") as fh:
        fh.write(str(os.getpid()))
    sup = Supervisor(ALL, env={}, log_dir=os.path.join(var, "log"))
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    sup.start()
    done.wait()
    sup.stop()
    try:
        os.remove(pidfile)
    except FileNotFoundError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
