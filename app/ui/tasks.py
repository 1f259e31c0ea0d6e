"""One way to run slow work: a plain function on a worker thread, its result
or error back on the GUI thread (Anki's CollectionOp, Orange's ConcurrentMixin).

The function receives a ``Progress`` it may report to and check for
cancellation; it never touches a widget, so it can be tested with a Mock.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger("tasks")


class Cancelled(Exception):
    """The user cancelled; shown to nobody."""


@dataclass
class Progress:
    """Shared between the worker and the GUI: plain data, thread-safe enough
    for a flag and two counters."""

    on_report: Callable[[int, int, str], None] | None = None
    _cancel: threading.Event = field(default_factory=threading.Event)

    def report(self, done: int, total: int, text: str = "") -> None:
        if self._cancel.is_set():
            raise Cancelled()
        if self.on_report:
            self.on_report(done, total, text)

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()


class _Signals(QObject):
    succeeded = Signal(object)
    failed = Signal(object)
    progressed = Signal(int, int, str)


class _Job(QRunnable):
    def __init__(self, fn: Callable, progress: Progress, signals: _Signals):
        super().__init__()
        self.fn, self.progress, self.signals = fn, progress, signals

    def run(self) -> None:
        try:
            result = self.fn(self.progress)
        except BaseException as exc:  # noqa: BLE001 — every failure goes back to the GUI
            self.signals.failed.emit(exc)
        else:
            self.signals.succeeded.emit(result)


WRITES = "writes_data"  # the attribute that marks a job as a write (AppContext.write sets it)


def writes(fn: Callable) -> Callable:
    """Mark ``fn`` as a job that writes: after it succeeds, ``data_changed``."""
    setattr(fn, WRITES, True)
    return fn


class TaskRunner(QObject):
    """Runs functions on a thread pool; keeps the jobs' signal objects alive.

    After every write that succeeded, and after its own callback, one
    ``data_changed``: the open pages re-read what they show (Anki's
    operations do the same), whoever made the change."""

    data_changed = Signal()

    def __init__(self, parent: QObject | None = None, pool: QThreadPool | None = None):
        super().__init__(parent)
        self.pool = pool or QThreadPool.globalInstance()
        self._running: set[_Signals] = set()

    def run(
        self,
        fn: Callable[[Progress], object],
        on_success: Callable[[object], None],
        on_failure: Callable[[BaseException], None],
        on_progress: Callable[[int, int, str], None] | None = None,
    ) -> Progress:
        signals = _Signals(self)  # lives in the GUI thread: slots run there
        progress = Progress(on_report=signals.progressed.emit)
        self._running.add(signals)

        def done(callback, value):
            self._running.discard(signals)
            signals.deleteLater()
            callback(value)

        def succeeded(result):
            done(on_success, result)
            if getattr(fn, WRITES, False):
                self.data_changed.emit()

        signals.succeeded.connect(succeeded)
        signals.failed.connect(lambda error: done(on_failure, error))
        if on_progress:
            signals.progressed.connect(on_progress)
        self.pool.start(_Job(fn, progress, signals))
        return progress

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def wait(self, msecs: int = 30000) -> bool:
        return self.pool.waitForDone(msecs)

    def settle(self) -> None:
        """Wait, however long it takes, until every job has finished and its
        callback has run on this thread (tests; a busy machine is only slower)."""
        from PySide6.QtCore import QCoreApplication

        while self._running:
            self.pool.waitForDone(-1)
            QCoreApplication.processEvents()
