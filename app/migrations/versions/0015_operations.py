"""operations (issue 19): the backup record

Revision ID: 0015
Revises: 0011
Create Date: 2026-11-30
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0011'
branch_labels = None
depends_on = None


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


def downgrade() -> None:
    op.drop_table('backup_run')
