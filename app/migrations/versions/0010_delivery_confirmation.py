"""delivery confirmation: when and by whom the buyer confirmed (交付确认单, G§42)

Revision ID: 0010
Revises: 0004
Create Date: 2026-11-30
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
    from app.services.audit import record_new_columns

    record_new_columns(op.get_bind(), 'delivery', '数据库结构升级：出厂销售记录新增「确认日期」「购货方签收人」栏目')


def downgrade() -> None:
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_column('confirmed_by')
        batch_op.drop_column('confirmed_on')
