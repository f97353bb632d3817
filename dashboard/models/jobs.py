"""Background jobs for work longer than a request: progress, cancel, and a stop when nobody is waiting.

A job runs ``work(step)`` on its own thread; ``work`` calls ``step(done, total)`` between pieces of work,
and ``step`` raises :class:`CancelledError` once the job was cancelled or abandoned (no one asked for its
status for :data:`ABANDON_S` seconds: the page was closed or navigated away).  So a request that is
given up never keeps a core busy for minutes; the work stops at its next step.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

ABANDON_S = 15.0
"""A job whose page has not polled it for this long is stopped."""
KEEP_S = 300.0
"""Finished jobs are forgotten after this long."""


class CancelledError(Exception):
    """Raised inside a job's work at its next step once the job is cancelled or abandoned."""


@dataclass
class Job:
    job_id: str
    started: float = field(default_factory=time.monotonic)
    seen: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int = 0
    state: str = "running"  # running, done, cancelled, failed
    result: object = None
    error: str | None = None
    cancel_event: threading.Event = field(default_factory=threading.Event)

    def step(self, done: int, total: int) -> None:
        """Record progress; stop here if the job was cancelled or nobody waits for it any more."""
        self.done, self.total = done, total
        if time.monotonic() - self.seen > ABANDON_S:
            self.cancel_event.set()
        if self.cancel_event.is_set():
            raise CancelledError


class Jobs:
    """The running and recently finished jobs of one server process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._ids = itertools.count(1)

    def start(self, work: Callable[[Callable[[int, int], None]], object]) -> str:
        job = Job(f"job-{next(self._ids)}-{int(time.time())}")
        with self._lock:
            self._forget_old()
            self._jobs[job.job_id] = job
        threading.Thread(target=self._run, args=(job, work), name=job.job_id, daemon=True).start()
        return job.job_id

    def status(self, job_id: str | None) -> dict | None:
        """The job's state and progress (asking counts as someone still waiting); None for an unknown job."""
        with self._lock:
            job = self._jobs.get(job_id) if job_id else None
        if job is None:
            return None
        job.seen = time.monotonic()
        return {
            "state": job.state,
            "done": job.done,
            "total": job.total,
            "result": job.result,
            "error": job.error,
            "elapsed_s": time.monotonic() - job.started,
        }

    def cancel(self, job_id: str | None) -> None:
        with self._lock:
            job = self._jobs.get(job_id) if job_id else None
        if job is not None:
            job.cancel_event.set()

    def running(self) -> int:
        with self._lock:
            return sum(job.state == "running" for job in self._jobs.values())

    @staticmethod
    def _run(job: Job, work) -> None:
        try:
            job.result = work(job.step)
            job.state = "done"
        except CancelledError:
            job.state = "cancelled"
        except Exception as error:  # noqa: BLE001 - a job's failure is reported to its page, not raised on a thread
            job.error, job.state = str(error) or type(error).__name__, "failed"

    def _forget_old(self) -> None:
        now = time.monotonic()
        old = [k for k, job in self._jobs.items() if job.state != "running" and now - job.seen > KEEP_S]
        for key in old:
            del self._jobs[key]
