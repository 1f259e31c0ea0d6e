"""Entry forms built in code from a ledger declaration (architecture.md habit 6).

``LedgerForm`` lays out one row per field with a widget chosen by the field's
kind, gives back raw values for ``Ledger.clean`` (codes, ids, ISO strings or
None) and shows each validation message under its field. Reference fields
offer the display values of the ledger they point to, read with one query per
lookup when the form is built (``lookup_choices``).
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QDate, QPoint, QRegularExpression, Qt, Signal
from PySide6.QtGui import QColor, QPalette, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QApplication,
    QCalendarWidget,
    QCheckBox,
    QComboBox,
    QCompleter,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from app import clock
from app.errors import FieldError
from app.i18n import tr
from app.ledgers import Field, Ledger
from app.ledgers.fields import COMPUTED
from app.services.record_view import Choices, Marks, lookup_choices, lookup_marks

ERROR_COLOUR = "#c62828"
REQUIRED_MARK = f'<span style="color:{ERROR_COLOUR}">*</span>'
# "杀菌温度（℃）": a short bracket at the end of a number's label is its unit.
UNIT_IN_LABEL = re.compile(r"^(?P<label>.+)（(?P<unit>[^（）、，]{1,5})）$")
NUMBER_PATTERNS = {"int": r"-?\d*", "decimal": r"-?\d*\.?\d*"}
DATE_PATTERN = r"[0-9\-/ :.]*"
FIELD_WIDTHS = {"int": 140, "decimal": 140, "date": 170, "datetime": 200}
READ_ONLY_BASE = "#f2f2f2"


# -------------------------------------------------------------- formatting


def split_unit(field: Field) -> tuple[str, str | None]:
    """The label without its unit, and the unit shown after a number's box."""
    if field.kind not in ("int", "decimal"):
        return field.label, None
    match = UNIT_IN_LABEL.match(field.label)
    if field.unit:
        return (match["label"] if match and match["unit"] == field.unit else field.label), field.unit
    if match:
        return match["label"], match["unit"]
    return field.label, None


def as_text(field: Field, value: object) -> str:
    """A stored or raw value as the text its box shows."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dt.datetime):
        spec = "minutes" if not value.second and not value.microsecond else "auto"
        return value.isoformat(sep=" ", timespec=spec)
    if isinstance(value, dt.date):
        return value.isoformat()
    return field.display(value)


def _text_or_none(text: str) -> str | None:
    text = text.strip()
    return text or None


# ----------------------------------------------------------------- editors


@dataclass
class Editor:
    """One field's widget and the few things the form does with it."""

    widget: QWidget  # what goes into the row
    focus: QWidget  # what takes the keyboard focus
    get: Callable[[], object]
    put: Callable[[object], None]
    freeze: Callable[[bool], None]
    changed: object  # the widget's signal for "the value changed"


def _tint(widget: QWidget, frozen: bool) -> None:
    """A read-only box looks read-only: grey, but as legible as an editable one."""
    palette = widget.palette()
    base = QColor(READ_ONLY_BASE) if frozen else QApplication.palette().color(QPalette.ColorRole.Base)
    palette.setColor(QPalette.ColorRole.Base, base)
    widget.setPalette(palette)


def _read_only(edit: QLineEdit | QPlainTextEdit, frozen: bool) -> None:
    edit.setReadOnly(frozen)
    _tint(edit, frozen)


def _freeze_widget(widget: QWidget, frozen: bool) -> None:
    """Read-only for widgets without a read-only mode: no clicks, no focus,
    but the normal, readable look."""
    widget.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, frozen)
    widget.setFocusPolicy(Qt.FocusPolicy.NoFocus if frozen else Qt.FocusPolicy.StrongFocus)
    _tint(widget, frozen)


def _line(field: Field, _choices: Choices | None) -> Editor:
    edit = QLineEdit()
    if field.help and field.help != COMPUTED:
        edit.setPlaceholderText(field.help)
    return Editor(edit, edit, lambda: _text_or_none(edit.text()), lambda v: edit.setText(as_text(field, v)),
                  lambda frozen: _read_only(edit, frozen), edit.textChanged)


def _long_text(field: Field, _choices: Choices | None) -> Editor:
    edit = QPlainTextEdit()
    edit.setTabChangesFocus(True)
    lines = 3
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 2 * (edit.frameWidth() + 4))
    return Editor(edit, edit, lambda: _text_or_none(edit.toPlainText()), lambda v: edit.setPlainText(as_text(field, v)),
                  lambda frozen: _read_only(edit, frozen), edit.textChanged)


def _number(field: Field, choices: Choices | None) -> Editor:
    editor = _line(field, choices)
    pattern = QRegularExpression(NUMBER_PATTERNS[field.kind])
    editor.widget.setValidator(QRegularExpressionValidator(pattern, editor.widget))
    return editor


def _date(field: Field, _choices: Choices | None) -> Editor:
    box = DateBox(with_time=field.kind == "datetime")
    return Editor(box, box.edit, lambda: _text_or_none(box.edit.text()), lambda v: box.edit.setText(as_text(field, v)),
                  box.set_read_only, box.edit.textChanged)


def _check(field: Field, _choices: Choices | None) -> Editor:
    box = QCheckBox()

    def put(value: object) -> None:
        try:
            box.setChecked(bool(field.convert(value)))
        except ValueError:
            box.setChecked(False)

    return Editor(box, box, box.isChecked, put, lambda frozen: _freeze_widget(box, frozen), box.toggled)


def _choice(field: Field, _choices: Choices | None) -> Editor:
    combo = QComboBox()
    if not field.required:
        combo.addItem("", None)
    for code, label in field.choices.items():
        combo.addItem(label, code)
    combo.setPlaceholderText(tr("Choose…"))
    combo.setCurrentIndex(-1)

    def put(value: object) -> None:
        try:
            code = field.convert(value)
        except ValueError:
            code = value  # a code the declaration no longer lists: show it as it is
        index = combo.findData(code)
        if index < 0 and code is not None:
            combo.addItem(str(code), code)
            index = combo.count() - 1
        combo.setCurrentIndex(index)

    return Editor(combo, combo, lambda: combo.currentData() if combo.currentIndex() >= 0 else None, put,
                  lambda frozen: _freeze_widget(combo, frozen), combo.currentIndexChanged)


def _reference(field: Field, choices: Choices | None) -> Editor:
    combo = QComboBox()
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(12)
    if not field.required:
        combo.addItem("", None)
    for row_id, text in choices or ():
        combo.addItem(text, row_id)
    completer = QCompleter(combo.model(), combo)
    completer.setFilterMode(Qt.MatchFlag.MatchContains)
    completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
    completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    combo.setCompleter(completer)
    combo.lineEdit().setPlaceholderText(tr("Type to search…"))
    combo.setCurrentIndex(-1)

    def get() -> object:
        text = combo.currentText().strip()
        if not text:
            return None
        index = combo.findText(text, Qt.MatchFlag.MatchFixedString)
        return combo.itemData(index) if index >= 0 else text  # unknown text: LedgerForm.errors names it

    def put(value: object) -> None:
        if value is None or value == "":
            combo.setCurrentIndex(-1)
            combo.setEditText("")
            return
        key = int(value) if isinstance(value, str) and value.isdigit() else value
        index = combo.findData(key)
        if index >= 0:
            combo.setCurrentIndex(index)
        else:
            combo.setEditText(str(value))

    def freeze(frozen: bool) -> None:
        _freeze_widget(combo, frozen)
        combo.lineEdit().setReadOnly(frozen)

    return Editor(combo, combo, get, put, freeze, combo.editTextChanged)


EDITORS: dict[str, Callable[[Field, Choices | None], Editor]] = {
    "text": _line,
    "longtext": _long_text,
    "int": _number,
    "decimal": _number,
    "date": _date,
    "datetime": _date,
    "bool": _check,
    "choice": _choice,
    "ref": _reference,
}


class DateBox(QWidget):
    """A date (or date and time) that may be empty: typed as text, or picked
    from a calendar that drops down from the button."""

    def __init__(self, with_time: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.with_time = with_time
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(tr("yyyy-mm-dd hh:mm") if with_time else tr("yyyy-mm-dd"))
        self.edit.setValidator(QRegularExpressionValidator(QRegularExpression(DATE_PATTERN), self.edit))
        self.button = QToolButton()
        self.button.setArrowType(Qt.ArrowType.DownArrow)
        self.button.setToolTip(tr("Choose a date"))
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.clicked.connect(self.open_calendar)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.edit)
        layout.addWidget(self.button)
        self.setFocusProxy(self.edit)
        self.menu: QMenu | None = None
        self.calendar: QCalendarWidget | None = None

    def set_read_only(self, read_only: bool) -> None:
        _read_only(self.edit, read_only)
        self.button.setEnabled(not read_only)

    def date(self) -> dt.date | None:
        try:
            return dt.date.fromisoformat(self.edit.text().strip()[:10].replace("/", "-"))
        except ValueError:
            return None

    def set_date(self, day: dt.date) -> None:
        text = day.isoformat()
        if self.with_time:
            typed = self.edit.text().strip()[11:]
            text += " " + (typed or clock.now().strftime("%H:%M"))
        self.edit.setText(text)

    def open_calendar(self) -> None:
        if self.menu is None:
            self.menu = QMenu(self)
            self.calendar = QCalendarWidget(self.menu)
            self.calendar.setGridVisible(True)
            action = QWidgetAction(self.menu)
            action.setDefaultWidget(self.calendar)
            self.menu.addAction(action)
            self.calendar.clicked.connect(self._picked)
            self.calendar.activated.connect(self._picked)
        current = self.date() or clock.today()
        self.calendar.setSelectedDate(QDate(current.year, current.month, current.day))
        self.menu.popup(self.button.mapToGlobal(QPoint(0, self.button.height())))

    def _picked(self, day: QDate) -> None:
        self.set_date(day.toPython())
        self.menu.close()
        self.edit.setFocus()


# -------------------------------------------------------------------- form


@dataclass
class Row:
    field: Field
    editor: Editor
    label: QLabel
    cell: QWidget  # the editor, its unit and marker, the error below
    error: QLabel
    marker: QLabel
    fixed: bool  # kept by the system: shown, never edited, not in values()


class LedgerForm(QWidget):
    """The entry form of one ledger.

    ``creating``: a new record; fields the system keeps (``fixed``, by default
    those computed by the services) are left out. Otherwise they are shown
    read-only. ``auto_numbered`` fields may stay empty: a service numbers them.
    """

    changed = Signal()

    def __init__(
        self,
        ledger: Ledger,
        ctx=None,
        *,
        lookups: Mapping[str, Choices] | None = None,
        marks: Mapping[str, Marks] | None = None,
        creating: bool = True,
        fixed: Collection[str] | None = None,
        auto_numbered: Collection[str] = (),
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.ledger = ledger
        self.creating = creating
        self._loading = False
        self._read_only = False
        if lookups is None:
            lookups, marks = {}, marks or {}
            if ctx is not None:
                with ctx.read() as session:
                    lookups, marks = lookup_choices(session, ledger), lookup_marks(session, ledger)
        self._marks = dict(marks or {})
        self._lookups = {name: dict(choices) for name, choices in lookups.items()}
        fixed = {f.name for f in ledger.fields if f.help == COMPUTED} if fixed is None else set(fixed)

        self.general_error = self._error_label()
        self.general_error.setObjectName("generalError")
        self.rows: dict[str, Row] = {}
        body = QWidget()
        layout = QFormLayout(body)
        layout.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        layout.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        layout.setVerticalSpacing(6)
        for f in ledger.fields:
            if creating and f.name in fixed:
                continue
            row = self._build_row(f, lookups.get(f.name), fixed=f.name in fixed, auto=f.name in auto_numbered)
            self.rows[f.name] = row
            layout.addRow(row.label, row.cell)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.general_error)
        outer.addWidget(self.scroll)

    # ---------------------------------------------------------- building

    def _error_label(self) -> QLabel:
        label = QLabel()
        label.setStyleSheet(f"color: {ERROR_COLOUR};")
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.PlainText)
        label.hide()
        return label

    def _build_row(self, f: Field, choices: Choices | None, *, fixed: bool, auto: bool) -> Row:
        editor = EDITORS[f.kind](f, choices)
        editor.widget.setObjectName(f"field_{f.name}")
        text, unit = split_unit(f)
        label = QLabel(html.escape(text) + (REQUIRED_MARK if f.required and not auto and not fixed else ""))
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setBuddy(editor.focus)
        if f.help:
            label.setToolTip(f.help)
            editor.widget.setToolTip(f.help)
        if auto and isinstance(editor.focus, QLineEdit):
            editor.focus.setPlaceholderText(tr("Leave empty to number automatically"))
        marker = QLabel(tr("Amended"))
        marker.setStyleSheet("color: #b45309; border: 1px solid #f59e0b; border-radius: 3px; padding: 0 3px;")
        marker.hide()
        error = self._error_label()
        line = QHBoxLayout()
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(editor.widget, 1 if f.kind not in FIELD_WIDTHS else 0)
        if f.kind in FIELD_WIDTHS:
            editor.widget.setFixedWidth(FIELD_WIDTHS[f.kind])
        if unit:
            line.addWidget(QLabel(unit))
        if f.name in self._marks:
            from .standing import mark_choices, standing_badge

            badge = standing_badge()
            badge.setObjectName(f"standing_{f.name}")
            mark_choices(editor.widget, self._marks[f.name], badge)
            line.addWidget(badge)
        line.addWidget(marker)
        if f.kind in FIELD_WIDTHS or f.kind == "bool":
            line.addStretch(1)
        cell = QWidget()
        cell.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        column = QVBoxLayout(cell)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(1)
        column.addLayout(line)
        column.addWidget(error)
        if fixed:
            editor.freeze(True)
        editor.changed.connect(lambda *_args, name=f.name: self._edited(name))
        return Row(f, editor, label, cell, error, marker, fixed)

    def _edited(self, name: str) -> None:
        if self._loading:
            return
        self.rows[name].error.hide()
        self.changed.emit()

    # ------------------------------------------------------------ values

    def load(self, values: Mapping[str, object]) -> None:
        """Show a record: stored values (dates, Decimals, ids) or raw ones.
        Fields missing from ``values`` are emptied."""
        self._loading = True
        try:
            for name, row in self.rows.items():
                row.editor.put(values.get(name))
        finally:
            self._loading = False
        self.clear_errors()

    def set_value(self, name: str, value: object) -> None:
        """Fill one field as if typed (a scan, a default): ``changed`` follows."""
        self.rows[name].editor.put(value)

    def values(self) -> dict[str, object]:
        """Raw values of the fields a user enters, ready for ``Ledger.clean``."""
        return {name: row.editor.get() for name, row in self.rows.items() if not row.fixed}

    def errors(self) -> list[FieldError]:
        """What the form sees before any service: a reference typed that
        matches nothing in its list."""
        found = []
        for name, row in self.rows.items():
            if row.field.kind == "ref" and not row.fixed and isinstance(row.editor.get(), str):
                label = row.field.label
                found.append(FieldError(name, label, tr("“{label}” has no entry “{text}”: choose one from the list.", label=label, text=row.editor.get())))
        return found

    def display(self, name: str, raw: str | None) -> str:
        """A stored value (as an amendment keeps it) the way a person reads it."""
        if raw is None or raw == "":
            return ""
        try:
            f = self.ledger.field(name)
        except KeyError:
            return raw
        if f.kind == "ref":
            try:
                return self._lookups.get(name, {}).get(int(raw), raw)
            except ValueError:
                return raw
        try:
            value = f.convert(raw)
        except ValueError:
            return raw
        return as_text(f, value) if f.kind in ("date", "datetime") else f.display(value)

    # ------------------------------------------------------------ errors

    def show_errors(self, errors: list[FieldError]) -> None:
        """Each message under its field; the rest at the top. The first bad
        field on the form takes the focus."""
        self.clear_errors()
        by_field: dict[str, list[str]] = {}
        general = []
        for error in errors:
            if error.field in self.rows:
                by_field.setdefault(error.field, []).append(error.message)
            else:
                general.append(error.message)
        for name, messages in by_field.items():
            self.rows[name].error.setText("\n".join(messages))
            self.rows[name].error.show()
        if general:
            self.general_error.setText("\n".join(general))
            self.general_error.show()
        first = next((row for name, row in self.rows.items() if name in by_field), None)
        if first is not None:
            self.scroll.ensureWidgetVisible(first.editor.widget)
            first.editor.focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def clear_errors(self) -> None:
        self.general_error.hide()
        self.general_error.clear()
        for row in self.rows.values():
            row.error.hide()
            row.error.clear()

    def error_text(self, name: str | None = None) -> str:
        """The message shown under a field (or at the top); empty when none."""
        label = self.general_error if name is None else self.rows[name].error
        return label.text() if not label.isHidden() else ""

    # ------------------------------------------------------------ state

    def set_read_only(self, read_only: bool) -> None:
        self._read_only = read_only
        for row in self.rows.values():
            row.editor.freeze(read_only or row.fixed)

    def is_read_only(self) -> bool:
        return self._read_only

    def set_marker(self, name: str, tooltip: str | None) -> None:
        """Show (or, with None, hide) the "amended" marker beside a field."""
        row = self.rows.get(name)
        if row is None:
            return
        row.marker.setToolTip(tooltip or "")
        row.marker.setVisible(tooltip is not None)

    def editor(self, name: str) -> QWidget:
        return self.rows[name].editor.widget

    def label(self, name: str) -> QLabel:
        return self.rows[name].label

    def badge(self, name: str) -> QLabel | None:
        """The standing shown beside a marked choice (a supplier's 合格, 暂停供货…)."""
        return self.rows[name].cell.findChild(QLabel, f"standing_{name}")
