"""Group commit: one writer thread commits the saves that arrived meanwhile in one transaction.

Why: every save is an atomic read-merge-write that holds the database's write lock (``BEGIN
IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` on PostgreSQL), so saves run one after another, and
each commit waits for the disk (SQLite's ``synchronous=FULL`` syncs the WAL on every commit: about
12 ms on the shared development machine, so at most ~85 saves a second, and waiting writers poll
SQLite's busy handler, sleeping up to 100 ms between tries). Here the saves queued while one
transaction commits go into the next one, each in its own savepoint, and are acknowledged only after
that transaction has committed: one disk sync per batch, no lock contention inside the process, and
the same durability as one transaction per save (a killed server has acknowledged nothing it did
not commit). This is the group commit of database engines (PostgreSQL's ``commit_delay``, the
InnoDB log's group commit), done in the application because SQLite has one writer.

A save that fails (an unknown token, a closed wave, a submitted response, an answer too long) rolls
back to its savepoint and fails alone; a failure of the transaction itself (the lock not obtained in
the busy timeout, the commit failing) fails every save of the batch, none of them acknowledged.

With ``run_batch`` (the survey store's saves: :func:`joinedup.survey.save_batch.save_batch`), the
queued items are handed to ``run_batch(conn, items)`` together, which decides each and writes the
batch in a few statements instead of a savepoint and its statements per item (on PostgreSQL each
savepoint is a subtransaction, and every statement a round trip made by the one writer thread). It
returns ``(value, exception)`` per item: a refused item fails alone. If ``run_batch`` itself raises
(a write of the batch failed), the transaction is rolled back and each item is run again alone, in
a transaction of its own, so one bad item still cannot fail the others.

Example:
    >>> writer = GroupCommit(store.write_transaction)                             # doctest: +SKIP
    >>> writer.submit(lambda conn: conn.execute(...)).result()                    # doctest: +SKIP
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future

MAX_BATCH = 256  # saves per transaction: bounds how long one batch holds the write lock


class GroupCommit:
    """A writer thread over ``transaction`` (a context manager yielding a connection in a transaction
    that holds the write lock and commits on exit); :meth:`submit` queues ``work(conn)``."""

    def __init__(self, transaction: Callable, max_batch: int = MAX_BATCH, name: str = "survey-group-commit",
                 run_batch: Callable | None = None):
        self._transaction, self._max_batch, self._run_batch = transaction, max_batch, run_batch
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def submit(self, work) -> Future:
        """Queue ``work(conn)`` (or, with ``run_batch``, an item for it); the future has its result once
        the batch that ran it has committed (or its exception: its own, or the transaction's)."""
        future: Future = Future()
        self._queue.put((work, future))
        return future

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self._max_batch:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stop = True
                    break
                batch.append(more)
            if self._run_batch is None:
                self._commit(batch)
            else:
                self._commit_batch(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Callable, Future]]) -> None:
        outcomes = []
        try:
            with self._transaction() as conn:
                for work, future in batch:
                    if not future.set_running_or_notify_cancel():
                        continue
                    savepoint = conn.begin_nested()
                    try:
                        value = work(conn)
                    except Exception as exc:  # noqa: BLE001 - any failure of this save is its own, passed to its caller
                        savepoint.rollback()
                        outcomes.append((future, None, exc))
                    else:
                        savepoint.commit()
                        outcomes.append((future, value, None))
        except BaseException as exc:  # the transaction failed: no save of the batch was committed
            for _work, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for future, value, exc in outcomes:  # acknowledged only now, after the commit
            if exc is None:
                future.set_result(value)
            else:
                future.set_exception(exc)

    def _commit_batch(self, batch: list[tuple[object, Future]]) -> None:
        batch = [(item, future) for item, future in batch if future.set_running_or_notify_cancel()]
        if batch:
            self._commit_items(batch)

    def _commit_items(self, batch: list[tuple[object, Future]]) -> None:
        try:
            with self._transaction() as conn:
                try:
                    outcomes = self._run_batch(conn, [item for item, _future in batch])
                except Exception as exc:  # a write of the batch failed: rolled back, then retried one by one
                    raise _BatchFailed from exc
        except _BatchFailed as failed:
            if len(batch) == 1:
                batch[0][1].set_exception(failed.__cause__)
            else:  # each alone: the item that made the write fail fails alone
                for one in batch:
                    self._commit_items([one])
            return
        except BaseException as exc:  # the transaction failed: no item of the batch was committed
            for _item, future in batch:
                future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for (_item, future), (value, exc) in zip(batch, outcomes, strict=True):  # acknowledged only now
            if exc is None:
                future.set_result(value)
            else:
                future.set_exception(exc)


class _BatchFailed(Exception):
    """``run_batch`` raised inside the transaction (its cause); the transaction was rolled back."""
