"""The signature pad: strokes from the mouse, undo, clear, PNG output."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QImage, QMouseEvent, QPointingDevice, QTabletEvent
from PySide6.QtWidgets import QApplication

from app.errors import UserError
from app.services import signature_ink
from app.ui.signature_pad import SignaturePad


def _send(widget, kind, x, y, button=Qt.MouseButton.LeftButton):
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else Qt.MouseButton.LeftButton
    local = QPointF(x, y)
    event = QMouseEvent(kind, local, widget.mapToGlobal(local), button if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton,
                        buttons, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(widget, event)


def draw(pad, points):
    (x, y), rest = points[0], points[1:]
    _send(pad, QEvent.Type.MouseButtonPress, x, y)
    for x, y in rest:
        _send(pad, QEvent.Type.MouseMove, x, y)
    _send(pad, QEvent.Type.MouseButtonRelease, *points[-1])


def make_pad(qtbot) -> SignaturePad:
    pad = SignaturePad()
    pad.resize(400, 160)
    qtbot.addWidget(pad)
    return pad


def ink_pixels(png: bytes) -> int:
    image = QImage()
    assert image.loadFromData(png, "PNG")
    white = 0xFFFFFFFF
    return sum(
        1 for y in range(0, image.height(), 2) for x in range(0, image.width(), 2) if image.pixel(x, y) != white
    )


def signature(pad) -> None:
    draw(pad, [(30, 100), (60, 40), (90, 110), (120, 50), (150, 100)])
    draw(pad, [(180, 60), (220, 90), (260, 60), (300, 110)])


def test_strokes_make_a_png_with_ink(qtbot):
    pad = make_pad(qtbot)
    assert pad.is_empty()
    with pytest.raises(UserError):
        pad.to_png()
    with qtbot.waitSignal(pad.changed):
        signature(pad)
    strokes = pad.strokes()
    assert len(strokes) == 2 and len(strokes[0]) >= 5
    assert strokes[0][0] == (30.0, 100.0, 1.0)
    png = pad.to_png()
    assert png.startswith(b"\x89PNG") and not pad.is_empty()
    assert ink_pixels(png) > 50
    # What the window shows is drawn as well, not only stored.
    shown = pad.grab().toImage()
    assert shown.pixelColor(45, 70).lightness() < 128  # on the curve, between two points
    assert shown.pixelColor(380, 20).lightness() > 240


def test_undo_removes_the_last_stroke_and_clear_empties(qtbot):
    pad = make_pad(qtbot)
    signature(pad)
    first = pad.strokes()[0]
    pad.undo()
    assert pad.strokes() == [first]
    pad.undo()
    assert pad.is_empty()
    pad.undo()  # nothing left: no error
    signature(pad)
    pad.clear()
    assert pad.is_empty() and pad.strokes() == []


def test_strokes_round_trip_through_json(qtbot):
    pad = make_pad(qtbot)
    signature(pad)
    saved = pad.to_json()
    other = make_pad(qtbot)
    other.load_json(saved)
    assert other.strokes() == pad.strokes()
    assert signature_ink.from_json(saved) == pad.strokes()


def _tablet(pad, kind, x, y, pressure):
    local = QPointF(x, y)
    event = QTabletEvent(
        kind, QPointingDevice.primaryPointingDevice(), local, pad.mapToGlobal(local), pressure,
        0.0, 0.0, 0.0, 0.0, 0.0, Qt.KeyboardModifier.NoModifier, Qt.MouseButton.LeftButton,
        Qt.MouseButton.LeftButton if kind != QEvent.Type.TabletRelease else Qt.MouseButton.NoButton,
    )
    QApplication.sendEvent(pad, event)


def test_pen_pressure_is_kept_and_widens_the_line(qtbot):
    pad = make_pad(qtbot)
    _tablet(pad, QEvent.Type.TabletPress, 20, 60, 0.1)
    _tablet(pad, QEvent.Type.TabletMove, 120, 60, 0.1)
    _tablet(pad, QEvent.Type.TabletRelease, 120, 60, 0.1)
    _tablet(pad, QEvent.Type.TabletPress, 20, 120, 1.0)
    _tablet(pad, QEvent.Type.TabletMove, 120, 120, 1.0)
    _tablet(pad, QEvent.Type.TabletRelease, 120, 120, 1.0)
    light, firm = pad.strokes()
    assert [round(p, 2) for _, _, p in light] == [0.1, 0.1]
    assert [p for _, _, p in firm] == [1.0, 1.0]
    image = pad.grab().toImage()

    def thickness(y0: int) -> int:
        return sum(1 for y in range(y0 - 8, y0 + 9) if image.pixelColor(70, y).lightness() < 200)

    assert thickness(120) > thickness(60) >= 1
