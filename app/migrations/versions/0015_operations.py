"""operations (issue 19): the backup record; devices, their import profiles, imports and alarms (R2.9);
the version counter of every recorded row (several PCs on PostgreSQL)

``row_version`` is added with the value 1 to every row kept so far. It is not
content: the audit hash leaves it out (audit.NOT_CONTENT), so old rows still
match their audit entries and signatures. Added in place (ALTER TABLE ADD
COLUMN with a constant default), not by copying tables.

Revision ID: 0015
Revises: 0012
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0012'
branch_labels = None
depends_on = None


VERSIONED = (
    # Issue 13's tables (0012), recorded like the rest.
    'corrective_action',
    'incident',
    'internal_audit',
    'recall_customer',
    'recall_scope',
    'additive_use',
    'amendment',
    'archive',
    'attachment',
    'ccp_reading',
    'cleaning_record',
    'commodity_batch',
    'customer',
    'delivery',
    'destruction',
    'device',
    'duty_record',
    'enterprise',
    'environment_reading',
    'equipment',
    'equipment_upkeep',
    'feeding',
    'finished_goods_movement',
    'incoming_inspection',
    'inspection',
    'inspection_standard',
    'intermediate_storage',
    'material',
    'material_lot',
    'near_expiry_handling',
    'packaging_record',
    'person',
    'platform_check',
    'process_record',
    'product',
    'product_batch',
    'reading_alarm',
    'reading_import',
    'reading_profile',
    'recall',
    'recall_progress',
    'retained_sample',
    'sterilisation_record',
    'stock_movement',
    'storage_condition_record',
    'supplier',
    'supplier_document',
    'supplier_evaluation',
    'supplier_status_change',
    'training_record',
    'water_monitoring',
    'workshop_cleanliness',
)


def upgrade() -> None:
    op.create_table(
        'backup_run',
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=False),
        sa.Column('ok', sa.Boolean(), nullable=False),
        sa.Column('path', sa.Text(), nullable=False),
        sa.Column('second_path', sa.Text(), nullable=True),
        sa.Column('message', sa.Text(), nullable=True),
        sa.Column('actor', sa.String(length=40), nullable=False),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backup_run')),
    )
    with op.batch_alter_table('backup_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_backup_run_ok'), ['ok'], unique=False)
        batch_op.create_index(batch_op.f('ix_backup_run_started_at'), ['started_at'], unique=False)
    op.create_table('reading_profile',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('encoding', sa.String(length=20), nullable=False),
    sa.Column('delimiter', sa.String(length=10), nullable=False),
    sa.Column('decimal_comma', sa.Boolean(), nullable=False),
    sa.Column('skip_rows', sa.Integer(), nullable=False),
    sa.Column('time_column', sa.String(length=100), nullable=False),
    sa.Column('time_format', sa.String(length=40), nullable=True),
    sa.Column('columns', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reading_profile')),
    sa.UniqueConstraint('name', name=op.f('uq_reading_profile_name'))
    )
    op.create_table('device',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('location', sa.String(length=100), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('equipment_id', sa.Integer(), nullable=True),
    sa.Column('profile_id', sa.Integer(), nullable=False),
    sa.Column('limits', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['equipment_id'], ['equipment.id'], name=op.f('fk_device_equipment_id_equipment')),
    sa.ForeignKeyConstraint(['profile_id'], ['reading_profile.id'], name=op.f('fk_device_profile_id_reading_profile')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_device_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_device')),
    sa.UniqueConstraint('code', name=op.f('uq_device_code'))
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_equipment_id'), ['equipment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_profile_id'), ['profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_warehouse_id'), ['warehouse_id'], unique=False)

    op.create_table('reading_alarm',
    sa.Column('reading_id', sa.Integer(), nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('corrective_action', sa.Text(), nullable=True),
    sa.Column('corrected_at', sa.DateTime(), nullable=True),
    sa.Column('corrected_by', sa.String(length=40), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_reading_alarm_device_id_device')),
    sa.ForeignKeyConstraint(['reading_id'], ['environment_reading.id'], name=op.f('fk_reading_alarm_reading_id_environment_reading')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reading_alarm'))
    )
    with op.batch_alter_table('reading_alarm', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reading_alarm_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reading_alarm_reading_id'), ['reading_id'], unique=False)

    op.create_table('reading_import',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=False),
    sa.Column('readings', sa.Integer(), nullable=False),
    sa.Column('alarms', sa.Integer(), nullable=False),
    sa.Column('first_at', sa.DateTime(), nullable=True),
    sa.Column('last_at', sa.DateTime(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by', sa.String(length=40), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_reading_import_attachment_id_attachment')),
    sa.ForeignKeyConstraint(['device_id'], ['device.id'], name=op.f('fk_reading_import_device_id_device')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reading_import')),
    sa.UniqueConstraint('device_id', 'sha256', name=op.f('uq_reading_import_device_id'))
    )
    with op.batch_alter_table('reading_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reading_import_attachment_id'), ['attachment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reading_import_device_id'), ['device_id'], unique=False)
    for table in VERSIONED:
        op.add_column(table, sa.Column('row_version', sa.Integer(), server_default='1', nullable=False))


def downgrade() -> None:
    for table in VERSIONED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('row_version')
    with op.batch_alter_table('reading_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reading_import_device_id'))
        batch_op.drop_index(batch_op.f('ix_reading_import_attachment_id'))

    op.drop_table('reading_import')
    with op.batch_alter_table('reading_alarm', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reading_alarm_reading_id'))
        batch_op.drop_index(batch_op.f('ix_reading_alarm_device_id'))

    op.drop_table('reading_alarm')
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_warehouse_id'))
        batch_op.drop_index(batch_op.f('ix_device_profile_id'))
        batch_op.drop_index(batch_op.f('ix_device_equipment_id'))

    op.drop_table('device')
    op.drop_table('reading_profile')
    op.drop_table('backup_run')
