"""Per-step time and peak memory of a run: what the manifest and ``benchmarks/scale_run.py`` record.

Peak memory is the resident set size (RSS) of this process plus its child processes (the
simulator's workers, a Spark driver JVM, Chromium printing the PDF), the largest value seen while
the step ran. Two sources, taken together because neither alone is enough:

* the kernel's own high-water mark of this process (``VmHWM`` in ``/proc/self/status``), reset at
  the start of each step by writing ``5`` to ``/proc/self/clear_refs`` (Linux 4.0+), so a short
  spike of DuckDB or pandas is never missed;
* a sampler thread that every ``interval`` seconds adds up the RSS of this process and all its
  descendants (``/proc/PID/task/*/children``), which is how children are counted at all.

Where ``/proc`` is missing (macOS, Windows) only ``resource.getrusage``'s lifetime peak of the
process is available; the record then says ``"peak_source": "getrusage (lifetime)"``, not per step.

Example:
    >>> meter = StepMeter()
    >>> with meter.step("allocate"):
    ...     block = bytearray(50 * 2**20)
    >>> usage = meter.usage["allocate"]
    >>> usage["seconds"] >= 0 and usage["peak_rss_mb"] > 50
    True
"""

from __future__ import annotations

import os
import resource
import threading
import time
from contextlib import contextmanager
from pathlib import Path

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_PROC = Path("/proc/self/status").exists()


def _rss_bytes(pid: int) -> int:
    """Resident bytes of one process (0 if it has gone)."""
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return 0


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` from every one of its threads' ``children`` files."""
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            out += [int(c) for c in (task / "children").read_text().split()]
        except (OSError, ValueError):
            pass
    return out


def tree_rss_bytes(pid: int | None = None) -> int:
    """RSS of a process and all its descendants, in bytes (Linux ``/proc``; 0 elsewhere).

    Example:
        >>> tree_rss_bytes() > 0 or not _PROC
        True
    """
    if not _PROC:
        return 0
    seen, todo, total = set(), [pid or os.getpid()], 0
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        total += _rss_bytes(p)
        todo += _children(p)
    return total


def _own_peak_bytes() -> int:
    """This process's high-water RSS since the last reset (VmHWM), or the lifetime peak."""
    if _PROC:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if os.uname().sysname == "Darwin" else 1024)


def _reset_own_peak() -> bool:
    """Reset VmHWM to the current RSS; False where the kernel does not allow it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class _Sampler(threading.Thread):
    """Samples the process tree's RSS until stopped; keeps the largest."""

    def __init__(self, interval: float):
        super().__init__(daemon=True)
        self.interval, self.peak, self.children_peak = interval, 0, 0
        self._halt = threading.Event()
        self._sample()

    def _sample(self) -> None:
        tree = tree_rss_bytes()
        self.peak = max(self.peak, tree)
        self.children_peak = max(self.children_peak, tree - _rss_bytes(os.getpid()))

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            self._sample()

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self._sample()


def release_freed_memory() -> None:
    """Hand back to the system what a finished step freed, so the next step starts low: a full
    garbage collection (statsmodels and pandas leave reference cycles), Arrow's pool's unused memory,
    and glibc's free heap pages (``malloc_trim``; nothing where glibc is not the C library).

    Example:
        >>> release_freed_memory()
    """
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        pass
    libc = ctypes.util.find_library("c")
    if libc and os.uname().sysname == "Linux":
        try:
            ctypes.CDLL(libc).malloc_trim(0)
        except (OSError, AttributeError):  # musl has no malloc_trim
            pass


class StepMeter:
    """Times named steps and records each one's peak memory in ``usage`` (seconds, MB).

    ``progress`` (optional) is told each step's name as it starts, as the pipeline's progress bar wants.
    """

    def __init__(self, progress=None, interval: float = 0.1):
        self.progress, self.interval = progress, interval
        self.usage: dict[str, dict] = {}

    @property
    def timings(self) -> dict[str, float]:
        """Seconds per step, the manifest's ``timings_seconds``."""
        return {name: u["seconds"] for name, u in self.usage.items()}

    @contextmanager
    def step(self, name: str):
        if self.progress:
            self.progress(name)
        per_step = _reset_own_peak()
        sampler = _Sampler(self.interval)
        sampler.start()
        start = time.perf_counter()
        try:
            yield
        finally:
            seconds = time.perf_counter() - start
            sampler.stop()
            own = _own_peak_bytes()
            release_freed_memory()  # the next step starts from what this one still holds, not its peak
            self.usage[name] = {
                "seconds": round(seconds, 3),
                # the sampled tree's peak, never below the kernel's exact mark for this process
                "peak_rss_mb": round(max(sampler.peak, own) / 2**20, 1),
                "peak_rss_process_mb": round(own / 2**20, 1),
                "peak_rss_children_mb": round(sampler.children_peak / 2**20, 1),
                "peak_source": "VmHWM per step + sampled tree" if per_step else "getrusage (lifetime)",
                "rss_after_mb": round(_rss_bytes(os.getpid()) / 2**20, 1),  # held when the next step starts
            }
