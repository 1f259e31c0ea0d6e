"""A supplier's standing (合格 / 待评价 / 暂停供货 / 评价不合格 / 需复评) in
colour and words, wherever a supplier is shown or chosen: a badge beside a
choice box, a tag in its drop-down list, a coloured cell in a table.

The codes and Chinese words are ``services.suppliers.STANDING``; only the
colours live here.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QComboBox, QLabel, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app.services.suppliers import OVERDUE, STANDING

STANDING_ROLE = Qt.ItemDataRole.UserRole + 7  # a combo item's standing code

# (text colour, background): green admitted, amber to be looked at, red refused.
COLOURS: dict[str, tuple[str, str]] = {
    "qualified": ("#1b6e20", "#e3f4e4"),
    "pending": ("#5f6368", "#eceff1"),
    OVERDUE: ("#8a4b00", "#fff1c2"),
    "suspended": ("#b3261e", "#fde2e0"),
    "rejected": ("#b3261e", "#fde2e0"),
}


def colour(code: str | None) -> QColor:
    return QColor(COLOURS.get(code, COLOURS["pending"])[0])


def background(code: str | None) -> QColor:
    return QColor(COLOURS.get(code, COLOURS["pending"])[1])


def words(code: str | None) -> str:
    return STANDING.get(code, "") if code else ""


def badge_style(code: str | None) -> str:
    text, back = COLOURS.get(code, COLOURS["pending"])
    return (f"color: {text}; background: {back}; border: 1px solid {text}; border-radius: 3px;"
            " padding: 1px 6px; font-weight: bold;")


def show_badge(label: QLabel, code: str | None) -> None:
    """Put a standing on a label (hidden when there is none)."""
    label.setText(words(code))
    label.setStyleSheet(badge_style(code) if code else "")
    label.setVisible(bool(code))


def dot(code: str | None) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour(code))
    painter.drawEllipse(1, 1, 10, 10)
    painter.end()
    return QIcon(pixmap)


class StandingDelegate(QStyledItemDelegate):
    """Draws the standing's words, in its colour, at the right of each entry."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        super().paint(painter, option, index)
        code = index.data(STANDING_ROLE)
        if not code:
            return
        painter.save()
        painter.setPen(colour(code))
        area = QRect(option.rect).adjusted(0, 0, -6, 0)
        painter.drawText(area, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, words(code))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index):
        size = super().sizeHint(option, index)
        code = index.data(STANDING_ROLE)
        if code:
            size.setWidth(size.width() + option.fontMetrics.horizontalAdvance(words(code)) + 24)
        return size


def mark_items(combo: QComboBox, marks: Mapping[int, str]) -> None:
    """Tag every entry of a supplier choice box (id as item data) with its standing."""
    combo.setItemDelegate(StandingDelegate(combo))
    if combo.completer() is not None:
        combo.completer().popup().setItemDelegate(StandingDelegate(combo.completer().popup()))
    for index in range(combo.count()):
        code = marks.get(combo.itemData(index))
        if code:
            combo.setItemData(index, code, STANDING_ROLE)
            combo.setItemIcon(index, dot(code))
            combo.setItemData(index, words(code), Qt.ItemDataRole.ToolTipRole)


def mark_choices(combo: QComboBox, marks: Mapping[int, str], badge: QLabel) -> None:
    """``mark_items``, and keep ``badge`` showing the standing of the entry chosen."""
    mark_items(combo, marks)

    def follow(*_args) -> None:
        text = combo.currentText().strip()
        found = combo.findText(text, Qt.MatchFlag.MatchFixedString) if text else -1
        show_badge(badge, combo.itemData(found, STANDING_ROLE) if found >= 0 else None)

    combo.currentIndexChanged.connect(follow)
    combo.editTextChanged.connect(follow)
    follow()


def standing_badge(parent: QWidget | None = None) -> QLabel:
    label = QLabel(parent)
    label.setObjectName("standingBadge")
    label.hide()
    return label
