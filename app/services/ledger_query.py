"""The SQL of one ledger's table (architecture.md habit 5, Anki's browser table):
the ids a search, a period and equality filters keep, in the order of a
column, a window of them at a time, their count, and the display texts of a
page of rows, with references resolved by one query per looked-up table.
Qt-free: ``app.ui.ledger_model`` puts a table model on top of it, and
``app.reports.ledger_export`` streams the same statement into a sheet.

A ledger of a million rows never has all its ids read: a page is a window of
the ordered ids (from the far end, in reverse order, for the second half), and
the count is a query of its own that the table runs in the background.

The text search reads the derived indexes of ``app.search_index`` where a
ledger has them: on SQLite a ``MATCH`` on the ledger's FTS5 trigram table for
three characters or more (a reference matches through the index of the table
it names, restricted to the column shown); on PostgreSQL the ILIKE uses the
pg_trgm indexes by itself. One or two characters are too short for a trigram:
they are a LIKE over the columns, as everywhere without an index — the first
page still comes at once for a common term (it is read in the order shown and
stops after a page), only the count and a rare term read the whole ledger, in
the background and on demand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from dataclasses import field as attribute

from sqlalchemy import Table, any_, case, column as sql_column, false, func, literal_column, or_, select, table as sql_table, union
from sqlalchemy.sql.elements import ColumnElement, UnaryExpression
from sqlalchemy.sql.operators import custom_op

from app import search_index
from app.ledgers import Field, Ledger, registry

SEARCHED = ("text", "longtext")
TRIGRAM = 3  # characters a trigram index needs
# A row is drawn in red when one of these fields holds one of these values:
# a CCP deviation, an alarm, a rejected delivery or lot, a failed test, a
# nonconforming or recalled batch, a suspended supplier.
ALERTS: Mapping[str, frozenset] = {
    "deviation": frozenset({True}),
    "alarm": frozenset({True}),
    "decision": frozenset({"rejected"}),
    "conclusion": frozenset({"fail"}),
    "verdict": frozenset({"fail"}),
    "status": frozenset({"rejected", "nonconforming", "recalled", "suspended"}),
}


@dataclass(frozen=True)
class Filters:
    search: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None  # inclusive
    equals: Mapping[str, object] | None = None  # field name -> stored value (None: IS NULL)


@dataclass(frozen=True)
class Row:
    texts: tuple[str, ...]
    alert: bool


def _plain(value: object) -> str:
    return "" if value is None else str(value)


def _day(value: dt.date | dt.datetime | None) -> dt.date | None:
    return value.date() if isinstance(value, dt.datetime) else value


@dataclass(frozen=True)
class Target:
    """Where a reference field looks: the table, the column shown, how it is written."""

    table: Table
    display: str
    write: Callable[[object], str] = attribute(compare=False)  # equal and hashed by table and column
    searchable: bool = attribute(compare=False)  # the column shown is a text (a name, a number), not a date

    @classmethod
    def of(cls, field: Field) -> Target:
        target = registry()[field.lookup.ledger]
        shown = next((f for f in target.fields if f.name == field.lookup.display), None)
        return cls(target.model.__table__, field.lookup.display, shown.display if shown else _plain,
                   shown is None or shown.kind in SEARCHED)

    @property
    def name(self) -> str:
        return self.table.name

    def ids_and_texts(self, ids=None):
        column = self.table.c[self.display]
        statement = select(self.table.c.id, column)
        if ids is None:
            return statement.order_by(column, self.table.c.id)
        return statement.where(self.table.c.id.in_(ids))


class LedgerQuery:
    """The SQL of one ledger's table: Qt-free, so it can be read and tested alone."""

    def __init__(self, ledger: Ledger, dialect: str = "sqlite"):
        self.ledger = ledger
        self.sqlite = dialect == "sqlite"
        self.dialect = dialect
        self.table: Table = ledger.model.__table__
        self.fields = tuple(ledger.fields)
        self.targets = {f.name: Target.of(f) for f in self.fields if f.kind == "ref"}

    def searched_fields(self) -> list[Field]:
        """The text fields, the number field, and the references that show a text
        (a material's name, a lot's number, a person's name)."""
        return [f for f in self.fields if f.kind in SEARCHED or f.name == self.ledger.number_field
                or (f.kind == "ref" and self.targets[f.name].searchable)]

    def _like(self, column, text: str) -> ColumnElement:
        # autoescape=True escapes % and _ (and its own escape character, /). SQLite's LIKE
        # already ignores the case of ASCII letters, as its lower() does (neither folds
        # other scripts): lower() on every row would only cost time there.
        if self.sqlite:
            return column.contains(text, autoescape=True)
        return column.icontains(text, autoescape=True)

    def _matches(self, field: Field, text: str) -> ColumnElement:
        column = self.table.c[field.name]
        if field.kind != "ref":
            return self._like(column, text)
        target = self.targets[field.name]
        if self._indexed(target.name, text) and target.display in search_index.SEARCHED[target.name]:
            return column.in_(_matching_rows(target.name, text, target.display))
        return column.in_(select(target.table.c.id).where(self._like(target.table.c[target.display], text)))

    def _indexed(self, table: str, text: str) -> bool:
        """Whether a trigram index answers a search of ``text`` in ``table`` on SQLite."""
        return self.sqlite and table in search_index.SEARCHED and len(text) >= TRIGRAM

    def _search(self, text: str) -> ColumnElement:
        fields = self.searched_fields()
        if self.table.name not in search_index.SEARCHED or len(text) < TRIGRAM:
            found = [self._matches(field, text) for field in fields]
            return or_(*found) if found else false()
        # Every part answered by an index, and their union the rows: an OR of them
        # would make both databases read every row to test it.
        own = [f for f in fields if f.kind != "ref"]
        indexed = set(search_index.SEARCHED[self.table.name])
        parts = []
        if self.sqlite:
            parts.append(_matching_rows(self.table.name, text))  # one MATCH for the own text columns
            own = [f for f in own if f.name not in indexed]
        if own:  # PostgreSQL: a BitmapOr over the pg_trgm indexes
            parts.append(select(self.table.c.id).where(or_(*(self._matches(f, text) for f in own))))
        parts += [select(self.table.c.id).where(self._matches(f, text)) for f in fields if f.kind == "ref"]
        found = union(*parts) if len(parts) > 1 else parts[0]
        if self.sqlite:
            return self.table.c.id.in_(found)
        # PostgreSQL cannot size the union (an empty table's estimate is the whole ledger)
        # and would hash-join it against every row: an array it reads once is used as such.
        return self.table.c.id == any_(func.array(found.scalar_subquery()))

    def where(self, filters: Filters) -> list[ColumnElement]:
        clauses: list[ColumnElement] = []
        text = filters.search.strip().replace("\x00", "")  # the driver refuses NUL in SQL
        if text:
            clauses.append(self._search(text))
        if self.ledger.date_field and (filters.date_from or filters.date_to):
            clauses += self._period(_day(filters.date_from), _day(filters.date_to))
        for name, value in (filters.equals or {}).items():
            column = self.table.c[name]
            clauses.append(column.is_(None) if value is None else column == value)
        return clauses

    def _period(self, first: dt.date | None, last: dt.date | None) -> list[ColumnElement]:
        """Both ends inclusive; a datetime column ends before midnight after ``last``."""
        column = self.table.c[self.ledger.date_field]
        clauses = []
        if self.ledger.field(self.ledger.date_field).kind == "datetime":
            if first:
                clauses.append(column >= dt.datetime.combine(first, dt.time()))
            if last:
                clauses.append(column < dt.datetime.combine(last + dt.timedelta(days=1), dt.time()))
        else:
            if first:
                clauses.append(column >= first)
            if last:
                clauses.append(column <= last)
        return clauses

    def default_sort(self) -> tuple[int, bool]:
        """(column, descending): newest first where a ledger has a date, else by the
        number a user knows a row by, else by id (column -1)."""
        names = self.ledger.field_names
        if self.ledger.date_field:
            return names.index(self.ledger.date_field), True
        if self.ledger.number_field:
            return names.index(self.ledger.number_field), False
        return -1, False

    def ids(self, filters: Filters, column: int = -1, descending: bool = False):
        """SELECT id ... WHERE filters ORDER BY the column (-1: by id), then by id."""
        statement = select(self.table.c.id).where(*self.where(filters))
        keys: list[ColumnElement] = []
        if 0 <= column < len(self.fields):
            statement, key = self._sort_key(statement, self.fields[column])
            if self.sqlite and (len(filters.search.strip()) >= TRIGRAM or filters.equals):
                # SQLite would walk the sort column's index and read the rows one by one
                # rather than sort what the filter keeps: 170 ms against 25 ms over
                # 100,000 rows. A unary + keeps an index from giving the order. (A search
                # too short for the trigram index reads the rows anyway: walked in the
                # order shown, its first page stops after a page of matches.)
                key = UnaryExpression(key, operator=custom_op("+"))
            keys.append(key)
        if descending:
            return statement.order_by(*(key.desc() for key in keys), self.table.c.id.desc())
        return statement.order_by(*keys, self.table.c.id)

    def _sort_key(self, statement, field: Field):
        key: ColumnElement = self.table.c[field.name]
        if field.kind == "ref":
            # A reference sorts by what it shows (the lookup's display value),
            # through a LEFT OUTER JOIN on an alias (archive cites archive).
            target = self.targets[field.name]
            alias = target.table.alias(f"sort_{field.name}")
            if self.table.c[field.name].nullable:
                return statement.outerjoin(alias, alias.c.id == key), alias.c[target.display]
            # An inner join where every row has one: the database may then walk the
            # looked-up table in the order of what it shows and stop after a page.
            return statement.join(alias, alias.c.id == key), alias.c[target.display]
        if field.kind == "choice":
            # A choice sorts in the order its choices are declared (the workflow's order).
            key = case({code: rank for rank, code in enumerate(field.choices)}, value=key, else_=len(field.choices))
        return statement, key

    def count(self, filters: Filters):
        """SELECT count(*) of the rows the filters keep."""
        return select(func.count()).select_from(self.table).where(*self.where(filters))

    def window(self, session, filters: Filters, column: int, descending: bool, offset: int, limit: int,
               total: int | None = None) -> list[int]:
        """The ids of rows ``offset`` … ``offset + limit - 1`` in the order of the column.
        In the second half of ``total`` rows the window is read from the other end in
        the reverse order (the exact reverse: the id breaks every tie), so the deepest
        page costs what the middle one does."""
        if total is not None and offset > total // 2:
            first = max(0, total - offset - limit)
            wanted = min(limit, total - offset)
            if wanted <= 0:
                return []
            ids = session.execute(self.ids(filters, column, not descending).offset(first).limit(
                total - offset - first)).scalars().all()
            return ids[::-1][:wanted]
        return session.execute(self.ids(filters, column, descending).offset(offset).limit(limit)).scalars().all()

    def position(self, session, filters: Filters, column: int, descending: bool, record_id: int) -> int | None:
        """Where ``record_id`` is in that order (None: the filters leave it out)."""
        ordered = self.ids(filters, column, descending)
        numbered = ordered.add_columns(func.row_number().over(order_by=ordered._order_by_clauses).label("n"))
        numbered = numbered.order_by(None).subquery()
        found = session.execute(select(numbered.c.n).where(numbered.c.id == record_id)).scalar()
        return None if found is None else found - 1

    def page(self, session, ids: list[int]) -> dict[int, Row]:
        """Display rows for some ids: one query for the rows, one per looked-up table."""
        rows = session.execute(
            select(self.table.c.id, *(self.table.c[f.name] for f in self.fields)).where(self.table.c.id.in_(ids))
        ).all()
        shown = self._resolve(session, rows)
        return {row[0]: self._display(row[1:], shown) for row in rows}

    def _resolve(self, session, rows) -> dict[str, dict[int, str]]:
        """Field name -> {id: text} for the references on a page: one query per looked-up
        table and column, shared by the fields that look there (three person columns)."""
        wanted: dict[Target, set[int]] = {}
        for position, field in enumerate(self.fields, start=1):
            if field.kind == "ref":
                ids = wanted.setdefault(self.targets[field.name], set())
                ids.update(row[position] for row in rows if row[position] is not None)
        texts = {target: {ident: target.write(value) for ident, value in session.execute(target.ids_and_texts(ids))}
                 for target, ids in wanted.items() if ids}
        return {name: texts.get(target, {}) for name, target in self.targets.items()}

    def _display(self, values, shown: dict[str, dict[int, str]]) -> Row:
        texts, alert = [], False
        for field, value in zip(self.fields, values):
            if field.kind != "ref":
                texts.append(field.display(value))
            else:
                texts.append("" if value is None else shown[field.name].get(value, f"#{value}"))
            alert = alert or value in ALERTS.get(field.name, ())
        return Row(tuple(texts), alert)

    def choices_of(self, session, field: Field) -> list[tuple[object, str]]:
        """(value, text) pairs for an equality filter on a choice or ref field."""
        if field.kind == "choice":
            return list(field.choices.items())
        target = self.targets[field.name]
        return [(ident, target.write(value)) for ident, value in session.execute(target.ids_and_texts())]

    def date_range(self, session) -> tuple[dt.date | None, dt.date | None]:
        """The first and last date the ledger holds (where a period filter starts)."""
        column = self.table.c[self.ledger.date_field]
        # Two scalar subqueries: SQLite answers a lone min() or max() from the index,
        # but scans the whole table for both in one SELECT.
        first, last = session.execute(select(select(func.min(column)).scalar_subquery(),
                                             select(func.max(column)).scalar_subquery())).one()
        return _day(first), _day(last)


def _matching_rows(table: str, text: str, column: str | None = None):
    """The rowids of ``table``'s FTS5 trigram index that hold ``text`` (in ``column`` only, if given)."""
    index = search_index.search_table(table)
    phrase = '"' + text.replace('"', '""') + '"'
    query = f"{{{column}}} : {phrase}" if column else phrase
    return select(sql_column("rowid")).select_from(sql_table(index)).where(
        literal_column(index).op("MATCH")(query))


def read_ids(session, statement) -> list[int]:
    """All ids of a one-column SELECT. On SQLite, fast: SQLAlchemy's result rows cost
    three times what the driver does for 100,000 ids, so the statement is rendered with
    its values (quoted by the dialect's literal processors, dates as the columns store
    them) and run on the driver's cursor. (Not elsewhere: a "pyformat" driver would
    read the rendered %% differently.)"""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return list(session.execute(statement).scalars())
    sql = str(statement.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]
    finally:
        cursor.close()
