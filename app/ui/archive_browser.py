"""R3: the archive browser.

Left, every product batch grouped by product (newest first), with its
product, commodity and warning archives, and the monthly safety archives.
Products load their batches only when opened, a page at a time; the filter
runs in SQL. Right, the selected archive, its catalogue (卷内目录) and its
sealing checklist (封卷检查: what still blocks sealing); double-clicking a
catalogue row or a checklist item opens the record. 封卷… seals the archive
shown, 按期间封卷… every ready archive of a month or a date range
(``seal_dialog``). Every query runs on the task runner
(``app.services.archive_view``) and hands plain dicts to the widgets.
"""

from __future__ import annotations

import html
import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QFormLayout, QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton, QSplitter, QTableWidget, QTableWidgetItem,
    QTreeWidget, QTreeWidgetItem, QTreeWidgetItemIterator, QVBoxLayout, QWidget,
)
from shiboken6 import isValid

from app.i18n import lazy, tr
from app.ledgers import registry
from app.ledgers.choices import ARCHIVE_KIND, ARCHIVE_STATE, ARCHIVE_STATUS, BATCH_STATUS, RETENTION
from app.services.archive_view import PAGE, load_archive, load_batches, load_products, load_safety, sealed_ids

from .context import AppContext
from .dialogs import Dialogs, show_error
from .workflow_kit import GREEN, RED

log = logging.getLogger("ui.archives")

ROLE = Qt.ItemDataRole.UserRole
NUMBER = Qt.ItemDataRole.UserRole + 1  # the batch or archive number the filter looks at
CATALOGUE_COLUMNS = (lazy("No."), lazy("Archive or document no."), lazy("Responsible"), lazy("Title"),
                     lazy("Date"), lazy("Pages"), lazy("Remarks"))
FIELDS = (("archive_no", lazy("Archive no.")), ("title", lazy("Title")), ("kind", lazy("Kind")),
          ("status", lazy("Status")), ("sealed", lazy("Sealed by")), ("retention", lazy("Retention period")),
          ("retention_until", lazy("Kept until")), ("cites", lazy("Cites")))


# ------------------------------------------------------------------ labels

def catalogue_cells(entry: dict) -> list[str]:
    """One row of the 卷内目录 as shown: dates as YYYYMMDD."""
    ledger = registry().get(entry["ledger"])
    count = len(entry["record_ids"])
    remark = tr("{ledger}, {count} records", ledger=ledger.title if ledger else entry["ledger"], count=count)
    date = entry["date"].strftime("%Y%m%d") if entry["date"] else ""
    return [str(entry["seq"]), entry["doc_no"], entry["responsible"], entry["title"], date,
            str(entry["pages"] or ""), remark]


def archive_label(archive: dict) -> str:
    text = f"{ARCHIVE_KIND.get(archive['kind'], archive['kind'])} {archive['archive_no']}"
    if archive.get("label"):
        text += f"（{archive['label']}）"
    if archive["status"] == "sealed":
        text += f" · {ARCHIVE_STATUS['sealed']}"
    return text


def sealed_text(archive: dict) -> str:
    seal = archive["seal"]
    if seal is None:
        return "—"
    return tr("Filer {filer}, checker {checker}, {time}", filer=seal["filer"], checker=seal["checker"],
              time=f"{seal['sealed_at']:%Y-%m-%d %H:%M}")


# ------------------------------------------------------------------ the widget

class ArchiveBrowser(QWidget):
    tree_loaded = Signal()
    batches_loaded = Signal()
    archive_shown = Signal(int)

    def __init__(self, ctx: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.archive: dict | None = None
        self._generation = 0
        self._pattern = ""
        self._build()
        self.reload()

    def _build(self) -> None:
        self.filter = QLineEdit(placeholderText=tr("Filter by batch number or archive number"))
        self.filter.setClearButtonEnabled(True)
        self._debounce = QTimer(self, singleShot=True, interval=300)
        self._debounce.timeout.connect(self.reload)
        self.filter.textChanged.connect(self._debounce.start)
        self.filter.returnPressed.connect(self.reload)
        refresh = QPushButton(tr("Refresh"))
        refresh.clicked.connect(self.reload)
        search = QHBoxLayout()
        search.addWidget(self.filter, 1)
        search.addWidget(refresh)
        self.tree = QTreeWidget(headerHidden=True, uniformRowHeights=True)
        self.tree.itemExpanded.connect(self._expanded)
        self.tree.currentItemChanged.connect(self._selected)
        self.tree.itemActivated.connect(self._selected)
        self.status = QLabel(wordWrap=True)
        left = QWidget()
        column = QVBoxLayout(left)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(search)
        for widget in (self.tree, self.status):
            column.addWidget(widget)

        self.fields: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, label in FIELDS:
            self.fields[key] = QLabel(wordWrap=True, textInteractionFlags=Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(str(label), self.fields[key])
        self.fields["cites"].setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.fields["cites"].linkActivated.connect(lambda link: self.select_archive(int(link.split(":")[1])))
        self.catalogue = QTableWidget(0, len(CATALOGUE_COLUMNS), alternatingRowColors=True)
        self.catalogue.setHorizontalHeaderLabels([str(c) for c in CATALOGUE_COLUMNS])
        self.catalogue.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.catalogue.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.catalogue.verticalHeader().setVisible(False)
        self.catalogue.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.catalogue.cellDoubleClicked.connect(self.open_entry)
        self.note = QLabel(tr("Choose an archive on the left."), wordWrap=True)
        self.print_button = QPushButton(tr("Print or preview the volume…"), enabled=False)
        self.print_button.clicked.connect(self.print_volume)
        self.print_many_button = QPushButton(tr("Print the volumes of a period…"))
        self.print_many_button.clicked.connect(self.print_volumes)
        self.seal_button = QPushButton(tr("Seal…"), enabled=False)
        self.seal_button.setObjectName("seal")
        self.seal_button.clicked.connect(self.seal_archive)
        self.seal_many_button = QPushButton(tr("Seal the archives of a period…"))
        self.seal_many_button.clicked.connect(self.seal_period)
        printing = QHBoxLayout()
        for button in (self.print_button, self.print_many_button, self.seal_button, self.seal_many_button):
            printing.addWidget(button)
        printing.addStretch(1)
        for button in (self.print_button, self.print_many_button):
            self.ctx.offer(button, "print")
        for button in (self.seal_button, self.seal_many_button):
            self.ctx.offer(button, "seal")
        self.checklist = QTreeWidget(rootIsDecorated=False, alternatingRowColors=True, uniformRowHeights=False)
        self.checklist.setObjectName("checklist")
        self.checklist.setHeaderLabels([tr("Kind"), tr("To do before sealing")])
        self.checklist.setWordWrap(True)
        self.checklist.itemActivated.connect(self.open_blocker)
        self.checklist_state = QLabel(wordWrap=True)
        self.checklist_state.setObjectName("checklistState")
        catalogue = QWidget()
        column = QVBoxLayout(catalogue)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel(tr("Catalogue (double-click a row to open the record)")))
        column.addWidget(self.catalogue, 1)
        column.addWidget(self.note)
        checks = QWidget()
        column = QVBoxLayout(checks)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(QLabel(tr("Sealing checklist (double-click an item to open the record)")))
        column.addWidget(self.checklist_state)
        column.addWidget(self.checklist, 1)
        column.addStretch(0)  # keeps the state line at the top when the list is hidden
        parts = QSplitter(Qt.Orientation.Vertical)
        parts.addWidget(catalogue)
        parts.addWidget(checks)
        parts.setSizes([420, 300])
        right = QWidget()
        details = QVBoxLayout(right)
        details.addLayout(form)
        details.addLayout(printing)
        details.addWidget(parts, 1)

        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([380, 900])
        QVBoxLayout(self).addWidget(splitter)

    def _run(self, fn, on_success, tree: bool = True) -> None:
        """Run ``fn(session)`` on the worker; a tree load is dropped if the tree was reloaded since."""
        generation = self._generation if tree else None

        def task(_progress):
            with self.ctx.read() as session:
                return fn(session)

        def success(result):
            if isValid(self) and generation in (None, self._generation):
                on_success(result)

        self.ctx.runner.run(task, success, lambda error: isValid(self) and show_error(self, error))

    # ------------------------------------------------------------------ tree

    def reload(self) -> None:
        """Start again: all products (lazily), or the batches matching the filter."""
        self._debounce.stop()
        self._generation += 1
        self._pattern = pattern = self.filter.text().strip()
        self.status.setText(tr("Loading…"))
        if pattern:
            self._run(lambda s: {"safety": load_safety(s, pattern), **load_batches(s, pattern=pattern)},
                      self._show_matches)
        else:
            self._run(load_products, self._show_products)

    def _top(self, text: str, data: tuple) -> QTreeWidgetItem:
        item = QTreeWidgetItem([text])
        item.setData(0, ROLE, data)
        self.tree.addTopLevelItem(item)
        return item

    def _show_products(self, result: dict) -> None:
        self.tree.clear()
        for product in result["products"]:
            item = self._top(tr("{name} ({count} batches)", name=product["name"], count=product["count"]),
                             ("product", product["id"]))
            item.setChildIndicatorPolicy(QTreeWidgetItem.ChildIndicatorPolicy.ShowIndicator)
        self._add_safety(result["safety"])
        self.status.setText(tr("{count} products; open one to see its batches.", count=len(result["products"])))
        self.tree_loaded.emit()

    def _show_matches(self, result: dict) -> None:
        self.tree.clear()
        products: dict[int, QTreeWidgetItem] = {}
        for batch in result["batches"]:
            if batch["product_id"] not in products:
                products[batch["product_id"]] = self._top(batch["product"], ("matches", batch["product_id"]))
            self._add_batch(products[batch["product_id"]], batch)
        self._add_safety(result["safety"])
        self._mark(pattern=self._pattern.lower())
        self.tree.expandAll()
        found = tr("{count} batches match.", count=len(result["batches"]))
        more = " " + tr("Only the first {count} are shown.", count=PAGE) if result["more"] else ""
        self.status.setText(found + more)
        self.tree_loaded.emit()

    def _mark(self, pattern: str) -> None:
        """Bold the batches and archives whose number matched the filter."""
        iterator = QTreeWidgetItemIterator(self.tree)
        while item := iterator.value():
            if pattern in (item.data(0, NUMBER) or "").lower():
                font = item.font(0)
                font.setBold(True)
                item.setFont(0, font)
            iterator += 1

    def _add_safety(self, archives: list[dict]) -> None:
        if not archives:
            return
        top = self._top(f"{ARCHIVE_KIND['safety']}（{len(archives)}）", ("safety",))
        for archive in archives:
            top.addChild(self._archive_item(archive))

    @staticmethod
    def _archive_item(archive: dict) -> QTreeWidgetItem:
        item = QTreeWidgetItem([archive_label(archive)])
        item.setData(0, ROLE, ("archive", archive["id"]))
        item.setData(0, NUMBER, archive["archive_no"])
        return item

    def _add_batch(self, parent: QTreeWidgetItem, batch: dict) -> None:
        status = BATCH_STATUS.get(batch["status"], batch["status"])
        item = QTreeWidgetItem([f"{batch['batch_no']}  {batch['production_date'].isoformat()}  {status}"])
        item.setData(0, ROLE, ("batch", batch["id"]))
        item.setData(0, NUMBER, batch["batch_no"])
        item.addChildren([self._archive_item(a) for a in batch["archives"]])
        parent.addChild(item)

    def _expanded(self, item: QTreeWidgetItem) -> None:
        data = item.data(0, ROLE)
        if data and data[0] == "product" and item.childCount() == 0:
            self._load_page(item, data[1], 0)

    def _load_page(self, product: QTreeWidgetItem, product_id: int, offset: int, placeholder: bool = True) -> None:
        if placeholder:
            loading = QTreeWidgetItem([tr("Loading…")])
            loading.setData(0, ROLE, ("loading",))
            product.addChild(loading)

        def show(result: dict) -> None:
            product = self.item_for("product", product_id)  # found again: the tree may have changed
            if product is None:
                return
            for index in reversed(range(product.childCount())):
                if product.child(index).data(0, ROLE) == ("loading",):
                    product.takeChild(index)
            for batch in result["batches"]:
                self._add_batch(product, batch)
            if result["more"]:
                more = QTreeWidgetItem([tr("Show more batches…")])
                more.setData(0, ROLE, ("more", product_id, result["offset"]))
                product.addChild(more)
            self.batches_loaded.emit()

        self._run(lambda s: load_batches(s, product_id=product_id, offset=offset), show)

    def _selected(self, item: QTreeWidgetItem | None, _previous=None) -> None:
        data = item.data(0, ROLE) if item is not None else None
        if not data:
            return
        if data[0] == "archive":
            self.show_archive(data[1])
        elif data[0] == "more":  # becomes the "loading" row of the next page
            item.setText(0, tr("Loading…"))
            item.setData(0, ROLE, ("loading",))
            self._load_page(item.parent(), data[1], data[2], placeholder=False)

    def item_for(self, kind: str, key: int) -> QTreeWidgetItem | None:
        """The loaded tree item of an archive or batch, if any."""
        iterator = QTreeWidgetItemIterator(self.tree)
        while item := iterator.value():
            if item.data(0, ROLE) == (kind, key):
                return item
            iterator += 1
        return None

    def select_archive(self, archive_id: int) -> None:
        item = self.item_for("archive", archive_id)
        if item is None:
            self.show_archive(archive_id)
        else:
            self.tree.setCurrentItem(item)
            self.tree.scrollToItem(item)

    # ------------------------------------------------------------------ details

    def show_archive(self, archive_id: int) -> None:
        self._run(lambda s: load_archive(s, archive_id), self._show_details, tree=False)

    def _show_details(self, archive: dict) -> None:
        self.archive = archive
        until = archive["retention_until"]
        cited = archive["cites"]
        values = {
            "archive_no": archive["archive_no"], "title": archive["title"],
            "kind": ARCHIVE_KIND.get(archive["kind"], archive["kind"]),
            "status": ARCHIVE_STATE[archive["state"]],
            "sealed": sealed_text(archive),
            "retention": RETENTION.get(archive["retention_code"], archive["retention_code"]),
            "retention_until": until.isoformat() if until else tr("Permanent"),
            "cites": (f'<a href="archive:{cited["id"]}">{html.escape(cited["archive_no"])}</a> '
                      f'{html.escape(cited["title"])}') if cited else "—",
        }
        for key, label in self.fields.items():
            label.setText(values[key])
        self.catalogue.setRowCount(len(archive["entries"]))
        for row, entry in enumerate(archive["entries"]):
            for column, text in enumerate(catalogue_cells(entry)):
                self.catalogue.setItem(row, column, QTableWidgetItem(text))
        self.catalogue.resizeColumnsToContents()
        self.catalogue.resizeRowsToContents()
        self.catalogue.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.note.setText(tr("{count} materials in this archive.", count=len(archive["entries"])))
        self._show_checklist(archive)
        self.print_button.setEnabled(True)
        self.seal_button.setEnabled(archive["state"] == "ready")
        self.archive_shown.emit(archive["id"])

    def _show_checklist(self, archive: dict) -> None:
        self.checklist.clear()
        blockers = archive["blockers"]
        state = archive["state"]
        if state == "sealed":
            text = tr("Sealed. Its records now change only by amendment, and every amendment is listed on the "
                      "remarks sheet.")
        elif state == "ready":
            text = tr("Nothing blocks sealing: the archive is ready to be sealed.")
        else:
            text = tr("{count} things to do before this archive can be sealed:", count=len(blockers))
        self.checklist_state.setText(text)
        self.checklist_state.setStyleSheet(f"color: {(RED if state == 'open' else GREEN).name()};")
        for blocker in blockers:
            item = QTreeWidgetItem([blocker["label"], blocker["text"]])
            item.setData(0, ROLE, (blocker["ledger"], blocker["row_id"]))
            item.setToolTip(1, blocker["text"])
            if blocker["ledger"]:
                item.setForeground(1, QBrush(Qt.GlobalColor.darkBlue))
            self.checklist.addTopLevelItem(item)
        self.checklist.setVisible(bool(blockers))
        self.checklist.resizeColumnToContents(0)

    def open_blocker(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        """Open the record a checklist item names (the cited archive: show it)."""
        ledger, row_id = item.data(0, ROLE) or (None, None)
        if ledger is None:
            return
        if ledger == "archive":
            self.select_archive(row_id)
            return
        from app.ui.record_dialog import RecordDialog

        RecordDialog.open(self.ctx, ledger, row_id, parent=self)

    def seal_archive(self):
        """The seal window of the archive shown."""
        from .seal_dialog import SealDialog

        if self.archive is None:
            return None
        dialog = SealDialog.open(self.ctx, self.archive, parent=self)
        dialog.sealed.connect(self._archive_sealed)
        return dialog

    def seal_period(self):
        from .seal_dialog import PeriodSealDialog

        self._period_seal = PeriodSealDialog(self.ctx, parent=self)  # kept: a non-modal window
        self._period_seal.finished_all.connect(lambda _result: self._archive_sealed(None))
        self._period_seal.show()
        return self._period_seal

    def _archive_sealed(self, archive_id: int | None) -> None:
        """Show the new state: the archive on the right, its mark in the tree."""
        if self.archive is not None:
            self.show_archive(self.archive["id"] if archive_id is None else archive_id)
        self._run(sealed_ids, self._mark_sealed, tree=False)

    def _mark_sealed(self, sealed: set[int]) -> None:
        iterator = QTreeWidgetItemIterator(self.tree)
        while item := iterator.value():
            data = item.data(0, ROLE)
            if data and data[0] == "archive" and data[1] in sealed:
                suffix = f" · {ARCHIVE_STATUS['sealed']}"
                if not item.text(0).endswith(suffix):
                    item.setText(0, item.text(0) + suffix)
            iterator += 1

    def print_volume(self):
        """The print window of the archive shown (preview, print, save as PDF)."""
        from .print_dialog import PrintDialog

        if self.archive is not None:
            return PrintDialog.open(self.ctx, self.archive["id"], self.archive["archive_no"], parent=self)
        return None

    def print_volumes(self):
        from .print_dialog import BatchPrintDialog

        self._batch_print = BatchPrintDialog(self.ctx, parent=self)  # kept: a non-modal window
        self._batch_print.show()
        return self._batch_print

    def open_entry(self, row: int, _column: int = 0) -> None:
        """Open the material of a catalogue row in the record window."""
        if self.archive is None or not 0 <= row < len(self.archive["entries"]):
            return
        entry = self.archive["entries"][row]
        try:
            from app.ui.record_dialog import RecordDialog
        except ImportError:
            log.exception("the record window could not be loaded")
            Dialogs.warn(self, tr("Cannot open the record"), tr("The record window is not available."))
            return
        ids = entry["record_ids"]
        if not ids:
            return
        if len(ids) > 1:
            self.note.setText(tr("Entry {seq} holds {count} records; the first one is open.",
                                 seq=entry["seq"], count=len(ids)))
        RecordDialog.open(self.ctx, entry["ledger"], ids[0], parent=self)
