"""A table model for any ledger (architecture.md habit 5, Anki's browser table).

Rows are the ids of one SQL query, filtered and ordered in SQL (the Qt-free
``app.services.ledger_query``), never all read: a page of rows is a window of
that query (``LIMIT``/``OFFSET``, the second half read from the far end), its
cells fetched with ``id IN (...)`` and the references of a page resolved with
one query per looked-up table, never one per row. The number of rows is a
``count(*)`` of its own: when the first page is not the whole answer, the
table shows that page at once and the count runs on the task runner; when it
comes back, the rest of the rows are inserted (``countChanged`` tells the
page). Nothing here hides rows one by one.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QColor

from app.ledgers import Ledger
from app.services.ledger_query import Filters, LedgerQuery, Row

from .context import AppContext

PAGE_SIZE = 200
CACHED_PAGES = 50  # at most 10,000 rows of text held in memory
ID_ROLE = Qt.ItemDataRole.UserRole  # data(index, ID_ROLE) -> the record's id

NUMERIC = ("int", "decimal")
ALERT_COLOUR = QColor("#c62828")
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
ANY_INDEX = QModelIndex | QPersistentModelIndex
ROLES = frozenset({Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.ForegroundRole,
                   Qt.ItemDataRole.TextAlignmentRole, ID_ROLE})


def _wider_than(text: str, width: int) -> bool:
    """Likely elided in a column of ``width`` characters (ledger_page: about 1.3 Latin
    letters each, a Chinese character taking two): then a tooltip shows it whole."""
    return sum(2 if ord(char) > 0x2E7F else 1 for char in text) > width * 1.3


class LedgerTableModel(QAbstractTableModel):
    """Columns are the ledger's fields; rows are record ids, shown a page at a time."""

    countChanged = Signal()  # the count came back from the background (or was known at once)

    def __init__(self, ctx: AppContext, ledger: Ledger, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.ledger = ledger
        self.query = LedgerQuery(ledger, ctx.engine.dialect.name)
        self.fields = self.query.fields
        self.filters = Filters()
        self.sorting: tuple[int, bool] = self.query.default_sort()  # (column, descending)
        self._rows = 0  # what the view is told
        self.counted = True  # False while the count runs in the background
        self._generation = 0  # a count that comes back for older filters is dropped
        self._pages: OrderedDict[int, list[tuple[int, Row | None]]] = OrderedDict()
        self._requery()

    # ------------------------------------------------------------ API

    def set_filters(self, search: str = "", date_from=None, date_to=None,
                    equals: dict[str, object] | None = None) -> None:
        for name in equals or {}:
            self.ledger.field(name)  # KeyError names the ledger and the field
        self.filters = Filters(search, date_from, date_to, dict(equals or {}))
        self.refresh()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in SQL; column -1 goes back to the ledger's default order."""
        wanted = (column, order == Qt.SortOrder.DescendingOrder) if 0 <= column < len(self.fields) else None
        wanted = wanted or self.query.default_sort()
        if wanted != self.sorting:  # a view enabling its sorting asks for the order it already has
            self.sorting = wanted
            self.refresh()

    def refresh(self) -> None:
        """Query again and forget every cached row (after a save or a filter)."""
        self.beginResetModel()
        self._requery()
        self.endResetModel()
        self.countChanged.emit()

    def record_id(self, row: int) -> int:
        return self._page(row // PAGE_SIZE)[row % PAGE_SIZE][0]

    def row_of(self, record_id: int) -> int | None:
        for number, page in self._pages.items():
            for offset, (ident, _row) in enumerate(page):
                if ident == record_id:
                    return number * PAGE_SIZE + offset
        with self.ctx.read() as session:
            row = self.query.position(session, self.filters, *self.sorting, record_id)
        return row if row is not None and row < self._rows else None

    def _requery(self) -> None:
        self._generation += 1
        self._pages.clear()
        with self.ctx.read() as session:
            first = self.query.window(session, self.filters, *self.sorting, 0, PAGE_SIZE + 1)
            self._pages[0] = self._fetch(session, first[:PAGE_SIZE])
        self._rows = min(len(first), PAGE_SIZE)
        self.counted = len(first) <= PAGE_SIZE
        if not self.counted:
            self._count_in_background()

    def _count_in_background(self) -> None:
        generation, statement, sessions = self._generation, self.query.count(self.filters), self.ctx.sessions

        def count(_progress) -> int:
            with sessions() as session:
                return session.scalar(statement)

        self.ctx.runner.run(count, lambda total: self._counted(generation, total), lambda _error: None)

    def _counted(self, generation: int, total: int) -> None:
        if generation != self._generation:
            return  # the filters changed meanwhile: a newer count is on its way
        if total > self._rows:
            self.beginInsertRows(QModelIndex(), self._rows, total - 1)
            self._rows = total
            self.endInsertRows()
        elif total < self._rows:  # rows deleted since the first page was read
            self.beginRemoveRows(QModelIndex(), total, self._rows - 1)
            self._rows = total
            self.endRemoveRows()
        self.counted = True
        self.countChanged.emit()

    def _fetch(self, session, ids: list[int]) -> list[tuple[int, Row | None]]:
        found = self.query.page(session, ids)
        return [(ident, found.get(ident)) for ident in ids]  # None: deleted since the ids were read

    def _page(self, number: int) -> list[tuple[int, Row | None]]:
        page = self._pages.get(number)
        if page is None:
            with self.ctx.read() as session:
                ids = self.query.window(session, self.filters, *self.sorting, number * PAGE_SIZE, PAGE_SIZE,
                                        total=self._rows if self.counted else None)
                page = self._fetch(session, ids)
            self._pages[number] = page
            while len(self._pages) > CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page

    def _row(self, row: int) -> Row | None:
        page = self._page(row // PAGE_SIZE)
        offset = row % PAGE_SIZE
        return page[offset][1] if offset < len(page) else None

    # ------------------------------------------------------------ Qt

    def rowCount(self, parent: ANY_INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._rows

    def columnCount(self, parent: ANY_INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.fields)

    def flags(self, index: ANY_INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: ANY_INDEX, role: int = Qt.ItemDataRole.DisplayRole):
        # A view asks each cell for a dozen roles as it paints: answer the others first.
        if role not in ROLES or not index.isValid() or not 0 <= index.row() < self._rows:
            return None
        field = self.fields[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if field.kind in NUMERIC else None
        if role == ID_ROLE:
            page = self._page(index.row() // PAGE_SIZE)
            offset = index.row() % PAGE_SIZE
            return page[offset][0] if offset < len(page) else None
        row = self._row(index.row())
        if row is None:
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            return ALERT_COLOUR if row.alert else None
        text = row.texts[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return text if text and (field.kind == "longtext" or _wider_than(text, field.width)) else None
        return text

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Vertical:
            return str(section + 1) if role == Qt.ItemDataRole.DisplayRole else None
        if not 0 <= section < len(self.fields):
            return None
        field = self.fields[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return field.label
        if role == Qt.ItemDataRole.ToolTipRole:
            return field.label + (f"\n{field.help}" if field.help else "")
        return None
