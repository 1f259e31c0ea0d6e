"""The Qt binding keeps Python's reference counts straight: PySide6 6.12.0 on
Python 3.11 dropped a reference to None on every void call (and to True on
every emit), which crashed long sessions with ``none_dealloc``."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    fired = Signal(bool)


def test_void_calls_and_emits_keep_reference_counts():
    emitter = _Emitter()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(500):
        emitter.setObjectName("x")
        emitter.fired.emit(True)
    # Other threads may hold a few references for a moment; a leak is -500.
    assert abs(sys.getrefcount(None) - none_before) < 50
    assert abs(sys.getrefcount(True) - true_before) < 50
