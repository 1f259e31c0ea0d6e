"""The rules an imported archive must keep before any of it is written
(issue 15): each row of a ledger passes its form's checks, and the few
totals that tie rows together add up.

An archive is the output of this software; a file that breaks these rules
was edited by hand or by another program, and its rows must not become
records that later pass ``verify``. The rows are checked as they are stored
(no value is changed on the way in: the audit log's hashes cover them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

from app.errors import ValidationError
from app.ledgers import registry

# (1-based row number in the file, values by column), per table.
Rows = list[tuple[int, dict[str, object]]]
# table, row number, column, Chinese reason
Problem = tuple[str, int, str, str]


def problems(prepared: dict[str, Rows]) -> Iterator[Problem]:
    for lg in registry().values():
        yield from _form_rules(lg, prepared.get(lg.key, []))
    yield from _not_more_than(prepared, "delivery", "units", "commodity_batch", "commodity_batch_id", "units",
                              "销售数量合计 {total} 件超过商品批次「{number}」的包装数量 {limit} 件", "lot_code")
    yield from _not_more_than(prepared, "material_lot", "quantity_on_hand", "material_lot", "id",
                              "quantity_received", "库存数量 {total} 超过进货数量 {limit}（物料批号「{number}」）",
                              "lot_no")


def _form_rules(lg, rows: Rows) -> Iterator[Problem]:
    names = lg.field_names
    for number, row in rows:
        values = {name: row.get(name) for name in names}
        try:
            cleaned = lg.clean(values)
        except ValidationError as error:
            for e in error.errors:
                yield lg.key, number, e.field, e.message
            continue
        for f in lg.fields:
            # A code the forms would keep differently (lower-case, with spaces) was not typed here.
            if f.normalize and values[f.name] is not None and cleaned[f.name] != values[f.name]:
                yield lg.key, number, f.name, f"「{f.label}」应写作「{cleaned[f.name]}」"


def _not_more_than(prepared: dict[str, Rows], table: str, column: str, parent: str, link: str, limit: str,
                   message: str, number: str) -> Iterator[Problem]:
    """The sum of ``column`` over the rows of ``table`` that point at one row of
    ``parent`` (through ``link``) is not more than that row's ``limit``."""
    parents = {row["id"]: row for _n, row in prepared.get(parent, [])}
    totals: dict[object, Decimal] = defaultdict(Decimal)
    last: dict[object, int] = {}
    for row_number, row in prepared.get(table, []):
        key = row.get(link)
        if key in parents and row.get(column) is not None:
            totals[key] += Decimal(row[column])
            last[key] = row_number
    for key, total in totals.items():
        bound = parents[key].get(limit)
        if bound is not None and total > bound:
            text = message.format(total=_shown(total), limit=_shown(bound), number=parents[key].get(number))
            yield table, last[key], column, text


def _shown(value) -> str:
    return format(Decimal(value).normalize(), "f")
