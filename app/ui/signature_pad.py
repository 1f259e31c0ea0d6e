"""A handwritten signature: draw with the mouse or a tablet pen.

Strokes are kept as points (x, y, pressure); they are drawn smoothed, as
quadratic curves through the midpoints of neighbouring points, with the pen
width following the tablet or touch pressure where the device gives one (a
mouse draws at pressure 1.0). ``to_json`` hands the strokes to the services,
which keep them and render the stored PNG with Pillow (signature_ink).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPainterPath, QPen, QTabletEvent, QTouchEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from app.services import signature_ink
from app.services.signature_ink import Point

INK = QColor(*signature_ink.INK)
BACKGROUND = QColor("white")
_width = signature_ink.pen_width


def draw_strokes(painter: QPainter, strokes: list[list[Point]]) -> None:
    """Smoothed strokes: segments from midpoint to midpoint, curving through each point."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for stroke in strokes:
        if not stroke:
            continue
        if len(stroke) == 1:
            x, y, p = stroke[0]
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(INK)
            radius = _width(p) / 2
            painter.drawEllipse(QPointF(x, y), radius, radius)
            continue
        painter.setBrush(Qt.BrushStyle.NoBrush)
        start = QPointF(stroke[0][0], stroke[0][1])
        for i in range(1, len(stroke)):
            x0, y0, p0 = stroke[i - 1]
            x1, y1, p1 = stroke[i]
            middle = QPointF((x0 + x1) / 2, (y0 + y1) / 2)
            path = QPainterPath(start)
            if i == 1:
                path.lineTo(middle)
            else:
                path.quadTo(QPointF(x0, y0), middle)
            if i == len(stroke) - 1:
                path.lineTo(QPointF(x1, y1))
            pen = QPen(INK, _width((p0 + p1) / 2), Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin)
            painter.setPen(pen)
            painter.drawPath(path)
            start = middle


class SignaturePad(QWidget):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_AcceptTouchEvents)
        self._strokes: list[list[Point]] = []
        self._drawing = False
        self.setObjectName("signaturePad")
        self.setAttribute(Qt.WidgetAttribute.WA_StaticContents)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumSize(QSize(320, 140))
        self.setCursor(Qt.CursorShape.CrossCursor)

    def sizeHint(self) -> QSize:
        return QSize(420, 160)

    # ------------------------------------------------------------ data

    def strokes(self) -> list[list[Point]]:
        return [list(stroke) for stroke in self._strokes]

    def is_empty(self) -> bool:
        return not any(self._strokes)

    def clear(self) -> None:
        self._strokes.clear()
        self._drawing = False
        self.update()
        self.changed.emit()

    def undo(self) -> None:
        if self._strokes:
            self._strokes.pop()
            self._drawing = False
            self.update()
            self.changed.emit()

    def to_json(self) -> str:
        return signature_ink.to_json(self._strokes)

    def load_json(self, strokes: str) -> None:
        """Show saved strokes (a specimen) in place of what was drawn."""
        self._strokes = signature_ink.from_json(strokes)
        self._drawing = False
        self.update()
        self.changed.emit()

    def to_png(self) -> bytes:
        """The PNG the services store for these strokes."""
        return signature_ink.render_png(self._strokes)

    # ------------------------------------------------------------ input

    def _begin(self, point: QPointF, pressure: float) -> None:
        self._drawing = True
        self._strokes.append([(point.x(), point.y(), pressure)])
        self.update()

    def _extend(self, point: QPointF, pressure: float) -> None:
        if self._drawing and self._strokes:
            self._strokes[-1].append((point.x(), point.y(), pressure))
            self.update()

    def _end(self) -> None:
        if self._drawing:
            self.changed.emit()
        self._drawing = False

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._begin(event.position(), 1.0)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        self._extend(event.position(), 1.0)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._extend(event.position(), 1.0)
            self._end()

    def tabletEvent(self, event: QTabletEvent) -> None:
        pressure = float(event.pressure()) if event.pressure() > 0 else 1.0
        kind = event.type()
        if kind == QTabletEvent.Type.TabletPress:
            self._begin(event.position(), pressure)
        elif kind == QTabletEvent.Type.TabletMove:
            self._extend(event.position(), pressure)
        elif kind == QTabletEvent.Type.TabletRelease:
            self._end()
        event.accept()  # no synthesized mouse events on top

    def event(self, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TouchEnd):
            self._touch(event)
            return True
        return super().event(event)

    def _touch(self, event: QTouchEvent) -> None:
        # One finger writes; a touch screen that reports no pressure gives 0 or 1.
        point = event.points()[0]
        pressure = float(point.pressure()) if point.pressure() > 0 else 1.0
        kind = event.type()
        if kind == QEvent.Type.TouchBegin:
            self._begin(point.position(), pressure)
        elif kind == QEvent.Type.TouchUpdate:
            self._extend(point.position(), pressure)
        else:
            self._extend(point.position(), pressure)
            self._end()
        event.accept()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        painter.setPen(QPen(QColor("#c0c0c0"), 1, Qt.PenStyle.DashLine))
        baseline = int(self.height() * 0.75)
        painter.drawLine(12, baseline, self.width() - 12, baseline)
        draw_strokes(painter, self._strokes)
        painter.end()
