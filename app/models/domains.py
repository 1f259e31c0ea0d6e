"""The domain of stored values, declared once: the database refuses a value
outside it (CHECK constraints, here on the models and in migration 0017) and
``verify`` reports one already there (a database made before 0017, or a table
rebuilt without its constraints). Each rule is a SQL condition that holds for
every good row; ``verify`` selects the rows where it does not.

- yes/no columns hold 0 or 1 (SQLite has no boolean type: a 2 was read as
  false by some queries and true by others);
- status and kind columns hold one of their codes (the vocabulary in choices.py);
- stock, quantities and counts that cannot be negative are not.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Boolean, CheckConstraint, MetaData

from . import choices as c
from .platform import OUTBOX_STATUSES

ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("material_lot", "status"): tuple(c.MATERIAL_LOT_STATUS),
    ("product_batch", "status"): tuple(c.BATCH_STATUS),
    ("commodity_batch", "status"): tuple(c.COMMODITY_STATUS),
    ("recall", "status"): tuple(c.RECALL_STATUS),
    # "closed": what archives sealed before 0008 kept (read as 整理中, see choices).
    ("archive", "status"): (*c.ARCHIVE_STATUS, "closed"),
    ("archive", "kind"): tuple(c.ARCHIVE_KIND),
    ("supplier", "status"): tuple(c.SUPPLIER_STATUS),
    ("supplier_status_change", "from_status"): tuple(c.SUPPLIER_STATUS),
    ("supplier_status_change", "to_status"): tuple(c.SUPPLIER_STATUS),
    ("supplier_evaluation", "kind"): tuple(c.EVALUATION_KIND),
    ("supplier_evaluation", "verdict"): tuple(c.VERDICT),
    ("incoming_inspection", "decision"): tuple(c.RECEIPT_DECISION),
    ("stock_movement", "kind"): tuple(c.STOCK_MOVEMENT_KIND),
    ("finished_goods_movement", "kind"): tuple(c.GOODS_MOVEMENT_KIND),
    ("inspection", "kind"): tuple(c.INSPECTION_KIND),
    ("inspection_item", "verdict"): tuple(c.VERDICT),
    ("platform_outbox", "status"): OUTBOX_STATUSES,
}

# Signed quantities stay out: a stock movement's quantity (an issue is
# negative), a batch's loss (a gain is possible), temperatures and limits.
NOT_NEGATIVE: tuple[tuple[str, str], ...] = (
    ("incoming_inspection", "quantity"), ("material_lot", "quantity_received"), ("material_lot", "quantity_on_hand"),
    ("product_batch", "output_quantity"), ("product_batch", "quantity_on_hand"), ("commodity_batch", "units"),
    ("commodity_batch", "units_on_hand"), ("commodity_batch", "product_quantity_used"), ("feeding", "quantity"),
    ("additive_use", "quantity"), ("packaging_record", "issued"), ("packaging_record", "used"),
    ("packaging_record", "wasted"), ("retained_sample", "quantity"), ("stock_movement", "balance"),
    ("finished_goods_movement", "units"), ("finished_goods_movement", "balance"), ("delivery", "units"),
    ("destruction", "units"), ("destruction", "quantity"), ("recall_progress", "units_returned"),
    ("formula_item", "proportion"), ("product_spec", "net_content"), ("intermediate_storage", "quantity"),
    ("near_expiry_handling", "quantity"), ("platform_outbox", "attempts"), ("platform_outbox", "version"),
)


@dataclass(frozen=True)
class Rule:
    table: str
    column: str
    kind: str  # "bool", "enum", "not_negative"
    sql: str  # holds for every good row
    sqlite_only: bool = False  # PostgreSQL's boolean type already refuses anything else

    @property
    def name(self) -> str:
        """The constraint's name (the metadata's convention adds ck_<table>_)."""
        return f"{self.column}_domain"


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


def rules(metadata: MetaData) -> list[Rule]:
    """Every rule, in table order: the yes/no columns found in the metadata, then the declared ones."""
    found: list[Rule] = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, Boolean):
                found.append(Rule(table.name, column.name, "bool", f"{column.name} IN (0, 1)", sqlite_only=True))
            elif (table.name, column.name) in ENUMS:
                values = ENUMS[(table.name, column.name)]
                found.append(Rule(table.name, column.name, "enum", f"{column.name} IN ({_quoted(values)})"))
            elif (table.name, column.name) in NOT_NEGATIVE:
                found.append(Rule(table.name, column.name, "not_negative", f"{column.name} >= 0"))
    return found


def install(metadata: MetaData) -> None:
    """Put each rule on its table as a named CHECK constraint (done once, by app.models)."""
    for rule in rules(metadata):
        table = metadata.tables[rule.table]
        check = CheckConstraint(rule.sql, name=rule.name)
        table.append_constraint(check.ddl_if(dialect="sqlite") if rule.sqlite_only else check)
