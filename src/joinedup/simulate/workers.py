"""Simulate chunks in worker processes, yielding results in chunk order.

Workers are plain ``python`` subprocesses talking over pipes
(length-prefixed pickles), not ``multiprocessing``: they never re-import the caller's main script, so
a script calling :func:`joinedup.simulate.simulate` needs no ``if __name__ == "__main__"`` guard, and
nothing is forked from a parent that may hold threads (DuckDB, Arrow). Each worker rebuilds the world
from (scale, seed, years, scenario) and simulates the chunks it is sent, one at a time; the parent
keeps at most ``window`` chunks in flight and yields them in order, so memory stays bounded and the
output does not depend on the number of workers.

Example:
    >>> # used by joinedup.simulate.runner.simulate(..., workers=2)
"""

from __future__ import annotations

import os
import pickle
import queue
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

_HEADER = struct.Struct("<Q")
# Worker start-up, kept short because every run starts its workers afresh:
# - ``joinedup.data``'s __init__ imports Ibis and pandas, which the simulator does not need: the worker
#   registers a bare package object so that only joinedup.data.tables and .codes are loaded;
# - pyarrow imports pandas (if installed) on its first conversion just to test for pandas objects:
#   the worker makes ``import pandas`` fail, so pyarrow carries on without it.
# This happens in the fresh worker process only; the caller's process is untouched.
_BOOT = (
    "import sys, types, pathlib\n"
    "class NoPandas:\n"
    "    def find_spec(self, name, path=None, target=None):\n"
    "        if name == 'pandas' or name.startswith('pandas.'):\n"
    "            raise ImportError('pandas is not used by simulation workers')\n"
    "sys.meta_path.insert(0, NoPandas())\n"
    "import joinedup\n"
    "data = types.ModuleType('joinedup.data')\n"
    "data.__path__ = [str(pathlib.Path(joinedup.__file__).parent / 'data')]\n"
    "sys.modules.setdefault('joinedup.data', data)\n"
    "from joinedup.simulate.workers import _serve\n"
    "_serve()\n"
)


def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _recv(stream):
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        raise EOFError("worker closed its pipe")
    (size,) = _HEADER.unpack(head)
    return pickle.loads(stream.read(size))


def run_chunks(init: tuple, chunks: list[tuple[int, int]], workers: int, window: int | None = None) -> Iterator:
    """Yield ``simulate_chunk`` results for ``chunks`` in order, computed by ``workers`` processes.

    ``init`` is (scale, seed, (first_year, last_year), scenario).
    """
    window = window or 2 * workers
    env = dict(os.environ)
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([package_root, env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["OMP_NUM_THREADS"] = env.get("OMP_NUM_THREADS", "1")
    procs = [subprocess.Popen([sys.executable, "-c", _BOOT], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, env=env) for _ in range(workers)]
    done: queue.Queue = queue.Queue()

    def reader(w: int) -> None:
        try:
            while True:
                done.put((w, *_recv(procs[w].stdout)))
        except BaseException as exc:  # noqa: BLE001 - EOF at shutdown or a broken worker: reported below
            done.put((w, None, "broken", repr(exc)))

    threads = [threading.Thread(target=reader, args=(w,), daemon=True) for w in range(workers)]
    try:
        for p in procs:
            _send(p.stdin, ("init", init))
        for t in threads:
            t.start()
        results: dict[int, object] = {}
        next_task, next_out, idle = 0, 0, list(range(workers))
        while next_out < len(chunks):
            while idle and next_task < len(chunks) and next_task < next_out + window:
                _send(procs[idle.pop()].stdin, ("chunk", next_task, chunks[next_task]))
                next_task += 1
            w, index, status, payload = done.get()
            if status == "broken":
                raise RuntimeError(f"simulation worker {w} stopped: {payload}")
            if status == "error":
                raise RuntimeError(f"simulation worker {w} failed on chunk {chunks[index]}:\n{payload}")
            results[index] = payload
            idle.append(w)
            while next_out in results:
                yield results.pop(next_out)
                next_out += 1
    finally:
        for p in procs:
            try:
                _send(p.stdin, ("stop",))
                p.stdin.close()
            except OSError:
                pass
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()


def _serve() -> None:
    """Worker loop: build the world once, then simulate each chunk asked for."""
    import traceback

    from joinedup.simulate.chunk import simulate_chunk
    from joinedup.simulate.dates import Period
    from joinedup.simulate.geography import build_world

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # stray prints must not corrupt the result pipe
    world = None
    while True:
        try:
            message = _recv(stdin)
        except EOFError:
            return
        if message[0] == "stop":
            return
        if message[0] == "init":
            scale, seed, years, scenario = message[1]
            world = build_world(scale, seed, Period.of(*years), scenario)
            continue
        _, index, (area, part) = message
        try:
            result = simulate_chunk(world, area, part)
        except Exception:  # noqa: BLE001 - sent back and raised in the parent with the traceback
            _send(stdout, (index, "error", traceback.format_exc()))
            continue
        _send(stdout, (index, "ok", result))
