"""The pieces of an inspection report the entry window and the release desk
share: the test items with their verdicts judged as the results are typed,
the label compliance checklist (G§40), the proficiency evidence of an
in-process control check (G§36) and the retained sample (G§39(3))."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import clock
from app.i18n import tr
from app.ledgers import ledger
from app.services import label_rules, limits
from app.services.limits import FAIL, PASS, Limit
from app.services.quality import StandardItem

from .workflow_kit import GREEN, RED, RED_BG, DecimalEdit, IdCombo, date_edit, label_of

LIMIT = Qt.ItemDataRole.UserRole
ADDED = Qt.ItemDataRole.UserRole + 1  # a row the user added: every cell editable
COLUMNS = ("item", "method", "requirement", "result", "verdict")
RESULT, VERDICT = 3, 4
GREEN_BG = "#e7f4e8"


def verdict_label(code: str | None) -> str:
    return ledger("inspection_item").field("verdict").display(code) if code else ""


class ItemsTable(QWidget):
    """Test items: prefilled from the standard (read-only but for the result),
    judged against their limit as the result is typed; items without a limit
    are judged by the inspector. ``changed`` follows every edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, rows_shown: int = 6):
        super().__init__(parent)
        declaration = ledger("inspection_item")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("items")
        self.table.setHorizontalHeaderLabels([declaration.field(n).label for n in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(VERDICT, QHeaderView.ResizeMode.ResizeToContents)
        row_height = self.table.verticalHeader().defaultSectionSize()
        self.table.setMinimumHeight(header.sizeHint().height() + rows_shown * row_height + 4)
        self.table.itemChanged.connect(self._item_changed)
        self.summary = QLabel("")
        self.summary.setObjectName("itemsSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        self._filling = False

    # ------------------------------------------------------------- filling

    def set_standards(self, standards: Sequence[StandardItem]) -> None:
        """Start again from a standard's items (results empty)."""
        self._filling = True
        self.table.setRowCount(0)
        for standard in standards:
            self._add(standard.item, standard.method, standard.requirement, standard.limit, added=False)
        self._filling = False
        self.refresh()

    def add_item(self, item: str = "", method: str = "", requirement: str = "", result: str = "") -> int:
        """A row the user adds (no limit: the inspector judges it)."""
        self._filling = True
        row = self._add(item, method, requirement, Limit(), added=True)
        self.table.item(row, RESULT).setText(result)
        self._filling = False
        self.refresh()
        return row

    def _add(self, item: str, method: str, requirement: str, limit: Limit, *, added: bool) -> int:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, text in enumerate((item, method, requirement or limit.text(), "")):
            cell = QTableWidgetItem(text)
            cell.setToolTip(text)  # a long requirement is cut in its column
            if column != RESULT and not added:
                cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
            self.table.setItem(row, column, cell)
        first = self.table.item(row, 0)
        first.setData(LIMIT, limit)
        first.setData(ADDED, added)
        if limit.checkable:
            cell = QTableWidgetItem("")
            cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
            cell.setToolTip(tr("Judged against the limit {limit}", limit=limit.text()))
            self.table.setItem(row, VERDICT, cell)
            self.table.item(row, 2).setToolTip(tr("Limit checked by the program: {limit}", limit=limit.text()))
        else:
            combo = QComboBox()
            combo.addItem(tr("Judge…"), None)
            for code in (PASS, FAIL):
                combo.addItem(verdict_label(code), code)
            combo.setToolTip(tr("No limit the program can check: the inspector judges this item."))
            combo.currentIndexChanged.connect(lambda _i, c=combo: self._judged(c))
            self.table.setCellWidget(row, VERDICT, combo)
        return row

    def _judged(self, combo: QComboBox) -> None:
        """A judged item with no result yet says what was judged (符合 / 不符合)."""
        for r in range(self.table.rowCount()):
            if self.table.cellWidget(r, VERDICT) is combo and not self.text(r, RESULT) and combo.currentData():
                self._filling = True
                self.table.item(r, RESULT).setText(tr("Conforms") if combo.currentData() == PASS
                                                   else tr("Does not conform"))
                self._filling = False
        self.refresh()

    def remove_selected(self) -> None:
        row = self.table.currentRow()
        if row >= 0:
            self.table.removeRow(row)
            self.refresh()

    # ------------------------------------------------------------- reading

    def limit(self, row: int) -> Limit:
        return self.table.item(row, 0).data(LIMIT) or Limit()

    def text(self, row: int, column: int) -> str:
        cell = self.table.item(row, column)
        return cell.text().strip() if cell else ""

    def set_result(self, row: int, text: str) -> None:
        self.table.item(row, RESULT).setText(text)

    def judge(self, row: int, code: str | None) -> None:
        """Choose the verdict of an item the inspector judges."""
        combo = self.table.cellWidget(row, VERDICT)
        combo.setCurrentIndex(max(0, combo.findData(code)))

    def row_of(self, item: str) -> int:
        return next(r for r in range(self.table.rowCount()) if self.text(r, 0) == item)

    def verdict(self, row: int) -> tuple[str | None, str]:
        """The verdict of a row and, for a limit it cannot be judged against, why."""
        limit, result = self.limit(row), self.text(row, RESULT)
        if not limit.checkable:
            combo = self.table.cellWidget(row, VERDICT)
            return (combo.currentData() if combo else None), ""
        if not result:
            return None, ""
        try:
            return limits.judge(limit, result), ""
        except ValueError as exc:
            return None, tr("result {why}", why=str(exc))

    def rows(self, *, fill_result: str | None = None, verdict: str | None = None) -> list[dict]:
        """The items as the service takes them (a checkable item's verdict is
        left to the service); ``fill_result``/``verdict`` fill the empty results
        and the verdicts of judged items, for a quick pass of a release check."""
        found = []
        for r in range(self.table.rowCount()):
            values = {name: self.text(r, c) for c, name in enumerate(COLUMNS[:4])}
            if not any(values.values()):
                continue
            limit = self.limit(r)
            if fill_result and not values["result"] and not limit.checkable:
                values["result"] = fill_result
            judged = None if limit.checkable else (verdict or self.verdict(r)[0])
            found.append({**{k: v or None for k, v in values.items()}, "verdict": judged,
                          "limit_min": limit.minimum, "limit_max": limit.maximum, "unit": limit.unit,
                          "expected": limit.expected})
        return found

    def failing(self) -> list[str]:
        """Each failing item with its result and the limit it broke."""
        found = []
        for r in range(self.table.rowCount()):
            code, _why = self.verdict(r)
            if code == FAIL:
                limit, result = self.limit(r), self.text(r, RESULT)
                detail = limits.explain(limit, result) if limit.checkable else \
                    tr("{result} (requirement: {requirement})", result=result or "—", requirement=self.text(r, 2) or "—")
                found.append(f"{self.text(r, 0)}：{detail}")
        return found

    def open_items(self) -> list[str]:
        """Items still without a result or a verdict, or whose result cannot be judged."""
        found = []
        for r in range(self.table.rowCount()):
            code, why = self.verdict(r)
            if not why and code is not None and not self.text(r, RESULT):
                why = tr("no result")
            if code is None or why:
                found.append(f"{self.text(r, 0) or tr('(unnamed)')}{'：' + why if why else ''}")
        return found

    def conclusion(self) -> str | None:
        """pass, fail, or None while an item is open."""
        if self.failing():
            return FAIL
        if self.table.rowCount() == 0 or self.open_items():
            return None
        return PASS

    # ------------------------------------------------------------- showing

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if not self._filling and item.column() in (0, 2, RESULT):
            self.refresh()

    def refresh(self) -> None:
        """Colour every row by its verdict and say what fails, before anything is saved."""
        self._filling = True
        for r in range(self.table.rowCount()):
            code, why = self.verdict(r)
            if self.limit(r).checkable:
                cell = self.table.item(r, VERDICT)
                cell.setText(verdict_label(code) if code else ("?" if why else ""))
                cell.setToolTip(why or tr("Judged against the limit {limit}", limit=self.limit(r).text()))
            colour = RED_BG if code == FAIL else None
            for c in range(len(COLUMNS)):
                cell = self.table.item(r, c)
                if cell is None:
                    continue
                cell.setBackground(QBrush(colour) if colour else QBrush())
                cell.setForeground(QBrush(RED) if code == FAIL else QBrush())
            result = self.table.item(r, RESULT)
            if why:
                result.setBackground(QBrush(RED_BG))
                result.setToolTip(why)
        self._filling = False
        failing, waiting = self.failing(), self.open_items()
        lines = []
        if failing:
            lines.append(f"<span style='color:{RED.name()}'><b>✗ {tr('Failing items')}：</b>"
                         + "；".join(failing) + "</span>")
        if waiting:
            lines.append(tr("Still to fill in or judge: {items}", items="、".join(waiting)))
        if not failing and not waiting and self.table.rowCount():
            lines.append(f"<span style='color:{GREEN.name()}'><b>✓ {tr('Every item conforms.')}</b></span>")
        self.summary.setText("<br>".join(lines))
        self.changed.emit()


class LabelCheck(QGroupBox):
    """The label compliance check of GB 7718 done with the release inspection
    (G§40): one box per thing the label must show, by the edition in force."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(tr("Label compliance check (G§40)"), parent)
        self.boxes: dict[str, QCheckBox] = {}
        self.grid = QGridLayout()
        self.standard = QLabel("")
        self.notes = QLineEdit()
        self.notes.setPlaceholderText(tr("What was compared (e.g. the printed date and lot against this batch)"))
        self.state = QLabel("")
        self.all_button = QCheckBox(tr("All conform"))
        self.all_button.toggled.connect(self._all)
        layout = QVBoxLayout(self)
        head = QHBoxLayout()
        head.addWidget(self.standard, 1)
        head.addWidget(self.all_button)
        layout.addLayout(head)
        layout.addLayout(self.grid)
        form = QFormLayout()
        form.addRow(label_of("inspection", "label_check_notes"), self.notes)
        layout.addLayout(form)
        layout.addWidget(self.state)
        self.rules: label_rules.LabelRules | None = None
        self.set_rules(label_rules.rules_for(clock.today()))

    def set_rules(self, rules: label_rules.LabelRules) -> None:
        if self.rules == rules:
            return
        self.rules = rules
        for box in self.boxes.values():
            box.deleteLater()
        self.boxes = {}
        for index, item in enumerate(rules.items):
            box = QCheckBox(item)
            box.toggled.connect(lambda _on: self._update())
            self.grid.addWidget(box, index // 3, index % 3)
            self.boxes[item] = box
        self.standard.setText(tr("Checked against {standard}: tick what the label shows correctly.",
                                 standard=rules.standard))
        self._update()

    def set_all(self, on: bool) -> None:
        for box in self.boxes.values():
            box.setChecked(on)

    def _all(self, on: bool) -> None:
        self.set_all(on)

    def result(self) -> tuple[bool, str]:
        """Whether the label passed, and the note for the report."""
        return label_rules.verdict(self.rules, {k: b.isChecked() for k, b in self.boxes.items()}, self.notes.text())

    def _update(self) -> None:
        self.all_button.blockSignals(True)  # follows the boxes; unticking it clears them
        self.all_button.setChecked(bool(self.boxes) and all(b.isChecked() for b in self.boxes.values()))
        self.all_button.blockSignals(False)
        if not any(box.isChecked() for box in self.boxes.values()):
            self.state.setText(tr("Not checked yet."))
            self.state.setStyleSheet("color: #6b6b6b;")
            return
        passed, text = self.result()
        self.state.setText(text)
        self.state.setStyleSheet(f"color: {(GREEN if passed else RED).name()};")


EVIDENCE = ("能力验证", "加标回收", "实验室比对", "人员比对", "方法比对", "设备比对")


class EvidenceBox(QGroupBox):
    """G§36(2)–(3): the control measures and the evidence that the control
    check itself can be trusted."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(tr("Control measures and proficiency evidence (G§36)"), parent)
        self.measures = QLineEdit()
        self.measures.setObjectName("controlMeasures")
        self.measures.setPlaceholderText(tr("What is done when the item is out of its range"))
        self.boxes = {name: QCheckBox(name) for name in EVIDENCE}
        self.detail = QLineEdit()
        self.detail.setObjectName("evidenceDetail")
        self.detail.setPlaceholderText(tr("Which test, when, with what result (e.g. recovery 98 %, deviation 0.05 %)"))
        kinds = QHBoxLayout()
        for box in self.boxes.values():
            kinds.addWidget(box)
        kinds.addStretch(1)
        form = QFormLayout(self)
        form.addRow(label_of("inspection", "control_measures"), self.measures)
        form.addRow(tr("Evidence kind"), kinds)
        form.addRow(tr("Evidence details"), self.detail)

    def evidence(self) -> str | None:
        chosen = "、".join(name for name, box in self.boxes.items() if box.isChecked())
        detail = self.detail.text().strip()
        text = "：".join(part for part in (chosen, detail) if part)
        return text or None


class SampleBox(QGroupBox):
    """A retained sample (留样) kept with this inspection."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(tr("Keep a retained sample with this inspection"), parent)
        self.setCheckable(True)
        self.setChecked(False)
        field = ledger("retained_sample").field
        self.name = QLineEdit()
        self.spec = QLineEdit()
        self.quantity = DecimalEdit()
        self.unit = QLineEdit("件")
        self.unit.setMaximumWidth(60)
        self.kept_on = date_edit()
        self.location = QLineEdit()
        self.location.setObjectName("sampleLocation")
        self.disposal = date_edit()
        self.keeper = IdCombo()
        self.kept = QLabel("")
        self.kept.setWordWrap(True)
        amount = QHBoxLayout()
        amount.addWidget(self.quantity)
        amount.addWidget(self.unit)
        amount.addStretch(1)
        form = QFormLayout(self)
        for name, widget in (("name", self.name), ("spec", self.spec), ("quantity", amount),
                             ("kept_on", self.kept_on), ("location", self.location),
                             ("disposal_date", self.disposal), ("keeper_id", self.keeper)):
            form.addRow(field(name).label, widget)
        form.addRow(tr("Already kept"), self.kept)
        self._production_date: dt.date | None = None

    def show_defaults(self, defaults: dict | None, kept: Sequence[str], people, keeper: int | None) -> None:
        self.setVisible(defaults is not None)
        self._production_date = defaults["production_date"] if defaults else None
        if defaults is None:
            self.setChecked(False)
            return
        self.name.setText(defaults["name"] or "")
        self.spec.setText(defaults["spec"] or "")
        self.unit.setText(defaults["unit"])
        self.kept_on.setDate(_qdate(defaults["kept_on"]))
        if defaults["disposal_date"]:
            self.disposal.setDate(_qdate(defaults["disposal_date"]))
        self.keeper.set_people(people, posts=("inspection",))
        if keeper is not None:
            self.keeper.select_id(keeper)
        self.kept.setText("<br>".join(kept) or tr("none yet"))

    def values(self) -> dict | None:
        """The sample as the service takes it (the batch is the inspection's), or None."""
        if not self.isVisible() or not self.isChecked():
            return None
        return {"name": self.name.text().strip() or None, "spec": self.spec.text().strip() or None,
                "quantity": self.quantity.value(), "unit": self.unit.text().strip() or None,
                "production_date": self._production_date, "kept_on": self.kept_on.date().toPython(),
                "location": self.location.text().strip() or None, "disposal_date": self.disposal.date().toPython(),
                "keeper_id": self.keeper.current_id()}


def _qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)
