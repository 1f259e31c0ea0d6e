"""supplier admission: evaluations with verdict and next due date, status history

Revision ID: 0005
Revises: 0007
Create Date: 2026-11-22

Existing rows of ``supplier`` and ``supplier_evaluation`` gain columns, so
their audited content changes: the upgrade fills the new columns (an old
evaluation was an admission that passed, due again a year later; a qualified
supplier is due when its newest evaluation says) and appends one audit entry
per changed row, so ``foodarchive verify`` still finds every row as the log
last saw it, and the log says the upgrade changed it.
"""
import datetime as dt

from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0007'
branch_labels = None
depends_on = None

UPGRADE_REASON = "数据库升级（0005）：供应商评价增加评价类型、评价结果和下次评价日期，供应商增加下次评价日期"


def upgrade() -> None:
    op.create_table('supplier_status_change',
    sa.Column('supplier_id', sa.Integer(), nullable=False),
    sa.Column('changed_at', sa.DateTime(), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=True),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('changed_by', sa.String(length=40), nullable=False),
    sa.Column('evaluation_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['evaluation_id'], ['supplier_evaluation.id'], name=op.f('fk_supplier_status_change_evaluation_id_supplier_evaluation')),
    sa.ForeignKeyConstraint(['supplier_id'], ['supplier.id'], name=op.f('fk_supplier_status_change_supplier_id_supplier')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supplier_status_change'))
    )
    with op.batch_alter_table('supplier_status_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supplier_status_change_evaluation_id'), ['evaluation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_supplier_status_change_supplier_id'), ['supplier_id'], unique=False)

    with op.batch_alter_table('supplier', schema=None) as batch_op:
        batch_op.add_column(sa.Column('review_due', sa.Date(), nullable=True))

    with op.batch_alter_table('supplier_evaluation', schema=None) as batch_op:
        # Old rows were admissions that passed; the defaults say so, then go.
        batch_op.add_column(sa.Column('kind', sa.String(length=20), nullable=False, server_default='admission'))
        batch_op.add_column(sa.Column('verdict', sa.String(length=10), nullable=False, server_default='pass'))
        batch_op.add_column(sa.Column('next_due', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('submitted_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('submitted_by', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('paper_ref', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('remarks', sa.Text(), nullable=True))
    with op.batch_alter_table('supplier_evaluation', schema=None) as batch_op:
        batch_op.alter_column('kind', server_default=None)
        batch_op.alter_column('verdict', server_default=None)

    _fill_due_dates()
    _audit_changed_rows(('supplier', 'supplier_evaluation'))


def downgrade() -> None:
    with op.batch_alter_table('supplier_evaluation', schema=None) as batch_op:
        batch_op.drop_column('remarks')
        batch_op.drop_column('paper_ref')
        batch_op.drop_column('submitted_by')
        batch_op.drop_column('submitted_at')
        batch_op.drop_column('next_due')
        batch_op.drop_column('verdict')
        batch_op.drop_column('kind')

    with op.batch_alter_table('supplier', schema=None) as batch_op:
        batch_op.drop_column('review_due')

    with op.batch_alter_table('supplier_status_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supplier_status_change_supplier_id'))
        batch_op.drop_index(batch_op.f('ix_supplier_status_change_evaluation_id'))

    op.drop_table('supplier_status_change')


def _a_year_after(day: dt.date) -> dt.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def _table(name: str) -> sa.Table:
    # Reflected, not the models: a later revision may change the models.
    return sa.Table(name, sa.MetaData(), autoload_with=op.get_bind())


def _fill_due_dates() -> None:
    bind = op.get_bind()
    evaluation, supplier = _table('supplier_evaluation'), _table('supplier')
    newest: dict[int, dt.date] = {}
    for row_id, supplier_id, evaluated_on in bind.execute(
        sa.select(evaluation.c.id, evaluation.c.supplier_id, evaluation.c.evaluated_on)
    ).all():
        due = _a_year_after(evaluated_on)
        bind.execute(evaluation.update().where(evaluation.c.id == row_id).values(next_due=due))
        newest[supplier_id] = max(due, newest.get(supplier_id, due))
    for row_id, qualified_on in bind.execute(
        sa.select(supplier.c.id, supplier.c.qualified_on).where(supplier.c.status == 'qualified')
    ).all():
        due = newest.get(row_id) or (_a_year_after(qualified_on) if qualified_on else None)
        if due is not None:
            bind.execute(supplier.update().where(supplier.c.id == row_id).values(review_due=due))


def _audit_changed_rows(table_names) -> None:
    from app.services.audit import record_new_columns

    for name in table_names:
        record_new_columns(op.get_bind(), name, UPGRADE_REASON)
