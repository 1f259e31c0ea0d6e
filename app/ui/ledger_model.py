"""A table model for any ledger (architecture.md habit 5, Anki's browser table).

Rows are the ids of one SQL query, filtered and ordered in SQL (the Qt-free
``app.services.ledger_query``). The cells come from a lazily filled cache,
fetched a page of rows at a time with ``id IN (...)``; the references of a
page are resolved with one query per looked-up table, never one per row.
Nothing here hides rows one by one.
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.ledgers import Ledger
from app.services.ledger_query import Filters, LedgerQuery, Row, read_ids

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

    def __init__(self, ctx: AppContext, ledger: Ledger, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.ledger = ledger
        self.query = LedgerQuery(ledger, ctx.engine.dialect.name)
        self.fields = self.query.fields
        self.filters = Filters()
        self.sorting: tuple[int, bool] = self.query.default_sort()  # (column, descending)
        self._ids: list[int] = []
        self._pages: OrderedDict[int, list[Row | None]] = OrderedDict()
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
        """Query the ids again and forget every cached row (after a save or a filter)."""
        self.beginResetModel()
        self._requery()
        self.endResetModel()

    def record_id(self, row: int) -> int:
        return self._ids[row]

    def row_of(self, record_id: int) -> int | None:
        try:
            return self._ids.index(record_id)
        except ValueError:
            return None

    def _requery(self) -> None:
        statement = self.query.ids(self.filters, *self.sorting)
        with self.ctx.read() as session:
            self._ids = read_ids(session, statement)
        self._pages.clear()

    def _row(self, row: int) -> Row | None:
        number = row // PAGE_SIZE
        page = self._pages.get(number)
        if page is None:
            ids = self._ids[number * PAGE_SIZE:(number + 1) * PAGE_SIZE]
            with self.ctx.read() as session:
                found = self.query.page(session, ids)
            page = [found.get(ident) for ident in ids]  # None: deleted since the ids were read
            self._pages[number] = page
            while len(self._pages) > CACHED_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(number)
        return page[row % PAGE_SIZE]

    # ------------------------------------------------------------ Qt

    def rowCount(self, parent: ANY_INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: ANY_INDEX = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.fields)

    def flags(self, index: ANY_INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def data(self, index: ANY_INDEX, role: int = Qt.ItemDataRole.DisplayRole):
        # A view asks each cell for a dozen roles as it paints: answer the others first.
        if role not in ROLES or not index.isValid() or not 0 <= index.row() < len(self._ids):
            return None
        field = self.fields[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return RIGHT if field.kind in NUMERIC else None
        if role == ID_ROLE:
            return self._ids[index.row()]
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
