"""delivery confirmation: when and by whom the buyer confirmed (交付确认单, G§42)

Revision ID: 0010
Revises: 0004
Create Date: 2026-11-30

The new columns are empty on every sale kept so far, and a model's
``added_columns`` are hashed only when they hold a value (audit.added_later):
old sales still match their audit entries and their signatures.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.add_column(sa.Column('confirmed_on', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('confirmed_by', sa.String(length=40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_column('confirmed_by')
        batch_op.drop_column('confirmed_on')
