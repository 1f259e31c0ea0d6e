"""recall scope, customers, internal audit (issue 13)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30

A recall's frozen scope and its customers; the internal audit, incidents and
corrective actions (R7.4). The recall's new columns are empty on every recall
kept so far, and a model's ``added_columns`` are hashed only when they hold a
value (audit.added_later): old recalls still match their audit entries.
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('incident',
    sa.Column('incident_no', sa.String(length=40), nullable=False),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('handling', sa.Text(), nullable=True),
    sa.Column('reported_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['reported_by'], ['person.id'], name=op.f('fk_incident_reported_by_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident')),
    sa.UniqueConstraint('incident_no', name=op.f('uq_incident_incident_no'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_occurred_at'), ['occurred_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_reported_by'), ['reported_by'], unique=False)

    op.create_table('internal_audit',
    sa.Column('audit_no', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('audited_at', sa.DateTime(), nullable=False),
    sa.Column('records_complete', sa.Boolean(), nullable=True),
    sa.Column('codes_ok', sa.Boolean(), nullable=True),
    sa.Column('platform_ok', sa.Boolean(), nullable=True),
    sa.Column('drills_done', sa.Boolean(), nullable=True),
    sa.Column('staff_trained', sa.Boolean(), nullable=True),
    sa.Column('drill_query', sa.String(length=40), nullable=True),
    sa.Column('drill_seconds', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('drill_summary', sa.Text(), nullable=True),
    sa.Column('findings', sa.Text(), nullable=True),
    sa.Column('auditor_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['auditor_id'], ['person.id'], name=op.f('fk_internal_audit_auditor_id_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_internal_audit')),
    sa.UniqueConstraint('audit_no', name=op.f('uq_internal_audit_audit_no'))
    )
    with op.batch_alter_table('internal_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_internal_audit_audited_at'), ['audited_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_internal_audit_auditor_id'), ['auditor_id'], unique=False)

    op.create_table('corrective_action',
    sa.Column('action_no', sa.String(length=40), nullable=False),
    sa.Column('raised_on', sa.Date(), nullable=False),
    sa.Column('audit_id', sa.Integer(), nullable=True),
    sa.Column('incident_id', sa.Integer(), nullable=True),
    sa.Column('recall_id', sa.Integer(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.Column('verification', sa.Text(), nullable=True),
    sa.Column('verified_on', sa.Date(), nullable=True),
    sa.Column('verified_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['audit_id'], ['internal_audit.id'], name=op.f('fk_corrective_action_audit_id_internal_audit')),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_corrective_action_incident_id_incident')),
    sa.ForeignKeyConstraint(['owner_id'], ['person.id'], name=op.f('fk_corrective_action_owner_id_person')),
    sa.ForeignKeyConstraint(['recall_id'], ['recall.id'], name=op.f('fk_corrective_action_recall_id_recall')),
    sa.ForeignKeyConstraint(['verified_by'], ['person.id'], name=op.f('fk_corrective_action_verified_by_person')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrective_action')),
    sa.UniqueConstraint('action_no', name=op.f('uq_corrective_action_action_no'))
    )
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrective_action_audit_id'), ['audit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_action_incident_id'), ['incident_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_action_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_action_raised_on'), ['raised_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_action_recall_id'), ['recall_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrective_action_verified_by'), ['verified_by'], unique=False)

    op.create_table('recall_customer',
    sa.Column('recall_id', sa.Integer(), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('contact_person', sa.String(length=40), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('address', sa.String(length=200), nullable=True),
    sa.Column('units_shipped', sa.Integer(), nullable=False),
    sa.Column('notified_at', sa.DateTime(), nullable=True),
    sa.Column('notified_how', sa.String(length=40), nullable=True),
    sa.Column('notified_by', sa.String(length=40), nullable=True),
    sa.Column('confirmed_on', sa.Date(), nullable=True),
    sa.Column('units_returned', sa.Integer(), nullable=False),
    sa.Column('units_held', sa.Integer(), nullable=False),
    sa.Column('units_destroyed', sa.Integer(), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_recall_customer_customer_id_customer')),
    sa.ForeignKeyConstraint(['recall_id'], ['recall.id'], name=op.f('fk_recall_customer_recall_id_recall')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recall_customer'))
    )
    with op.batch_alter_table('recall_customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_customer_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recall_customer_recall_id'), ['recall_id'], unique=False)

    op.create_table('recall_scope',
    sa.Column('recall_id', sa.Integer(), nullable=False),
    sa.Column('product_batch_id', sa.Integer(), nullable=False),
    sa.Column('commodity_batch_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('product', sa.String(length=100), nullable=False),
    sa.Column('quantity', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('unit', sa.String(length=20), nullable=False),
    sa.Column('in_stock', sa.Numeric(precision=14, scale=3), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['commodity_batch_id'], ['commodity_batch.id'], name=op.f('fk_recall_scope_commodity_batch_id_commodity_batch')),
    sa.ForeignKeyConstraint(['product_batch_id'], ['product_batch.id'], name=op.f('fk_recall_scope_product_batch_id_product_batch')),
    sa.ForeignKeyConstraint(['recall_id'], ['recall.id'], name=op.f('fk_recall_scope_recall_id_recall')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recall_scope'))
    )
    with op.batch_alter_table('recall_scope', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recall_scope_commodity_batch_id'), ['commodity_batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recall_scope_product_batch_id'), ['product_batch_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recall_scope_recall_id'), ['recall_id'], unique=False)

    with op.batch_alter_table('recall', schema=None) as batch_op:
        batch_op.add_column(sa.Column('query', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('notify_by', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('finish_by', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('unaccounted_reason', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('closed_on', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('recall', schema=None) as batch_op:
        batch_op.drop_column('closed_on')
        batch_op.drop_column('unaccounted_reason')
        batch_op.drop_column('finish_by')
        batch_op.drop_column('notify_by')
        batch_op.drop_column('query')

    with op.batch_alter_table('recall_scope', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_scope_recall_id'))
        batch_op.drop_index(batch_op.f('ix_recall_scope_product_batch_id'))
        batch_op.drop_index(batch_op.f('ix_recall_scope_commodity_batch_id'))

    op.drop_table('recall_scope')
    with op.batch_alter_table('recall_customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recall_customer_recall_id'))
        batch_op.drop_index(batch_op.f('ix_recall_customer_customer_id'))

    op.drop_table('recall_customer')
    with op.batch_alter_table('corrective_action', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrective_action_verified_by'))
        batch_op.drop_index(batch_op.f('ix_corrective_action_recall_id'))
        batch_op.drop_index(batch_op.f('ix_corrective_action_raised_on'))
        batch_op.drop_index(batch_op.f('ix_corrective_action_owner_id'))
        batch_op.drop_index(batch_op.f('ix_corrective_action_incident_id'))
        batch_op.drop_index(batch_op.f('ix_corrective_action_audit_id'))

    op.drop_table('corrective_action')
    with op.batch_alter_table('internal_audit', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_internal_audit_auditor_id'))
        batch_op.drop_index(batch_op.f('ix_internal_audit_audited_at'))

    op.drop_table('internal_audit')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_reported_by'))
        batch_op.drop_index(batch_op.f('ix_incident_occurred_at'))

    op.drop_table('incident')
