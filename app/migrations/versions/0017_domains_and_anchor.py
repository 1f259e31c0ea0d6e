"""stored values within their domain (CHECK constraints); audit ids never reused

Revision ID: 0017
Revises: 0015
Create Date: 2026-11-30

Each rule of app/models/domains.py becomes a named CHECK constraint (frozen
here as it was written: a later change of the vocabulary is a new
migration). A database that already holds a value outside a rule is not
upgraded: the upgrade says which table and column, and ``verify`` on the
old version lists the rows.

SQLite adds a CHECK only by rebuilding the table (batch mode; app/db.py runs
the upgrade with foreign keys off, as SQLite's table-rebuild procedure asks,
and checks them before the commit). The audit log is rebuilt with
AUTOINCREMENT so an id of a deleted entry is never handed out again; its
append-only triggers go with the old table and are put back at once.
"""
from alembic import op
from sqlalchemy import text

from app import append_only

revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None

BOOLEANS = {
    "app_user": ("active",), "material": ("is_imported", "is_gmo", "needs_quarantine", "is_bulk"),
    "person": ("active",), "production_line": ("automated",), "storage_condition_record": ("light_protected",),
    "environment_reading": ("alarm",), "commodity_batch": ("label_checked",), "ccp_reading": ("deviation",),
    "delivery": ("confirmed",), "inspection": ("label_check_passed",),
    "internal_audit": ("records_complete", "codes_ok", "platform_ok", "drills_done", "staff_trained"),
    "backup_run": ("ok",), "reading_profile": ("decimal_comma",),
}
ENUMS = {
    ("material_lot", "status"): ("available", "rejected", "closed", "written_off"),
    ("product_batch", "status"): ("open", "completed", "nonconforming", "recalled", "destroyed"),
    ("commodity_batch", "status"): ("packed", "released", "recalled", "destroyed"),
    ("recall", "status"): ("open", "closed"),
    ("archive", "status"): ("open", "sealed", "closed"),
    ("archive", "kind"): ("product", "commodity", "warning", "safety"),
    ("supplier", "status"): ("pending", "qualified", "suspended", "rejected"),
    ("supplier_status_change", "from_status"): ("pending", "qualified", "suspended", "rejected"),
    ("supplier_status_change", "to_status"): ("pending", "qualified", "suspended", "rejected"),
    ("supplier_evaluation", "kind"): ("admission", "review"),
    ("supplier_evaluation", "verdict"): ("pass", "fail"),
    ("incoming_inspection", "decision"): ("accepted", "rejected"),
    ("stock_movement", "kind"): ("receipt", "issue", "write_off"),
    ("finished_goods_movement", "kind"): ("in", "out"),
    ("inspection", "kind"): ("incoming", "in_process", "water", "semi_finished", "finished", "release"),
    ("inspection_item", "verdict"): ("pass", "fail"),
    ("platform_outbox", "status"): ("pending", "sent", "acknowledged", "rejected"),
}
NOT_NEGATIVE = {
    "incoming_inspection": ("quantity",), "material_lot": ("quantity_received", "quantity_on_hand"),
    "product_batch": ("output_quantity", "quantity_on_hand"),
    "commodity_batch": ("units", "units_on_hand", "product_quantity_used"), "feeding": ("quantity",),
    "additive_use": ("quantity",), "packaging_record": ("issued", "used", "wasted"), "retained_sample": ("quantity",),
    "stock_movement": ("balance",), "finished_goods_movement": ("units", "balance"), "delivery": ("units",),
    "destruction": ("units", "quantity"), "recall_progress": ("units_returned",), "formula_item": ("proportion",),
    "product_spec": ("net_content",), "intermediate_storage": ("quantity",), "near_expiry_handling": ("quantity",),
    "platform_outbox": ("attempts", "version"),
}


def _checks(sqlite: bool) -> dict[str, list[tuple[str, str]]]:
    by_table: dict[str, list[tuple[str, str]]] = {}
    if sqlite:
        for table, columns in BOOLEANS.items():
            by_table.setdefault(table, []).extend((c, f"{c} IN (0, 1)") for c in columns)
    for (table, column), values in ENUMS.items():
        quoted = ", ".join(f"'{v}'" for v in values)
        by_table.setdefault(table, []).append((column, f"{column} IN ({quoted})"))
    for table, columns in NOT_NEGATIVE.items():
        by_table.setdefault(table, []).extend((c, f"{c} >= 0") for c in columns)
    return by_table


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    for table, checks in _checks(sqlite).items():
        for column, condition in checks:
            bad = bind.execute(text(f"SELECT count(*) FROM {table} WHERE NOT ({condition})")).scalar()
            if bad:
                raise RuntimeError(f"{table}.{column}: {bad} rows outside the domain ({condition}); "
                                   "run verify with the previous version and correct them first")
        with op.batch_alter_table(table, recreate="always" if sqlite else "auto") as batch_op:
            for column, condition in checks:
                batch_op.create_check_constraint(op.f(f"ck_{table}_{column}_domain"), condition)
    if sqlite:
        triggers = ["audit_log_no_update", "audit_log_no_delete"]
        for name in triggers:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        with op.batch_alter_table("audit_log", recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}) as batch_op:
            pass
        append_only.create(bind, triggers)
    op.create_index("ix_audit_log_table_row", "audit_log", ["table_name", "row_id"])
    _chain_the_outbox(bind)


def _chain_the_outbox(bind) -> None:
    """The upload queue's content joins the audit chain (what the platform is
    sent can no longer be edited unseen): one entry for each row kept so far."""
    from app.services import audit

    columns = "id, kind, source_table, source_id, version, idempotency_key, payload"
    info = {"actor": audit.UPGRADE_ACTOR, "reason": "上传队列的内容记入审计日志（升级到结构版本 0017）"}
    for row in bind.execute(text(f"SELECT {columns} FROM platform_outbox ORDER BY id")).mappings().all():
        content = dict(row)
        audit.append(bind, info, "platform_outbox", content.pop("id"), "update", content)


def downgrade() -> None:
    op.drop_index("ix_audit_log_table_row", table_name="audit_log")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table, checks in _checks(sqlite).items():
        with op.batch_alter_table(table, recreate="always" if sqlite else "auto") as batch_op:
            for column, _condition in checks:
                batch_op.drop_constraint(op.f(f"ck_{table}_{column}_domain"), type_="check")
